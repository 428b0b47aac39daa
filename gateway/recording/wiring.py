"""Recording put together for the gateway: the start-up pass, retention and the recorders."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from doorstep.gateway.audit.log import AuditLog
from doorstep.gateway.bus.event_bus import EventBus
from doorstep.gateway.config.models import Config
from doorstep.gateway.devices import DeviceManager
from doorstep.gateway.recording.policy import RecordingPolicy, policy_from
from doorstep.gateway.recording.reconcile import reconcile
from doorstep.gateway.recording.retention import ClipRetention
from doorstep.gateway.recording.service import CLIPS_DIR, Consume, Recording
from doorstep.gateway.settings.service import RuntimeSettings
from doorstep.gateway.storage import Storage

MIB = 1024 * 1024


def recording_defaults(config: Config) -> dict[str, Any]:
    """What a camera's own recording settings fall back to: the gateway's recording and
    retention settings, by the camera setting's field name."""
    recording, retention = config.recording, config.retention
    return {
        "mode": recording.mode,
        "events": list(recording.events),
        "preroll_s": recording.preroll_s,
        "postroll_s": recording.postroll_s,
        "audio": recording.audio,
        "clip_days": retention.clip_days,
        "continuous_days": retention.continuous_days,
    }


async def open_recording(
    settings: RuntimeSettings,
    manager: DeviceManager,
    storage: Storage,
    audit: AuditLog,
    bus: EventBus,
    consume: Consume,
    camera_back: Callable[[str], None],
) -> tuple[Recording, ClipRetention]:
    """Reconcile the clip directory with the database, then build retention and recording
    (not started) on the owner's current settings and each camera's own."""
    root = settings.config.storage.data_dir / CLIPS_DIR
    await reconcile(root, storage.clips, storage.events)

    def policy(camera_id: str) -> RecordingPolicy:
        camera = manager.cameras.get(camera_id)
        return policy_from(settings.config.recording, camera.recording if camera else None)

    def days(camera_id: str, mode: str) -> int:
        retention = settings.config.retention
        camera = manager.cameras.get(camera_id)
        mine = camera.recording if camera is not None else None
        if mode == "continuous":
            return (mine.continuous_days if mine else None) or retention.continuous_days
        return (mine.clip_days if mine else None) or retention.clip_days

    def clock_offset(camera_id: str) -> float | None:
        supervisor = manager.supervisors.get(camera_id)
        info = supervisor.info if supervisor is not None else None
        return info.clock_offset_s if info is not None else None

    def has_stream(camera_id: str) -> bool:
        supervisor = manager.supervisors.get(camera_id)
        return supervisor is not None and bool(supervisor.streams)

    retention = ClipRetention(
        storage.clips, storage.holds, audit, root, days,
        lambda: settings.config.retention.min_free_mib * MIB,
    )  # fmt: skip
    recording = Recording(
        bus, consume, policy, storage.clips, storage.events, root,
        gate=retention.gate, clock_offset=clock_offset, has_stream=has_stream,
        disk_full=retention.wake, camera_back=camera_back,
    )  # fmt: skip
    return recording, retention
