"""The admin commands: the gateway's own wiring, and no need for the cameras' secrets."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

CONFIG = """\
version: 1
storage:
  data_dir: {data_dir}
cameras:
  - id: porch
    name: Porch
    driver: onvif
    host: 192.0.2.10
    username: admin
    password: ${{DOORSTEP_TEST_UNSET_PORCH_PASSWORD}}
live:
  ice_servers:
    - urls: ["turn:turn.example.net:3478"]
      username: doorstep
      credential: ${{DOORSTEP_TEST_UNSET_TURN_PASSWORD}}
"""


def doorstep(*args: str, password: str | None = None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DOORSTEP_")}
    if password is not None:
        env["DOORSTEP_PASSWORD"] = password
    return subprocess.run(
        [sys.executable, "-m", "doorstep.gateway", *args],
        capture_output=True, text=True, env=env, timeout=60, check=False,
    )  # fmt: skip


def test_user_add_does_not_need_the_cameras_secrets(tmp_path: Path) -> None:
    config = tmp_path / "doorstep.yaml"
    config.write_text(CONFIG.format(data_dir=tmp_path / "data"))
    # The gateway itself refuses this config: the secrets are missing.
    assert doorstep("check-config", str(config)).returncode == 2

    added = doorstep("user", "add", "--role", "owner", "-c", str(config), "olga",
                     password="correct horse battery staple")  # fmt: skip
    assert added.returncode == 0, added.stderr
    assert "created owner 'olga'" in added.stdout
    assert str(tmp_path / "data") in added.stdout  # says where: a wrong directory is plain
    assert (tmp_path / "data" / "doorstep.db").exists()  # the config's data directory

    again = doorstep("user", "add", "-c", str(config), "OLGA", password="another long password 9")
    assert again.returncode == 1
    assert "taken" in again.stderr

    verified = doorstep("audit", "verify", "-c", str(config))
    assert verified.returncode == 0, verified.stderr
    assert "audit log ok, chain intact: 1 row(s)" in verified.stdout  # the user.create row


def test_admin_commands_still_report_a_bad_storage_section(tmp_path: Path) -> None:
    config = tmp_path / "doorstep.yaml"
    config.write_text("version: 1\nstorage:\n  data_dir: ${DOORSTEP_TEST_UNSET_DIR}\n  bogus: 1\n")
    result = doorstep("audit", "verify", "-c", str(config))
    assert result.returncode == 2
    assert "DOORSTEP_TEST_UNSET_DIR is not set" in result.stderr
    assert "storage.bogus" in result.stderr
