"""(filled in by the indexing work)"""

API = {}
