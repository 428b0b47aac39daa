"""Config loading: defaults, field-path errors, env secrets, safe YAML, the check-config command."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from pydantic import BaseModel

from doorstep.gateway.cli.main import main
from doorstep.gateway.config.models import Config, ConfigError, load_config, parse_config

from .conftest import REPO

CAMERA = """
cameras:
  - id: front-door
    name: Front door
    host: 192.0.2.10
    username: admin
    password: "${FRONT_DOOR_PASSWORD}"
"""


def problems(text: str, env: dict[str, str] | None = None) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        parse_config(text, "test.yaml", env or {})
    return [str(p) for p in caught.value.problems]


def test_empty_config_is_valid_and_safe_by_default() -> None:
    for text in ("", "{}", "version: 1\n"):
        config = parse_config(text, env={})
        assert config.server.host == "127.0.0.1"
        assert config.cameras == []
        assert config.retention.clip_days > 0
    assert load_config(None) == Config()


def test_unknown_key_is_reported_with_its_path() -> None:
    assert problems("server:\n  hots: 0.0.0.0\n") == ["server.hots: Extra inputs are not permitted"]


def test_bad_type_is_reported_with_its_path() -> None:
    found = problems("server:\n  port: eighty\n")
    assert len(found) == 1
    assert found[0].startswith("server.port: ")


def test_every_problem_is_reported_at_once() -> None:
    found = problems("server:\n  port: 0\nbus:\n  queue_size: -1\nbogus: 1\n")
    assert {f.split(":")[0] for f in found} == {"server.port", "bus.queue_size", "bogus"}


def test_missing_env_secret_is_reported_with_its_path() -> None:
    assert problems(CAMERA) == [
        "cameras[0].password: environment variable FRONT_DOOR_PASSWORD is not set"
    ]


def test_env_secret_is_substituted_and_kept_secret() -> None:
    config = parse_config(CAMERA, env={"FRONT_DOOR_PASSWORD": "s3cret-pass"})
    password = config.cameras[0].password
    assert password is not None
    assert password.get_secret_value() == "s3cret-pass"
    assert "s3cret-pass" not in repr(config)
    assert list(config.secrets()) == ["s3cret-pass"]


def test_double_dollar_is_a_literal_dollar() -> None:
    text = CAMERA.replace("${FRONT_DOOR_PASSWORD}", "pa$$${X}word")
    config = parse_config(text, env={"X": "1"})
    assert config.cameras[0].password is not None
    assert config.cameras[0].password.get_secret_value() == "pa$1word"


def test_python_object_tags_are_refused_not_executed(tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    text = f"server: !!python/object/apply:os.system ['touch {marker}']\n"
    found = problems(text)
    assert len(found) == 1
    assert "could not determine a constructor" in found[0]
    assert not marker.exists()


@pytest.mark.parametrize("hostile", ["$(id)", "`id`", "exec:/bin/sh", "file:///etc/passwd"])
def test_shell_syntax_in_fields_is_refused(hostile: str) -> None:
    text = CAMERA.replace("Front door", f"'{hostile}'").replace('"${FRONT_DOOR_PASSWORD}"', "x")
    text += f"    options:\n      path: '{hostile}'\n"
    found = problems(text)
    assert {f.split(":")[0] for f in found} == {"cameras[0].name", "cameras[0].options.path"}


def test_bad_host_and_duplicate_ids_are_refused() -> None:
    text = "cameras:\n" + "".join(
        f"  - {{id: cam, name: Cam, host: '{host}'}}\n" for host in ("ok.local", "a b;reboot")
    )
    assert set(problems(text)) == {
        "cameras[1].host: Value error, must be a host name or an IP address",
    }
    text = "cameras:\n" + "  - {id: cam, name: Cam, host: 10.0.0.1}\n" * 2
    assert problems(text) == ["cameras[1].id: duplicate camera id 'cam'"]


def test_duplicate_yaml_keys_are_refused() -> None:
    found = problems("server:\n  port: 1\n  port: 2\n")
    assert len(found) == 1
    assert "duplicate key 'port'" in found[0]


def test_newer_config_version_is_refused() -> None:
    assert problems("version: 2\n") == ["version: written for a newer Doorstep (version 2)"]


def test_top_level_must_be_a_mapping() -> None:
    assert problems("- a\n- b\n") == ["<root>: the top level must be a mapping of sections"]


def _walk_models(model: type[BaseModel], seen: set[type[BaseModel]]) -> None:
    if model in seen:
        return
    seen.add(model)
    for name, field in model.model_fields.items():
        assert field.title, f"{model.__name__}.{name} has no title"
        assert field.description, f"{model.__name__}.{name} has no description"
        annotation = field.annotation
        for candidate in (annotation, *getattr(annotation, "__args__", ())):
            if isinstance(candidate, type) and issubclass(candidate, BaseModel):
                _walk_models(candidate, seen)


def test_every_field_has_a_title_and_description() -> None:
    seen: set[type[BaseModel]] = set()
    _walk_models(Config, seen)
    assert len(seen) >= 8  # the walk reached the nested sections, cameras included


def test_example_config_documents_a_valid_config(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FRONT_DOOR_PASSWORD", "example")
    monkeypatch.setenv("GARDEN_PASSWORD", "example")
    config = load_config(REPO / "config.example.yaml")
    assert config.cameras, "the example should show at least one camera"
    documented = (REPO / "config.example.yaml").read_text()
    for section, field in Config.model_fields.items():
        assert f"{section}:" in documented, f"config.example.yaml does not document {section}"
        model = field.annotation
        if isinstance(model, type) and issubclass(model, BaseModel):
            for name in model.model_fields:
                assert f"  {name}:" in documented, f"config.example.yaml lacks {section}.{name}"


def test_check_config_prints_paths_and_fails(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("FRONT_DOOR_PASSWORD", raising=False)
    path = tmp_path / "doorstep.yaml"
    path.write_text(CAMERA + "server:\n  prot: 1\n")
    assert main(["check-config", str(path)]) == 2
    err = capsys.readouterr().err
    assert (
        f"{path}: cameras[0].password: environment variable FRONT_DOOR_PASSWORD is not set" in err
    )
    assert f"{path}: server.prot: Extra inputs are not permitted" in err
    assert "2 problem(s)" in err


def test_check_config_command_accepts_a_good_file(tmp_path: Path) -> None:
    path = tmp_path / "doorstep.yaml"
    path.write_text(CAMERA)
    result = subprocess.run(
        [sys.executable, "-m", "doorstep.gateway", "check-config", str(path)],
        capture_output=True,
        text=True,
        env={"FRONT_DOOR_PASSWORD": "x", "PATH": "/usr/bin:/bin"},
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "ok (1 camera(s))" in result.stdout


def test_ice_servers_short_and_long_forms_and_turn_credentials() -> None:
    config = parse_config(
        """
live:
  ice_servers:
    - stun:stun.example.net:3478
    - urls: turns:turn.example.net:5349?transport=tcp
      username: doorstep
      credential: "${TURN_PASSWORD}"
""",
        env={"TURN_PASSWORD": "turn secret"},
    )
    stun, turn = config.live.ice_servers
    assert stun.urls == ["stun:stun.example.net:3478"]
    assert turn.urls == ["turns:turn.example.net:5349?transport=tcp"]
    assert turn.credential is not None
    assert turn.credential.get_secret_value() == "turn secret"
    assert "turn secret" not in repr(config)


@pytest.mark.parametrize(
    ("entry", "why"),
    [("http://stun.example.net", "must be stun:"), ("stun:user@evil.example", "must be stun:"),
     ("turn:turn.example.net:3478", "needs username and credential")],
)  # fmt: skip
def test_bad_ice_servers_are_refused_with_the_field(entry: str, why: str) -> None:
    found = problems(f"live:\n  ice_servers:\n    - {entry}\n")
    assert any(p.startswith("live.ice_servers[0]") and why in p for p in found), found


def test_a_home_of_an_unknown_user_is_a_field_problem() -> None:
    # `~nobody-here/x` made Path.expanduser raise RuntimeError, which is no validation error:
    # check-config and the settings API could not name the field.
    with pytest.raises(ConfigError) as caught:
        parse_config("storage:\n  data_dir: ~doorstep-no-such-user/data\n")
    assert [(p.path, p.message) for p in caught.value.problems] == [
        ("storage.data_dir", "Value error, ~doorstep-no-such-user is not a user on this machine")
    ]
