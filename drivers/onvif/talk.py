"""Talk for ONVIF devices: the audio backchannel of the main stream (ONVIF Streaming spec,
`Require: www.onvif.org/ver20/backchannel`), opened while someone talks and closed after."""

from __future__ import annotations

from doorstep.protocols.backchannel import NoBackchannel, RtspBackchannel
from doorstep.protocols.rtsp_client import RtspError
from doorstep.sdk import DeviceUnavailable, StreamSource, TalkSink, Unsupported


async def open_backchannel(main: StreamSource, *, allow_basic: bool = False) -> TalkSink:
    """Open the main stream's backchannel; `Unsupported` (no speaker) or `DeviceUnavailable`.

    `allow_basic`: answer a Basic challenge over plain RTSP (the camera's `rtsp_allow_basic`).
    """
    if not main.url.startswith("rtsp://") or main.backchannel is False:
        raise Unsupported("this camera has no speaker (no ONVIF audio backchannel)")
    password = main.password.get_secret_value() if main.password else None
    try:
        return await RtspBackchannel.open(
            main.url, main.username, password, allow_basic=allow_basic
        )
    except NoBackchannel as exc:
        raise Unsupported(str(exc)) from None
    except RtspError as exc:
        raise DeviceUnavailable(f"cannot open the camera's speaker: {exc}") from None
