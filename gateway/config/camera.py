"""One camera's section: identity, driver, address, credentials and driver options."""

from __future__ import annotations

from pydantic import Field, SecretStr

from doorstep.gateway.config.fields import HostOrEmpty, OptionValue, SafeText, Section
from doorstep.gateway.config.recording import CameraRecordingConfig


class CameraConfig(Section):
    """One adopted camera or doorbell."""

    id: str = Field(
        pattern=r"^[a-z0-9][a-z0-9_-]{0,63}$",
        title="Id",
        description="Stable identifier: lower-case letters, digits, '-' and '_'.",
    )
    name: SafeText = Field(max_length=100, title="Name", description="Shown in the UI.")
    driver: str = Field(
        "onvif",
        pattern=r"^[a-z0-9_]{1,32}$",
        title="Driver",
        description="Short name of the driver.",
    )
    host: HostOrEmpty = Field(
        "",
        title="Host",
        description="The camera's address; every URL it returns must stay on it. Required by "
        "drivers that need one (ONVIF, RTSP): the gateway checks it against the driver.",
    )
    port: int | None = Field(
        None,
        ge=1,
        le=65535,
        title="Port",
        description="Control port; the driver's default if empty.",
    )
    username: SafeText | None = Field(
        None, max_length=256, title="User name", description="Camera account."
    )
    password: SecretStr | None = Field(
        None,
        title="Password",
        description="Camera password; write `${ENV_VAR}` to keep it out of the file.",
    )
    enabled: bool = Field(
        True, title="Enabled", description="Disabled cameras are kept but not connected."
    )
    rtsp_allow_basic: bool = Field(
        False,
        title="Allow RTSP Basic authentication",
        description="Answer an RTSP Basic challenge, which sends the password in clear over "
        "plain rtsp://; off, such a camera is refused with that reason (Digest is always used).",
    )
    options: dict[str, OptionValue] = Field(
        default_factory=dict, title="Driver options", description="Driver-specific settings."
    )
    recording: CameraRecordingConfig = Field(
        default_factory=CameraRecordingConfig,
        title="Recording",
        description="This camera's changes to the recording defaults.",
    )
