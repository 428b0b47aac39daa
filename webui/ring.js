// The doorbell ring banner, on every page of every signed-in account that may see the doorbell.
import { h, when } from "./dom.js";

const SHOW_MS = 60000;

export class RingBanner {
  constructor(element) {
    this.element = element;
    this.timer = null;
    this.names = {};
  }

  ring(event) {
    const name = this.names[event.camera_id] || event.camera_id;
    const snapshot = h("img", { class: "ring-snapshot", alt: `Visitor at ${name}`, src: `/api/cameras/${encodeURIComponent(event.camera_id)}/snapshot?t=${Date.now()}` });
    snapshot.addEventListener("error", () => snapshot.remove());
    this.element.replaceChildren(
      snapshot,
      h("div", { class: "ring-text" },
        h("strong", {}, "Someone is at the door"),
        h("span", { class: "ring-camera" }, name),
        h("span", { class: "muted small" }, when(event.received_at))),
      h("div", { class: "ring-actions" },
        h("a", { class: "button", id: "answer", href: `#/live/${encodeURIComponent(event.camera_id)}`, onclick: () => this.dismiss() }, "Answer"),
        h("button", { type: "button", class: "secondary", onclick: () => this.dismiss() }, "Dismiss")));
    this.element.hidden = false;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.dismiss(), SHOW_MS);
  }

  dismiss() {
    this.element.hidden = true;
    this.element.replaceChildren();
  }
}
