// classicnets explorer: plain JavaScript and SVG over the JSON API of classicnets/serve/app.py.
// The charts (SVG), each with its numbers in words for screen readers.

import { el, fmtNum, svg } from "./dom.js";

function niceTicks(lo, hi, count = 5) {
  if (hi <= lo) hi = lo + 1;
  const raw = (hi - lo) / count;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * mag).find((s) => s >= raw);
  const ticks = [];
  for (let t = Math.ceil(lo / step) * step; t <= hi + 1e-9; t += step) ticks.push(+t.toPrecision(12));
  return ticks;
}

// Every chart carries its numbers in words for screen readers (alt, or a summary of its series).
function chartRoot(width, height, alt) {
  return svg("svg", { viewBox: `0 0 ${width} ${height}`, class: "chart", role: "img", "aria-label": alt, style: `--w: ${width}px` },
    svg("title", {}, alt));
}

// The chart's values, reachable by keyboard and read by screen readers: a table that a button
// (<details>) opens under the chart. rows: [[cell, ...]]
function withNumbers(root, header, rows) {
  const table = el("table", { class: "chart-values" },
    el("thead", {}, el("tr", {}, header.map((h) => el("th", { scope: "col", text: h })))),
    el("tbody", {}, rows.map((r) => el("tr", {}, r.map((c) => el("td", { text: String(c) }))))));
  return el("div", { class: "chart-wrap" }, root,
    el("details", { class: "chart-numbers", "data-testid": "chart-numbers" }, el("summary", { text: "The numbers" }), el("div", { class: "table-box" }, table)));
}

// A box that may scroll sideways (a chart or a table at phone width) takes keyboard focus, so that
// the keyboard can scroll it too.
const SCROLLERS = ".chart-box, .table-box, .walk-figure, #compare-table, #why-gradients, #why-ratios, #why-removals, #depth-chart, #curve-chart";

new MutationObserver(() => {
  for (const box of document.querySelectorAll(SCROLLERS)) if (!box.hasAttribute("tabindex")) box.tabIndex = 0;
}).observe(document.body, { childList: true, subtree: true });

// series: [{name, color, points: [[x, y]], width, dash, marker}]
export function lineChart({ series, width = 520, height = 300, xLabel = "", yLabel = "", log2 = false,
                     yFormat = (v) => v, xFormat = (v) => v, yMin = null, yMax = null, xMin = null, xMax = null, legend = true, alt = null }) {
  const m = { left: 58, right: legend ? 118 : 12, top: 12, bottom: 42 };
  const all = series.flatMap((s) => s.points);
  const summary = series.filter((s) => s.points.length).map((s) => { const a = s.points[0], b = s.points[s.points.length - 1];
    return `${s.name} from ${fmtNum(a[1])} at ${fmtNum(a[0])} to ${fmtNum(b[1])} at ${fmtNum(b[0])}`; }).join("; ");
  const root = chartRoot(width, height, alt || `${yLabel} against ${xLabel}: ${summary || "no data yet"}.`);
  if (!all.length) {
    root.append(svg("text", { x: width / 2, y: height / 2, "text-anchor": "middle", class: "muted" }, "no data yet"));
    return root;
  }
  const numbers = (chart) => withNumbers(chart, ["series", xLabel, yLabel],
    series.flatMap((s) => s.points.map((p) => [s.name, ...p.slice(0, 2).map((v) => (typeof v === "number" ? fmtNum(v) : "-"))])));
  const tx = (v) => (log2 ? Math.log2(v) : v);
  const xs = all.map((p) => p[0]), ys = all.map((p) => tx(p[1]));
  let x0 = xMin !== null ? xMin : Math.min(...xs), x1 = xMax !== null ? Math.max(xMax, ...xs) : Math.max(...xs);
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
  return numbers(root);
}

// bars: [{label, value, color}]; one bar per label, an optional dashed reference line;
// labels: true (under every bar), false, or (bar, i) => whether this bar is labelled
export function barChart({ bars, width = 520, height = 260, yLabel = "", yFormat = (v) => v, yMax = null, ref = null, labels = true, alt = null }) {
  const m = { left: 58, right: 12, top: 14, bottom: 54 };
  const root = chartRoot(width, height, alt || `${yLabel}: ${bars.map((b) => `${b.label} ${yFormat(b.value)}`).join(", ")}.`);
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
    if (labels === true || (labels && labels(b, i))) root.append(svg("text", { x: x + step * 0.35, y: m.top + H + 14, "text-anchor": "end", class: "tick",
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
  return withNumbers(root, ["bar", yLabel], bars.map((b) => [b.label, yFormat(b.value)]));
}

export const PALETTE = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#17becf", "#7f7f7f"];
