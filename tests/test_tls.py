"""HTTPS with a self-signed certificate made on first run, and the cookies it enables."""

from __future__ import annotations

import json
import re
import ssl
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from .conftest import StartGateway


def test_self_signed_https_and_host_cookie(
    start_gateway: StartGateway, tmp_path: Path, port: int
) -> None:
    config = tmp_path / "doorstep.yaml"
    data = tmp_path / "data"
    config.write_text(
        f"server: {{port: {port}, tls: {{self_signed: true}}}}\nstorage: {{data_dir: {data}}}\n"
    )
    gateway = start_gateway("run", "--config", str(config))
    gateway.wait_for_output("setup token")
    output = gateway.output()
    assert f"open https://127.0.0.1:{port}/" in output
    fingerprint = re.search(r"fingerprint: ([0-9A-F:]{95})", output)
    assert fingerprint, output
    assert (data / "tls" / "key.pem").stat().st_mode & 0o077 == 0
    context = ssl.create_default_context(cafile=str(data / "tls" / "cert.pem"))  # trust only it
    with urllib.request.urlopen(
        f"https://127.0.0.1:{port}/api/health", context=context, timeout=5
    ) as response:
        assert json.load(response)["status"] == "ok"
    token = re.search(r"setup token (\S+)", output)
    assert token
    request = urllib.request.Request(  # loopback test URL
        f"https://127.0.0.1:{port}/api/setup", method="POST",
        data=json.dumps(
            {"token": token.group(1), "username": "alice", "password": "correct horse battery"}
        ).encode(),
        headers={"Content-Type": "application/json", "Sec-Fetch-Site": "same-origin"},
    )  # fmt: skip
    with urllib.request.urlopen(request, context=context, timeout=10) as response:  # noqa: S310
        cookie = response.headers["Set-Cookie"]
    assert cookie.startswith("__Host-doorstep_session=")
    for flag in ("Secure", "HttpOnly", "SameSite=Strict", "Path=/"):
        assert flag in cookie, flag
    # A client that does not trust this certificate is refused: it is not a public CA's.
    default = ssl.create_default_context()
    with pytest.raises(urllib.error.URLError, match="CERTIFICATE_VERIFY_FAILED"):
        urllib.request.urlopen(f"https://127.0.0.1:{port}/api/health", context=default, timeout=5)
