// Data for a view, fetched while it is mounted: unmounting (or new inputs) aborts the request,
// and an answer that arrives after that is dropped instead of drawn.
import { isAbort } from "./api.js";
import { useEffect, useRef, useState } from "./html.js";

/** A hook: {data, error, loading} of `load(signal)`, re-run when `deps` change; plus reload(). */
export function useLoad(load, deps = []) {
  const [state, setState] = useState({ data: null, error: null, loading: true });
  const [round, setRound] = useState(0);
  useEffect(() => {
    const controller = new AbortController();
    setState((s) => ({ ...s, loading: true }));
    load(controller.signal).then(
      (data) => { if (!controller.signal.aborted) setState({ data, error: null, loading: false }); },
      (error) => { if (!controller.signal.aborted && !isAbort(error)) setState({ data: null, error, loading: false }); },
    );
    return () => controller.abort();
  }, [...deps, round]);
  return { ...state, reload: () => setRound((n) => n + 1) };
}

/** A hook: an interval that lives as long as the component (and `deps`). */
export function useInterval(callback, ms, deps = []) {
  const saved = useRef(callback);
  saved.current = callback;
  useEffect(() => {
    if (!ms) return undefined;
    const timer = setInterval(() => saved.current(), ms);
    return () => clearInterval(timer);
  }, [ms, ...deps]);
}

/** A hook: an AbortSignal for actions started by the user (buttons), aborted on unmount. */
export function useUnmountSignal() {
  const controller = useRef(null);
  if (controller.current === null) controller.current = new AbortController();
  useEffect(() => () => controller.current.abort(), []);
  return controller.current.signal;
}
