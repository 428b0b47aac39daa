// The one place the view library is imported (Preact + htm, vendored in ../vendor/).
import { cloneElement, Fragment, h, render } from "preact";
import htm from "htm";

/** Tagged template that builds Preact elements: html`<p>${text}</p>` (text is never parsed). */
export const html = htm.bind(h);
export { cloneElement, Fragment, h, render };
export { useCallback, useEffect, useId, useLayoutEffect, useMemo, useReducer, useRef, useState } from "preact/hooks";
