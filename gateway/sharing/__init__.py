"""Sharing clips with neighbours: derived copies, links, coarse places, views."""
