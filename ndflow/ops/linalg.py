"""(filled in by the linalg work)"""

API = {}
