"""(being written for issue #3)"""

API = {}
