// Train it live (on the "Deeper is not better" page): pick two networks and a budget, see how long
// it takes on this machine, train them one after the other on the server, watch the curves come in.

import { lineChart } from "../../charts.js";
import { $, api, el, fmtInt, fmtPct, inPanel, panelError } from "../../dom.js";

const live = { info: null, jobs: [], timer: null, estimateSeq: 0, starting: null };
const POLL_MS = 1000;
const DATASETS = { cifar10: "the real CIFAR-10", mnist: "MNIST (CIFAR-10 is not on disk here)", digits: "scikit-learn's digits" };
const COLORS = { plain: ["#d62728", "#f4a582"], resnet: ["#1f77b4", "#92c5de"] };

const plural = (n, word) => `${n} ${word}${n === 1 ? "" : "s"}`;
const pretty = (n) => `${n.startsWith("plain") ? "plain" : "ResNet"}-${n.replace(/^\D+/, "")}`;

export function fmtDuration(s) {
  if (s < 60) return `${Math.max(1, Math.round(s))} s`;
  const m = Math.floor(s / 60), r = Math.round(s - 60 * m);
  return r ? `${m} min ${r} s` : `${m} min`;
}

function chosen() {
  const pick = (which) => {
    const kind = $(`#live-${which}-kind`).value;
    return kind ? `${kind}${$(`#live-${which}-depth`).value}` : null;
  };
  return [pick("a"), pick("b")].filter(Boolean);
}

function steps() { return Math.round(+$("#live-steps").value); }

// Once per page: retried while the server is away, in its own panel.
export function startLive() {
  live.starting ||= inPanel("#live-intro", initLive);
}

async function initLive() {
  const info = await api("/api/live");
  live.info = info;
  const depths = [...new Set(info.networks.map((n) => +n.replace(/^\D+/, "")))];
  for (const [which, depth, kind] of [["a", depths[0], "plain"], ["b", depths[depths.length - 1], "plain"]]) {
    $(`#live-${which}-depth`).replaceChildren(...depths.map((d) => el("option", { value: d, text: d })));
    $(`#live-${which}-depth`).value = depth;
    $(`#live-${which}-kind`).value = kind;
  }
  const input = $("#live-steps");
  Object.assign(input, { min: info.min_steps, max: info.max_steps, step: 10, value: info.default_steps });
  const f = info.budget_finding;
  const found = f && f.first_visible ? ` Measured here: ${f.sentence} (${f.seeds.length} seeds, ${f.cpu}; classicnets experiment live-budget.)` : "";
  $("#live-intro").textContent = info.unavailable || `The server trains each network on ${DATASETS[info.dataset] || info.dataset} with the paper's recipe ` +
    `(rate 0.1, batch 128), for a budget of ${fmtInt(info.min_steps)} to ${fmtInt(info.max_steps)} iterations of the paper's 64,000, ` +
    `one job at a time on ${plural(info.threads, "core")} of this machine (the other pages stay usable).${found}`;
  for (const id of ["#live-start"]) $(id).disabled = !!info.unavailable;
  if (!$("#live-start").dataset.bound) {
    for (const id of ["#live-a-depth", "#live-a-kind", "#live-b-depth", "#live-b-kind", "#live-steps"]) $(id).addEventListener("change", estimate);
    $("#live-start").addEventListener("click", () => start().catch((e) => panelError("#live-jobs", e)));
    $("#live-cancel").addEventListener("click", () => cancel().catch((e) => panelError("#live-jobs", e)));
    $("#live-start").dataset.bound = "yes";
  }
  if (!info.unavailable) await estimate();
}

async function estimate() {
  const nets = chosen(), n = steps(), seq = ++live.estimateSeq;
  const box = $("#live-estimate");
  if (!(n >= live.info.min_steps && n <= live.info.max_steps)) {
    box.textContent = `Give ${fmtInt(live.info.min_steps)} to ${fmtInt(live.info.max_steps)} iterations.`;
    $("#live-start").disabled = true;
    return;
  }
  $("#live-start").disabled = false;
  box.textContent = "computing the time on this machine (timing a training step)...";
  // retried while the server is away; a 4xx says its line in this panel
  const times = await inPanel("#live-estimate", () => Promise.all(nets.map((net) => api(`/api/live/estimate?network=${net}&steps=${n}`))));
  if (!times || seq !== live.estimateSeq) return;  // failed (said), or a newer choice is being estimated
  const total = times.reduce((a, t) => a + t.seconds, 0);
  box.replaceChildren(el("span", { text: `About ${fmtDuration(total)} on this machine, one after the other: ` +
    times.map((t) => `${pretty(t.network)} ${fmtDuration(t.seconds)}`).join(", ") + "." }),
    el("span", { class: "note", text: ` (${times[0].cpu}, ${plural(times[0].threads, "thread")}; from ${times.map((t) => `${pretty(t.network)}: ${t.source}`).join("; ")})` }));
}

async function start() {
  const n = steps();
  live.jobs = [];
  for (const net of chosen()) live.jobs.push(await api("/api/live/jobs", { method: "POST", headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ network: net, steps: n }) }));
  $("#live-command").textContent = `The same run from a terminal: ${live.jobs[0].command}`;
  follow();
}

async function cancel() {
  const open = live.jobs.filter((j) => j.status === "queued" || j.status === "running");
  for (const j of open) Object.assign(j, await api(`/api/live/jobs/${j.id}/cancel`, { method: "POST" }));
  render();
}

function follow() {
  clearInterval(live.timer);
  render();
  const tick = async () => {
    try {
      live.jobs = await Promise.all(live.jobs.map((j) => api(`/api/live/jobs/${j.id}`)));
      render();
    } catch (e) {
      panelError("#live-jobs", e);  // the server away: keep polling, the jobs' state comes back with it
      if (e.status === 404) clearInterval(live.timer);
    }
    if (!live.jobs.some((j) => j.status === "queued" || j.status === "running")) clearInterval(live.timer);
  };
  live.timer = setInterval(tick, POLL_MS);
}

function jobLine(j) {
  const last = j.records.filter((r) => r.train_error !== null).slice(-1)[0];
  const name = pretty(j.network);
  if (j.status === "queued") return `${name}: waiting, ${plural(j.ahead, "job")} ahead; about ${fmtDuration(j.estimate.seconds)} once it starts`;
  if (j.status === "running") return `${name}: training, ${last ? `iteration ${fmtInt(last.step)} of ${fmtInt(j.steps)}, training error ${fmtPct(last.train_error)}` : "loading the data and the network"}, ${fmtDuration(j.elapsed_s)} of about ${fmtDuration(j.estimate.seconds)}`;
  if (j.status === "done") {
    const test = j.records.map((r) => r.test_error).filter((t) => t !== null).slice(-1)[0];
    return `${name}: done in ${fmtDuration(j.elapsed_s)} (estimated ${fmtDuration(j.estimate.seconds)}); last training error ${last ? fmtPct(last.train_error) : "-"}, test error ${fmtPct(test)} on the 10,000 test images`;
  }
  return `${name}: ${j.status}${j.message ? ` (${j.message})` : ""}`;
}

function render() {
  $("#live-jobs").replaceChildren(...live.jobs.map((j) => el("p", { "data-testid": "live-job", "data-status": j.status, text: jobLine(j) })));
  $("#live-cancel").disabled = !live.jobs.some((j) => j.status === "queued" || j.status === "running");
  const depth = (j) => +j.network.replace(/^\D+/, "");
  const series = live.jobs.map((j) => {
    const kind = j.network.startsWith("plain") ? "plain" : "resnet";
    const deeper = live.jobs.some((k) => k.network.startsWith(kind) && depth(k) > depth(j));  // the shallower of a kind is lighter
    const color = COLORS[kind][deeper ? 1 : 0];
    return { name: pretty(j.network), color, width: kind === "plain" ? 2 : 3, dash: kind === "plain" ? "5 3" : "none",
      points: j.records.filter((r) => r.train_error !== null).map((r) => [r.step, 100 * r.train_error]) };
  });
  const budget = Math.max(...live.jobs.map((j) => j.steps));  // the whole budget on the axis from the start
  if (series.length) $("#live-chart").replaceChildren(lineChart({ series, xLabel: "iterations", yLabel: "training error (%)",
    yMin: 0, yMax: 100, xMin: 0, xMax: budget }));
}
