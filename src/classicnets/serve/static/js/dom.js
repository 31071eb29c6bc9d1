// classicnets explorer: plain JavaScript and SVG over the JSON API of classicnets/serve/app.py.
// The DOM and API helpers every page shares.

export const $ = (selector, root = document) => root.querySelector(selector);

const SVG_NS = "http://www.w3.org/2000/svg";

export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === "class") node.className = v;
    else if (k === "text") node.textContent = v;
    else if (k === "html") node.innerHTML = v;
    else node.setAttribute(k, v);
  }
  for (const c of children.flat()) if (c !== null && c !== undefined) node.append(c);
  return node;
}

export function svg(tag, attrs = {}, ...children) {
  const node = document.createElementNS(SVG_NS, tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
  for (const c of children.flat()) if (c !== null && c !== undefined) node.append(c);
  return node;
}

export const fmtInt = (n) => Math.round(n).toLocaleString("en-US");

export const fmtPct = (x, digits = 1) => (x === null || x === undefined ? "-" : `${(100 * x).toFixed(digits)}%`);

export const fmtSI = (n) => (n >= 1e9 ? `${(n / 1e9).toFixed(2)} G` : n >= 1e6 ? `${(n / 1e6).toFixed(2)} M` : n >= 1e3 ? `${(n / 1e3).toFixed(1)} k` : `${n}`);

export const fmtNum = (x) => (x === 0 ? "0" : x.toPrecision(3));

export const fmtShape = (s) => (s.length === 3 ? `${s[1]}x${s[2]}x${s[0]}` : s.join("x"));

// A request that gets no answer (the server stopped, the network gone) throws an error marked
// offline; a 4xx answer throws its one-line message.
export async function api(path, options) {
  let response;
  try {
    response = await fetch(path, options);
  } catch (e) {
    throw Object.assign(new Error("server not reachable: retrying"), { offline: true });
  }
  const body = await response.json().catch(() => ({}));
  if (!response.ok) throw Object.assign(new Error(body.error || response.statusText), { status: response.status });
  return body;
}

export const RETRY_MS = 2000;

// Run load() for a panel; a failure shows one line in that panel (never only a toast), and while
// the server is unreachable it tries again, so the page recovers without a reload.
export async function inPanel(where, load) {
  for (;;) {
    try {
      const done = await load();
      for (const shown of document.querySelectorAll(`${where} > .panel-error`)) shown.remove();  // recovered
      return done;
    } catch (e) {
      panelError(where, e);
      if (!e.offline) return undefined;
      await new Promise((resolve) => setTimeout(resolve, RETRY_MS));
    }
  }
}

export function panelError(id, err) {
  $(id).replaceChildren(el("p", { class: "panel-error", "data-testid": "panel-error", text: String(err.message || err) }));
}

export function showError(err) {
  const box = $("#error");
  box.textContent = String(err.message || err);
  box.hidden = false;
  clearTimeout(showError.timer);
  showError.timer = setTimeout(() => (box.hidden = true), 6000);
}

// Any figure can be enlarged: a button opens it in a dialog the size of the window (Escape closes it).
export function enlargeable(node, caption) {
  const button = el("button", { class: "enlarge", type: "button", "data-testid": "enlarge", text: "Enlarge" });
  button.addEventListener("click", () => {
    const dialog = $("#enlarged");
    $("#enlarged-body").replaceChildren(node.cloneNode(true));
    $("#enlarged-title").textContent = caption;
    dialog.showModal();
  });
  return el("figure", { class: "enlargeable" }, node, el("figcaption", {}, button));
}

export function decode(b64) {
  const bin = atob(b64);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}
