// Deeper is not better: the published results and the --runs folders, live while they train.

import { lineChart, PALETTE } from "../charts.js";
import { $, api, el, fmtInt, fmtPct, panelError } from "../dom.js";
import { startLive } from "./degradation/live.js";

export const degr = { published: {}, runs: [], timer: null, mtime: null };

export async function initDegradation() {
  startLive();  // on its own: the results below do not wait for it
  const [published, runs] = await Promise.all([api("/api/published"), api("/api/runs")]);  // the router retries
  degr.published = published;
  degr.runs = runs.runs;
  const picker = $("#result-picker");
  const order = (k) => (k.startsWith("full-length") ? -1 : k.includes("sweep") ? 0 : k === "degradation-quick" ? 1 : 2);
  const keys = Object.keys(published).sort((a, b) => order(a) - order(b) || a.localeCompare(b));
  const label = (k, r) => (r.networks ? `${k}: each network to the end of ${r.recipe} (${r.epochs} epochs), seed 0, ${r.dataset}` :
    `${k}: ${r.budget} budget, ${fmtInt(r.iterations)} of the paper's 64,000 iterations, ${(r.seeds || [r.seed]).length > 1 ? `seeds ${r.seeds.join(", ")}` : `seed ${r.seed}`}, ${r.data || "the JPEG copy of CIFAR-10"}`);
  const pub = el("optgroup", { label: "published (docs/data)" },
    keys.map((k) => el("option", { value: `pub:${k}`, text: label(k, published[k]) })));
  const mine = el("optgroup", { label: `--runs folders (${runs.roots.join(", ") || "none given"})` },
    runs.runs.map((r) => el("option", { value: `run:${r.id}`, text: `${r.kind === "run" ? "run" : "experiment"}: ${r.name}` })));
  picker.replaceChildren(...[pub, mine].filter((g) => g.children.length));
  $("#runs-note").textContent = runs.roots.length ? "" : "Start the explorer with --runs DIR to see your own run or experiment folders here; their curves refresh while they train.";
  if (!picker.dataset.bound) { picker.addEventListener("change", showResult); picker.dataset.bound = "yes"; }
  if (picker.options.length) await showResult();
  else $("#curve-chart").replaceChildren(el("p", { class: "muted", text: "No published results (this is not a source checkout) and no --runs folders." }));
}

function depthOf(name) { return +name.replace(/^\D+/, ""); }

function renderExperiment(curves, final, verdict, trend) {
  $("#curve-caption").textContent = "Training error against iterations (thin: plain, thick: ResNet; the first seed)";
  $("#depth-caption").textContent = "Final training error against depth (the mean over the seeds)";
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
  for (const n of names) finals[n] = final && final[n] ? final[n].train_error : null;  // the API computes them
  const family = (f, c, w) => ({ name: f === "plain" ? "plain" : "ResNet", color: c, width: w, marker: true,
    points: names.filter((n) => n.startsWith(f) && finals[n] !== null).map((n) => [depthOf(n), 100 * finals[n]]) });
  $("#depth-chart").replaceChildren(lineChart({ series: [family("plain", "#d62728", 2), family("resnet", "#1f77b4", 3)],
    xLabel: "layers", yLabel: "training error (%)", height: 300, width: 420, xFormat: (v) => (Number.isInteger(v) ? v : "") }));
  const said = verdict ? [...(trend ? trend.sentences : []), ...verdict.sentences] : [];  // step by step, then end to end
  $("#verdict-text").replaceChildren(...(said.length ? said.map((s) => el("p", { text: s })) : [el("p", { class: "muted", text: "Verdict: when the experiment has finished." })]));
}

// the lecture's figure at full length (classicnets experiment full-length): against epochs, and
// the final training error against depth measured two ways
function renderFullLength(r) {
  const names = Object.keys(r.networks);
  const color = (n) => ({ plain20: "#f4a582", plain56: "#b2182b", resnet20: "#92c5de", resnet56: "#2166ac" }[n] || "#777");
  const pretty = (n) => `${n.startsWith("plain") ? "plain" : "ResNet"}-${depthOf(n)}`;
  const series = names.flatMap((n) => {
    const net = r.networks[n];
    return [{ name: `${pretty(n)} train`, color: color(n), width: 1.2, dash: "4 3", points: net.epochs.map((e, i) => [e, 100 * net.train_error[i]]) },
      { name: `${pretty(n)} test`, color: color(n), width: 2.6,
        points: net.epochs.map((e, i) => [e, net.test_error[i]]).filter((p) => p[1] !== null).map(([e, t]) => [e, 100 * t]) }];
  });
  $("#curve-caption").textContent = `Error against epochs, each network to the end of ${r.recipe} (dashed: training, on augmented batches; solid: test)`;
  $("#depth-caption").textContent = "Final training error against depth (solid: one clean pass over the training images; dashed: the last epoch's running figure)";
  $("#curve-chart").replaceChildren(lineChart({ series, xLabel: "epochs", yLabel: "error (%)", yMin: 0 }));
  const family = (f, key, label, colour, dash) => ({ name: `${f === "plain" ? "plain" : "ResNet"}, ${label}`, color: colour, dash,
    width: 2.4, marker: true, points: names.filter((n) => n.startsWith(f)).map((n) => [depthOf(n), 100 * r.networks[n][key]]) });
  $("#depth-chart").replaceChildren(lineChart({ xLabel: "layers", yLabel: "final training error (%)", height: 300, width: 420,
    xFormat: (v) => (Number.isInteger(v) ? v : ""), series: [
      family("plain", "clean_train_error", "clean pass", "#d62728", "none"), family("plain", "last_epoch_train_error", "last epoch", "#d62728", "3 3"),
      family("resnet", "clean_train_error", "clean pass", "#1f77b4", "none"), family("resnet", "last_epoch_train_error", "last epoch", "#1f77b4", "3 3")] }));
  $("#verdict-text").replaceChildren(el("p", { class: "headline", text: r.claim }), ...r.sentences.map((t) => el("p", { text: t })));
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

export async function showResult() {
  clearInterval(degr.timer);
  degr.mtime = null;
  $("#live").hidden = true;
  const value = $("#result-picker").value;
  if (value.startsWith("pub:")) {
    const r = degr.published[value.slice(4)];
    if (r.networks) renderFullLength(r); else renderExperiment(r.curves, r.final, r.verdict, r.trend);
    return;
  }
  const id = value.slice(4);
  const refresh = async () => {
    const data = await api(`/api/runs/curves?id=${encodeURIComponent(id)}`);
    if (data.mtime === degr.mtime) return;
    degr.mtime = data.mtime;
    $("#live").hidden = Date.now() / 1000 - data.mtime > 30; // written in the last 30 s: still training
    if (data.kind === "run") renderRun(data.records, id);
    else if (data.results && data.results.networks) renderFullLength(data.results);
    else if (data.results) renderExperiment(data.results.curves, data.results.final, data.results.verdict, data.results.trend);
    else {
      const curves = {};
      for (const [n, recs] of Object.entries(data.runs)) curves[n] = { steps: recs.map((r) => r.step), train_error: recs.map((r) => r.train_error) };
      renderExperiment(curves, data.finals, null);  // a running experiment: the finals so far, from the API
    }
  };
  await refresh();
  degr.timer = setInterval(() => refresh().catch((e) => panelError("#verdict-text", e)), 2000);
}
