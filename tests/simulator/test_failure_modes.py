"""The simulator's misbehaviours, which later robustness tests rely on: slow, broken, hostile."""

from __future__ import annotations

import base64
import time

import aiohttp
import pytest

from doorstep.simulator import SimulatedDevice
from doorstep.simulator.soap import NS
from doorstep.simulator.wssecurity import PASSWORD_DIGEST, password_digest

TIME_REQUEST = (
    b'<env:Envelope xmlns:env="http://www.w3.org/2003/05/soap-envelope" '
    b'xmlns:tds="http://www.onvif.org/ver10/device/wsdl"><env:Body><tds:GetSystemDateAndTime/>'
    b"</env:Body></env:Envelope>"
)


DEVICE_NS = "http://www.onvif.org/ver10/device/wsdl"


def signed(device: SimulatedDevice, operation: str, namespace: str = DEVICE_NS) -> bytes:
    """A request with a valid UsernameToken digest for the device's clock."""
    created = device.now().strftime("%Y-%m-%dT%H:%M:%SZ")
    nonce = b"0123456789abcdef"
    digest = password_digest(nonce, created, device.profile.password)
    return (
        '<env:Envelope xmlns:env="http://www.w3.org/2003/05/soap-envelope" '
        f'xmlns:wsse="{NS["wsse"]}" xmlns:wsu="{NS["wsu"]}">'
        "<env:Header><wsse:Security><wsse:UsernameToken>"
        f"<wsse:Username>{device.profile.username}</wsse:Username>"
        f'<wsse:Password Type="{PASSWORD_DIGEST}">{digest}</wsse:Password>'
        f"<wsse:Nonce>{base64.b64encode(nonce).decode()}</wsse:Nonce>"
        f"<wsu:Created>{created}</wsu:Created></wsse:UsernameToken></wsse:Security></env:Header>"
        f'<env:Body><op:{operation} xmlns:op="{namespace}"/></env:Body></env:Envelope>'
    ).encode()


async def post(
    device: SimulatedDevice, body: bytes, path: str = "/onvif/device_service"
) -> tuple[int, str]:
    async with (
        aiohttp.ClientSession() as http,
        http.post(device.base_url + path, data=body) as response,
    ):
        return response.status, await response.text()


async def test_slow_device_delays_answers(doorbell: SimulatedDevice) -> None:
    doorbell.slow_s = 0.4
    started = time.perf_counter()
    status, _ = await post(doorbell, TIME_REQUEST)
    assert status == 200
    assert time.perf_counter() - started >= 0.4


@pytest.mark.parametrize(
    ("mode", "status", "needle"),
    [("malformed", 200, "<env:Body>"), ("html500", 500, "<html>"), ("empty", 200, "")],
)
async def test_broken_answers(
    doorbell: SimulatedDevice, mode: str, status: int, needle: str
) -> None:
    doorbell.hostile = mode
    got_status, text = await post(doorbell, TIME_REQUEST)
    assert got_status == status
    assert needle in text
    if mode == "malformed":
        assert not text.rstrip().endswith("</env:Envelope>")


async def test_foreign_xaddrs_and_script_names(doorbell: SimulatedDevice) -> None:
    doorbell.hostile = "foreign_xaddr"
    _, services = await post(doorbell, signed(doorbell, "GetServices"))
    assert "<tds:XAddr>http://192.0.2.1/onvif/media_service</tds:XAddr>" in services
    doorbell.hostile = "script_name"
    _, info = await post(doorbell, signed(doorbell, "GetDeviceInformation"))
    assert '"&gt;&lt;img src=x onerror=alert(1)&gt;' in info  # escaped in XML, hostile once parsed


async def test_minute_61_termination_time(doorbell: SimulatedDevice) -> None:
    doorbell.hostile = "termination_minute_61"
    status, text = await post(
        doorbell, signed(doorbell, "CreatePullPointSubscription", "http://www.onvif.org/ver10/events/wsdl"),
        "/onvif/events_service",
    )  # fmt: skip
    assert status == 200
    termination = text.split("<wsnt:TerminationTime>")[1][:20]
    assert termination[14:16] == "61"


async def test_requests_with_dtds_or_bad_tokens_are_refused(doorbell: SimulatedDevice) -> None:
    bomb = b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">]>' + TIME_REQUEST
    status, text = await post(doorbell, bomb)
    assert status == 400
    assert "DTDs are not accepted" in text
    unsigned = TIME_REQUEST.replace(b"GetSystemDateAndTime", b"GetDeviceInformation")
    status, text = await post(doorbell, unsigned)
    assert status == 400
    assert "ter:NotAuthorized" in text
