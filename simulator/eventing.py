"""The simulated device's event properties and how they are written as ONVIF notifications."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from doorstep.simulator.soap import attr, text, xml_time


class DeviceKind(StrEnum):
    """What the simulated device is."""

    CAMERA = "camera"
    DOORBELL = "doorbell"


class Dialect(StrEnum):
    """Vendor habits the simulator can imitate, so drivers are tested against more than one shape."""

    STANDARD = "standard"
    """Booleans as true/false; doorbell press as Reolink's RuleEngine/MyRuleDetector/Visitor."""
    AXIS = "axis"
    """Booleans as 1/0; doorbell press as an Axis I/O port (tns1:Device/tnsaxis:IO/Port)."""


@dataclass
class EventProperty:
    """One ONVIF property event (IsProperty=true): a topic whose state the device keeps."""

    topic: str
    source: tuple[tuple[str, str], ...]
    data_name: str
    value: bool = False

    def notification(self, when: datetime, operation: str, dialect: Dialect, producer: str) -> str:
        """A wsnt:NotificationMessage for the property's current value."""
        true, false = ("1", "0") if dialect is Dialect.AXIS else ("true", "false")
        source = "".join(f"<tt:SimpleItem Name={attr(n)} Value={attr(v)}/>" for n, v in self.source)
        return (
            "<wsnt:NotificationMessage>"
            '<wsnt:Topic Dialect="http://www.onvif.org/ver10/tev/topicExpression/ConcreteSet">'
            f"{text(self.topic)}</wsnt:Topic>"
            f"<wsnt:ProducerReference><wsa:Address>{text(producer)}</wsa:Address></wsnt:ProducerReference>"
            f"<wsnt:Message><tt:Message UtcTime={attr(xml_time(when))} PropertyOperation={attr(operation)}>"
            f"<tt:Source>{source}</tt:Source>"
            f"<tt:Data><tt:SimpleItem Name={attr(self.data_name)} Value={attr(true if self.value else false)}/>"
            "</tt:Data></tt:Message></wsnt:Message></wsnt:NotificationMessage>"
        )

    def description(self) -> str:
        """The tt:MessageDescription of this property, for GetEventProperties."""
        source = "".join(
            f'<tt:SimpleItemDescription Name={attr(n)} Type="tt:ReferenceToken"/>'
            for n, _ in self.source
        )
        return (
            '<tt:MessageDescription IsProperty="true">'
            f"<tt:Source>{source}</tt:Source>"
            f'<tt:Data><tt:SimpleItemDescription Name={attr(self.data_name)} Type="xs:boolean"/></tt:Data>'
            "</tt:MessageDescription>"
        )


def event_properties(
    kind: DeviceKind, dialect: Dialect, person_detection: bool, door_station: bool = False
) -> dict[str, EventProperty]:
    """The properties a device of this kind and dialect reports, by short name.

    A `door_station` wires its call button to digital input 1 and has no doorbell topic.
    """
    video = (("VideoSourceConfigurationToken", "VideoSourceConfig_1"),)
    props = {
        "motion": EventProperty(
            "tns1:VideoSource/MotionAlarm", (("Source", "VideoSource_1"),), "State"
        ),
        "cell_motion": EventProperty(
            "tns1:RuleEngine/CellMotionDetector/Motion",
            (
                *video,
                ("VideoAnalyticsConfigurationToken", "VideoAnalyticsToken"),
                ("Rule", "MyMotionDetectorRule"),
            ),
            "IsMotion",
        ),
    }
    if person_detection:
        props["person"] = EventProperty(
            "tns1:RuleEngine/PeopleDetector/People",
            (
                *video,
                ("VideoAnalyticsConfigurationToken", "VideoAnalyticsToken"),
                ("Rule", "MyPeopleDetectorRule"),
            ),
            "IsPeople",
        )
    if kind is DeviceKind.DOORBELL:
        if door_station and dialect is not Dialect.AXIS:  # Axis' button is an I/O port anyway
            props["visitor"] = EventProperty(
                "tns1:Device/Trigger/DigitalInput", (("InputToken", "1"),), "LogicalState"
            )
        elif dialect is Dialect.AXIS:
            props["visitor"] = EventProperty(
                "tns1:Device/tnsaxis:IO/Port", (("port", "1"),), "state"
            )
        else:
            props["visitor"] = EventProperty(
                "tns1:RuleEngine/MyRuleDetector/Visitor", (("Source", "000"),), "State"
            )
    return props


def topic_set(properties: dict[str, EventProperty]) -> str:
    """A wstop:TopicSet describing every property, nested by topic path as ONVIF requires."""

    def render(props: list[EventProperty], depth: int, prefix: str) -> str:
        out = ""
        names = dict.fromkeys(p.topic.split("/")[depth] for p in props)  # ordered, unique
        for name in names:
            tag = name if ":" in name else f"{prefix}:{name}"
            below = [p for p in props if p.topic.split("/")[depth] == name]
            leaf = next((p for p in below if len(p.topic.split("/")) == depth + 1), None)
            if leaf is not None:
                out += f'<{tag} wstop:topic="true">{leaf.description()}</{tag}>'
            else:
                out += f"<{tag}>{render(below, depth + 1, tag.split(':', 1)[0])}</{tag}>"
        return out

    return f"<wstop:TopicSet>{render(list(properties.values()), 0, 'tns1')}</wstop:TopicSet>"
