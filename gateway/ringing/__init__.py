"""Doorbell rings as the household sees them: started, answered by whom, ended."""

from doorstep.gateway.ringing.tracker import RING_S, Ring, RingClock, RingState, RingTracker

__all__ = ["RING_S", "Ring", "RingClock", "RingState", "RingTracker"]
