// The models: a model's card, diagram, shapes, where its parameters are, its layer table; two side by side.

import { barChart, lineChart } from "../charts.js";
import { $, api, el, enlargeable, fmtInt, fmtPct, fmtShape, fmtSI, inPanel } from "../dom.js";

export const models = { list: [], rendered: false };

export async function initModels() {
  models.list = await api("/api/models");
  const a = $("#model-a"), b = $("#model-b");
  const families = [...new Set(models.list.map((m) => m.family))];
  for (const select of [a, b]) {
    for (const f of families) {
      const group = el("optgroup", { label: { lenet: "LeNet-5", alexnet: "AlexNet", vgg: "VGG", resnet: "ResNet and plain twins" }[f] || f });
      for (const m of models.list.filter((x) => x.family === f)) group.append(el("option", { value: m.name, text: `${m.name}  (${fmtInt(m.params)} params)` }));
      select.append(group);
    }
  }
  a.value = "lenet5";
  const changed = () => {  // the address follows the picks, so a teacher can link them
    history.replaceState(null, "", `#models/${[a.value, b.value].filter(Boolean).join(",")}`);
    renderModels();
  };
  a.addEventListener("change", changed);
  b.addEventListener("change", changed);
}

// #models/vgg16 or #models/vgg16,resnet50: pick them; an unknown name says so
export function pickModels(arg) {
  const known = new Set(models.list.map((m) => m.name));
  const asked = (arg || "").split(",").filter(Boolean).map(decodeURIComponent);
  const unknown = asked.filter((n) => !known.has(n));
  const good = asked.filter((n) => known.has(n));
  if (good.length) { $("#model-a").value = good[0]; $("#model-b").value = good[1] || ""; }
  $("#models-note").textContent = unknown.length ? `No model called ${unknown.map((n) => `"${n}"`).join(" or ")}: ` +
    `pick one from the list${good.length ? "" : "; showing " + $("#model-a").value}.` : "";
}

export async function renderModels() {
  const names = [$("#model-a").value, $("#model-b").value].filter(Boolean);
  const columns = $("#model-columns");
  await inPanel("#model-columns", async () => {
    const pages = await Promise.all(names.map((n) => api(`/api/models/${encodeURIComponent(n)}`)));
    if (names.join() !== [$("#model-a").value, $("#model-b").value].filter(Boolean).join()) return;  // picked again since
    columns.replaceChildren(...pages.map(modelColumn));
    models.rendered = true;
    columns.classList.toggle("two", pages.length > 1);
    $("#compare-table").replaceChildren(pages.length > 1 ? compareTable(pages) : "");
  });
}

function checkLine(check) {
  const ok = check.ok === true, bad = check.ok === false;
  return el("li", { class: ok ? "ok" : bad ? "bad" : "muted" }, `${ok ? "\u2713 " : bad ? "\u2717 " : ""}${check.message}`);
}

function modelColumn(page) {
  const card = page.card, s = page.summary;
  const err = card.error ? `${card.error.value}% ${card.error.metric} [${card.error.source}]` : "none published";
  const rows = s.rows.map((r) => el("tr", {},
    el("td", { text: r.name }), el("td", { text: r.type }), el("td", { text: r.stage || "" }),
    el("td", { text: fmtShape(r.output_shape) }), el("td", { class: "num", text: fmtInt(r.params) }),
    el("td", { class: "num", text: fmtInt(r.macs) })));
  const t = s.totals;
  const shapes = page.shapes;
  const chart = lineChart({
    series: [
      { name: "height x width", color: "#1f77b4", points: shapes.map((p) => [p.layer, p.hw]), marker: true },
      { name: "channels", color: "#ff7f0e", points: shapes.map((p) => [p.layer, p.channels]), marker: true },
    ],
    log2: true, xLabel: "convolution (in order)", yLabel: "size (log scale)", height: 260,
    yFormat: (v) => fmtInt(v), xFormat: (v) => (Number.isInteger(v) ? v : ""),
  });
  return el("article", { class: "model", "data-testid": `model-${page.name}` },
    el("h2", { text: page.name }),
    el("p", { class: "paper", text: card.paper.includes(String(card.year)) ? card.paper : `${card.paper} (${card.year})` }),
    el("dl", {},
      el("dt", { text: "depth" }), el("dd", { text: `${card.depth} weight layers` }),
      el("dt", { text: "parameters" }), el("dd", { class: "params", "data-testid": "params", text: fmtInt(t.params) }),
      el("dt", { text: "MACs per image" }), el("dd", { text: `${fmtInt(t.macs)} (${fmtSI(t.macs)})` }),
      el("dt", { text: "input" }), el("dd", { text: fmtShape(s.input_size) }),
      el("dt", { text: "published error" }), el("dd", { text: err })),
    el("ul", { class: "checks" }, s.checks.map(checkLine)),
    el("details", {}, el("summary", { text: `Where classicnets deviates from the paper (${card.deviations.length})` }),
      el("ul", {}, card.deviations.map((d) => el("li", { text: d })))),
    el("h3", { text: "The architecture" }),
    enlargeable(el("img", { class: "diagram", src: `/api/models/${encodeURIComponent(page.name)}/diagram.svg`, alt: `diagram of ${page.name}` }),
      `diagram of ${page.name}`),
    el("h3", { text: "Height and width shrink while channels grow" }),
    el("div", { class: "chart-box" }, chart),
    el("h3", { text: "Where the parameters are, and where the compute is" }),
    whereChart(s),
    el("h3", { text: "Layer by layer" }),
    el("div", { class: "table-box" }, el("table", { class: "layers" },
      el("thead", {}, el("tr", {}, ["Layer", "Type", "Stage", "Output", "Params", "MACs"].map((h) => el("th", { text: h })))),
      el("tbody", {}, rows),
      el("tfoot", {}, el("tr", {}, el("td", { colspan: 4, text: "total" }),
        el("td", { class: "num", text: fmtInt(t.params) }), el("td", { class: "num", text: fmtInt(t.macs) }))))));
}

// each weight layer's share of the parameters and of the MACs, and the sentence the shares say
export function whereChart(s) {
  const layers = s.rows.filter((r) => r.params > 0);  // weight layers (ResNets: one row per block)
  const t = s.totals, many = layers.length > 24;
  const share = (key, color) => barChart({ bars: layers.map((r) => ({ label: r.name, value: r[key] / t[key],
    color: /Linear/.test(r.type) ? "#d62728" : color })), height: 200, labels: !many,
    yLabel: key === "params" ? "share of parameters" : "share of MACs", yFormat: (v) => `${Math.round(100 * v)}%` });
  const sum = (key, fc) => layers.filter((r) => /Linear/.test(r.type) === fc).reduce((a, r) => a + r[key], 0) / t[key];
  const fcParams = sum("params", true), convMacs = sum("macs", false);
  return el("div", { class: "chart-box", "data-testid": "where-chart" },
    share("params", "#1f77b4"), share("macs", "#2ca02c"),
    el("p", { "data-testid": "where-text", text: `The fully connected layers (red) hold ${fmtPct(fcParams)} of the parameters; ` +
      `the convolutions${s.rows.some((r) => /Block|Bottleneck/.test(r.type)) ? " (here one bar per block)" : ""} do ${fmtPct(convMacs)} of the multiply-accumulates.` + (many ? " One bar per weight layer, in order." : "") }));
}

function compareTable(pages) {
  const facts = [
    ["year", (p) => p.card.year], ["depth (weight layers)", (p) => p.card.depth],
    ["parameters", (p) => fmtInt(p.summary.totals.params)], ["MACs per image", (p) => fmtSI(p.summary.totals.macs)],
    ["input", (p) => fmtShape(p.summary.input_size)],
    ["published error", (p) => (p.card.error ? `${p.card.error.value}%` : "-")],
  ];
  return el("table", { class: "compare" },
    el("thead", {}, el("tr", {}, el("th", { text: "" }), pages.map((p) => el("th", { text: p.name })))),
    el("tbody", {}, facts.map(([label, f]) => el("tr", {}, el("th", { text: label }), pages.map((p) => el("td", { text: String(f(p)) }))))));
}
