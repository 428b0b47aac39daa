"""Finding cameras on the network: WS-Discovery probes (multicast per interface and unicast)."""

from .wsdiscovery import ProbeTarget, probe, probe_targets

__all__ = ["ProbeTarget", "probe", "probe_targets"]
