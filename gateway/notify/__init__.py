"""Residents' phones ring: Web Push subscriptions, their preferences and the push sender."""
