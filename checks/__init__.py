"""Checks against data that comes from other projects (../shared): run by scripts/check-shared."""
