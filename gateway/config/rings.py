"""The doorbell ring section: how long a ring nobody answers lasts."""

from __future__ import annotations

from pydantic import Field

from doorstep.gateway.config.fields import Section


class RingConfig(Section):
    """Doorbell rings: the banner on every open page, and calls prepared for them."""

    ring_s: float = Field(
        60.0,
        ge=5.0,
        le=600.0,
        title="Ring time (s)",
        description="A ring nobody answers ends this long after the last press of the button; "
        "calls prepared for it are closed then.",
    )
