"""Read models: what status, verify, the drills and the CLI listings read (no writes)."""
