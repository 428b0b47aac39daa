"""Live-view sections: ICE (STUN/TURN) servers and the candidate addresses offered."""

from __future__ import annotations

from typing import Any

from pydantic import Field, SecretStr, model_validator

from doorstep.gateway.config.fields import HostName, IceUrl, SafeText, Section


class IceServer(Section):
    """A STUN or TURN server, given to the gateway and to browsers alike."""

    urls: list[IceUrl] = Field(
        min_length=1,
        max_length=8,
        title="URLs",
        description="`stun:host:port`, `turn:host:port?transport=udp`, `turns:host:port`.",
    )
    username: SafeText | None = Field(
        None, max_length=256, title="TURN user name", description="Needed for TURN."
    )
    credential: SecretStr | None = Field(
        None, title="TURN password", description="Write `${ENV_VAR}` to keep it out of the file."
    )

    @model_validator(mode="before")
    @classmethod
    def _shorthand(cls, value: Any) -> Any:
        # `- stun:host:3478` is short for `- urls: [stun:host:3478]`.
        if isinstance(value, str):
            return {"urls": [value]}
        if isinstance(value, dict) and isinstance(value.get("urls"), str):
            return {**value, "urls": [value["urls"]]}
        return value

    @model_validator(mode="after")
    def _turn_needs_credentials(self) -> IceServer:
        turn = any(url.startswith(("turn:", "turns:")) for url in self.urls)
        if turn and (not self.username or self.credential is None):
            raise ValueError("a TURN server needs username and credential")
        return self


class LiveConfig(Section):
    """Live view over WebRTC."""

    ice_servers: list[IceServer] = Field(
        default_factory=list,
        max_length=8,
        title="ICE servers",
        description="STUN/TURN servers (`- stun:host:3478`, or `urls`, `username`, `credential` "
        "for TURN), used by the gateway and the browser. Empty: none, so no public STUN is "
        "contacted (a LAN needs none).",
    )
    host_addresses: list[HostName] = Field(
        default_factory=list,
        title="Candidate addresses",
        description="This box's addresses offered to browsers; empty offers every interface.",
    )
