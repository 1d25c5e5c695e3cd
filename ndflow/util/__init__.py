"""Pure-Python utilities shared by every layer (nested structures)."""
