"""Static web UI (HTML, CSS, JS) served by the gateway; no build step."""
