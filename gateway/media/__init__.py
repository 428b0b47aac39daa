"""Media plumbing: the gateway's own RTSP client (with the ONVIF backchannel), SDP parsing."""
