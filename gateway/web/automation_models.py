"""The outgoing-webhooks API's request and answer models (the shapes in /api/openapi.json)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StrictBool

from doorstep.gateway.automation.webhook_template import MAX_TEMPLATE_BYTES
from doorstep.gateway.config.fields import SafeText
from doorstep.sdk import EventKind

CameraId = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9_-]{0,63}$")]
Name = Annotated[SafeText, Field(min_length=1, max_length=64)]
Url = Annotated[str, Field(min_length=1, max_length=2048, description="http:// or https://")]
TemplateText = Annotated[
    str,
    Field(
        max_length=MAX_TEMPLATE_BYTES,
        description="JSON text; string values may hold ${field} placeholders (see `fields`)",
    ),
]


class DeliveryView(BaseModel):
    """How a rule's last delivery (or test) ended."""

    at: datetime
    delivery_id: str
    ok: bool
    attempts: int
    http_status: int | None = Field(description="The receiver's status; null if none answered")
    error: str | None
    test: bool


class WebhookView(BaseModel):
    """An outgoing webhook rule, without its signing secret."""

    id: int
    name: str
    enabled: bool
    url: str
    host: str = Field(description="Where it sends: host[:port]")
    kinds: list[str]
    cameras: list[str] = Field(description="Camera ids; empty means every camera")
    include_ends: bool = Field(description="Also sent when an event ends, not only when it starts")
    template: str
    created_at: datetime
    updated_at: datetime
    secret_rotated_at: datetime
    queued: int
    queued_bytes: int
    sending: bool = Field(description="A delivery is in flight or waiting to be retried")
    dropped: int = Field(description="Deliveries dropped from a full queue since the start")
    last_delivery: DeliveryView | None
    problem: str | None = Field(description="Why the rule cannot send, if it cannot")


class FieldView(BaseModel):
    """A template field."""

    name: str
    description: str
    example: str


class WebhookList(BaseModel):
    """Every rule, and what the settings page needs to write one."""

    webhooks: list[WebhookView]
    fields: list[FieldView]
    kinds: list[str]
    default_template: str
    max_webhooks: int


class WebhookCreated(BaseModel):
    """A rule with its signing secret: shown this once, keep it in the receiver."""

    webhook: WebhookView
    secret: str


class NewWebhook(BaseModel):
    """Create an outgoing webhook."""

    model_config = ConfigDict(extra="forbid")

    name: Name
    url: Url
    kinds: list[EventKind] = Field(min_length=1, max_length=32)
    cameras: list[CameraId] = Field(default_factory=list, max_length=64)
    enabled: StrictBool = True
    include_ends: StrictBool = False
    template: TemplateText | None = Field(None, description="null: the default template")


class WebhookChange(BaseModel):
    """Change an outgoing webhook; absent or null fields stay as they are."""

    model_config = ConfigDict(extra="forbid")

    name: Name | None = None
    url: Url | None = Field(None, description="Needs the password entered recently")
    kinds: list[EventKind] | None = Field(None, min_length=1, max_length=32)
    cameras: list[CameraId] | None = Field(None, max_length=64)
    enabled: StrictBool | None = None
    include_ends: StrictBool | None = None
    template: TemplateText | None = None
