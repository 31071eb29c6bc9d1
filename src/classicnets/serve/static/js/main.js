// classicnets explorer: plain JavaScript and SVG over the JSON API of classicnets/serve/app.py.
// The page's router: each view starts once it can reach the server, and each state has its address.

import { degr, initDegradation, showResult } from "./pages/degradation.js";
import { initBlock } from "./pages/block.js";
import { initDraw } from "./pages/draw.js";
import { initModels, models, pickModels, renderModels } from "./pages/models.js";
import { initWalk, showWalk } from "./pages/walk.js";
import { initWhy } from "./pages/why.js";
import { $, el, inPanel, panelError } from "./dom.js";

const VIEWS = { walk: initWalk, models: initModels, draw: initDraw, block: initBlock, degradation: initDegradation, why: initWhy };

const started = new Set();
const starting = {};  // each view's start while it is under way: one at a time, however often it is visited

async function route() {
  const [name, arg] = (location.hash || "#models").slice(1).split("/");
  const view = VIEWS[name] ? name : "models";
  for (const section of document.querySelectorAll("section.view")) section.hidden = section.id !== view;
  for (const a of document.querySelectorAll("nav a")) a.classList.toggle("active", a.dataset.view === view);
  $("#status").replaceChildren(...(!VIEWS[name] && name ? [el("p", { text: `There is no page "${decodeURIComponent(name)}": ` +
    `here are the models. The pages: ${Object.keys(VIEWS).join(", ")}.` })] : []));
  if (view !== "degradation") clearInterval(degr.timer);
  if (!started.has(view)) {
    // retried while the server is away: the view starts once it is back; a failure leaves it to start again
    starting[view] ||= inPanel("#status", async () => { await VIEWS[view](); return true; });
    if (await starting[view]) started.add(view);
    delete starting[view];
  } else if (view === "degradation" && $("#result-picker").value) {
    showResult().catch((e) => panelError("#verdict-text", e));
  }
  if (view === "models" && started.has("models")) {
    if (arg) pickModels(arg);
    if (arg || !models.rendered) await renderModels();
  }
  if (view === "walk" && started.has("walk")) await showWalk(arg);
  document.body.dataset.ready = view;
}

window.addEventListener("hashchange", route);
route();
