"""The `doorstep` command line: imports, admin wiring, discovery settings."""
