"""ONVIF device and media service operations of the simulator (ver10 device and media WSDLs)."""

from __future__ import annotations

import atexit
import socket
from collections.abc import Awaitable, Callable

from doorstep.simulator.profile import Quirk
from doorstep.simulator.soap import NS, SoapFault, SoapRequest, attr, text
from doorstep.simulator.state import DeviceState

Operation = Callable[["DeviceState", SoapRequest], Awaitable[str]]

FOREIGN_HOST = "192.0.2.1"  # TEST-NET-1: never routed; what a hostile camera might point at
SCRIPT_NAME = '"><img src=x onerror=alert(1)>'


def _base(device: DeviceState) -> str:
    return f"http://{FOREIGN_HOST}" if device.hostile == "foreign_xaddr" else device.base_url


async def get_system_date_and_time(device: DeviceState, request: SoapRequest) -> str:
    """The device clock (pre-auth: clients read it to compute their clock offset)."""
    now = device.now()
    return (
        "<tds:GetSystemDateAndTimeResponse><tds:SystemDateAndTime>"
        "<tt:DateTimeType>Manual</tt:DateTimeType><tt:DaylightSavings>false</tt:DaylightSavings>"
        "<tt:TimeZone><tt:TZ>UTC0</tt:TZ></tt:TimeZone>"
        f"<tt:UTCDateTime><tt:Time><tt:Hour>{now.hour}</tt:Hour><tt:Minute>{now.minute}</tt:Minute>"
        f"<tt:Second>{now.second}</tt:Second></tt:Time><tt:Date><tt:Year>{now.year}</tt:Year>"
        f"<tt:Month>{now.month}</tt:Month><tt:Day>{now.day}</tt:Day></tt:Date></tt:UTCDateTime>"
        "</tds:SystemDateAndTime></tds:GetSystemDateAndTimeResponse>"
    )


async def get_services(device: DeviceState, request: SoapRequest) -> str:
    """The services and their XAddrs."""
    base = _base(device)
    services = (
        (NS["tds"], "/onvif/device_service", 2, 40),
        (NS["trt"], "/onvif/media_service", 2, 40),
        (NS["tev"], "/onvif/events_service", 2, 40),
    )
    body = "".join(
        f"<tds:Service><tds:Namespace>{ns}</tds:Namespace><tds:XAddr>{text(base + path)}</tds:XAddr>"
        f"<tds:Version><tt:Major>{major}</tt:Major><tt:Minor>{minor}</tt:Minor></tds:Version></tds:Service>"
        for ns, path, major, minor in services
    )
    return f"<tds:GetServicesResponse>{body}</tds:GetServicesResponse>"


async def get_capabilities(device: DeviceState, request: SoapRequest) -> str:
    """The older capability listing (fallback for clients without GetServices)."""
    base = _base(device)
    return (
        "<tds:GetCapabilitiesResponse><tds:Capabilities>"
        f"<tt:Device><tt:XAddr>{text(base)}/onvif/device_service</tt:XAddr>"
        "<tt:System><tt:DiscoveryResolve>false</tt:DiscoveryResolve><tt:DiscoveryBye>true</tt:DiscoveryBye>"
        "<tt:RemoteDiscovery>false</tt:RemoteDiscovery><tt:SystemBackup>false</tt:SystemBackup>"
        "<tt:SystemLogging>false</tt:SystemLogging><tt:FirmwareUpgrade>false</tt:FirmwareUpgrade>"
        "<tt:SupportedVersions><tt:Major>2</tt:Major><tt:Minor>40</tt:Minor></tt:SupportedVersions>"
        "</tt:System></tt:Device>"
        f"<tt:Events><tt:XAddr>{text(base)}/onvif/events_service</tt:XAddr>"
        "<tt:WSSubscriptionPolicySupport>true</tt:WSSubscriptionPolicySupport>"
        "<tt:WSPullPointSupport>true</tt:WSPullPointSupport>"
        "<tt:WSPausableSubscriptionManagerInterfaceSupport>false</tt:WSPausableSubscriptionManagerInterfaceSupport>"
        "</tt:Events>"
        f"<tt:Media><tt:XAddr>{text(base)}/onvif/media_service</tt:XAddr>"
        "<tt:StreamingCapabilities><tt:RTPMulticast>false</tt:RTPMulticast><tt:RTP_TCP>true</tt:RTP_TCP>"
        "<tt:RTP_RTSP_TCP>true</tt:RTP_RTSP_TCP></tt:StreamingCapabilities></tt:Media>"
        "</tds:Capabilities></tds:GetCapabilitiesResponse>"
    )


async def get_device_information(device: DeviceState, request: SoapRequest) -> str:
    """Manufacturer, model, firmware, serial."""
    p = device.profile
    model = {"script_name": SCRIPT_NAME, "huge_name": "M" * (1 << 20)}.get(
        device.hostile or "", p.model
    )
    return (
        "<tds:GetDeviceInformationResponse>"
        f"<tds:Manufacturer>{text(p.manufacturer)}</tds:Manufacturer><tds:Model>{text(model)}</tds:Model>"
        f"<tds:FirmwareVersion>{text(p.firmware)}</tds:FirmwareVersion>"
        f"<tds:SerialNumber>{text(p.serial)}</tds:SerialNumber><tds:HardwareId>{text(p.model)}</tds:HardwareId>"
        "</tds:GetDeviceInformationResponse>"
    )


async def get_network_interfaces(device: DeviceState, request: SoapRequest) -> str:
    """One wired interface with the device's MAC (the stable id clients key on)."""
    p = device.profile
    return (
        '<tds:GetNetworkInterfacesResponse><tds:NetworkInterfaces token="eth0">'
        "<tt:Enabled>true</tt:Enabled>"
        f"<tt:Info><tt:Name>eth0</tt:Name><tt:HwAddress>{p.mac}</tt:HwAddress><tt:MTU>1500</tt:MTU></tt:Info>"
        "<tt:IPv4><tt:Enabled>true</tt:Enabled><tt:Config>"
        f"<tt:Manual><tt:Address>{text(p.host)}</tt:Address><tt:PrefixLength>8</tt:PrefixLength></tt:Manual>"
        "<tt:DHCP>false</tt:DHCP></tt:Config></tt:IPv4>"
        "</tds:NetworkInterfaces></tds:GetNetworkInterfacesResponse>"
    )


def scopes(device: DeviceState) -> list[str]:
    """The device's ONVIF scopes (also announced by WS-Discovery)."""
    p = device.profile
    name = SCRIPT_NAME if device.hostile == "script_name" else p.name
    return [
        "onvif://www.onvif.org/Profile/Streaming",
        "onvif://www.onvif.org/Profile/T",
        f"onvif://www.onvif.org/type/{'doorbell' if p.kind.value == 'doorbell' else 'video_encoder'}",
        f"onvif://www.onvif.org/name/{name.replace(' ', '_')}",
        f"onvif://www.onvif.org/hardware/{p.model.replace(' ', '_')}",
        "onvif://www.onvif.org/location/simulator",
    ]


async def get_scopes(device: DeviceState, request: SoapRequest) -> str:
    """Scopes: profiles, name, hardware, location."""
    body = "".join(
        f"<tds:Scopes><tt:ScopeDef>Fixed</tt:ScopeDef><tt:ScopeItem>{text(s)}</tt:ScopeItem></tds:Scopes>"
        for s in scopes(device)
    )
    return f"<tds:GetScopesResponse>{body}</tds:GetScopesResponse>"


async def system_reboot(device: DeviceState, request: SoapRequest) -> str:
    """Reboot the device: subscriptions and RTSP sessions are lost."""
    device.schedule_reboot(device.default_reboot_s)
    return (
        "<tds:SystemRebootResponse><tds:Message>Rebooting</tds:Message></tds:SystemRebootResponse>"
    )


def _profile_xml(
    device: DeviceState, token: str, name: str, width: int, height: int, fps: int, kbps: int
) -> str:
    p = device.profile
    audio_output = ""
    if p.has_backchannel:
        audio_output = (
            "<tt:Extension>"
            '<tt:AudioOutputConfiguration token="AudioOutputConfig_1"><tt:Name>Speaker</tt:Name>'
            "<tt:UseCount>2</tt:UseCount><tt:OutputToken>AudioOutput_1</tt:OutputToken>"
            "<tt:SendPrimacy>www.onvif.org/ver20/HalfDuplex/Auto</tt:SendPrimacy>"
            "<tt:OutputLevel>80</tt:OutputLevel></tt:AudioOutputConfiguration>"
            '<tt:AudioDecoderConfiguration token="AudioDecoderConfig_1"><tt:Name>G711</tt:Name>'
            "<tt:UseCount>2</tt:UseCount></tt:AudioDecoderConfiguration>"
            "</tt:Extension>"
        )
    multicast = (
        "<tt:Multicast><tt:Address><tt:Type>IPv4</tt:Type><tt:IPv4Address>0.0.0.0</tt:IPv4Address></tt:Address>"
        "<tt:Port>0</tt:Port><tt:TTL>1</tt:TTL><tt:AutoStart>false</tt:AutoStart></tt:Multicast>"
        "<tt:SessionTimeout>PT60S</tt:SessionTimeout>"
    )
    return (
        f'<trt:Profiles token={attr(token)} fixed="true"><tt:Name>{text(name)}</tt:Name>'
        '<tt:VideoSourceConfiguration token="VideoSourceConfig_1"><tt:Name>VideoSource</tt:Name>'
        "<tt:UseCount>2</tt:UseCount><tt:SourceToken>VideoSource_1</tt:SourceToken>"
        f'<tt:Bounds x="0" y="0" width="{p.width}" height="{p.height}"/></tt:VideoSourceConfiguration>'
        '<tt:AudioSourceConfiguration token="AudioSourceConfig_1"><tt:Name>Microphone</tt:Name>'
        "<tt:UseCount>2</tt:UseCount><tt:SourceToken>AudioSource_1</tt:SourceToken></tt:AudioSourceConfiguration>"
        f'<tt:VideoEncoderConfiguration token="VideoEncoder_{token}"><tt:Name>{text(name)}</tt:Name>'
        "<tt:UseCount>1</tt:UseCount><tt:Encoding>H264</tt:Encoding>"
        f"<tt:Resolution><tt:Width>{width}</tt:Width><tt:Height>{height}</tt:Height></tt:Resolution>"
        f"<tt:Quality>5</tt:Quality><tt:RateControl><tt:FrameRateLimit>{fps}</tt:FrameRateLimit>"
        f"<tt:EncodingInterval>1</tt:EncodingInterval><tt:BitrateLimit>{kbps}</tt:BitrateLimit></tt:RateControl>"
        f"<tt:H264><tt:GovLength>{fps}</tt:GovLength><tt:H264Profile>Baseline</tt:H264Profile></tt:H264>"
        f"{multicast}</tt:VideoEncoderConfiguration>"
        '<tt:AudioEncoderConfiguration token="AudioEncoder_1"><tt:Name>G711</tt:Name><tt:UseCount>2</tt:UseCount>'
        "<tt:Encoding>G711</tt:Encoding><tt:Bitrate>64</tt:Bitrate><tt:SampleRate>8</tt:SampleRate>"
        f"{multicast}</tt:AudioEncoderConfiguration>"
        f"{audio_output}</trt:Profiles>"
    )


def _profiles(device: DeviceState) -> dict[str, str]:
    p = device.profile
    sub_w, sub_h = device.sub_resolution
    return {
        "profile_main": _profile_xml(
            device, "profile_main", "MainStream", p.width, p.height, p.fps, p.bitrate_kbps or 2048
        ),
        "profile_sub": _profile_xml(device, "profile_sub", "SubStream", sub_w, sub_h, 15, 512),
    }


async def get_profiles(device: DeviceState, request: SoapRequest) -> str:
    """A main and a sub stream profile."""
    return (
        f"<trt:GetProfilesResponse>{''.join(_profiles(device).values())}</trt:GetProfilesResponse>"
    )


def _profile_token(device: DeviceState, request: SoapRequest) -> str:
    token = request.text("ProfileToken")
    if token not in _profiles(device):
        raise SoapFault("Sender", ("ter:InvalidArgVal", "ter:NoProfile"), "no such profile")
    return token


async def get_profile(device: DeviceState, request: SoapRequest) -> str:
    """One profile by token."""
    xml = _profiles(device)[_profile_token(device, request)].replace("trt:Profiles", "trt:Profile")
    return f"<trt:GetProfileResponse>{xml}</trt:GetProfileResponse>"


def _media_uri(uri: str) -> str:
    return (
        f"<trt:MediaUri><tt:Uri>{text(uri)}</tt:Uri><tt:InvalidAfterConnect>false</tt:InvalidAfterConnect>"
        "<tt:InvalidAfterReboot>false</tt:InvalidAfterReboot><tt:Timeout>PT60S</tt:Timeout></trt:MediaUri>"
    )


_dead_port: socket.socket | None = None
"""Where the DEAD_STREAM_PORT quirk points (see get_stream_uri)."""


async def get_stream_uri(device: DeviceState, request: SoapRequest) -> str:
    """The RTSP URI of a profile (RTP over RTSP/TCP)."""
    stream = "main" if _profile_token(device, request) == "profile_main" else "sub"
    uri = device.rtsp_url(stream)
    if device.hostile == "foreign_xaddr":
        uri = uri.replace(device.profile.host, FOREIGN_HOST)
    if Quirk.DEAD_STREAM_PORT in device.profile.quirks:
        # A bound socket that never listens: its port stays ours, and every connect is refused.
        global _dead_port  # noqa: PLW0603  # one per process, held for its lifetime
        if _dead_port is None:
            _dead_port = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            _dead_port.bind(("127.0.0.1", 0))
            atexit.register(_dead_port.close)
        uri = f"rtsp://127.0.0.1:{_dead_port.getsockname()[1]}/stream/{stream}"
    return f"<trt:GetStreamUriResponse>{_media_uri(uri)}</trt:GetStreamUriResponse>"


async def get_snapshot_uri(device: DeviceState, request: SoapRequest) -> str:
    """Where to GET a JPEG."""
    _profile_token(device, request)
    return f"<trt:GetSnapshotUriResponse>{_media_uri(_base(device) + '/snapshot.jpg')}</trt:GetSnapshotUriResponse>"


async def get_audio_outputs(device: DeviceState, request: SoapRequest) -> str:
    """The speaker, if the device has the backchannel."""
    body = '<trt:AudioOutputs token="AudioOutput_1"/>' if device.profile.has_backchannel else ""
    return f"<trt:GetAudioOutputsResponse>{body}</trt:GetAudioOutputsResponse>"


async def get_audio_output_configurations(device: DeviceState, request: SoapRequest) -> str:
    """Configuration of the speaker (what the backchannel plays through)."""
    body = ""
    if device.profile.has_backchannel:
        body = (
            '<trt:Configurations token="AudioOutputConfig_1"><tt:Name>Speaker</tt:Name>'
            "<tt:UseCount>2</tt:UseCount><tt:OutputToken>AudioOutput_1</tt:OutputToken>"
            "<tt:SendPrimacy>www.onvif.org/ver20/HalfDuplex/Auto</tt:SendPrimacy>"
            "<tt:OutputLevel>80</tt:OutputLevel></trt:Configurations>"
        )
    return f"<trt:GetAudioOutputConfigurationsResponse>{body}</trt:GetAudioOutputConfigurationsResponse>"


DEVICE_OPERATIONS: dict[str, Operation] = {
    "GetSystemDateAndTime": get_system_date_and_time,
    "GetServices": get_services,
    "GetCapabilities": get_capabilities,
    "GetDeviceInformation": get_device_information,
    "GetNetworkInterfaces": get_network_interfaces,
    "GetScopes": get_scopes,
    "SystemReboot": system_reboot,
}

MEDIA_OPERATIONS: dict[str, Operation] = {
    "GetProfiles": get_profiles,
    "GetProfile": get_profile,
    "GetStreamUri": get_stream_uri,
    "GetSnapshotUri": get_snapshot_uri,
    "GetAudioOutputs": get_audio_outputs,
    "GetAudioOutputConfigurations": get_audio_output_configurations,
}

PRE_AUTH = frozenset({"GetSystemDateAndTime"})
"""Operations answered without credentials (ONVIF Core: clients need the clock first)."""
