"""`DiscoveredDevice.unique_id`: stable before connect, so discovery results merge."""

from __future__ import annotations

from doorstep.sdk import DiscoveredDevice


def found(**fields: object) -> DiscoveredDevice:
    base: dict[str, object] = {"driver": "onvif", "host": "192.0.2.5", "port": 80}
    return DiscoveredDevice.model_validate({"found_by": "ws-discovery", **base, **fields})


def test_the_same_endpoint_found_twice_has_one_id() -> None:
    multicast = found(endpoint="urn:uuid:ABC-1")
    unicast = found(endpoint="urn:uuid:abc-1", host="192.0.2.99", found_by="manual")
    assert multicast.unique_id == unicast.unique_id == "onvif:endpoint:urn:uuid:abc-1"


def test_device_id_wins_and_address_is_the_fallback() -> None:
    assert found(device_id="SN-42", endpoint="urn:uuid:x").unique_id == "onvif:id:sn-42"
    assert found().unique_id == "onvif:address:192.0.2.5:80"
    assert found(host="fe80::1").unique_id == "onvif:address:[fe80::1]:80"
    assert found(endpoint="urn:uuid:x").unique_id != found(endpoint="urn:uuid:y").unique_id


def test_other_drivers_never_share_an_id() -> None:
    assert (
        found(driver="acme", endpoint="urn:uuid:x").unique_id
        != found(endpoint="urn:uuid:x").unique_id
    )
