"""The gateway's keys: the secret box for secrets at rest, and TLS."""
