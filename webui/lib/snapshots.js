// One picture per camera for a list of many cards (the activity feed): each camera's snapshot is
// fetched once, shared as a blob: URL, and released when the view goes.
import { useEffect, useState } from "./html.js";

/** A hook: {camera id → blob: URL} for the cameras that can give a snapshot now. */
export function useSnapshots(cameras) {
  const [urls, setUrls] = useState({});
  const ids = cameras.map((c) => c.id).sort().join(",");
  useEffect(() => {
    const controller = new AbortController();
    const made = [];
    for (const camera of cameras) {
      fetch(`/api/cameras/${encodeURIComponent(camera.id)}/snapshot?t=${Date.now()}`, { signal: controller.signal, credentials: "same-origin" })
        .then((response) => (response.ok ? response.blob() : null))
        .then((blob) => {
          if (!blob || controller.signal.aborted) return;
          const url = URL.createObjectURL(blob);
          made.push(url);
          setUrls((current) => ({ ...current, [camera.id]: url }));
        })
        .catch(() => {});
    }
    return () => {
      controller.abort();
      for (const url of made) URL.revokeObjectURL(url);
    };
  }, [ids]);
  return urls;
}
