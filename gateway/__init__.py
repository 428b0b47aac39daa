"""Doorstep gateway: supervises cameras, stores events and clips, serves the web UI and API."""

__version__ = "0.1.0"
