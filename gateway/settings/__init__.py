"""Gateway settings the owner edits at run time: stored over the config file, audited, applied."""
