"""GMX v2: the venue adapter (codec, venue) and the local dev venue's administration
(local.py)."""
