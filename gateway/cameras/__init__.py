"""The camera façade: what the web may do with cameras (adopt, remove, views, streams, talk)."""
