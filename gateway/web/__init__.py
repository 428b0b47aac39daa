"""The HTTP side: JSON API under /api/, the static web UI, access policy on every route."""

from doorstep.gateway.web.server import create_web_app

__all__ = ["create_web_app"]
