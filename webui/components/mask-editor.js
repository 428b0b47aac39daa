// Privacy masks drawn with a pointer on a clip's poster: black or blurred rectangles, in
// fractions of the picture, that the gateway burns into every frame of the copy it makes
// (a share's, or a police request's working copy). At most eight per clip.
import { html, useRef, useState } from "../lib/html.js";

const MIN_SIDE = 0.02;
const MAX_MASKS = 8;

function box(drawing, style) {
  return { x: Math.min(drawing.x0, drawing.x1), y: Math.min(drawing.y0, drawing.y1),
    w: Math.abs(drawing.x1 - drawing.x0), h: Math.abs(drawing.y1 - drawing.y0), style };
}

/** Rectangles drawn with a pointer on the poster, in fractions of the picture. */
function MaskEditor({ poster, masks, setMasks, style }) {
  const area = useRef(null);
  const [drawing, setDrawing] = useState(null);
  const at = (e) => {
    const r = area.current.getBoundingClientRect();
    return [Math.min(1, Math.max(0, (e.clientX - r.left) / r.width)), Math.min(1, Math.max(0, (e.clientY - r.top) / r.height))];
  };
  const down = (e) => { e.preventDefault(); area.current.setPointerCapture(e.pointerId); const [x, y] = at(e); setDrawing({ x0: x, y0: y, x1: x, y1: y }); };
  const move = (e) => { if (drawing) { const [x, y] = at(e); setDrawing({ ...drawing, x1: x, y1: y }); } };
  const up = () => {
    if (!drawing) return;
    const m = box(drawing, style);
    setDrawing(null);
    if (m.w >= MIN_SIDE && m.h >= MIN_SIDE && masks.length < MAX_MASKS) setMasks([...masks, { ...m, x: Math.min(m.x, 0.999), y: Math.min(m.y, 0.999) }]);
  };
  const rect = (m, i, live) => html`<span key=${i} class=${`mask-rect ${m.style}${live ? " live" : ""}`}
    style=${`left:${m.x * 100}%;top:${m.y * 100}%;width:${m.w * 100}%;height:${m.h * 100}%`}></span>`;
  return html`<div class="mask-editor" ref=${area} onPointerDown=${down} onPointerMove=${move} onPointerUp=${up}
      role="img" aria-label=${`The clip's first picture; ${masks.length} privacy mask${masks.length === 1 ? "" : "s"} drawn`}>
    ${poster ? html`<img src=${poster} alt="" draggable="false" />` : html`<span class="muted">No poster yet</span>`}
    ${masks.map((m, i) => rect(m, i, false))}
    ${drawing ? rect(box(drawing, style), "live", true) : null}
  </div>`;
}

/** The masks fieldset: the editor, black or blur for the next one, and undo. `name` keeps
 * the style radios of several clips on one page apart. */
export function MaskFields({ poster, masks, setMasks, name = "mask-style", what = "copy", disabled = false }) {
  const [style, setStyle] = useState("black");
  return html`<fieldset class="masks" disabled=${disabled}><legend>Privacy masks</legend>
    <p class="muted small">Drag on the picture to hide a window, a face or a number plate on every frame of the ${what}.</p>
    <${MaskEditor} poster=${poster} masks=${masks} setMasks=${disabled ? () => {} : setMasks} style=${style} />
    <div class="actions">
      <label><input type="radio" name=${name} checked=${style === "black"} onChange=${() => setStyle("black")} /> Black</label>
      <label><input type="radio" name=${name} checked=${style === "blur"} onChange=${() => setStyle("blur")} /> Blur</label>
      <button type="button" class="ghost" disabled=${!masks.length} onClick=${() => setMasks(masks.slice(0, -1))}>Undo the last mask</button>
    </div>
  </fieldset>`;
}
