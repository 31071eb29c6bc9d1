// classicnets explorer: plain JavaScript and SVG over the JSON API of classicnets/serve/app.py.
"use strict";

// ---------------------------------------------------------------- small helpers
const $ = (selector, root = document) => root.querySelector(selector);
const SVG_NS = "http://www.w3.org/2000/svg";

function el(tag, attrs = {}, ...children) {
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

function svg(tag, attrs = {}, ...children) {
  const node = document.createElementNS(SVG_NS, tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
  for (const c of children.flat()) if (c !== null && c !== undefined) node.append(c);
  return node;
}

const fmtInt = (n) => Math.round(n).toLocaleString("en-US");
const fmtPct = (x, digits = 1) => (x === null || x === undefined ? "-" : `${(100 * x).toFixed(digits)}%`);
const fmtSI = (n) => (n >= 1e9 ? `${(n / 1e9).toFixed(2)} G` : n >= 1e6 ? `${(n / 1e6).toFixed(2)} M` : n >= 1e3 ? `${(n / 1e3).toFixed(1)} k` : `${n}`);
const fmtNum = (x) => (x === 0 ? "0" : x.toPrecision(3));
const fmtShape = (s) => (s.length === 3 ? `${s[1]}x${s[2]}x${s[0]}` : s.join("x"));

async function api(path, options) {
  const response = await fetch(path, options);
  const body = await response.json();
  if (!response.ok) throw new Error(body.error || response.statusText);
  return body;
}

function showError(err) {
  const box = $("#error");
  box.textContent = String(err.message || err);
  box.hidden = false;
  clearTimeout(showError.timer);
  showError.timer = setTimeout(() => (box.hidden = true), 6000);
}

// ---------------------------------------------------------------- charts (SVG)
function niceTicks(lo, hi, count = 5) {
  if (hi <= lo) hi = lo + 1;
  const raw = (hi - lo) / count;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * mag).find((s) => s >= raw);
  const ticks = [];
  for (let t = Math.ceil(lo / step) * step; t <= hi + 1e-9; t += step) ticks.push(+t.toPrecision(12));
  return ticks;
}

// series: [{name, color, points: [[x, y]], width, dash, marker}]
function lineChart({ series, width = 520, height = 300, xLabel = "", yLabel = "", log2 = false,
                     yFormat = (v) => v, xFormat = (v) => v, yMin = null, yMax = null, legend = true }) {
  const m = { left: 58, right: legend ? 118 : 12, top: 12, bottom: 42 };
  const all = series.flatMap((s) => s.points);
  const root = svg("svg", { viewBox: `0 0 ${width} ${height}`, class: "chart", role: "img" });
  if (!all.length) {
    root.append(svg("text", { x: width / 2, y: height / 2, "text-anchor": "middle", class: "muted" }, "no data yet"));
    return root;
  }
  const tx = (v) => (log2 ? Math.log2(v) : v);
  const xs = all.map((p) => p[0]), ys = all.map((p) => tx(p[1]));
  let x0 = Math.min(...xs), x1 = Math.max(...xs);
  let y0 = yMin !== null ? tx(yMin) : Math.min(...ys), y1 = yMax !== null ? tx(yMax) : Math.max(...ys);
  if (x1 === x0) { x0 -= 1; x1 += 1; }
  if (y1 === y0) { y0 -= 1; y1 += 1; }
  const pad = (y1 - y0) * 0.05; y0 -= log2 ? 0.3 : pad; y1 += log2 ? 0.3 : pad;
  const W = width - m.left - m.right, H = height - m.top - m.bottom;
  const sx = (v) => m.left + ((v - x0) / (x1 - x0)) * W;
  const sy = (v) => m.top + H - ((tx(v) - y0) / (y1 - y0)) * H;
  const syRaw = (t) => m.top + H - ((t - y0) / (y1 - y0)) * H;
  const yTicks = log2 ? Array.from({ length: Math.floor(y1) - Math.ceil(y0) + 1 }, (_, i) => Math.ceil(y0) + i) : niceTicks(y0, y1);
  for (const t of yTicks) {
    const y = syRaw(t);
    root.append(svg("line", { x1: m.left, x2: width - m.right, y1: y, y2: y, class: "grid" }));
    root.append(svg("text", { x: m.left - 6, y: y + 4, "text-anchor": "end", class: "tick" }, String(yFormat(log2 ? 2 ** t : t))));
  }
  for (const t of niceTicks(x0, x1, 6)) {
    const x = sx(t);
    root.append(svg("line", { x1: x, x2: x, y1: m.top + H, y2: m.top + H + 4, class: "axis" }));
    root.append(svg("text", { x, y: m.top + H + 16, "text-anchor": "middle", class: "tick" }, String(xFormat(t))));
  }
  root.append(svg("line", { x1: m.left, x2: m.left + W, y1: m.top + H, y2: m.top + H, class: "axis" }));
  root.append(svg("line", { x1: m.left, x2: m.left, y1: m.top, y2: m.top + H, class: "axis" }));
  root.append(svg("text", { x: m.left + W / 2, y: height - 6, "text-anchor": "middle", class: "label" }, xLabel));
  root.append(svg("text", { x: 12, y: m.top + H / 2, "text-anchor": "middle", class: "label",
                            transform: `rotate(-90 12 ${m.top + H / 2})` }, yLabel));
  for (const s of series) {
    if (!s.points.length) continue;
    const d = s.points.map((p, i) => `${i ? "L" : "M"}${sx(p[0]).toFixed(1)},${sy(p[1]).toFixed(1)}`).join("");
    root.append(svg("path", { d, fill: "none", stroke: s.color, "stroke-width": s.width || 2,
                              "stroke-dasharray": s.dash || "none", "data-series": s.name }));
    if (s.marker) for (const p of s.points) root.append(svg("circle", { cx: sx(p[0]), cy: sy(p[1]), r: 3.2, fill: s.color }));
  }
  if (legend) {
    let y = m.top + 6;
    for (const s of series) {
      const x = m.left + W + 12;
      root.append(svg("line", { x1: x, x2: x + 20, y1: y, y2: y, stroke: s.color, "stroke-width": s.width || 2,
                                "stroke-dasharray": s.dash || "none" }));
      root.append(svg("text", { x: x + 25, y: y + 4, class: "legend" }, s.name));
      y += 16;
    }
  }
  return root;
}

const PALETTE = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#17becf", "#7f7f7f"];

// ---------------------------------------------------------------- pixel grids
function decode(b64) {
  const bin = atob(b64);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

// One small canvas per map of a {count, height, width, pixels} grid.
function mapCanvases(grid, scale, testid) {
  const pixels = decode(grid.pixels);
  const box = el("div", { class: "maps", "data-testid": testid, "data-count": grid.count });
  const n = grid.height * grid.width;
  for (let c = 0; c < grid.count; c++) {
    const canvas = el("canvas", { width: grid.width, height: grid.height, class: "map",
                                  title: `map ${c + 1}: ${grid.min[c]} to ${grid.max[c]}` });
    canvas.style.width = `${grid.width * scale}px`;
    canvas.style.height = `${grid.height * scale}px`;
    const ctx = canvas.getContext("2d");
    const img = ctx.createImageData(grid.width, grid.height);
    for (let i = 0; i < n; i++) {
      const v = pixels[c * n + i];
      img.data.set([v, v, v, 255], 4 * i);
    }
    ctx.putImageData(img, 0, 0);
    box.append(canvas);
  }
  return box;
}

// ---------------------------------------------------------------- view: the models
const models = { list: [], started: false };

async function initModels() {
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
  a.addEventListener("change", renderModels);
  b.addEventListener("change", renderModels);
  await renderModels();
}

async function renderModels() {
  const names = [$("#model-a").value, $("#model-b").value].filter(Boolean);
  const pages = await Promise.all(names.map((n) => api(`/api/models/${encodeURIComponent(n)}`)));
  const columns = $("#model-columns");
  columns.replaceChildren(...pages.map(modelColumn));
  columns.classList.toggle("two", pages.length > 1);
  $("#compare-table").replaceChildren(pages.length > 1 ? compareTable(pages) : "");
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
    el("img", { class: "diagram", src: `/api/models/${encodeURIComponent(page.name)}/diagram.svg`, alt: `diagram of ${page.name}` }),
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
function whereChart(s) {
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

// ---------------------------------------------------------------- view: draw a digit
const pad = { drawing: false, last: null, pending: null, busy: false };

function initDraw() {
  const canvas = $("#pad"), ctx = canvas.getContext("2d");
  const clear = () => { ctx.fillStyle = "#000"; ctx.fillRect(0, 0, canvas.width, canvas.height); };
  clear();
  const at = (e) => {
    const r = canvas.getBoundingClientRect();
    return [(e.clientX - r.left) * (canvas.width / r.width), (e.clientY - r.top) * (canvas.height / r.height)];
  };
  const line = (from, to) => {
    ctx.strokeStyle = "#fff"; ctx.lineWidth = 20; ctx.lineCap = "round"; ctx.lineJoin = "round";
    ctx.beginPath(); ctx.moveTo(...from); ctx.lineTo(...to); ctx.stroke();
  };
  canvas.addEventListener("pointerdown", (e) => {
    pad.drawing = true; pad.last = at(e); line(pad.last, pad.last); canvas.setPointerCapture(e.pointerId);
  });
  canvas.addEventListener("pointermove", (e) => {
    if (!pad.drawing) return;
    const p = at(e); line(pad.last, p); pad.last = p; schedulePredict(250);
  });
  const end = () => { if (pad.drawing) { pad.drawing = false; schedulePredict(0); } };
  canvas.addEventListener("pointerup", end);
  canvas.addEventListener("pointercancel", end);
  $("#clear").addEventListener("click", () => { clear(); $("#lenets").replaceChildren(); $("#sample-note").textContent = ""; });
  $("#sample").addEventListener("click", async () => {
    const s = await api("/api/digit/sample");
    const img = new Image();
    img.onload = () => { clear(); ctx.imageSmoothingEnabled = true; ctx.drawImage(img, 0, 0, canvas.width, canvas.height); schedulePredict(0); };
    img.src = s.png;
    $("#sample-note").textContent = `${s.source}, image ${s.index}: a ${s.label}`;
  });
}

function schedulePredict(delay) {
  clearTimeout(pad.pending);
  pad.pending = setTimeout(predict, delay);
}

async function predict() {
  if (pad.busy) { schedulePredict(100); return; }
  pad.busy = true;
  try {
    const blob = await new Promise((resolve) => $("#pad").toBlob(resolve, "image/png"));
    const result = await api("/api/digit", { method: "POST", body: blob, headers: { "Content-Type": "image/png" } });
    renderLenets(result);
  } catch (e) {
    showError(e);
  } finally {
    pad.busy = false;
  }
}

const TITLES = { lenet5: "LeNet-5, 1998", lenet5_modern: "LeNet-5, modern" };
const LAYER_NOTES = { C1: "6 maps, 28x28", S2: "6 maps, 14x14", C3: "16 maps, 10x10", S4: "16 maps, 5x5" };

function renderLenets(result) {
  const first = Object.values(result.models)[0];
  drawSeen(first.input);
  $("#lenets").classList.add("two");
  $("#lenets").replaceChildren(...Object.entries(result.models).map(([name, m]) => {
    const bars = m.probabilities.map((p, i) => el("div", { class: `bar${m.classes[i] === m.prediction ? " top" : ""}` },
      el("span", { class: "cls", text: m.classes[i] }),
      el("span", { class: "fill", style: `width:${Math.max(0.5, 100 * p)}%` }),
      el("span", { class: "val", text: fmtPct(p, 1) })));
    const maps = Object.entries(m.maps).map(([layer, grid]) => el("div", { class: "layer" },
      el("h4", { text: `${layer}  (${LAYER_NOTES[layer]})` }),
      mapCanvases(grid, grid.width >= 20 ? 2 : grid.width >= 10 ? 4 : 6, `${name}-${layer}`)));
    const rbf = m.rbf_distances ? el("div", { class: "rbf" },
      el("h4", { text: "RBF output: squared distance to each class's 7x12 code (the smallest wins)" }),
      el("div", { class: "rbf-row" }, m.rbf_distances.map((d, i) => el("span", { class: m.classes[i] === m.prediction ? "top" : "", text: `${m.classes[i]}: ${d.toFixed(1)}` })))) : null;
    return el("article", { class: "lenet", "data-testid": name },
      el("h2", { text: TITLES[name] || name }),
      el("p", { class: "prediction" }, "reads ", el("b", { "data-testid": `${name}-prediction`, text: m.prediction }),
        ` (${fmtPct(Math.max(...m.probabilities), 1)})`),
      el("div", { class: "bars" }, bars), rbf,
      el("h3", { text: "Feature maps" }), maps);
  }));
}

function drawSeen(input) {
  const canvas = $("#seen"), ctx = canvas.getContext("2d");
  const pixels = decode(input.pixels), { width, height } = input;
  const small = el("canvas", { width, height });
  const img = small.getContext("2d").createImageData(width, height);
  for (let i = 0; i < width * height; i++) img.data.set([pixels[i], pixels[i], pixels[i], 255], 4 * i);
  small.getContext("2d").putImageData(img, 0, 0);
  ctx.imageSmoothingEnabled = false;
  ctx.drawImage(small, 0, 0, canvas.width, canvas.height);
  $("#seen-range").textContent = `black = ${input.lo.toFixed(2)}, white = ${input.hi.toFixed(2)}; mean ${input.mean.toFixed(3)}, std ${input.std.toFixed(3)}`;
}

// ---------------------------------------------------------------- view: the residual block
async function initBlock() {
  $("#block-controls").addEventListener("change", renderBlock);
  await renderBlock();
}

function numberGrid(title, values, note) {
  if (!values) return el("div", { class: "term empty" }, el("h4", { text: title }), el("p", { class: "muted", text: note || "" }));
  const peak = Math.max(1e-9, ...values.flat().map(Math.abs));
  return el("div", { class: "term" }, el("h4", { text: title }),
    el("table", { class: "numbers" }, values.map((row) => el("tr", {}, row.map((v) => {
      const a = Math.min(1, Math.abs(v) / peak);
      return el("td", { style: `background: rgba(${v >= 0 ? "31,119,180" : "214,39,40"}, ${0.08 + 0.5 * a})`, text: v.toFixed(2) });
    })))), note ? el("p", { class: "muted", text: note }) : null);
}

async function renderBlock() {
  const form = $("#block-controls");
  const body = { shortcut: form.shortcut.value, zero_last: $("#zero-last").checked, changes_shape: $("#changes-shape").checked };
  const b = await api("/api/block", { method: "POST", body: JSON.stringify(body), headers: { "Content-Type": "application/json" } });
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
  const where = "channel 1, top-left 4x4";
  $("#block-terms").replaceChildren(
    numberGrid("a[l]", b.a_l, where),
    el("span", { class: "op", text: "\u2192" }),
    numberGrid("z[l+2] = W a[l+1] + b", b.z, b.zero_last ? "W = 0 and b = 0, so z = 0" : where),
    el("span", { class: "op", text: "+" }),
    numberGrid(plain ? "shortcut: none" : b.path === "projection" ? "W_s a[l]" : b.path === "zero-pad" ? "a[l], subsampled and zero-padded" : "a[l]",
      b.shortcut_term, plain ? "a plain block adds nothing" : where),
    el("span", { class: "op", text: "\u2192 g \u2192" }),
    numberGrid("a[l+2]", b.a_next, where));
}

// ---------------------------------------------------------------- view: degradation
const degr = { published: {}, runs: [], timer: null, mtime: null };

async function initDegradation() {
  const [published, runs] = await Promise.all([api("/api/published"), api("/api/runs")]);
  degr.published = published;
  degr.runs = runs.runs;
  const picker = $("#result-picker");
  const order = (k) => (k.includes("sweep") ? 0 : k === "degradation-quick" ? 1 : 2);
  const keys = Object.keys(published).sort((a, b) => order(a) - order(b) || a.localeCompare(b));
  const pub = el("optgroup", { label: "published (docs/data)" },
    keys.map((k) => [k, published[k]]).map(([k, r]) => el("option", { value: `pub:${k}`, text: `${k}: ${r.budget} budget, ${(r.seeds || [r.seed]).length > 1 ? `seeds ${r.seeds.join(", ")}` : `seed ${r.seed}`}, ${r.data || "the JPEG copy of CIFAR-10"}` })));
  const mine = el("optgroup", { label: `--runs folders (${runs.roots.join(", ") || "none given"})` },
    runs.runs.map((r) => el("option", { value: `run:${r.id}`, text: `${r.kind === "run" ? "run" : "experiment"}: ${r.name}` })));
  picker.replaceChildren(...[pub, mine].filter((g) => g.children.length));
  $("#runs-note").textContent = runs.roots.length ? "" : "Start the explorer with --runs DIR to see your own run or experiment folders here; their curves refresh while they train.";
  picker.addEventListener("change", showResult);
  if (picker.options.length) await showResult();
  else $("#curve-chart").replaceChildren(el("p", { class: "muted", text: "No published results (this is not a source checkout) and no --runs folders." }));
}

function depthOf(name) { return +name.replace(/^\D+/, ""); }

function lastQuarterMean(steps, values) {
  if (!steps.length) return null;
  const end = steps[steps.length - 1], pts = values.filter((v, i) => v !== null && steps[i] >= 0.75 * end);
  return pts.length ? pts.reduce((a, b) => a + b, 0) / pts.length : null;
}

function renderExperiment(curves, final, verdict, trend) {
  const names = Object.keys(curves).sort((a, b) => depthOf(a) - depthOf(b));
  const depths = [...new Set(names.map(depthOf))].sort((a, b) => a - b);
  const color = (n) => PALETTE[depths.indexOf(depthOf(n)) % PALETTE.length];
  const series = names.map((n) => ({
    name: `${n.startsWith("plain") ? "plain" : "ResNet"}-${depthOf(n)}`, color: color(n),
    width: n.startsWith("plain") ? 1.4 : 3, dash: n.startsWith("plain") ? "5 3" : "none",
    points: curves[n].steps.map((s, i) => [s, 100 * curves[n].train_error[i]]),
  }));
  $("#curve-chart").replaceChildren(lineChart({ series, xLabel: "iterations", yLabel: "training error (%)", yMin: 0, yFormat: (v) => v }));
  const finals = {};
  for (const n of names) finals[n] = final && final[n] ? final[n].train_error : lastQuarterMean(curves[n].steps, curves[n].train_error);
  const family = (f, c, w) => ({ name: f === "plain" ? "plain" : "ResNet", color: c, width: w, marker: true,
    points: names.filter((n) => n.startsWith(f) && finals[n] !== null).map((n) => [depthOf(n), 100 * finals[n]]) });
  $("#depth-chart").replaceChildren(lineChart({ series: [family("plain", "#d62728", 2), family("resnet", "#1f77b4", 3)],
    xLabel: "layers", yLabel: "training error (%)", height: 300, width: 420, xFormat: (v) => (Number.isInteger(v) ? v : "") }));
  const said = verdict ? [...(trend ? trend.sentences : []), ...verdict.sentences] : [];  // step by step, then end to end
  $("#verdict-text").replaceChildren(...(said.length ? said.map((s) => el("p", { text: s })) : [el("p", { class: "muted", text: "Verdict: when the experiment has finished." })]));
}

function renderRun(records, name) {
  const pts = (key) => records.filter((r) => r[key] !== null && r[key] !== undefined).map((r) => [r.step, 100 * r[key]]);
  $("#curve-chart").replaceChildren(lineChart({
    series: [{ name: "training", color: "#1f77b4", points: pts("train_error"), width: 2 },
             { name: "validation", color: "#ff7f0e", points: pts("val_error"), width: 2 },
             { name: "test", color: "#2ca02c", points: pts("test_error"), width: 2, dash: "4 3" }],
    xLabel: "iterations", yLabel: "error (%)", yMin: 0 }));
  $("#depth-chart").replaceChildren(el("p", { class: "muted", text: "A single run: open an experiment folder to compare depths." }));
  const last = records[records.length - 1];
  $("#verdict-text").replaceChildren(el("p", { text: last ? `${name}: step ${fmtInt(last.step)}, training error ${fmtPct(last.train_error)}, validation ${fmtPct(last.val_error)}, test ${fmtPct(last.test_error)}` : `${name}: no records yet` }));
}

async function showResult() {
  clearInterval(degr.timer);
  degr.mtime = null;
  $("#live").hidden = true;
  const value = $("#result-picker").value;
  if (value.startsWith("pub:")) {
    const r = degr.published[value.slice(4)];
    renderExperiment(r.curves, r.final, r.verdict, r.trend);
    return;
  }
  const id = value.slice(4);
  const refresh = async () => {
    const data = await api(`/api/runs/curves?id=${encodeURIComponent(id)}`);
    if (data.mtime === degr.mtime) return;
    degr.mtime = data.mtime;
    $("#live").hidden = Date.now() / 1000 - data.mtime > 30; // written in the last 30 s: still training
    if (data.kind === "run") renderRun(data.records, id);
    else if (data.results) renderExperiment(data.results.curves, data.results.final, data.results.verdict, data.results.trend);
    else {
      const curves = {};
      for (const [n, recs] of Object.entries(data.runs)) curves[n] = { steps: recs.map((r) => r.step), train_error: recs.map((r) => r.train_error) };
      renderExperiment(curves, null, null);
    }
  };
  await refresh();
  degr.timer = setInterval(() => refresh().catch(showError), 2000);
}

// ---------------------------------------------------------------- view: why it works
// bars: [{label, value, color}]; one bar per label, an optional dashed reference line
function barChart({ bars, width = 520, height = 260, yLabel = "", yFormat = (v) => v, yMax = null, ref = null, labels = true }) {
  const m = { left: 58, right: 12, top: 14, bottom: 54 };
  const root = svg("svg", { viewBox: `0 0 ${width} ${height}`, class: "chart", role: "img" });
  const top = yMax !== null ? yMax : Math.max(...bars.map((b) => b.value), ref ? ref.value : 0) * 1.1;
  const W = width - m.left - m.right, H = height - m.top - m.bottom;
  const sy = (v) => m.top + H - (v / top) * H;
  for (const t of niceTicks(0, top)) {
    if (t > top) continue;
    root.append(svg("line", { x1: m.left, x2: width - m.right, y1: sy(t), y2: sy(t), class: "grid" }));
    root.append(svg("text", { x: m.left - 6, y: sy(t) + 4, "text-anchor": "end", class: "tick" }, String(yFormat(t))));
  }
  const step = W / bars.length;
  bars.forEach((b, i) => {
    const x = m.left + i * step + step * 0.15;
    root.append(svg("rect", { x, y: sy(b.value), width: step * 0.7, height: Math.max(0, m.top + H - sy(b.value)),
                              fill: b.color, "data-bar": b.label }, svg("title", {}, `${b.label}: ${yFormat(b.value)}`)));
    if (labels) root.append(svg("text", { x: x + step * 0.35, y: m.top + H + 14, "text-anchor": "end", class: "tick",
                                          transform: `rotate(-35 ${x + step * 0.35} ${m.top + H + 14})` }, b.label));
  });
  if (ref) {
    root.append(svg("line", { x1: m.left, x2: width - m.right, y1: sy(ref.value), y2: sy(ref.value), stroke: "#333",
                              "stroke-dasharray": "5 4", "stroke-width": 1.5 }));
    root.append(svg("text", { x: width - m.right - 4, y: sy(ref.value) - 5, "text-anchor": "end", class: "legend" }, ref.label));
  }
  root.append(svg("line", { x1: m.left, x2: m.left + W, y1: m.top + H, y2: m.top + H, class: "axis" }));
  root.append(svg("text", { x: 12, y: m.top + H / 2, "text-anchor": "middle", class: "label",
                            transform: `rotate(-90 12 ${m.top + H / 2})` }, yLabel));
  return root;
}

function panelError(id, err) {
  $(id).replaceChildren(el("p", { class: "panel-error", "data-testid": "panel-error", text: String(err.message || err) }));
}

const WHY_COLORS = { plain20: "#f4a582", plain56: "#b2182b", resnet20: "#92c5de", resnet56: "#2166ac" };

function renderGradients(g) {
  const names = Object.keys(g.models);
  const series = names.map((n) => ({ name: n.replace("plain", "plain-").replace("resnet", "ResNet-"), color: WHY_COLORS[n] || "#777",
    dash: n.startsWith("plain") ? "5 3" : "none", width: n.endsWith("56") ? 2.6 : 1.6,
    points: g.models[n].map((r, i) => [i + 1, r.norm]) }));
  $("#why-gradients").replaceChildren(lineChart({ series, xLabel: "weight layer (1 = the first convolution)",
    yLabel: "||dL/dW||", log2: true, yFormat: (v) => (v >= 10 ? v.toFixed(0) : v >= 0.1 ? v.toFixed(2) : v.toExponential(0)) }));
  // first convolution against the last one (the classifier, a linear layer, is left out)
  const sentences = names.map((n) => {
    const convs = g.models[n].slice(0, -1);
    const ratio = convs[0].norm / convs[convs.length - 1].norm;
    const way = ratio > 1 ? `${fmtNum(ratio)} times LARGER at the first layer than at the last` : `${fmtNum(1 / ratio)} times smaller at the first layer than at the last`;
    return `${n.startsWith("plain") ? "plain" : "ResNet"}-${n.replace(/^\D+/, "")}: ${way}.`;
  });
  const p56 = g.models.plain56, r56 = g.models.resnet56;
  const spread = (rows) => { const v = rows.slice(0, -1).map((r) => r.norm); return Math.max(...v) / Math.min(...v); };
  $("#why-gradients-text").replaceChildren(el("p", { text: sentences.join(" ") }),
    el("p", { text: p56 && r56 ? `Across its convolutions, plain-56's gradient spans a factor of ${fmtNum(spread(p56))}; ` +
      `ResNet-56's a factor of ${fmtNum(spread(r56))}. ` + (p56[0].norm > p56[p56.length - 2].norm ?
      "In these real networks (with batch norm, at He initialisation) the plain network's gradient does not vanish on the way " +
      "back: it grows, layer after layer, so the early layers get steps far larger than the late ones and one learning rate " +
      "cannot suit both." : "The plain network's gradient shrinks on the way back: its early layers barely learn.") +
      (spread(r56) < spread(p56) ? " The shortcut adds an identity path to every block's backward pass, and the ResNet's " +
      "gradient stays within a much narrower band." : " Here the shortcut does not narrow the band.") : "" }),
    el("p", { class: "muted", text: `${g.images} test images, seed ${g.seed}, one forward and backward pass in training mode.` }));
}

function renderRatios(r) {
  const bars = r.blocks.map((b) => ({ label: b.block, value: b.ratio, color: b.shortcut === "identity" ? "#2166ac" : "#92c5de" }));
  $("#why-ratios").replaceChildren(barChart({ bars, yLabel: "||F(x)|| / ||shortcut(x)||", yFormat: (v) => v.toFixed(1),
    ref: { value: 1, label: "F(x) as large as x" } }));
  const small = r.blocks.filter((b) => b.ratio < 1).length;
  const sorted = r.blocks.map((b) => b.ratio).sort((a, b) => a - b);
  const median = sorted[Math.floor(sorted.length / 2)];
  $("#why-ratios-text").replaceChildren(el("p", { text: `In ${small} of ${r.blocks.length} blocks F(x) is smaller than what the ` +
      `shortcut passes on; the median ratio is ${median.toFixed(2)}, from ${sorted[0].toFixed(2)} to ${sorted[sorted.length - 1].toFixed(2)}. ` +
      (median < 0.5 ? "The blocks learned small corrections to their input, as the lecture argues." :
        "So in this shallow network the blocks are not small corrections: each changes its input by about as much as the input itself. " +
        "What the shortcut guarantees is that the input still reaches the next block, whatever F learned.") }),
    el("p", { class: "muted", text: `Weights: ${r.weights}; ${r.images} test images; light bars: the blocks where the shape changes (option A).` }));
}

function renderRemovals(d) {
  const res = d.resnet;
  const bars = res.blocks.map((b) => ({ label: b.block, value: b.accuracy, color: b.shortcut === "identity" ? "#2166ac" : "#92c5de" }));
  $("#why-removals").replaceChildren(barChart({ bars, width: 760, yLabel: "test accuracy", yMax: 1, yFormat: (v) => `${Math.round(100 * v)}%`,
    ref: { value: res.accuracy, label: `whole network: ${fmtPct(res.accuracy)}` } }));
  const kept = res.blocks.filter((b) => b.accuracy >= res.accuracy - 0.1);
  const worst = res.blocks.reduce((a, b) => (b.accuracy < a.accuracy ? b : a));
  $("#why-removals-text").replaceChildren(
    el("p", { text: `Without any one block, ResNet-20 keeps within 10 points of its ${fmtPct(res.accuracy)} for ${kept.length} of its ` +
      `${res.blocks.length} blocks; the worst removal (${worst.block}) leaves ${fmtPct(worst.accuracy)}. The network still runs ` +
      "without a block because the shortcut carries the input on; in a plain network removing a block cuts the only path." }),
    el("p", { class: "note", "data-testid": "plain-note", text: d.plain ? `${d.plain.model}: whole ${fmtPct(d.plain.accuracy)}, ` +
      `the best removal ${fmtPct(Math.max(...d.plain.blocks.map((b) => b.accuracy)))}.` : `Plain network: ${d.plain_note}.` }),
    el("p", { class: "muted", text: `Weights: ${res.weights}; ${d.images} test images.` }));
}

async function initWhy() {
  await Promise.all([
    api("/api/why/gradients").then(renderGradients).catch((e) => panelError("#why-gradients", e)),
    api("/api/why/ratios").then(renderRatios).catch((e) => panelError("#why-ratios", e)),
    api("/api/why/removals").then(renderRemovals).catch((e) => panelError("#why-removals", e)),
  ]);
}

// ---------------------------------------------------------------- view: the lecture, step by step
// Each step: the lecture's claims, and a function that reads the evidence from the API. Every
// evidence line is computed from the answer, never typed in.
const walkCache = {};
const cachedApi = (path) => (walkCache[path] ||= api(path));

function convKernel(rows, i, inChans) {  // k from a convolution's parameters: k*k*Cin*Cout + Cout
  const r = rows[i], prev = rows.slice(0, i).reverse().find((p) => p.output_shape.length === 3);
  const cin = prev ? prev.output_shape[0] : inChans, cout = r.output_shape[0];
  return Math.round(Math.sqrt((r.params - cout) / (cin * cout)));
}

function shapeWalk(page) {
  return page.shapes.map((p) => `${p.height}x${p.width}x${p.channels}`).join(" → ");
}

const WALK = [
  { id: "lenet5", title: "LeNet-5 (LeCun et al. 1998)",
    claims: ["A grayscale input, 32 x 32.", "Convolution and pooling alternate; the pooling is an average (subsampling) in 1998.",
      "Fully connected layers at the end.", "About 60,000 parameters.", "Height and width shrink while the channels grow."],
    async evidence() {
      const p = await cachedApi("/api/models/lenet5"), s = p.summary;
      const seq = s.rows.filter((r) => /Conv|Subsampling|Pool|Linear|RBF/.test(r.type)).map((r) => r.type);
      return [`input ${fmtShape(s.input_size)}: ${s.input_size[0]} channel`,
        `layer types in order: ${seq.join(", ")}`,
        `parameters: ${fmtInt(s.totals.params)}; against the paper: ${s.checks.filter((c) => c.ok !== null && c.ok !== undefined)
          .map((c) => `${c.ok ? "\u2713" : "\u2717"} ${c.message}`).join("; ") || "no published figure"}`,
        `shapes (height x width x channels): ${shapeWalk(p)}`];
    } },
  { id: "alexnet", title: "AlexNet (Krizhevsky et al. 2012)",
    claims: ["A colour input, 227 x 227 x 3.", "Max pooling.", "ReLU activations.", "About 60 million parameters."],
    async evidence() {
      const p = await cachedApi("/api/models/alexnet"), s = p.summary;
      const count = (re) => s.rows.filter((r) => re.test(r.type)).length;
      return [`input ${fmtShape(s.input_size)}: ${s.input_size[0]} channels`,
        `${count(/MaxPool/)} max-pooling layers, ${count(/ReLU/)} ReLUs, ${count(/Conv/)} convolutions, ${count(/Linear/)} fully connected layers`,
        `parameters: ${fmtInt(s.totals.params)} (${fmtSI(s.totals.params)})`];
    } },
  { id: "vgg16", title: "VGG-16 (Simonyan & Zisserman 2014)",
    claims: ["Only 3 x 3 convolutions, stride 1, same padding, and 2 x 2 max pooling.", "[CONV 64] x 2, then pool, [CONV 128] x 2, ...",
      "Height and width halve while the channels double.", "138 million parameters: most in the three fully connected layers, while the convolutions do most of the compute."],
    async evidence() {
      const p = await cachedApi("/api/models/vgg16"), s = p.summary, rows = s.rows;
      const convs = rows.map((r, i) => [r, i]).filter(([r]) => r.type === "Conv2d");
      const kernels = [...new Set(convs.map(([, i]) => convKernel(rows, i, s.input_size[0])))];
      const same = convs.every(([r, i]) => { const prev = rows.slice(0, i).reverse().find((q) => q.output_shape.length === 3);
        return !prev || (prev.output_shape[1] === r.output_shape[1] && prev.output_shape[2] === r.output_shape[2]); });
      const blocks = []; let run = null;
      for (const r of rows) {
        if (r.type === "Conv2d") { if (run && run.c === r.output_shape[0]) run.n += 1; else blocks.push(run = { c: r.output_shape[0], n: 1 }); }
        else if (r.type === "MaxPool2d") run = null;
      }
      const fc = rows.filter((r) => /Linear/.test(r.type)).reduce((a, r) => a + r.params, 0);
      const fcMacs = rows.filter((r) => /Linear/.test(r.type)).reduce((a, r) => a + r.macs, 0);
      return [`kernel sizes of the ${convs.length} convolutions: ${kernels.join(", ")}; each keeps its input's height and width: ${same ? "yes" : "no"}`,
        `the stacks: ${blocks.map((b) => `[CONV ${b.c}] x ${b.n}`).join(", pool, ")}, pool`,
        `shapes: ${shapeWalk(p)}`,
        `parameters: ${fmtInt(s.totals.params)}; the fully connected layers hold ${fmtPct(fc / s.totals.params)} of them and do ${fmtPct(fcMacs / s.totals.macs, 2)} of the MACs`];
    } },
  { id: "block", title: "The residual block (He et al. 2015)",
    claims: ["a[l+2] = g(z[l+2] + a[l]): the input skips two layers and is added before the last ReLU.",
      "With W[l+2] = 0 and b[l+2] = 0 a residual block returns a[l]: adding it cannot hurt; a plain block returns g(0) = 0.",
      "Where the shapes differ, W_s (or option A's zero padding) makes a[l] fit."],
    async evidence() {
      const post = (body) => api("/api/block", { method: "POST", body: JSON.stringify(body), headers: { "Content-Type": "application/json" } });
      const [res, plain, shaped] = await Promise.all([post({ shortcut: "identity", zero_last: true, changes_shape: false }),
        post({ shortcut: "none", zero_last: true, changes_shape: false }), post({ shortcut: "B", zero_last: false, changes_shape: true })]);
      return [`residual block, W = b = 0: max |a[l+2] - a[l]| = ${fmtNum(res.max_diff_from_input)}`,
        `plain block, W = b = 0: ${plain.returns}`,
        `16 → 32 channels at stride 2, option B: ${shaped.needs_ws ? `W_s is needed (${shaped.ws})` : "no W_s"}`];
    }, more: "#block" },
  { id: "degradation", title: "Plain against residual as depth grows",
    claims: ["A deeper plain network trains worse: its training error rises with depth.", "A deeper ResNet does not."],
    async evidence() {
      const pub = await cachedApi("/api/published");
      const names = Object.keys(pub);
      if (!names.length) return ["no published results in this copy (a source checkout has docs/data/)"];
      const name = names.includes("degradation-sweep") ? "degradation-sweep" : names.includes("degradation-quick") ? "degradation-quick" : names[0];
      const r = pub[name];
      return [`${name}, ${r.dataset}, ${fmtInt(r.iterations)} iterations: ` + Object.entries(r.final)
        .map(([n, f]) => `${n} ${fmtPct(f.train_error)}`).join(", ") + " final training error",
        ...(r.trend ? r.trend.sentences : r.verdict.sentences)];
    }, more: "#degradation" },
  { id: "why", title: "Why it works",
    claims: ["The shortcut gives the gradient a direct path back through every block.", "Each block only adds something to its input."],
    async evidence() {
      const g = await cachedApi("/api/why/gradients");
      const spread = (rows) => { const v = rows.slice(0, -1).map((r) => r.norm); return Math.max(...v) / Math.min(...v); };
      return Object.entries(g.models).map(([n, rows]) => `${n}: the gradient's size across its convolutions spans a factor of ${fmtNum(spread(rows))} at initialisation`);
    }, more: "#why" },
];

function walkIndex(id) { const i = WALK.findIndex((w) => w.id === id); return i < 0 ? 0 : i; }

async function showWalk(id) {
  const i = walkIndex(id), step = WALK[i];
  $("#walk-steps").replaceChildren(...WALK.map((w, j) => el("a", { href: `#walk/${w.id}`, class: j === i ? "active" : "",
    "aria-current": j === i ? "step" : "false", text: `${j + 1}. ${w.title.split(" (")[0]}` })));
  $("#walk-prev").href = `#walk/${WALK[Math.max(0, i - 1)].id}`;
  $("#walk-next").href = `#walk/${WALK[Math.min(WALK.length - 1, i + 1)].id}`;
  $("#walk-prev").hidden = i === 0;
  $("#walk-next").hidden = i === WALK.length - 1;
  const box = $("#walk-step");
  box.dataset.step = step.id;
  box.replaceChildren(el("h2", { text: `${i + 1}. ${step.title}` }),
    el("div", { class: "columns two" },
      el("div", {}, el("h3", { text: "The lecture says" }), el("ul", {}, step.claims.map((c) => el("li", { text: c })))),
      el("div", {}, el("h3", { text: "The real model shows" }), el("ul", { "data-testid": "walk-evidence", class: "evidence" },
        el("li", { class: "muted", text: "measuring..." })))),
    ...(step.more ? [el("p", {}, el("a", { href: step.more, text: "explore it on its own page →" }))] : []));
  let lines;
  try { lines = await step.evidence(); } catch (e) { lines = null; panelError("#walk-step [data-testid=walk-evidence]", e); }
  if (lines && box.dataset.step === step.id) {
    $("#walk-step [data-testid=walk-evidence]").replaceChildren(...lines.map((t) => el("li", { text: t })));
    box.dataset.ready = step.id;
  }
}

function initWalk() {
  document.addEventListener("keydown", (e) => {
    if (!location.hash.startsWith("#walk") || e.altKey || e.ctrlKey || e.metaKey) return;
    if (/INPUT|SELECT|TEXTAREA/.test(document.activeElement?.tagName || "")) return;
    const i = walkIndex(location.hash.split("/")[1]);
    if (e.key === "ArrowRight" && i < WALK.length - 1) location.hash = `#walk/${WALK[i + 1].id}`;
    else if (e.key === "ArrowLeft" && i > 0) location.hash = `#walk/${WALK[i - 1].id}`;
  });
}

// ---------------------------------------------------------------- routing
const VIEWS = { walk: initWalk, models: initModels, draw: initDraw, block: initBlock, degradation: initDegradation, why: initWhy };
const started = new Set();

async function route() {
  const [name, step] = (location.hash || "#models").slice(1).split("/");
  const view = VIEWS[name] ? name : "models";
  for (const section of document.querySelectorAll("section.view")) section.hidden = section.id !== view;
  for (const a of document.querySelectorAll("nav a")) a.classList.toggle("active", a.dataset.view === view);
  if (view !== "degradation") clearInterval(degr.timer);
  if (!started.has(view)) {
    started.add(view);
    try { await VIEWS[view](); } catch (e) { showError(e); }
  } else if (view === "degradation" && $("#result-picker").value) {
    showResult().catch(showError);
  }
  if (view === "walk") await showWalk(step);
  document.body.dataset.ready = view;
}

window.addEventListener("hashchange", route);
route();
