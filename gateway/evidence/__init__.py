"""Police footage requests: the checks, the owner's per-clip decisions, consent receipts,
evidence packages and their download grants."""
