// Draw a digit: both LeNet-5s read it live, with their feature maps and the RBF distances.

import { $, api, decode, el, fmtPct, inPanel, panelError, RETRY_MS } from "../dom.js";

const pad = { drawing: false, last: null, pending: null, busy: false };

export function initDraw() {
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
  const dot = (p) => {  // a tap's ink: canvas prunes a zero-length line, so a round dot is filled instead
    ctx.fillStyle = "#fff"; ctx.beginPath(); ctx.arc(p[0], p[1], 10, 0, 2 * Math.PI); ctx.fill();
  };
  canvas.addEventListener("pointerdown", (e) => {
    pad.drawing = true; pad.last = at(e); dot(pad.last); canvas.setPointerCapture(e.pointerId);
  });
  canvas.addEventListener("pointermove", (e) => {
    if (!pad.drawing) return;
    const p = at(e); line(pad.last, p); pad.last = p; schedulePredict(250);
  });
  const end = () => { if (pad.drawing) { pad.drawing = false; schedulePredict(0); } };
  canvas.addEventListener("pointerup", end);
  canvas.addEventListener("pointercancel", end);
  $("#clear").addEventListener("click", () => {
    clear(); $("#lenets").replaceChildren(); $("#sample-note").textContent = ""; $("#prediction-line").textContent = "";
  });
  // the keyboard draws too: Enter (or Space) puts the pen down or lifts it, the arrow keys move it
  const key = { at: [canvas.width / 2, canvas.height / 2], down: false };
  canvas.addEventListener("keydown", (e) => {
    const moves = { ArrowLeft: [-14, 0], ArrowRight: [14, 0], ArrowUp: [0, -14], ArrowDown: [0, 14] };
    if (e.key === "Enter" || e.key === " ") {
      key.down = !key.down;
      if (key.down) dot(key.at); else schedulePredict(0);
    } else if (moves[e.key]) {
      const [dx, dy] = moves[e.key];
      const to = [Math.min(canvas.width - 10, Math.max(10, key.at[0] + dx)), Math.min(canvas.height - 10, Math.max(10, key.at[1] + dy))];
      if (key.down) { line(key.at, to); schedulePredict(400); }
      key.at = to;
    } else return;
    e.preventDefault();
    $("#pad-note").textContent = `pen ${key.down ? "down" : "up"} at ${Math.round(key.at[0])}, ${Math.round(key.at[1])}`;
  });
  $("#sample").addEventListener("click", async () => {
    const s = await inPanel("#lenets", () => api("/api/digit/sample"));
    if (!s) return;
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
    panelError("#lenets", e);
    if (e.offline) schedulePredict(RETRY_MS);
  } finally {
    pad.busy = false;
  }
}

const TITLES = { lenet5: "LeNet-5, 1998", lenet5_modern: "LeNet-5, modern" };

const LAYER_NOTES = { C1: "6 maps, 28x28", S2: "6 maps, 14x14", C3: "16 maps, 10x10", S4: "16 maps, 5x5" };

function renderLenets(result) {
  const first = Object.values(result.models)[0];
  drawSeen(first.input);
  $("#prediction-line").textContent = Object.entries(result.models).map(([name, m]) =>  // read out by screen readers
    `${TITLES[name] || name} reads ${m.prediction} (${fmtPct(Math.max(...m.probabilities), 0)})`).join("; ") + ".";
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
      el("h3", { text: "RBF output: squared distance to each class's 7x12 code (the smallest wins)" }),
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
