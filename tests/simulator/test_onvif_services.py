"""The real onvif-zeep-async client performs every device and media operation on the simulator."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from onvif.exceptions import ONVIFError
from zeep.exceptions import Fault

from doorstep.simulator import SimulatedDevice

from .conftest import onvif_client


async def test_device_service_operations(doorbell: SimulatedDevice) -> None:
    async with onvif_client(doorbell) as client:
        await client.update_xaddrs()  # GetServices with WS-Security digest
        assert (
            client.xaddrs["http://www.onvif.org/ver10/media/wsdl"]
            == f"{doorbell.base_url}/onvif/media_service"
        )
        device = await client.create_devicemgmt_service()
        clock = (await device.GetSystemDateAndTime()).UTCDateTime
        device_time = datetime(
            clock.Date.Year, clock.Date.Month, clock.Date.Day, clock.Time.Hour, clock.Time.Minute,
            clock.Time.Second, tzinfo=UTC,
        )  # fmt: skip
        assert abs(device_time - datetime.now(UTC)) < timedelta(seconds=5)
        info = await device.GetDeviceInformation()
        assert (info.Manufacturer, info.Model) == ("Doorstep Simulator", "SimDoorbell D1")
        assert info.SerialNumber == doorbell.profile.serial
        interfaces = await device.GetNetworkInterfaces()
        assert interfaces[0].Info.HwAddress == doorbell.profile.mac
        scopes = [s.ScopeItem for s in await device.GetScopes()]
        assert "onvif://www.onvif.org/name/doorbell-1" in scopes
        assert "onvif://www.onvif.org/Profile/T" in scopes
        services = await device.GetServices({"IncludeCapability": False})
        assert {s.Namespace for s in services} >= {
            "http://www.onvif.org/ver10/device/wsdl",
            "http://www.onvif.org/ver10/events/wsdl",
        }
        capabilities = await device.GetCapabilities({"Category": "All"})
        assert capabilities.Events.WSPullPointSupport is True
        assert capabilities.Media.XAddr == f"{doorbell.base_url}/onvif/media_service"


async def test_media_service_operations(doorbell: SimulatedDevice) -> None:
    async with onvif_client(doorbell) as client:
        await client.update_xaddrs()
        media = await client.create_media_service()
        profiles = await media.GetProfiles()
        assert [p.token for p in profiles] == ["profile_main", "profile_sub"]
        main = profiles[0].VideoEncoderConfiguration
        assert (main.Encoding, main.Resolution.Width, main.Resolution.Height) == ("H264", 640, 360)
        assert profiles[1].VideoEncoderConfiguration.Resolution.Width == 320
        setup = {"Stream": "RTP-Unicast", "Transport": {"Protocol": "RTSP"}}
        uri = await media.GetStreamUri({"StreamSetup": setup, "ProfileToken": "profile_main"})
        assert uri.Uri == doorbell.rtsp_url("main")
        sub = await media.GetStreamUri({"StreamSetup": setup, "ProfileToken": "profile_sub"})
        assert sub.Uri == doorbell.rtsp_url("sub")
        snapshot = await media.GetSnapshotUri({"ProfileToken": "profile_main"})
        assert snapshot.Uri == f"{doorbell.base_url}/snapshot.jpg"
        outputs = await media.GetAudioOutputs()
        assert [o.token for o in outputs] == ["AudioOutput_1"]
        configs = await media.GetAudioOutputConfigurations()
        assert configs[0].OutputToken == "AudioOutput_1"
        with pytest.raises(Fault, match="no such profile"):
            await media.GetStreamUri({"StreamSetup": setup, "ProfileToken": "nope"})


async def test_camera_without_backchannel_has_no_audio_output(camera: SimulatedDevice) -> None:
    async with onvif_client(camera) as client:
        await client.update_xaddrs()
        media = await client.create_media_service()
        assert await media.GetAudioOutputs() == []


async def test_snapshot_behind_digest_auth(doorbell: SimulatedDevice) -> None:
    async with onvif_client(doorbell) as client:
        await client.update_xaddrs()
        image = await client.get_snapshot("profile_main")
        assert image is not None
        assert image[:2] == b"\xff\xd8"  # JPEG start of image


async def test_wrong_password_is_refused(doorbell: SimulatedDevice) -> None:
    async with onvif_client(doorbell, password="wrong") as client:
        with pytest.raises((Fault, ONVIFError), match=r"(?i)not authori"):
            await client.update_xaddrs()


@pytest.mark.parametrize("skew", [timedelta(hours=10), timedelta(hours=-10)])
async def test_skewed_clock_needs_the_offset(doorbell: SimulatedDevice, skew: timedelta) -> None:
    doorbell.clock_skew = skew
    async with onvif_client(doorbell) as client:  # digest Created from our clock: refused
        with pytest.raises((Fault, ONVIFError), match=r"(?i)not authori"):
            await client.update_xaddrs()  # GetServices refused, then GetCapabilities raises
    async with onvif_client(doorbell, adjust_time=True) as client:  # reads the clock first
        await client.update_xaddrs()
        assert client.dt_diff is not None
        assert abs(client.dt_diff - skew) < timedelta(seconds=5)
        device = await client.create_devicemgmt_service()
        assert (await device.GetDeviceInformation()).Model == "SimDoorbell D1"
