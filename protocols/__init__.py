"""Wire protocols shared by the gateway, the drivers and the simulator: RTP, RTSP, SDP, H.264."""
