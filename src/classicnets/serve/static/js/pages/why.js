// Why it works: the gradients at initialisation, ||F(x)|| / ||shortcut(x)||, and removing a block.

import { barChart, lineChart } from "../charts.js";
import { $, api, el, fmtInt, fmtNum, fmtPct, inPanel } from "../dom.js";

export const WHY_COLORS = { plain20: "#f4a582", plain56: "#b2182b", resnet20: "#92c5de", resnet56: "#2166ac" };

// The sentences come with the numbers from the API (classicnets.experiments.why): written from them.
function renderGradients(g) {
  const names = Object.keys(g.models);
  const series = names.map((n) => ({ name: n.replace("plain", "plain-").replace("resnet", "ResNet-"), color: WHY_COLORS[n] || "#777",
    dash: n.startsWith("plain") ? "5 3" : "none", width: n.endsWith("56") ? 2.6 : 1.6,
    points: g.models[n].slice(0, -1).map((r, i) => [i + 1, r.norm]) }));  // the convolutions; the classifier apart
  $("#why-gradients").replaceChildren(lineChart({ series, xLabel: "convolution (1 = the first)",
    yLabel: "||dL/dW||", log2: true, yFormat: (v) => (v >= 10 ? fmtInt(v) : v >= 0.1 ? v.toFixed(2) : v.toExponential(0)),
    alt: `Gradient size at each convolution at initialisation, log scale: ${names.map((n) => { const c = g.models[n].slice(0, -1);
      return `${n} from ${fmtNum(c[0].norm)} at the first to ${fmtNum(c[c.length - 1].norm)} at the last`; }).join("; ")}.` }));
  const fc = names.map((n) => `${n} ${fmtNum(g.models[n][g.models[n].length - 1].norm)}`).join(", ");
  $("#why-gradients-text").replaceChildren(...g.sentences.map((t) => el("p", { text: t })),
    el("p", { class: "muted", text: `${g.images} test images, seed ${g.seed}, one forward and backward pass in training mode. ` +
      `The classifier (fc) is left out of the chart, on another scale: ${fc}.` }));
}

// Under a short chart every bar is labelled; under a deep network's, each stage's block 0, 3, 6, ...
const everyThird = (bars) => (bars.length <= 12 ? true : (b) => Number(b.label.split(".").pop()) % 3 === 0);
const trimmed = (v) => String(+v.toFixed(2));  // 0.25, 0.5, 1

function renderRatios(r) {
  const bars = r.blocks.map((b) => ({ label: b.block, value: b.ratio, color: b.shortcut === "identity" ? "#2166ac" : "#92c5de" }));
  $("#why-ratios").replaceChildren(barChart({ bars, yLabel: "||F(x)|| / ||shortcut(x)||", yFormat: trimmed,
    ref: { value: 1, label: "F(x) as large as x" }, labels: everyThird(bars),
    alt: `||F(x)|| / ||shortcut(x)|| of each block of ${r.model}: ${r.blocks.map((b) => `${b.block} ${b.ratio.toFixed(2)}`).join(", ")}.` }));
  $("#why-ratios-text").replaceChildren(...r.sentences.map((t) => el("p", { text: t })),
    el("p", { class: "muted", text: `Weights: ${r.weights}; ${r.images} test images; light bars: the blocks where the shape changes (option A).` }));
}

// One chart per trained network (the deepest shipped ResNet, and the deepest plain network once one ships):
// each bar the accuracy with that block passed around (the identity, or option A where the shape changes).
function removalChart(d, net) {
  const [main, light] = net.model.startsWith("plain") ? ["#b2182b", "#f4a582"] : ["#2166ac", "#92c5de"];
  const bars = net.blocks.map((b) => ({ label: b.block, value: b.accuracy, color: b.shortcut === "identity" ? main : light }));
  return barChart({ bars, width: 760, yLabel: `accuracy of ${net.model}`, yMax: 1, yFormat: (v) => `${Math.round(100 * v)}%`,
    ref: { value: net.accuracy, label: `whole ${net.model}: ${fmtPct(net.accuracy)} of ${d.images} test images` }, labels: everyThird(bars),
    alt: `Accuracy of ${net.model} on ${d.images} test images with each block removed: ${net.blocks.map((b) => `${b.block} ${fmtPct(b.accuracy)}`).join(", ")}; whole network ${fmtPct(net.accuracy)}.` });
}

function renderRemovals(d) {
  const nets = [d.resnet, d.plain].filter(Boolean);
  $("#why-removals").replaceChildren(...nets.map((net) => removalChart(d, net)));
  $("#why-removals-text").replaceChildren(...d.sentences.map((t, i) => el("p", i && !d.plain ? { class: "note", "data-testid": "plain-note", text: t } : { text: t })),
    el("p", { class: "muted", text: `Weights: ${nets.map((n) => n.weights).join("; ")}; ${d.images} test images; light bars: the blocks where the shape changes (option A's subsample-and-pad carries the signal around).` }));
}

export async function initWhy() {
  const panel = (id, what, render) => {
    $(id).replaceChildren(el("p", { class: "muted computing", text: `computing ${what}...` }));
    return inPanel(id, async () => render(await api(`/api/why/${id.split("-")[1]}`)));
  };
  await Promise.all([
    panel("#why-gradients", "the gradients of four networks at initialisation (about 10 s the first time)", renderGradients),
    panel("#why-ratios", "||F(x)|| / ||shortcut(x)|| for each block", renderRatios),
    panel("#why-removals", "the accuracy with each block removed", renderRemovals),
  ]);
}
