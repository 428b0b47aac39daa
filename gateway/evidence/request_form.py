"""What a police footage request says, whichever way it came in (agency account, signed file,
typed in by the owner), and the checks of EVIDENCE.md that refuse it with a reason.

The checks here need nothing but the request and the time; the ones that need earlier
requests (two per case, overlaps) are in `requests_service`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from doorstep.gateway.evidence.area import Area, AreaRefused, parse_area

LEGAL_BASES = ("voluntary", "subpoena", "court_order", "warrant", "emergency_claim", "preservation")
CONTENT = ("clips", "stills", "audio")
MIN_WINDOW = timedelta(minutes=15)
MAX_WINDOW = timedelta(hours=12)
MAX_DESCRIPTION = 2000
PROTEST_WORDS = re.compile(
    r"\b(protests?|protesters?|protestors?|rally|rallies|march(es|ers|ing)?|demonstrations?|"
    r"demonstrators?|picket(s|ing)?|sit-?ins?|vigils?|riots?)\b",
    re.IGNORECASE,
)
"""Words that may mean a request is about people gathering: flagged for the owner, who decides."""
_LIVE_WORDS = ("live", "stream", "streams", "live_video", "video_stream", "feed", "rtsp")


class RequestRefused(ValueError):
    """A request the box refuses; `field` names what is wrong."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason


class Officer(BaseModel):
    """Who at the agency asks."""

    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=120)
    badge: str = Field("", max_length=40)
    contact: str = Field(min_length=1, max_length=200, description="E-mail or phone.")


class LegalDocument(BaseModel):
    """The document behind a subpoena, order or warrant."""

    model_config = ConfigDict(extra="forbid")
    reference: str = Field(min_length=1, max_length=200)
    sha256: str | None = Field(None, pattern="^[0-9a-f]{64}$")


class Window(BaseModel):
    """The time asked for. `end` missing means "ongoing", which is refused."""

    model_config = ConfigDict(extra="forbid")
    start: datetime
    end: datetime | None = None


class RequestForm(BaseModel):
    """A footage request as an agency sends it (the body of a signed file, too)."""

    model_config = ConfigDict(extra="forbid")
    case_number: str = Field(max_length=64)
    incident_type: str = Field(max_length=80)
    description: str = Field("", max_length=MAX_DESCRIPTION)
    incident_at: datetime | None = None
    officer: Officer
    legal_basis: Literal[
        "voluntary", "subpoena", "court_order", "warrant", "emergency_claim", "preservation"
    ]
    legal_document: LegalDocument | None = None
    area: dict[str, Any] = Field(description="GeoJSON: a Polygon, or a Point with radius_m.")
    window: Window
    content: list[str] = Field(default_factory=lambda: ["clips"], max_length=8)
    live: bool = Field(False, description="Always refused: no request reaches live video.")
    retention: str = Field("", max_length=200, description="How long the agency keeps it.")


@dataclass(frozen=True, slots=True)
class Check:
    """One check the box made, for the owner to read."""

    name: str
    ok: bool
    detail: str


@dataclass(frozen=True, slots=True)
class CheckedRequest:
    """A request that passed the checks: its area, window and what was flagged."""

    form: RequestForm
    area: Area
    start: datetime
    end: datetime
    case_key: str
    checks: list[Check] = field(default_factory=list)
    flags: list[str] = field(default_factory=list)


def case_key(case_number: str) -> str:
    """The case as compared: letters and digits only, case-folded ("24-001" is "24001")."""
    return "".join(c for c in case_number.casefold() if c.isalnum())


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _window(window: Window, now: datetime) -> tuple[datetime, datetime, str]:
    if window.end is None:
        raise RequestRefused("window.end", "an ongoing window is refused: give an end in the past")
    start, end = _aware(window.start).astimezone(UTC), _aware(window.end).astimezone(UTC)
    if end <= start:
        raise RequestRefused("window.end", "the window ends before it starts")
    if start > now or end > now:
        raise RequestRefused(
            "window.end", "the window must lie entirely in the past: no future footage"
        )
    length = end - start
    if length < MIN_WINDOW:
        raise RequestRefused("window", "a window is at least 15 minutes")
    if length > MAX_WINDOW:
        raise RequestRefused("window", "a window is at most 12 hours")
    return start, end, f"{int(length.total_seconds() // 60)} min, in the past"


def _content(form: RequestForm) -> None:
    asked = [c.strip().casefold() for c in form.content]
    if form.live or any(c in _LIVE_WORDS for c in asked):
        raise RequestRefused("content", "a request cannot ask for live video or a stream")
    unknown = [c for c in asked if c not in CONTENT]
    if unknown or not asked:
        raise RequestRefused("content", f"any of {', '.join(CONTENT)}")


def check_form(form: RequestForm, now: datetime) -> CheckedRequest:
    """Every check that needs only the request; `RequestRefused` names the first that fails."""
    if not form.case_number.strip() or not case_key(form.case_number):
        raise RequestRefused("case_number", "a case or reference number is required")
    if not form.incident_type.strip():
        raise RequestRefused("incident_type", "the incident type is required")
    _content(form)
    needs_document = form.legal_basis in ("subpoena", "court_order", "warrant")
    if needs_document and form.legal_document is None:
        raise RequestRefused("legal_document", f"a {form.legal_basis} names its document")
    try:
        area = parse_area(form.area)
    except AreaRefused as exc:
        raise RequestRefused("area", str(exc)) from None
    except (ValueError, ArithmeticError):  # a geometry the libraries cannot work with
        raise RequestRefused("area", "the area cannot be read as a place on Earth") from None
    start, end, window_detail = _window(form.window, now)
    checks = [
        Check("case", True, f"case {form.case_number.strip()}, {form.incident_type.strip()}"),
        Check("area", True, f"{area.shape}, {area.area_sq_mi:.3f} sq mi (0.025–0.5 allowed)"),
        Check("window", True, window_detail),
        Check("content", True, ", ".join(form.content) + "; never live"),
    ]
    flags = []
    words = sorted(
        {
            m.group(0).casefold()
            for m in PROTEST_WORDS.finditer(f"{form.incident_type} {form.description}")
        }
    )
    if words:
        flags.append(f"mentions {', '.join(words)}: a request about people gathering?")
    if form.legal_basis == "emergency_claim":
        flags.append("an emergency claim: nothing is sent without your choice")
    return CheckedRequest(form, area, start, end, case_key(form.case_number), checks, flags)
