"""Read an RTSP stream with GStreamer rtspsrc; runs under /usr/bin/python3 (gi is not in venvs).

Usage: gst_rtsp_read.py URL USER PASSWORD BUFFERS TIMEOUT_S
Prints one JSON line: {"buffers": n, "width": w, "height": h, "error": "..."}.
"""

import json
import sys

import gi

gi.require_version("Gst", "1.0")
from gi.repository import GLib, Gst  # noqa: E402

url, user, password, wanted, timeout_s = (
    sys.argv[1],
    sys.argv[2],
    sys.argv[3],
    int(sys.argv[4]),
    float(sys.argv[5]),
)
Gst.init(None)
pipeline = Gst.parse_launch(
    "rtspsrc name=src protocols=tcp latency=0 ! rtph264depay ! h264parse ! "
    "video/x-h264,stream-format=byte-stream ! appsink name=sink emit-signals=true sync=false"
)
source = pipeline.get_by_name("src")
source.set_property("location", url)
source.set_property("user-id", user)
source.set_property("user-pw", password)
result = {"buffers": 0, "width": None, "height": None, "error": None}
loop = GLib.MainLoop()


def on_sample(sink):
    sample = sink.emit("pull-sample")
    caps = sample.get_caps().get_structure(0)
    result["width"] = caps.get_value("width")
    result["height"] = caps.get_value("height")
    result["buffers"] += 1
    if result["buffers"] >= wanted:
        GLib.idle_add(loop.quit)
    return Gst.FlowReturn.OK


def on_message(bus, message):
    if message.type == Gst.MessageType.ERROR:
        error, _ = message.parse_error()
        result["error"] = error.message
        loop.quit()
    elif message.type == Gst.MessageType.EOS:
        loop.quit()


pipeline.get_by_name("sink").connect("new-sample", on_sample)
bus = pipeline.get_bus()
bus.add_signal_watch()
bus.connect("message", on_message)
pipeline.set_state(Gst.State.PLAYING)
GLib.timeout_add(int(timeout_s * 1000), loop.quit)
loop.run()
pipeline.set_state(Gst.State.NULL)
print(json.dumps(result))
