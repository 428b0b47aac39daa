"""Checks against data from other projects (not committed here): run by scripts/test-corpus."""
