"""Home-automation sections: the MQTT broker Doorstep publishes to (Home Assistant discovery)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated

from pydantic import AfterValidator, Field, SecretStr, model_validator

from doorstep.gateway.config.fields import HostName, SafeText, Section, expand_home

_LEVEL = r"[^/+#$\x00-\x1f\x7f][^/+#\x00-\x1f\x7f]*"
_TOPIC_ROOT = re.compile(rf"^{_LEVEL}(/{_LEVEL})*$")
_CLIENT_ID = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")


def _topic_root(value: str) -> str:
    # Wildcards, empty levels and a leading '$' ($SYS) cannot start a topic we publish under.
    if not _TOPIC_ROOT.match(value):
        raise ValueError(
            "must be MQTT topic levels separated by '/': no '+', '#', leading '$', empty level "
            "or control character"
        )
    return value


def _client_id(value: str) -> str:
    if not _CLIENT_ID.match(value):
        raise ValueError("must be 1-64 letters, digits, '.', '_' or '-'")
    return value


TopicRoot = Annotated[str, Field(min_length=1, max_length=64), AfterValidator(_topic_root)]
PemFile = Annotated[Path, AfterValidator(expand_home)]


class MqttTlsConfig(Section):
    """TLS to the broker: the server's certificate is verified unless told otherwise."""

    enabled: bool = Field(False, title="TLS", description="Connect to the broker over TLS.")
    ca_file: PemFile | None = Field(
        None,
        title="CA certificates",
        description="PEM file of the CA that signed the broker's certificate; empty: the "
        "system's CAs.",
    )
    cert_file: PemFile | None = Field(
        None, title="Client certificate", description="PEM certificate, if the broker asks one."
    )
    key_file: PemFile | None = Field(
        None, title="Client key", description="PEM private key of the client certificate."
    )
    verify: bool = Field(
        True,
        title="Verify the broker",
        description="Check the broker's certificate and host name. Off, anyone on the path can "
        "read the password: only for a broker you reach over a trusted link.",
    )

    @model_validator(mode="after")
    def _cert_with_key(self) -> MqttTlsConfig:
        if (self.cert_file is None) != (self.key_file is None):
            raise ValueError("cert_file and key_file go together")
        return self


class MqttConfig(Section):
    """An MQTT broker to publish camera events and states to, with Home Assistant discovery."""

    host: HostName = Field(title="Broker", description="Host name or address of the broker.")
    port: int | None = Field(
        None, ge=1, le=65535, title="Port", description="Empty: 8883 with TLS, else 1883."
    )
    tls: MqttTlsConfig = Field(
        default_factory=MqttTlsConfig, title="TLS", description="Encryption to the broker."
    )
    username: SafeText | None = Field(
        None, max_length=256, title="User name", description="Broker account."
    )
    password: SecretStr | None = Field(
        None,
        title="Password",
        description="Broker password; write `${ENV_VAR}` to keep it out of the file.",
    )
    client_id: Annotated[str, AfterValidator(_client_id)] | None = Field(
        None,
        title="Client id",
        description="MQTT client identifier, unique on the broker; empty: derived from the "
        "base topic.",
    )
    discovery_prefix: TopicRoot = Field(
        "homeassistant",
        title="Discovery prefix",
        description="Home Assistant's MQTT discovery prefix (its MQTT integration's setting).",
    )
    base_topic: TopicRoot = Field(
        "doorstep",
        title="Base topic",
        description="Doorstep's states and events go under this topic; also names the gateway "
        "in Home Assistant's ids, so give each gateway on one broker its own.",
    )
    keepalive_s: int = Field(
        30,
        ge=5,
        le=3600,
        title="Keep-alive (s)",
        description="The broker declares the gateway offline 1.5x this long after it goes quiet.",
    )

    @model_validator(mode="after")
    def _password_needs_user(self) -> MqttConfig:
        if self.password is not None and self.username is None:
            raise ValueError("a password needs a username (MQTT 3.1.1 sends none without one)")
        return self

    @property
    def effective_port(self) -> int:
        """The configured port, or MQTT's default for plain TCP or TLS."""
        if self.port is not None:
            return self.port
        return 8883 if self.tls.enabled else 1883
