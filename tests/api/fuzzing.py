"""Schemathesis over a running gateway's /api/openapi.json, as one role: what CI and bench share.

Everything here is synchronous (requests, Hypothesis): call it from a worker thread while the
gateway runs on the event loop, or against a gateway on another thread.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pyotp
import requests
import schemathesis
from hypothesis import HealthCheck, Phase, Verbosity, given, settings
from hypothesis.errors import HypothesisException
from schemathesis import Case, GenerationMode
from schemathesis.checks import CHECKS, load_all_checks
from schemathesis.core.failures import FailureGroup

from doorstep.gateway.web.errors import SECURITY_HEADERS

SAME_ORIGIN = {"Sec-Fetch-Site": "same-origin"}
PASSWORD = "correct horse battery staple"
REQUEST_TIMEOUT_S = 30.0
CAMERAS = ("garden", "front")

ROLES: dict[str, tuple[str | None, list[str]]] = {
    "anonymous": (None, []),
    "owner": ("owner", []),
    "resident_granted": ("resident", ["garden"]),
    "resident": ("resident", []),
    "neighbour": ("neighbour", []),
    "agency": ("agency", []),
}
"""role under test → (account role, camera grants)."""

ALLOWED = {
    "public": set(ROLES),
    "signed_in": set(ROLES) - {"anonymous"},
    "household": {"owner", "resident_granted", "resident"},
    "owner": {"owner"},
    "neighbour": {"neighbour"},
    "agency": {"agency"},
}
"""x-doorstep-access → the roles under test that may get a 2xx."""

STREAMING = {"GET /api/events/stream", "HEAD /api/events/stream"}
"""Never ends: not fuzzed (it has no parameters anyway); `check_stream` opens and closes it."""
LAST = ("DELETE /api/session",)
"""Signs the fuzzer out: fuzzed after everything else, with one example."""
LATE = ("POST /api/session/confirm", "POST /api/me/password", "DELETE /api/users/{user_id}",
        "PATCH /api/cameras/{camera_id}", "DELETE /api/cameras/{camera_id}")  # fmt: skip
"""Wrong passwords here throttle or unconfirm the session, deletions remove what others use, a
camera change may turn `garden` off: after the rest, so the rest runs with a fresh, confirmed
session and the camera online."""

KNOWN_PATH = {"camera_id": "garden", "user_id": "2"}
"""Besides random ones, examples with these path parameters: the online camera and the resident
every gateway here has (the owner is user 1), so handlers get past "no such camera/account"."""

BUILTIN_CHECKS = (
    "not_a_server_error",
    "status_code_conformance",
    "content_type_conformance",
    "response_headers_conformance",
    "response_schema_conformance",
    "negative_data_rejection",
)


@dataclass
class Tally:
    """What one role's run saw."""

    role: str
    operations: int = 0
    examples: int = 0
    statuses: Counter[int] = field(default_factory=Counter)
    by_operation: dict[str, Counter[int]] = field(default_factory=dict)
    failures: int = 0
    kinds: dict[str, str] = field(default_factory=dict)
    """Distinct failure (operation, check, first line) → one example, shortened."""
    unrun: dict[str, str] = field(default_factory=dict)
    """Operation and mode Hypothesis could not generate for → why."""

    def fail(self, operation: str, check: str, message: str, example: str = "") -> None:
        """Count a failure; keep the first example of each kind."""
        self.failures += 1
        first = message.strip().splitlines()[0][:160] if message.strip() else ""
        self.kinds.setdefault(f"{operation}: {check}: {first}", example[:3000])


def open_session() -> requests.Session:
    """A client that sends what the UI's pages send."""
    session = requests.Session()
    session.headers.update(SAME_ORIGIN)
    return session


def _post(session: requests.Session, url: str, body: dict[str, Any]) -> dict[str, Any]:
    response = session.post(url, json=body, timeout=REQUEST_TIMEOUT_S)
    assert response.status_code in (200, 201), (url, response.status_code, response.text)
    answer: dict[str, Any] = response.json()
    return answer


def enroll_totp(session: requests.Session, base_url: str) -> pyotp.TOTP:
    """Switch on the second factor an owner or agency account needs before anything else."""
    started = _post(session, f"{base_url}/api/me/totp", {})
    otp = pyotp.TOTP(started["secret"])
    _post(session, f"{base_url}/api/me/totp/confirm", {"code": otp.now()})
    return otp


def sign_in_as(base_url: str, setup_token: str, role: str) -> requests.Session:
    """Set up a fresh gateway and return a signed-in session of `role` (anonymous: none)."""
    owner = open_session()
    _post(owner, f"{base_url}/api/setup",
          {"token": setup_token, "username": "olivia", "password": PASSWORD})  # fmt: skip
    enroll_totp(owner, base_url)
    # Another account, so the owner's fuzzing has someone to change and delete.
    rita = {"username": "rita", "password": PASSWORD, "role": "resident", "cameras": ["front"]}
    _post(owner, f"{base_url}/api/users", rita)
    if role == "owner":
        return owner
    if role == "anonymous":
        return open_session()
    account_role, cameras = ROLES[role]
    account = {"username": role, "password": PASSWORD, "role": account_role, "cameras": cameras}
    _post(owner, f"{base_url}/api/users", account)
    session = open_session()
    me = _post(session, f"{base_url}/api/session", {"username": role, "password": PASSWORD})
    if me["must_enroll_totp"]:
        enroll_totp(session, base_url)
    return session


def refusal_for(role: str) -> int:
    """What a role gets from a route it may not call: an agency is not told the route exists."""
    return 401 if role == "anonymous" else 404 if role == "agency" else 403


REJECTIONS = [400, 401, 403, 404, 405, 406, 408, 409, 413, 415, 421, 422, 428, 429]
"""What counts as refusing invalid input: schemathesis' list, with 413 (a body over the cap is
refused before it is parsed), 408 and 421 added, and without 5xx (never a valid refusal here)."""


def load_schema(base_url: str) -> Any:
    """The schema exactly as the gateway serves it."""
    config = schemathesis.Config.from_dict(
        {"checks": {"negative_data_rejection": {"expected-statuses": REJECTIONS}}}
    )
    return schemathesis.openapi.from_url(
        f"{base_url}/api/openapi.json", config=config, timeout=REQUEST_TIMEOUT_S
    )


def visible_cameras(role: str) -> set[str]:
    """The cameras a role under test may see."""
    if role == "owner":
        return set(CAMERAS)
    return set(ROLES[role][1]) if ROLES[role][0] == "resident" else set()


def contract_problems(role: str, operation: Any, response: Any) -> list[str]:
    """Our own checks: security headers, the route's access level, and what a role may see."""
    problems = []

    def values(name: str) -> list[str]:
        wanted = name.lower()
        return [v for key, vs in response.headers.items() if key.lower() == wanted for v in vs]

    for name, value in SECURITY_HEADERS.items():
        if values(name) != [value]:
            problems.append(f"security header {name} missing or wrong")
    if values("Cache-Control") != ["no-store"]:
        problems.append("an API answer without Cache-Control: no-store")
    access = operation.definition.raw["x-doorstep-access"]
    status = response.status_code
    if role not in ALLOWED[access]:
        refused = refusal_for(role)
        if status not in (refused, 415, 421):
            problems.append(f"{role} got {status} from a {access} route (expected {refused})")
    if status == 200 and operation.label == "GET /api/cameras":
        seen = {camera["id"] for camera in response.json()["cameras"]}
        if not seen <= visible_cameras(role):
            problems.append(f"{role} sees cameras {sorted(seen - visible_cameras(role))}")
    if status == 200 and operation.label == "GET /api/events":
        seen = {event["camera_id"] for event in response.json()["events"]}
        if not seen <= visible_cameras(role):
            problems.append(f"{role} sees events of {sorted(seen - visible_cameras(role))}")
    return problems


def _confine(case: Case[Any]) -> None:
    """Keep every address the gateway would connect to on loopback's discard port (refused at
    once), whatever else the example says, so the fuzzer never sends anything off this box:
    adoption's camera, outgoing webhooks' URLs, push subscriptions' endpoints, and the
    discovery and STUN/TURN settings."""
    label, body = case.operation.label, case.body
    if not isinstance(body, dict):
        return
    if label == "POST /api/cameras":
        if isinstance(body.get("host"), str):
            body["host"] = "127.0.0.1"
        port = body.get("port")
        if port is None or (isinstance(port, int) and 1 <= port <= 65535):
            body["port"] = 9
    elif label.startswith(("POST /api/automations/webhooks", "PATCH /api/automations/webhooks")):
        if isinstance(body.get("url"), str):
            body["url"] = "http://127.0.0.1:9/hook"
    elif label == "POST /api/push/subscriptions" and isinstance(body.get("endpoint"), str):
        body["endpoint"] = "http://127.0.0.1:9/push/fuzz"
    elif label == "PUT /api/settings/{section}":
        # Settings that apply at once must not make the gateway probe or contact anything.
        for key in ("targets", "interfaces", "ice_servers"):
            if key in body:
                body[key] = []
        if "mdns" in body:
            body["mdns"] = False


def _order(label: str) -> int:
    return 2 if label in LAST else 1 if label in LATE else 0


def _caller(
    base_url: str,
    session: requests.Session,
    role: str,
    operation: Any,
    checks: list[Any],
    tally: Tally,
) -> Callable[[Case[Any]], None]:
    """One example: send it, run schemathesis' checks and ours, count what failed."""

    def one(case: Case[Any]) -> None:
        _confine(case)
        try:
            response = case.call(
                base_url=base_url, session=session, headers=SAME_ORIGIN, timeout=REQUEST_TIMEOUT_S
            )
        except requests.RequestException as exc:
            tally.fail(operation.label, "transport", f"{type(exc).__name__}: {exc}")
            return
        tally.examples += 1
        tally.statuses[response.status_code] += 1
        tally.by_operation.setdefault(operation.label, Counter())[response.status_code] += 1
        curl = f"[{response.status_code}] {case.as_curl_command(headers=SAME_ORIGIN)}"
        try:
            case.validate_response(response, checks=checks)
        except FailureGroup as group:  # every check that failed, each counted
            for failure in group.exceptions:
                title = getattr(failure, "title", type(failure).__name__)
                message = getattr(failure, "message", str(failure))
                tally.fail(operation.label, str(title), str(message), curl)
        for problem in contract_problems(role, operation, response):
            tally.fail(operation.label, "contract", problem, curl)

    return one


def _runs(operation: Any) -> list[tuple[GenerationMode, dict[str, str]]]:
    """(mode, fixed path parameters) to generate for. Negative examples only where something
    can be invalid: with nothing to negate, Hypothesis would search at length to say so."""
    raw = operation.definition.raw
    names = {p.name for p in operation.path_parameters}
    known = {name: value for name, value in KNOWN_PATH.items() if name in names}
    body = raw.get("requestBody", {}).get("content", {}).get("application/json", {})
    typed_body = any(key in body.get("schema", {}) for key in ("type", "$ref"))
    query = any(p["in"] == "query" for p in raw.get("parameters", []))
    runs: list[tuple[GenerationMode, dict[str, str]]] = [(GenerationMode.POSITIVE, {})]
    if raw.get("parameters") or typed_body:
        runs.append((GenerationMode.NEGATIVE, {}))
    if known:
        runs.append((GenerationMode.POSITIVE, known))
        if typed_body or query:
            runs.append((GenerationMode.NEGATIVE, known))
    return runs


def _examples_for(role: str, operation: Any, examples: int) -> int:
    """Full depth where the handler reads the input; a few where the answer comes before it
    (a refused role, HEAD's copy of GET) or the operation signs the fuzzer out."""
    if operation.label in LAST:
        return 1
    refused = role not in ALLOWED[operation.definition.raw["x-doorstep-access"]]
    return max(2, examples // 3) if refused or operation.method.upper() == "HEAD" else examples


def fuzz_role(
    base_url: str, session: requests.Session, role: str, examples: int, *, derandomize: bool
) -> Tally:
    """Every operation, positive and negative examples, as `role`; failures counted, not raised."""
    load_all_checks()
    checks = [CHECKS.get_one(name) for name in BUILTIN_CHECKS]
    schema = load_schema(base_url)
    tally = Tally(role)
    operations = [result.ok() for result in schema.get_all_operations()]
    operations.sort(key=lambda op: _order(op.label))

    for operation in operations:
        if operation.label in STREAMING:
            continue
        tally.operations += 1
        one = _caller(base_url, session, role, operation, checks, tally)
        count = _examples_for(role, operation, examples)
        for mode, path_parameters in _runs(operation)[: 1 if operation.label in LAST else None]:
            strategy = operation.as_strategy(
                generation_mode=mode, path_parameters=path_parameters or None
            )
            run = settings(
                max_examples=count, deadline=None, database=None, derandomize=derandomize,
                phases=[Phase.explicit, Phase.generate], verbosity=Verbosity.quiet,
                suppress_health_check=list(HealthCheck),
            )(given(case=strategy)(one))  # fmt: skip
            try:
                run()
            except HypothesisException as exc:  # e.g. Unsatisfiable: nothing to make invalid
                label = f"{operation.label} {mode.value} {path_parameters or ''}"
                tally.unrun[label.strip()] = type(exc).__name__
    return tally


def check_stream(base_url: str, cookies: Any, role: str) -> list[str]:
    """Open the event stream (GET and HEAD) once, check its status and headers, hang up."""
    problems: list[str] = []
    for method in ("GET", "HEAD"):
        with requests.Session() as one_off:  # a connection of its own: the stream never ends
            one_off.cookies.update(cookies)
            with one_off.request(
                method, f"{base_url}/api/events/stream", stream=True, timeout=REQUEST_TIMEOUT_S,
                headers={**SAME_ORIGIN, "Connection": "close"},
            ) as response:  # fmt: skip
                allowed = role in ALLOWED["household"]
                expected = 200 if allowed else refusal_for(role)
                if response.status_code != expected:
                    problems.append(f"{method} stream as {role}: {response.status_code}")
                kind = response.headers.get("Content-Type", "")
                if allowed and not re.match(r"text/event-stream\b", kind):
                    problems.append(f"{method} stream as {role}: Content-Type {kind!r}")
                for name, value in SECURITY_HEADERS.items():
                    if response.headers.get(name) != value:
                        problems.append(f"{method} stream as {role}: no {name}")
    return problems
