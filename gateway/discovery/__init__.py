"""Finding cameras on the network: WS-Discovery probes (multicast per interface and unicast)."""

from .wsdiscovery import ProbeTarget, probe

__all__ = ["ProbeTarget", "probe"]
