"""ONVIF event service of the simulator: pull points with a true long-poll, and push (Notify)."""

from __future__ import annotations

from datetime import datetime, timedelta

from doorstep.simulator.device_service import Operation
from doorstep.simulator.eventing import topic_set
from doorstep.simulator.flood import flood_messages
from doorstep.simulator.profile import Quirk
from doorstep.simulator.soap import (
    SoapFault,
    SoapRequest,
    parse_duration,
    parse_time_or_duration,
    text,
    xml_time,
)
from doorstep.simulator.state import DeviceState
from doorstep.simulator.subscriptions import PullPoint

MAX_PULL_TIMEOUT = timedelta(minutes=10)
MAX_MESSAGE_LIMIT = 1024


def _requested_termination(device: DeviceState, value: str) -> datetime | None:
    if not value:
        return None
    try:
        return parse_time_or_duration(value, device.now())
    except ValueError:
        raise SoapFault(
            "Sender",
            ("wsrf-rw:UnacceptableInitialTerminationTimeFault",),
            "unreadable termination time",
        ) from None


def _times(device: DeviceState, termination: datetime, renew: bool = False) -> str:
    shown = xml_time(termination)
    if device.hostile == "termination_past":  # granted a subscription that ended an hour ago
        shown = xml_time(device.now() - timedelta(hours=1))
    if device.hostile == "termination_minute_61":
        shown = shown[:14] + "61" + shown[16:]  # firmware seen in the wild writes minute 61
    current = f"<wsnt:CurrentTime>{xml_time(device.now())}</wsnt:CurrentTime>"
    ends = f"<wsnt:TerminationTime>{shown}</wsnt:TerminationTime>"
    # WS-BaseNotification orders RenewResponse the other way round from the subscribe answers.
    return ends + current if renew else current + ends


async def get_service_capabilities(device: DeviceState, request: SoapRequest) -> str:
    """Event capabilities, including the MaxPullPoints limit."""
    return (
        "<tev:GetServiceCapabilitiesResponse>"
        '<tev:Capabilities WSSubscriptionPolicySupport="true" WSPausableSubscriptionManagerInterfaceSupport="false" '
        f'MaxNotificationProducers="10" MaxPullPoints="{device.profile.max_pullpoints}" '
        'PersistentNotificationStorage="false"/></tev:GetServiceCapabilitiesResponse>'
    )


async def get_event_properties(device: DeviceState, request: SoapRequest) -> str:
    """Topics the device can send, with their message descriptions."""
    return (
        "<tev:GetEventPropertiesResponse>"
        "<tev:TopicNamespaceLocation>http://www.onvif.org/onvif/ver10/topics/topicns.xml</tev:TopicNamespaceLocation>"
        "<wsnt:FixedTopicSet>true</wsnt:FixedTopicSet>"
        f"{topic_set(device.properties)}"
        "<wsnt:TopicExpressionDialect>http://www.onvif.org/ver10/tev/topicExpression/ConcreteSet</wsnt:TopicExpressionDialect>"
        "<wsnt:TopicExpressionDialect>http://docs.oasis-open.org/wsn/t-1/TopicExpression/Concrete</wsnt:TopicExpressionDialect>"
        "<tev:MessageContentFilterDialect>http://www.onvif.org/ver10/tev/messageContentFilter/ItemFilter</tev:MessageContentFilterDialect>"
        "<tev:MessageContentSchemaLocation>http://www.onvif.org/onvif/ver10/schema/onvif.xsd</tev:MessageContentSchemaLocation>"
        "</tev:GetEventPropertiesResponse>"
    )


async def create_pull_point_subscription(device: DeviceState, request: SoapRequest) -> str:
    """A new pull point; its first messages are the current state of every property (Initialized)."""
    pullpoint = device.subscriptions.create_pullpoint(
        _requested_termination(device, request.text("InitialTerminationTime"))
    )
    device.send_initial_states(pullpoint)
    if device.has(Quirk.REPEAT_INITIALIZED):
        device.send_initial_states(pullpoint)  # twice in the first pull, as such devices do
    return (
        "<tev:CreatePullPointSubscriptionResponse>"
        f"<tev:SubscriptionReference><wsa:Address>{text(pullpoint.address)}</wsa:Address></tev:SubscriptionReference>"
        f"{_times(device, pullpoint.termination)}</tev:CreatePullPointSubscriptionResponse>"
    )


async def subscribe(device: DeviceState, request: SoapRequest) -> str:
    """WS-BaseNotification Subscribe: messages will be POSTed to the consumer address."""
    consumer = request.text("Address")
    if not consumer:
        raise SoapFault("Sender", ("ter:InvalidArgVal",), "ConsumerReference/Address is required")
    push = device.subscriptions.create_push(
        consumer,
        _requested_termination(device, request.text("InitialTerminationTime")),
        device.http,
    )
    device.send_initial_states(push)
    return (
        "<wsnt:SubscribeResponse>"
        f"<wsnt:SubscriptionReference><wsa:Address>{text(push.address)}</wsa:Address></wsnt:SubscriptionReference>"
        f"{_times(device, push.termination)}</wsnt:SubscribeResponse>"
    )


def _pull_timeout(device: DeviceState, value: str) -> timedelta:
    if device.has(Quirk.WHOLE_SECOND_TIMEOUTS) and "." in value:
        return timedelta()  # its parser stops at the '.', reads no timeout, answers at once
    return parse_duration(value)


EVENT_OPERATIONS: dict[str, Operation] = {
    "GetServiceCapabilities": get_service_capabilities,
    "GetEventProperties": get_event_properties,
    "CreatePullPointSubscription": create_pull_point_subscription,
    "Subscribe": subscribe,
}


async def subscription_operation(
    device: DeviceState, subscription_id: str, request: SoapRequest
) -> str:
    """Operations sent to a subscription's own address: PullMessages, Renew, Unsubscribe, sync point."""
    subs = device.subscriptions
    if request.name == "PullMessages":
        sub = subs.get(subscription_id)
        if not isinstance(sub, PullPoint):
            raise SoapFault("Sender", ("ter:InvalidArgVal",), "not a pull point")
        try:
            timeout = min(_pull_timeout(device, request.text("Timeout", "PT10S")), MAX_PULL_TIMEOUT)
            limit = max(1, min(int(request.text("MessageLimit", "100")), MAX_MESSAGE_LIMIT))
        except ValueError:
            raise SoapFault(
                "Sender", ("ter:InvalidArgVal",), "bad Timeout or MessageLimit"
            ) from None
        if device.hostile == "notification_flood":
            messages = flood_messages(device.now())  # at once, and far past the MessageLimit
            device.flood.pulls_answered += 1
        else:
            messages = await sub.pull(timeout.total_seconds(), limit)
        return (
            f"<tev:PullMessagesResponse><tev:CurrentTime>{xml_time(device.now())}</tev:CurrentTime>"
            f"<tev:TerminationTime>{xml_time(sub.termination)}</tev:TerminationTime>"
            f"{''.join(messages)}</tev:PullMessagesResponse>"
        )
    if request.name == "Renew":
        renewed = subs.renew(
            subscription_id, _requested_termination(device, request.text("TerminationTime"))
        )
        if device.has(Quirk.REPEAT_INITIALIZED):
            device.send_initial_states(renewed)
        return f"<wsnt:RenewResponse>{_times(device, renewed.termination, renew=True)}</wsnt:RenewResponse>"
    if request.name == "Unsubscribe":
        await subs.unsubscribe(subscription_id)
        return "<wsnt:UnsubscribeResponse/>"
    if request.name == "SetSynchronizationPoint":
        device.send_initial_states(subs.get(subscription_id))
        return "<tev:SetSynchronizationPointResponse/>"
    raise SoapFault("Sender", ("ter:ActionNotSupported",), f"{request.name} is not supported here")
