"""SOAP 1.2 plumbing for the simulator: a strict request parser, envelopes, faults, durations."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from xml.sax.saxutils import escape, quoteattr

MAX_REQUEST_BYTES = 256 * 1024

NS = {
    "env": "http://www.w3.org/2003/05/soap-envelope",
    "tt": "http://www.onvif.org/ver10/schema",
    "tds": "http://www.onvif.org/ver10/device/wsdl",
    "trt": "http://www.onvif.org/ver10/media/wsdl",
    "tev": "http://www.onvif.org/ver10/events/wsdl",
    "ter": "http://www.onvif.org/ver10/error",
    "tns1": "http://www.onvif.org/ver10/topics",
    "tnsaxis": "http://www.axis.com/2009/event/topics",
    "wsnt": "http://docs.oasis-open.org/wsn/b-2",
    "wstop": "http://docs.oasis-open.org/wsn/t-1",
    "wsa": "http://www.w3.org/2005/08/addressing",
    "wsrf-bf": "http://docs.oasis-open.org/wsrf/bf-2",
    "wsrf-rw": "http://docs.oasis-open.org/wsrf/rw-2",
    "wsse": "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd",
    "wsu": "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd",
    "xs": "http://www.w3.org/2001/XMLSchema",
    "xsi": "http://www.w3.org/2001/XMLSchema-instance",
}
_DECLARATIONS = " ".join(f'xmlns:{prefix}="{uri}"' for prefix, uri in NS.items())
_DURATION = re.compile(
    r"^P(?:(?P<days>\d+)D)?(?:T(?:(?P<hours>\d+)H)?(?:(?P<minutes>\d+)M)?(?:(?P<seconds>\d+(?:\.\d+)?)S)?)?$"
)


class SoapFault(Exception):
    """Answer the request with a SOAP Fault."""

    def __init__(self, code: str, subcodes: tuple[str, ...], reason: str, detail: str = "") -> None:
        super().__init__(reason)
        self.code = code  # "Sender" or "Receiver"
        self.subcodes = subcodes
        self.reason = reason
        self.detail = detail

    @property
    def http_status(self) -> int:
        """400 for the client's fault, 500 for the device's."""
        return 400 if self.code == "Sender" else 500


def not_authorized() -> SoapFault:
    """The fault ONVIF devices send for missing or wrong credentials."""
    return SoapFault("Sender", ("ter:NotAuthorized",), "Sender not Authorized")


def qname(namespace: str, local: str) -> str:
    """ElementTree's `{namespace}local` form."""
    return f"{{{namespace}}}{local}"


@dataclass(frozen=True, slots=True)
class SoapRequest:
    """A parsed request: the operation element and the header (if any)."""

    operation: ET.Element
    header: ET.Element | None

    @property
    def name(self) -> str:
        """Local name of the operation element (`GetProfiles`, …)."""
        return self.operation.tag.rsplit("}", 1)[-1]

    def text(self, local: str, default: str = "") -> str:
        """Text of the first descendant with that local name, or `default`."""
        for element in self.operation.iter():
            if element.tag.rsplit("}", 1)[-1] == local:
                return (element.text or "").strip()
        return default


def parse_request(body: bytes) -> SoapRequest:
    """Parse a SOAP envelope; no DTDs, no entities, bounded size (SECURITY.md threat 5)."""
    if len(body) > MAX_REQUEST_BYTES:
        raise SoapFault("Sender", ("ter:InvalidArgVal",), "request too large")
    if b"<!DOCTYPE" in body or b"<!ENTITY" in body:
        raise SoapFault("Sender", ("ter:InvalidArgVal",), "DTDs are not accepted")
    try:
        root = ET.fromstring(body)  # noqa: S314  # DTDs refused above, so no entity expansion
    except ET.ParseError:
        raise SoapFault("Sender", ("ter:InvalidArgVal",), "malformed XML") from None
    if root.tag != qname(NS["env"], "Envelope"):
        raise SoapFault("Sender", ("ter:InvalidArgVal",), "not a SOAP 1.2 envelope")
    header = root.find(qname(NS["env"], "Header"))
    body_element = root.find(qname(NS["env"], "Body"))
    if body_element is None or len(body_element) == 0:
        raise SoapFault("Sender", ("ter:InvalidArgVal",), "empty SOAP body")
    return SoapRequest(body_element[0], header)


def envelope(body: str) -> bytes:
    """Wrap response XML in a SOAP 1.2 envelope declaring every namespace used."""
    return (
        f'<?xml version="1.0" encoding="UTF-8"?>\n<env:Envelope {_DECLARATIONS}>'
        f"<env:Header/><env:Body>{body}</env:Body></env:Envelope>"
    ).encode()


def fault_envelope(fault: SoapFault) -> bytes:
    """A SOAP 1.2 Fault with nested subcodes."""
    subcode = ""
    for value in reversed(fault.subcodes):
        subcode = f"<env:Subcode><env:Value>{value}</env:Value>{subcode}</env:Subcode>"
    detail = f"<env:Detail>{fault.detail}</env:Detail>" if fault.detail else ""
    return envelope(
        f"<env:Fault><env:Code><env:Value>env:{fault.code}</env:Value>{subcode}</env:Code>"
        f'<env:Reason><env:Text xml:lang="en">{escape(fault.reason)}</env:Text></env:Reason>'
        f"{detail}</env:Fault>"
    )


def text(value: object) -> str:
    """Escape a value for element content."""
    return escape(str(value))


def attr(value: object) -> str:
    """Escape and quote a value for an attribute."""
    return quoteattr(str(value))


def xml_bool(value: bool) -> str:
    """xs:boolean as ONVIF writes it."""
    return "true" if value else "false"


def xml_time(moment: datetime) -> str:
    """xs:dateTime in UTC with a Z (Hikvision rejects +00:00; cameras write Z)."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_duration(value: str) -> timedelta:
    """An xs:duration of days/hours/minutes/seconds (`PT60S`, `PT10M`, `P1DT2H`)."""
    match = _DURATION.match(value.strip())
    if not match or value.strip() in ("P", "PT"):
        raise ValueError(f"not a duration: {value!r}")
    parts = {k: float(v) for k, v in match.groupdict().items() if v}
    return timedelta(**parts)


def parse_time_or_duration(value: str, now: datetime) -> datetime:
    """An InitialTerminationTime/TerminationTime: relative duration or absolute time."""
    value = value.strip()
    if value.startswith("P"):
        return now + parse_duration(value)
    moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
