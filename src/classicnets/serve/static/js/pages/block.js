// The residual block: a[l+2] = g(z[l+2] + a[l]), term by term, on a real block.

import { $, api, el, fmtNum, fmtShape, inPanel } from "../dom.js";

export async function initBlock() {
  $("#block-controls").addEventListener("change", renderBlock);
  await renderBlock();
}

function numberGrid(title, values, note) {
  if (!values) return el("div", { class: "term empty" }, el("h2", { text: title }), el("p", { class: "muted", text: note || "" }));
  const peak = Math.max(1e-9, ...values.flat().map(Math.abs));
  return el("div", { class: "term" }, el("h2", { text: title }),
    el("table", { class: "numbers" }, values.map((row) => el("tr", {}, row.map((v) => {
      const a = Math.min(1, Math.abs(v) / peak);
      return el("td", { style: `background: rgba(${v >= 0 ? "31,119,180" : "214,39,40"}, ${0.08 + 0.5 * a})`, text: v.toFixed(2) });
    })))), note ? el("p", { class: "muted", text: note }) : null);
}

async function renderBlock() {
  const form = $("#block-controls");
  const body = { shortcut: form.shortcut.value, zero_last: $("#zero-last").checked, changes_shape: $("#changes-shape").checked };
  const b = await inPanel("#block-verdict", () => api("/api/block", { method: "POST", body: JSON.stringify(body),
    headers: { "Content-Type": "application/json" } }));
  if (!b) return;
  const plain = b.path === "none";
  const shapes = `a[l]: ${fmtShape(b.in_shape)}, a[l+2]: ${fmtShape(b.out_shape)}`;
  let headline;
  if (b.identity) headline = "a[l+2] = a[l]: the block is the identity. Adding it cannot hurt.";
  else if (plain && b.zero_last) headline = "a[l+2] = g(b[l+2]) = g(0) = 0: the plain block loses its input.";
  else if (plain) headline = "a[l+2] = g(z[l+2]): a plain block keeps nothing of a[l] but what W learns.";
  else if (b.zero_last && !b.identity) headline = `a[l+2] = g(shortcut(a[l])): ${b.returns}`;
  else headline = "a[l+2] = g(z[l+2] + shortcut(a[l])): the block adds what it learned to its input.";
  const diff = b.max_diff_from_input === null ? "the shapes differ, so a[l+2] cannot equal a[l]" : `max |a[l+2] - a[l]| = ${fmtNum(b.max_diff_from_input)}`;
  $("#block-verdict").replaceChildren(...[el("p", { class: "headline", "data-testid": "block-headline", text: headline }),
    el("p", { text: `${diff}; max |z[l+2]| = ${fmtNum(b.max_abs_z)}. ${shapes}.` }),
    b.needs_ws ? el("p", { class: "ws", text: `W_s is needed: ${b.ws}.` }) : null,
    b.note ? el("p", { class: "ws", text: b.note }) : null].filter(Boolean));
  $("#block-terms").replaceChildren(...blockTerms(b));
}

// the block's equation, term by term, from a /api/block answer
export function blockTerms(b) {
  const plain = b.path === "none", where = "channel 1, top-left 4x4";
  return [numberGrid("a[l]", b.a_l, where),
    el("span", { class: "op", text: "\u2192" }),
    numberGrid("z[l+2] = W a[l+1] + b", b.z, b.zero_last ? "W = 0 and b = 0, so z = 0" : where),
    el("span", { class: "op", text: "+" }),
    numberGrid(plain ? "shortcut: none" : b.path === "projection" ? "W_s a[l]" : b.path === "zero-pad" ? "a[l], subsampled and zero-padded" : "a[l]",
      b.shortcut_term, plain ? "a plain block adds nothing" : where),
    el("span", { class: "op", text: "\u2192 g \u2192" }),
    numberGrid("a[l+2]", b.a_next, where)];
}
