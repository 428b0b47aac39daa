"""A real third-party RTSP camera: GStreamer's ONVIF RTSP server with an audio backchannel.

Runs under /usr/bin/python3 (gi is not in venvs). Serves rtsp://127.0.0.1:PORT/onvif with H.264
640x360@15 (pay0, PT 96) and PCMU 8 kHz (pay1, PT 0), Digest auth for USER/PASSWORD. A client
that sends `Require: www.onvif.org/ver20/backchannel` gets a third `m=audio ... a=sendonly` track
(PCMU, PT 0); the µ-law bytes it sends are appended, raw, to OUT_FILE (emptied at start-up).

Usage: gst_onvif_server.py PORT USER PASSWORD OUT_FILE
PORT 0 picks a free port. Prints `READY <port>` once listening; runs until SIGTERM/SIGINT.
"""

import signal
import sys

import gi

gi.require_version("Gst", "1.0")
gi.require_version("GstRtsp", "1.0")
gi.require_version("GstRtspServer", "1.0")
from gi.repository import GLib, Gst, GstRtsp, GstRtspServer  # noqa: E402

MOUNT = "/onvif"
ROLE = "camera-user"
LAUNCH = (
    "( videotestsrc is-live=true ! video/x-raw,width=640,height=360,framerate=15/1 ! "
    "x264enc tune=zerolatency speed-preset=ultrafast sliced-threads=false key-int-max=15 ! "
    "tee allow-not-linked=true ! rtph264pay name=pay0 pt=96 "
    "audiotestsrc is-live=true samplesperbuffer=160 ! audio/x-raw,rate=8000,channels=1 ! "
    "mulawenc ! tee allow-not-linked=true ! rtppcmupay name=pay1 pt=0 )"
)
# A backchannel-only session leaves pay0 and pay1 unlinked; when PLAY unblocks them their sources
# got NOT_LINKED, posted an error and the media stopped, backchannel included (1 run in 8, any
# load). A tee that allows not-linked keeps the sources running.
# GstRTSPOnvifMedia looks up the element named `depay_backchannel` and takes the RTP caps of its
# sink pad as the backchannel's SDP; they must be complete (payload, clock-rate, encoding-name),
# hence the capsfilter. The sink must not wait for preroll (async=false) or the media never
# prepares.
BACKCHANNEL = (
    '( capsfilter name=depay_backchannel caps="application/x-rtp,media=audio,payload=0,'
    'clock-rate=8000,encoding-name=PCMU" ! rtppcmudepay ! '
    'filesink location="{location}" append=true buffer-mode=unbuffered async=false sync=false )'
)


def main():
    if len(sys.argv) != 5:
        print(__doc__, file=sys.stderr)
        return 2
    port, user, password, out_file = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
    Gst.init(None)
    open(out_file, "wb").close()

    factory = GstRtspServer.RTSPOnvifMediaFactory()
    factory.set_media_gtype(GstRtspServer.RTSPOnvifMedia)
    factory.set_launch(LAUNCH)
    location = out_file.replace("\\", "\\\\").replace('"', '\\"')
    factory.set_backchannel_launch(BACKCHANNEL.format(location=location))
    factory.set_backchannel_bandwidth(64)  # goes into b=AS:, i.e. kbit/s
    permissions = GstRtspServer.RTSPPermissions()
    permissions.add_permission_for_role(ROLE, GstRtspServer.RTSP_PERM_MEDIA_FACTORY_ACCESS, True)
    permissions.add_permission_for_role(ROLE, GstRtspServer.RTSP_PERM_MEDIA_FACTORY_CONSTRUCT, True)
    factory.set_permissions(permissions)

    token = GstRtspServer.RTSPToken()
    token.set_string(GstRtspServer.RTSP_TOKEN_MEDIA_FACTORY_ROLE, ROLE)
    auth = GstRtspServer.RTSPAuth()
    auth.set_supported_methods(GstRtsp.RTSPAuthMethod.DIGEST)
    auth.add_digest(user, password, token)

    server = GstRtspServer.RTSPOnvifServer()
    server.set_address("127.0.0.1")
    server.set_service(str(port))
    server.set_auth(auth)
    server.get_mount_points().add_factory(MOUNT, factory)
    if server.attach(None) == 0:
        print(f"cannot listen on 127.0.0.1:{port}", file=sys.stderr)
        return 1

    loop = GLib.MainLoop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        GLib.unix_signal_add(GLib.PRIORITY_DEFAULT, signum, loop.quit)
    print(f"READY {server.get_bound_port()}", flush=True)
    loop.run()
    return 0


if __name__ == "__main__":
    sys.exit(main())
