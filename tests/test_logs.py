"""Credentials never reach the log: URL user info, secret fields, auth headers, known secrets."""

from __future__ import annotations

import asyncio
import io
import json
import logging
import secrets
from datetime import UTC, datetime
from pathlib import Path

import aiohttp
import pytest

from doorstep.gateway.cameras.adoption import CameraService
from doorstep.gateway.cli.logs import REDACTED, redact, register_secret, setup_logging
from doorstep.gateway.cli.run import setup_run_logging
from doorstep.gateway.config.models import Config
from doorstep.gateway.devices.registry import DriverRegistry
from doorstep.gateway.keys.redaction import registered_secrets
from doorstep.gateway.keys.secretbox import SecretBox
from doorstep.gateway.storage import CameraRecord, Storage


@pytest.mark.parametrize(
    ("text", "secret"),
    [
        ("opening rtsp://admin:hunter22@192.0.2.1:554/stream1", "hunter22"),
        ("opening rtsp://admin:p@ss@192.0.2.1/s", "p@ss"),
        ("GET http://user:pw1234@cam.local/onvif/snapshot", "pw1234"),
        ("RTSPS URL rtsps://only-user@cam/", "only-user"),
        ("login failed password=letmein99 for admin", "letmein99"),
        ('{"password": "topsecret1", "user": "x"}', "topsecret1"),
        ("Authorization: Digest username=admin, response=abcdef123456", "abcdef123456"),
        ("Authorization: Basic YWRtaW46c2VjcmV0", "YWRtaW46c2VjcmV0"),
        ('<wsse:Password Type="…#PasswordDigest">Zm9vYmFyYmF6</wsse:Password>', "Zm9vYmFyYmF6"),
        ("token=abcdefabcdef0123 expired", "abcdefabcdef0123"),
    ],
)
def test_redact_removes_credentials(text: str, secret: str) -> None:
    cleaned = redact(text)
    assert secret not in cleaned
    assert REDACTED in cleaned


def test_redact_keeps_ordinary_text() -> None:
    text = "camera front-door online: Reolink Video Doorbell PoE at rtsp://192.0.2.1:554/h264"
    assert redact(text) == text


def test_known_secrets_are_redacted_verbatim() -> None:
    assert redact("camera said 'Sup3rS3cret' back", ["Sup3rS3cret"]) == "camera said '***' back"
    assert redact("a b c", ["b"]) == "a b c"  # too short to redact without mangling text


def _logged(fmt: str, secrets: list[str]) -> str:
    stream = io.StringIO()
    handler = setup_logging("debug", fmt, secrets, stream)
    try:
        log = logging.getLogger("doorstep.drivers.test")
        log.warning("cannot open %s", "rtsp://admin:Cam3raPass@192.0.2.9/live")
        try:
            raise ConnectionError("401 for http://admin:Cam3raPass@192.0.2.9/onvif")
        except ConnectionError:
            log.exception(
                "connect failed", extra={"camera": "front", "url": "rtsp://a:Cam3raPass@x/"}
            )
        log.info("the password is still %s", "Cam3raPass")
    finally:
        logging.getLogger().removeHandler(handler)
        logging.captureWarnings(False)
    return stream.getvalue()


@pytest.mark.parametrize("fmt", ["text", "json"])
def test_log_records_are_redacted_including_tracebacks_and_extras(fmt: str) -> None:
    output = _logged(fmt, ["Cam3raPass"])
    assert "Cam3raPass" not in output
    assert "192.0.2.9" in output  # the rest of the line survives
    assert "ConnectionError" in output  # so does the traceback
    if fmt == "json":
        entries = [json.loads(line) for line in output.splitlines()]
        assert entries[1]["camera"] == "front"
        assert "exc" in entries[1]


def test_per_call_ice_chatter_stays_out_of_the_info_log() -> None:
    stream = io.StringIO()
    handler = setup_logging("info", "text", [], stream)
    try:
        logging.getLogger("aioice.ice").info("Connection(0) Check CandidatePair(...) -> SUCCEEDED")
        logging.getLogger("aioice.ice").warning("Connection(0) Consent to send expired")
        logging.getLogger("doorstep.gateway.live").info("live view ended")
    finally:
        logging.getLogger().removeHandler(handler)
        logging.captureWarnings(False)
    logged = stream.getvalue()
    assert "CandidatePair" not in logged
    assert "Consent to send expired" in logged
    assert "live view ended" in logged


def _emit(handler: logging.Handler, stream: io.StringIO, message: str) -> str:
    logging.getLogger("doorstep.gateway.test").warning(message)
    handler.flush()
    return stream.getvalue()


def test_turn_credentials_from_the_config_are_redacted() -> None:
    credential = "turn-" + secrets.token_hex(8)
    config = Config.model_validate(
        {
            "live": {
                "ice_servers": [
                    {
                        "urls": ["turn:turn.example.net:3478"],
                        "username": "u",
                        "credential": credential,
                    }
                ]
            }
        }
    )
    stream = io.StringIO()
    handler = setup_run_logging(config, stream)
    try:
        text = _emit(handler, stream, f"ICE server answered 401 for {credential}")
    finally:
        logging.getLogger().removeHandler(handler)
    assert credential not in text
    assert f"for {REDACTED}" in text


def test_a_registered_secret_is_redacted_in_both_formats() -> None:
    secret = "reg-" + secrets.token_hex(8)
    register_secret(secret)
    for fmt in ("text", "json"):
        stream = io.StringIO()
        handler = setup_logging("info", fmt, stream=stream)
        try:
            text = _emit(handler, stream, f"camera said {secret}")
        finally:
            logging.getLogger().removeHandler(handler)
        assert secret not in text
        assert REDACTED in text


async def test_adopted_cameras_passwords_are_redacted_once_unsealed(tmp_path: Path) -> None:
    password = "adopted-" + secrets.token_hex(8)
    storage = await Storage.open(tmp_path)
    try:
        box = await asyncio.to_thread(SecretBox.load_or_create, tmp_path)
        now = datetime.now(UTC)
        await storage.cameras.upsert(
            CameraRecord("porch", "Porch", "onvif", "192.0.2.7", 80, now, adopted=True)
        )
        await storage.cameras.put_credentials("porch", "admin", box.seal(password))
        async with aiohttp.ClientSession() as http:
            service = CameraService(storage.cameras, box, DriverRegistry(), http, tmp_path)
            [camera] = await service.adopted()
    finally:
        await storage.close()
    assert camera.password is not None
    assert camera.password.get_secret_value() == password
    assert redact(f"driver error talking to porch with {password}", registered_secrets()) == (
        f"driver error talking to porch with {REDACTED}"
    )
