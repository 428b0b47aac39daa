"""What the gateway remembers about cameras: their events and the identity they report."""
