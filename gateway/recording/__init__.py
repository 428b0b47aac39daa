"""Recording: clips from the stream hub, crash-safe on disk, registered in the database."""
