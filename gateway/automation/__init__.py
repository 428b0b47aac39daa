"""Doorstep in the home-automation world: MQTT with Home Assistant discovery, outgoing webhooks."""
