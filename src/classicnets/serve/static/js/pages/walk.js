// The lecture, step by step: its claims (lecture.json) beside what the real models measure.

import { lineChart } from "../charts.js";
import { $, api, el, enlargeable, fmtInt, fmtNum, fmtPct, fmtShape, fmtSI, inPanel } from "../dom.js";
import { blockTerms } from "./block.js";
import { whereChart } from "./models.js";
import { WHY_COLORS } from "./why.js";

const walkCache = {};

const cachedApi = (path) => (walkCache[path] ||= api(path).catch((e) => { delete walkCache[path]; throw e; }));  // never a failure

function convKernel(rows, i, inChans) {  // k from a convolution's parameters: k*k*Cin*Cout + Cout
  const r = rows[i], prev = rows.slice(0, i).reverse().find((p) => p.output_shape.length === 3);
  const cin = prev ? prev.output_shape[0] : inChans, cout = r.output_shape[0];
  return Math.round(Math.sqrt((r.params - cout) / (cin * cout)));
}

function shapeWalk(page) {
  return page.shapes.map((p) => `${p.height}x${p.width}x${p.channels}`).join(" → ");
}

// the published result the walk reads: the sweep if there is one
function walkResult(pub) {
  const names = Object.keys(pub).filter((k) => !pub[k].networks);  // the budget sweeps (full length: its own figure)
  const name = names.includes("degradation-sweep") ? "degradation-sweep" : names.includes("degradation-quick") ? "degradation-quick" : names[0];
  return name ? pub[name] : null;
}

const diagramOf = (name) => async () => el("img", { class: "diagram", src: `/api/models/${name}/diagram.svg`,
  alt: `diagram of ${name}: its layers as boxes sized by their feature maps` });

// What the real model shows at each step: evidence lines and a figure, each computed from the API's
// answer, never typed in.
const MEASURES = {
  lenet5: {
    async evidence() {
      const p = await cachedApi("/api/models/lenet5"), s = p.summary;
      const seq = s.rows.filter((r) => /Conv|Subsampling|Pool|Linear|RBF/.test(r.type)).map((r) => r.type);
      return [`input ${fmtShape(s.input_size)}: ${s.input_size[0]} channel`,
        `layer types in order: ${seq.join(", ")}`,
        `parameters: ${fmtInt(s.totals.params)}; against the paper: ${s.checks.filter((c) => c.ok !== null && c.ok !== undefined)
          .map((c) => `${c.ok ? "\u2713" : "\u2717"} ${c.message}`).join("; ") || "no published figure"}`,
        `shapes (height x width x channels): ${shapeWalk(p)}`];
    }, figure: diagramOf("lenet5") },
  alexnet: {
    async evidence() {
      const p = await cachedApi("/api/models/alexnet"), s = p.summary;
      const count = (re) => s.rows.filter((r) => re.test(r.type)).length;
      return [`input ${fmtShape(s.input_size)}: ${s.input_size[0]} channels`,
        `${count(/MaxPool/)} max-pooling layers, ${count(/ReLU/)} ReLUs, ${count(/Conv/)} convolutions, ${count(/Linear/)} fully connected layers`,
        `parameters: ${fmtInt(s.totals.params)} (${fmtSI(s.totals.params)})`, `shapes: ${shapeWalk(p)}`];
    }, figure: diagramOf("alexnet") },
  vgg16: {
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
    },
    async figure() {
      const p = await cachedApi("/api/models/vgg16");
      return el("div", { class: "walk-pair" }, await diagramOf("vgg16")(), whereChart(p.summary));
    } },
  block: {
    async evidence() {
      const post = (body) => api("/api/block", { method: "POST", body: JSON.stringify(body), headers: { "Content-Type": "application/json" } });
      const [res, plain, shaped] = await Promise.all([post({ shortcut: "identity", zero_last: true, changes_shape: false }),
        post({ shortcut: "none", zero_last: true, changes_shape: false }), post({ shortcut: "B", zero_last: false, changes_shape: true })]);
      return [`residual block, W = b = 0: max |a[l+2] - a[l]| = ${fmtNum(res.max_diff_from_input)}`,
        `plain block, W = b = 0: ${plain.returns}`,
        `16 → 32 channels at stride 2, option B: ${shaped.needs_ws ? `W_s is needed (${shaped.ws})` : "no W_s"}`];
    },
    async figure() {
      const b = await api("/api/block", { method: "POST", body: JSON.stringify({ shortcut: "identity", zero_last: true, changes_shape: false }),
        headers: { "Content-Type": "application/json" } });
      return el("div", { class: "terms", role: "img", "aria-label": `The residual block with W[l+2] = 0 and b[l+2] = 0: a[l+2] equals a[l] ` +
        `(max difference ${fmtNum(b.max_diff_from_input)}).` }, ...blockTerms(b));
    } },
  degradation: {
    async evidence() {
      const [pub, list] = await Promise.all([cachedApi("/api/published"), cachedApi("/api/models")]);
      const r = walkResult(pub);
      if (!r) return ["no published results in this copy (a source checkout has docs/data/)"];
      const lines = [`${fmtInt(r.iterations)} of the paper's 64,000 iterations per network (${Math.round(100 * r.iterations / 64000)}%), ` +
        `${(r.seeds || [r.seed]).length} seed(s), ${r.dataset}.`];
      for (const t of r.trend ? r.trend.families : []) {
        const name = t.family === "plain" ? "Plain" : "ResNet";
        const path = t.errors.map((e) => `${(100 * e).toFixed(1)}%`).join(" → ");
        const words = t.steps.map((st) => st.word);
        const count = (w, one, many) => { const n = words.filter((x) => x === w).length; return `${n} ${n === 1 ? one : many}`; };
        const how = words.every((w) => w === "rises") ? "It rises at every step of depth" : words.every((w) => w === "falls")
          ? "It falls at every step of depth" : `Step by step: ${count("rises", "rise", "rises")}, ${count("falls", "fall", "falls")}, ` +
          `${count("tie", "tie", "ties")} (within the seed-to-seed spread)`;
        // the paper's claim, as the experiment's report judges it: plain rises at every step, ResNet falls at every step
        const paper = words.every((w) => w === (t.family === "plain" ? "rises" : "falls")) ? "as the paper finds" : "not yet as the paper finds";
        lines.push(`${name}, ${t.depths.join(", ")} layers: ${path} training error. ${how}: ${paper}.`);
      }
      const table6 = list.filter((m) => /^resnet\d+$/.test(m.name) && m.paper_error !== null && r.depths.includes(m.depth));
      if (table6.length) lines.push(`The paper (Table 6), after all 64,000 iterations, test error: ${table6.map((m) => `ResNet-${m.depth} ${m.paper_error}%`).join(", ")}.`);
      return lines;
    },
    async figure() {
      const r = walkResult(await cachedApi("/api/published"));
      if (!r || !r.trend) return null;
      const series = r.trend.families.map((t) => ({ name: t.family === "plain" ? "plain" : "ResNet", marker: true,
        color: t.family === "plain" ? "#d62728" : "#1f77b4", width: t.family === "plain" ? 2 : 3,
        points: t.depths.map((d, i) => [d, 100 * t.errors[i]]) }));
      return lineChart({ series, xLabel: "layers", yLabel: "final training error (%)", width: 520, height: 300,
        xFormat: (v) => (Number.isInteger(v) ? v : "") });
    } },
  why: {
    async evidence() {
      const [g, r] = await Promise.all([cachedApi("/api/why/gradients"), cachedApi("/api/why/ratios")]);
      return [...g.sentences.slice(-1), ...r.sentences];
    },
    async figure() {
      const g = await cachedApi("/api/why/gradients");
      return lineChart({ xLabel: "convolution (1 = the first)", yLabel: "||dL/dW|| at initialisation", log2: true,
        yFormat: (v) => (v >= 10 ? fmtInt(v) : v >= 0.1 ? v.toFixed(2) : v.toExponential(0)),
        series: Object.entries(g.models).map(([n, rows]) => ({ name: n.replace("plain", "plain-").replace("resnet", "ResNet-"),
          color: WHY_COLORS[n] || "#777", dash: n.startsWith("plain") ? "5 3" : "none", width: n.endsWith("56") ? 2.6 : 1.6,
          points: rows.slice(0, -1).map((row, i) => [i + 1, row.norm]) })) });
    } },
};

function walkIndex(id) { const i = WALK.findIndex((w) => w.id === id); return i < 0 ? 0 : i; }

export async function showWalk(id) {
  const i = walkIndex(id), step = WALK[i];
  $("#walk-note").textContent = id && WALK[i].id !== id ? `There is no step "${decodeURIComponent(id)}"; here is step 1. ` +
    `The steps: ${WALK.map((w) => w.id).join(", ")}.` : "";
  $("#walk-steps").replaceChildren(...WALK.map((w, j) => el("a", { href: `#walk/${w.id}`, class: j === i ? "active" : "",
    "aria-current": j === i ? "step" : "false", text: `${j + 1}. ${w.title.split(" (")[0]}` })));
  $("#walk-prev").href = `#walk/${WALK[Math.max(0, i - 1)].id}`;
  $("#walk-next").href = `#walk/${WALK[Math.min(WALK.length - 1, i + 1)].id}`;
  $("#walk-prev").hidden = i === 0;
  $("#walk-next").hidden = i === WALK.length - 1;
  const box = $("#walk-step");
  box.dataset.step = step.id;
  delete box.dataset.ready;
  box.replaceChildren(...[el("h2", { text: `${i + 1}. ${step.title}` }),
    el("div", { class: "columns two" },
      el("div", {}, el("h3", { text: "The lecture says" }), el("ul", {}, step.claims.map((c) => el("li", { text: c }))),
        step.figure ? el("div", { class: "walk-figure", "data-testid": "walk-figure" }, el("p", { class: "muted", text: "drawing..." })) : null),
      el("div", {}, el("h3", { text: "The real model shows" }), el("ul", { "data-testid": "walk-evidence", class: "evidence" },
        el("li", { class: "muted", text: "measuring..." })))),
    step.more ? el("p", {}, el("a", { href: step.more, text: "explore it on its own page →" })) : null].filter(Boolean));
  if (step.figure) {
    inPanel("#walk-step [data-testid=walk-figure]", step.figure).then((fig) => {
      if (fig && box.dataset.step === step.id) $("#walk-step [data-testid=walk-figure]").replaceChildren(enlargeable(fig, step.title));
    });
  }
  const lines = await inPanel("#walk-step [data-testid=walk-evidence]", () => step.evidence());
  if (lines && box.dataset.step === step.id) {
    $("#walk-step [data-testid=walk-evidence]").replaceChildren(...lines.map((t) => el("li", { text: t })));
    box.dataset.ready = step.id;
  }
}

// Presentation mode: one step per screen, large type, full screen where the browser allows it;
// P (or the button) turns it on and off, Escape leaves it.
function present(on) {
  document.body.classList.toggle("present", on);
  $("#present").setAttribute("aria-pressed", String(on));
  $("#present").textContent = on ? "Leave presentation mode" : "Present";
  if (on && document.documentElement.requestFullscreen) document.documentElement.requestFullscreen().catch(() => {});
  else if (!on && document.fullscreenElement) document.exitFullscreen().catch(() => {});
}

// The steps: the lecture's words from lecture.json (data), each with what its models measure (code above).
let WALK = [];

export async function initWalk() {
  const lecture = await api("/static/lecture.json");
  WALK = lecture.steps.map((step) => ({ ...step, ...MEASURES[step.id] }));
  $("#present").addEventListener("click", () => present(!document.body.classList.contains("present")));
  // the browser's own Escape leaves full screen without telling the page: leave presentation mode too
  document.addEventListener("fullscreenchange", () => {
    if (!document.fullscreenElement && document.body.classList.contains("present")) present(false);
  });
  document.addEventListener("keydown", (e) => {
    if (!location.hash.startsWith("#walk") || e.altKey || e.ctrlKey || e.metaKey) return;
    if (/INPUT|SELECT|TEXTAREA/.test(document.activeElement?.tagName || "") || $("#enlarged").open) return;
    const i = walkIndex(location.hash.split("/")[1]);
    if (e.key === "ArrowRight" && i < WALK.length - 1) location.hash = `#walk/${WALK[i + 1].id}`;
    else if (e.key === "ArrowLeft" && i > 0) location.hash = `#walk/${WALK[i - 1].id}`;
    else if (e.key === "p" || e.key === "P") present(!document.body.classList.contains("present"));
    else if (e.key === "Escape" && document.body.classList.contains("present")) present(false);
  });
}
