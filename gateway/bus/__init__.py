"""The in-process event bus and its bounded, fair per-subscriber queues."""
