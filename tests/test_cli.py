"""The `doorstep` command as a user runs it: a real process on loopback."""

from __future__ import annotations

import json
import signal
import ssl
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from doorstep.gateway import __version__
from doorstep.gateway.keys.tls import make_self_signed

from .conftest import StartGateway


def get_json(url: str) -> dict[str, object]:
    with urllib.request.urlopen(url, timeout=5) as response:  # noqa: S310  # loopback test URL
        data: dict[str, object] = json.load(response)
        return data


def test_version() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "doorstep.gateway", "--version"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert result.stdout.strip() == f"doorstep {__version__}"


def test_run_serves_and_stops_cleanly_on_ctrl_c(
    start_gateway: StartGateway, tmp_path: Path, port: int
) -> None:
    gateway = start_gateway("run", "--port", str(port), "--data-dir", str(tmp_path / "data"))
    gateway.wait_for_output(f"Doorstep is running: open http://127.0.0.1:{port}/")
    health = get_json(f"http://127.0.0.1:{port}/api/health")
    assert health["status"] == "ok"
    assert (tmp_path / "data" / "doorstep.db").exists()
    started = time.monotonic()
    gateway.proc.send_signal(signal.SIGINT)
    assert gateway.proc.wait(timeout=10) == 0
    assert time.monotonic() - started < 5
    output = gateway.output()
    assert "shutting down" in output
    assert output.rstrip().endswith("gateway.app: stopped")
    assert "Traceback" not in output


def test_sigterm_also_stops_cleanly(start_gateway: StartGateway, tmp_path: Path, port: int) -> None:
    gateway = start_gateway("demo", "--port", str(port), "--data-dir", str(tmp_path / "d"))
    gateway.wait_for_output("Doorstep is running")
    gateway.proc.send_signal(signal.SIGTERM)
    assert gateway.proc.wait(timeout=5) == 0


def test_corrupt_database_is_refused_and_kept(
    start_gateway: StartGateway, tmp_path: Path, port: int
) -> None:
    data = tmp_path / "data"
    data.mkdir()
    damaged = data / "doorstep.db"
    damaged.write_bytes(b"\x00garbage" * 1000)
    gateway = start_gateway("run", "--port", str(port), "--data-dir", str(data))
    assert gateway.proc.wait(timeout=20) == 1
    assert "cannot open storage" in gateway.output()
    assert "not an SQLite database" in gateway.output()
    assert damaged.read_bytes() == b"\x00garbage" * 1000


def test_bad_config_exits_with_field_paths(start_gateway: StartGateway, tmp_path: Path) -> None:
    config = tmp_path / "bad.yaml"
    config.write_text("server:\n  port: 99999\n")
    gateway = start_gateway("run", "--config", str(config))
    assert gateway.proc.wait(timeout=20) == 2
    assert f"{config}: server.port:" in gateway.output()


def test_camera_password_never_reaches_the_log(
    start_gateway: StartGateway, tmp_path: Path, port: int, unused_port: int
) -> None:
    config = tmp_path / "doorstep.yaml"
    config.write_text(
        "logging: {level: debug}\n"
        f"storage: {{data_dir: {tmp_path / 'data'}}}\n"
        f"server: {{port: {port}}}\n"
        "cameras:\n"
        f"  - {{id: garden, name: Garden, driver: rtsp, host: 127.0.0.1, port: {unused_port},\n"
        "     username: admin, password: '${GARDEN_PASSWORD}', options: {main_path: /live}}\n"
    )
    gateway = start_gateway("run", "--config", str(config), env={"GARDEN_PASSWORD": "Gard3nSecret"})
    gateway.wait_for_output("unavailable: DeviceUnavailable")
    health = get_json(f"http://127.0.0.1:{port}/api/health")
    assert health["cameras"] == {"total": 1, "by_state": {"unavailable": 1}}
    gateway.proc.send_signal(signal.SIGINT)
    gateway.proc.wait(timeout=10)
    assert "Gard3nSecret" not in gateway.output()


def test_the_demo_serves_https_with_the_given_certificate(
    start_gateway: StartGateway, tmp_path: Path, port: int
) -> None:
    cert, key = make_self_signed(tmp_path / "tls", "127.0.0.1")  # as mkcert would make them
    gateway = start_gateway(
        "demo", "--port", str(port), "--data-dir", str(tmp_path / "d"),
        "--tls-cert", str(cert), "--tls-key", str(key),
    )  # fmt: skip
    gateway.wait_for_output(f"Doorstep is running: open https://127.0.0.1:{port}/")
    gateway.wait_for_output("setup token")
    # The console's other way to the owner account names the demo's data directory.
    assert f"user add --data-dir {tmp_path / 'd'} --role owner" in gateway.output()
    trusted = ssl.create_default_context(cafile=cert)  # the phone that trusts the certificate
    url = f"https://127.0.0.1:{port}/api/health"
    with urllib.request.urlopen(url, timeout=5, context=trusted) as response:
        assert json.load(response)["status"] in ("ok", "degraded")
    written = (tmp_path / "d" / "doorstep.yaml").read_text()
    assert f"cert: {cert}" in written  # the written config says how it was served
    gateway.proc.send_signal(signal.SIGINT)
    assert gateway.proc.wait(timeout=10) == 0


def test_the_demo_refuses_a_certificate_without_its_key(
    start_gateway: StartGateway, tmp_path: Path, port: int
) -> None:
    cert, _ = make_self_signed(tmp_path / "tls", "127.0.0.1")
    gateway = start_gateway("demo", "--port", str(port), "--tls-cert", str(cert))
    assert gateway.proc.wait(timeout=20) == 2
    assert "--tls-cert and --tls-key go together" in gateway.output()
    assert "Traceback" not in gateway.output()
