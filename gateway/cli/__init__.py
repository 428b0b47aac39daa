"""The `doorstep` command and console administration; each command imports what it needs."""
