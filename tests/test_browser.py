"""The explorer in a real browser: Debian's Chromium, driven by Playwright through real mouse events.

Screenshots of each page go to ``$CLASSICNETS_SCREENSHOTS`` when it is set (the README's pictures
are made so: ``CLASSICNETS_SCREENSHOTS=docs/img pytest tests/test_browser.py``), else to the test's
own temporary folder.
"""

from __future__ import annotations

import json
import os
import shutil
import statistics
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import SHARED_DATA, tiny_run

from classicnets.data import load_dataset

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
if not Path(CHROMIUM).exists():
    pytest.skip("Debian's chromium is not installed (apt-get install chromium); .ci/run installs it",
                allow_module_level=True)  # fmt: skip
playwright = pytest.importorskip("playwright.sync_api")

# The flags a root session on a machine without a network needs (see the Playwright notes in the docs).
FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage"]  # fmt: skip
VIEWS = ("walk", "models", "draw", "block", "degradation", "why")


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    with playwright.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        yield b
        b.close()


@pytest.fixture(scope="module")
def run_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A --runs folder holding one real, short training run."""
    root = tmp_path_factory.mktemp("runs")
    tiny_run(root / "lenet-digits", iterations=30, eval_every=5)
    return root


@pytest.fixture
def shots(tmp_path: Path) -> Path:
    folder = Path(os.environ.get("CLASSICNETS_SCREENSHOTS") or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.fixture
def page(browser, serve, run_folder: Path):
    served = serve("--runs", str(run_folder), "--data-dir", str(SHARED_DATA))
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    pg = context.new_page()
    pg.errors = []  # console errors and uncaught exceptions
    pg.on("console", lambda m: pg.errors.append(m.text) if m.type == "error" else None)
    pg.on("pageerror", lambda e: pg.errors.append(str(e)))
    pg.url_base = served.url
    yield pg
    context.close()


def open_view(page, view: str) -> None:
    page.goto(f"{page.url_base}/#{view}")
    # the first visit to "why" waits for its measurements, computed cold on the server's one thread
    # (ResNet-56's 27 removals included): about a minute, more while the suite shares the cores
    page.wait_for_selector(f"body[data-ready={view}]", timeout=180_000 if view == "why" else 60_000)


def test_every_page_loads_without_console_errors(page, shots: Path) -> None:
    for view in VIEWS:
        open_view(page, view)
        page.wait_for_load_state("networkidle")
        assert page.errors == [], (view, page.errors)
    open_view(page, "models")
    page.wait_for_selector("#models img.diagram")  # (the walk's figures hold diagrams too, hidden now)
    page.screenshot(path=str(shots / "serve-models.png"), full_page=True)


def mnist_seven_strokes() -> list[tuple[int, int, int]]:
    """The ink of MNIST's first test image (a 7) as horizontal strokes: (row, first column, last column)."""
    if not (SHARED_DATA / "mnist").is_dir():
        pytest.skip(f"MNIST not found in {SHARED_DATA}")
    test = load_dataset("mnist", SHARED_DATA).test
    assert int(test.labels[0]) == 7
    ink = test.images[0, 0] > 128
    strokes = []
    for y in range(28):
        xs = ink[y].nonzero().flatten().tolist()
        runs: list[list[int]] = []
        for x in xs:
            if runs and x == runs[-1][1] + 1:
                runs[-1][1] = x
            else:
                runs.append([x, x])
        strokes += [(y, a, b) for a, b in runs]
    return strokes


def test_drawing_a_seven_with_the_mouse_both_lenets_read_seven(page, shots: Path) -> None:
    open_view(page, "draw")
    box = page.locator("[data-testid=draw-canvas]").bounding_box()
    scale = box["width"] / 28
    for y, a, b in mnist_seven_strokes():  # real mouse events, stroke by stroke
        cy = box["y"] + (y + 0.5) * scale
        page.mouse.move(box["x"] + (a + 0.5) * scale, cy)
        page.mouse.down()
        page.mouse.move(box["x"] + (b + 0.5) * scale, cy, steps=3)
        page.mouse.up()
    for name in ("lenet5", "lenet5_modern"):
        page.wait_for_function(
            f"document.querySelector('[data-testid={name}-prediction]')?.textContent === '7'", timeout=30_000
        )
    for name in ("lenet5", "lenet5_modern"):
        assert page.locator(f"[data-testid={name}-C1] canvas").count() == 6
        assert page.locator(f"[data-testid={name}-S2] canvas").count() == 6
        assert page.locator(f"[data-testid={name}-C3] canvas").count() == 16
        assert page.locator(f"[data-testid={name}-S4] canvas").count() == 16
    assert page.errors == []
    page.screenshot(path=str(shots / "serve-draw.png"), full_page=True)


def test_vgg16_shows_its_138_million_parameters(page) -> None:
    open_view(page, "models")
    page.select_option("[data-testid=model-picker]", "vgg16")
    params = page.locator("[data-testid=model-vgg16] [data-testid=params]")
    params.wait_for(timeout=60_000)
    assert params.text_content() == "138,357,544"
    assert "138,357,544" in page.content()
    assert page.locator("[data-testid=model-vgg16] ul.checks li.ok").count() == 2  # params and MACs match
    # where they are: 16 weight layers in each share chart; the three FC layers hold 123,642,856 of 138,357,544
    assert page.locator("[data-testid=model-vgg16] [data-testid=where-chart] rect[data-bar]").count() == 2 * 16
    assert "hold 89.4% of the parameters" in page.locator("[data-testid=model-vgg16] [data-testid=where-text]").text_content()


def test_zeroing_w_and_b_shows_the_identity(page, shots: Path) -> None:
    open_view(page, "block")
    headline = page.locator("[data-testid=block-headline]")
    headline.wait_for()
    assert "identity" not in headline.text_content()
    page.check("[data-testid=zero-toggle]")
    page.wait_for_function("document.querySelector('[data-testid=block-headline]').textContent.includes('the block is the identity')")
    assert "max |a[l+2] - a[l]| = 0" in page.locator("[data-testid=block-verdict]").text_content()
    page.screenshot(path=str(shots / "serve-block.png"), full_page=True)
    page.check("input[name=shortcut][value=none]")
    page.wait_for_function("document.querySelector('[data-testid=block-headline]').textContent.includes('loses its input')")
    assert page.errors == []


def test_a_run_folder_shows_its_curve_and_follows_it_live(page, run_folder: Path, shots: Path) -> None:
    open_view(page, "degradation")
    page.screenshot(path=str(shots / "serve-degradation.png"), full_page=True)
    page.select_option("[data-testid=result-picker]", "run:0/lenet-digits")
    training = page.locator("[data-testid=curve-chart] path[data-series=training]")
    training.wait_for()
    points = training.get_attribute("d").count("L") + 1
    assert points == 6  # logged every 5 of 30 steps
    log = run_folder / "lenet-digits" / "metrics.jsonl"
    last = json.loads(log.read_text().splitlines()[-1])
    with open(log, "a") as f:  # the run goes on: a new record appears
        f.write(json.dumps({**last, "step": last["step"] + 5, "train_error": 0.01}) + "\n")
    page.wait_for_function(
        "document.querySelector('[data-testid=curve-chart] path[data-series=training]').getAttribute('d').split('L').length === 7",
        timeout=15_000,
    )
    assert page.errors == []


def test_why_it_works_draws_the_api_measurements(page, shots: Path) -> None:
    import httpx

    if not (SHARED_DATA / "cifar10" / "test").is_dir():
        pytest.skip(f"CIFAR-10 not found in {SHARED_DATA}")
    open_view(page, "why")
    for name in ("plain-20", "ResNet-20", "plain-56", "ResNet-56"):
        assert page.locator(f"[data-testid=why-gradients] path[data-series='{name}']").count() == 1
    ratios = httpx.get(f"{page.url_base}/api/why/ratios", timeout=60).json()
    removals = httpx.get(f"{page.url_base}/api/why/removals", timeout=60).json()
    blocks = len(ratios["blocks"])  # the deepest shipped ResNet's: 9 for ResNet-20, 27 for ResNet-56
    assert page.locator("[data-testid=why-ratios] rect[data-bar]").count() == blocks in (9, 27)
    plain_blocks = len(removals["plain"]["blocks"]) if removals["plain"] else 0
    assert page.locator("[data-testid=why-removals] rect[data-bar]").count() == blocks + plain_blocks
    # the sentences are written from the API's numbers, not static text
    median = statistics.median(b["ratio"] for b in ratios["blocks"])
    assert f"its median {median:.2f}" in page.locator("[data-testid=why-ratios-text]").text_content()
    assert f"Weights: the shipped {ratios['model']} (" in page.locator("[data-testid=why-ratios-text]").text_content()
    whole = f"{100 * removals['resnet']['accuracy']:.1f}%"
    assert whole in page.locator("[data-testid=why-removals-text]").text_content()
    if removals["plain"] is None:
        assert "no trained plain network ships yet" in page.locator("[data-testid=plain-note]").text_content()
    assert page.errors == []
    page.screenshot(path=str(shots / "serve-why.png"), full_page=True)


def test_why_draws_a_plain_network_beside_the_resnet_once_one_ships(page) -> None:
    """The removals panel with a trained plain network in the answer (served here by the test, as
    the API gives it once plain-56 ships): one chart per network, each bar a block."""
    def rows(model: str, n: int, accuracy: float) -> dict:
        return {"model": model, "weights": f"{model}-cifar10.safetensors", "accuracy": 0.9,
                "blocks": [{"block": f"layer{1 + i // 9}.{i % 9}", "shortcut": "zero-pad" if i in (9, 18) else "identity",
                            "accuracy": accuracy} for i in range(n)]}  # fmt: skip

    if not (SHARED_DATA / "cifar10" / "test").is_dir():
        pytest.skip(f"CIFAR-10 not found in {SHARED_DATA}")  # the page's other two panels measure on it
    answer = {"images": 500, "resnet": rows("resnet56", 27, 0.85), "plain": rows("plain56", 27, 0.1), "plain_note": None,
              "test_errors": {}, "sentences": ["ResNet-56: 90.0% of these 500 test images.", "plain-56: 90.0%, cut."]}  # fmt: skip
    page.route("**/api/why/removals", lambda route: route.fulfill(json=answer))
    open_view(page, "why")
    charts = page.locator("[data-testid=why-removals] svg.chart")
    page.wait_for_selector("[data-testid=why-removals] rect[data-bar]")
    assert page.locator("[data-testid=why-removals] rect[data-bar]").count() == 54
    assert "plain56" in charts.last.get_attribute("aria-label") and "resnet56" in charts.first.get_attribute("aria-label")
    labels = charts.first.locator("text.tick").all_text_contents()  # 27 bars: each stage's blocks 0, 3 and 6 named
    assert {"layer1.0", "layer1.3", "layer2.6", "layer3.0"} <= set(labels) and "layer1.1" not in labels
    assert page.locator("[data-testid=plain-note]").count() == 0
    assert page.errors == []


WALK = ("lenet5", "alexnet", "vgg16", "block", "degradation", "why")


def evidence(page) -> str:
    items = page.locator("[data-testid=walk-evidence] li")
    assert items.count() >= 1
    text = " | ".join(items.all_text_contents())
    assert "measuring" not in text
    return text


def test_the_lecture_walk_with_the_keyboard_only(page, shots: Path) -> None:
    import httpx

    open_view(page, "walk")
    page.wait_for_selector("[data-testid=walk-step][data-ready=lenet5]", timeout=60_000)
    api = {n: httpx.get(f"{page.url_base}/api/models/{n}", timeout=60).json()["summary"] for n in ("lenet5", "alexnet", "vgg16")}
    seen = {"lenet5": evidence(page)}
    for step in WALK[1:]:
        page.keyboard.press("ArrowRight")
        page.wait_for_selector(f"[data-testid=walk-step][data-ready={step}]", timeout=120_000)
        assert page.url.endswith(f"#walk/{step}")
        seen[step] = evidence(page)
    page.keyboard.press("ArrowRight")  # past the last step: it stays
    assert page.url.endswith("#walk/why")
    # each step's evidence is the API's numbers, not static text
    assert f"parameters: {api['lenet5']['totals']['params']:,}" in seen["lenet5"]
    assert "SparseConv2d" in seen["lenet5"] and "Subsampling" in seen["lenet5"]
    assert f"parameters: {api['alexnet']['totals']['params']:,}" in seen["alexnet"] and "3 max-pooling layers" in seen["alexnet"]
    assert "kernel sizes of the 13 convolutions: 3;" in seen["vgg16"] and "[CONV 64] x 2, pool, [CONV 128] x 2" in seen["vgg16"]
    assert "hold 89.4% of them" in seen["vgg16"]
    assert "max |a[l+2] - a[l]| = 0" in seen["block"] and "lost" in seen["block"]
    assert "plain-56" in seen["why"] and "median" in seen["why"]  # the why step's words come with its numbers
    page.keyboard.press("ArrowLeft")
    page.wait_for_selector("[data-testid=walk-step][data-ready=degradation]", timeout=60_000)
    page.goto(f"{page.url_base}/#walk/vgg16")  # a step's own address, as linked from a slide
    page.wait_for_selector("[data-testid=walk-step][data-ready=vgg16]", timeout=60_000)
    assert page.errors == []


def test_the_walk_in_presentation_mode_by_keyboard_with_a_figure_per_step(page, shots: Path) -> None:
    """P turns on presentation mode (no header, large type); each step draws its figure from the API
    (the models' diagrams, the depth chart, the gradients); a figure enlarges and closes by keyboard;
    Escape leaves presentation mode."""
    open_view(page, "walk")
    page.wait_for_selector("[data-testid=walk-step][data-ready=lenet5]", timeout=60_000)
    page.keyboard.press("p")
    assert page.evaluate("document.body.classList.contains('present')") and not page.locator("header").is_visible()
    for i, step in enumerate(WALK):
        if i:
            page.keyboard.press("ArrowRight")
            page.wait_for_selector(f"[data-testid=walk-step][data-ready={step}]", timeout=120_000)
        page.wait_for_selector("[data-testid=walk-figure] figure.enlargeable", timeout=120_000)
        figure = page.locator("[data-testid=walk-figure] figure")
        if step in ("lenet5", "alexnet", "vgg16"):
            assert f"/api/models/{step}/diagram.svg" in figure.locator("img.diagram").get_attribute("src")
            if step == "vgg16":  # and where its parameters are: 16 weight layers in each share chart
                assert figure.locator("[data-testid=where-chart] rect[data-bar]").count() == 2 * 16
        elif step == "block":  # the block's terms with W = b = 0: a[l+2] is a[l]
            assert figure.locator(".term table.numbers").count() >= 3
        else:
            assert figure.locator("svg.chart path[data-series]").count() >= 2
            assert figure.locator("svg.chart").get_attribute("aria-label")  # the numbers in words
        if step == "degradation":
            import httpx

            said = evidence(page)
            assert "of the paper's 64,000 iterations per network" in said and "The paper (Table 6)" in said
            # the words follow the experiment's own verdict for each family, never the other way round
            trend = httpx.get(f"{page.url_base}/api/published", timeout=60).json()["degradation-sweep"]["trend"]
            for family, line in zip(("Plain", "ResNet"), trend["sentences"], strict=True):
                shown = next(x for x in said.split(" | ") if x.startswith(f"{family}, "))
                assert ("NOT yet as the paper finds" in line) == ("not yet as the paper finds" in shown), (line, shown)
            page.screenshot(path=str(shots / "serve-walk.png"), full_page=False)
    page.focus("[data-testid=walk-figure] [data-testid=enlarge]")
    page.keyboard.press("Enter")
    page.wait_for_selector("dialog#enlarged[open] #enlarged-body svg.chart")
    page.keyboard.press("Escape")  # closes the figure, not presentation mode
    page.wait_for_function("!document.querySelector('dialog#enlarged').open")
    assert page.evaluate("document.body.classList.contains('present')")
    page.keyboard.press("Escape")
    assert not page.evaluate("document.body.classList.contains('present')") and page.locator("header").is_visible()
    assert page.errors == []


def test_a_phone_width_layout_scrolls_only_vertically(browser, serve) -> None:
    served = serve("--data-dir", str(SHARED_DATA))
    context = browser.new_context(viewport={"width": 390, "height": 844}, has_touch=True, is_mobile=True)
    pg = context.new_page()
    try:
        for view in ("walk", "models", "draw", "block", "degradation"):
            pg.goto(f"{served.url}/#{view}")
            pg.wait_for_selector(f"body[data-ready={view}]", timeout=60_000)
            wide = pg.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
            assert wide <= 1, (view, wide)
            if view == "draw":  # the drawing pad fits the screen (and takes touch: pointer events)
                assert pg.locator("#pad").bounding_box()["width"] <= 390
    finally:
        context.close()


# ---- links, outages, the keyboard and touch ---------------------------------------------------


def test_every_linkable_state_has_its_address_and_an_unknown_one_says_so(page) -> None:
    page.goto(f"{page.url_base}/#models/vgg16")
    page.locator("[data-testid=model-vgg16] [data-testid=params]").wait_for(timeout=60_000)
    assert page.locator("[data-testid=model-lenet5]").count() == 0
    page.goto(f"{page.url_base}/#models/vgg16,resnet50")
    page.locator("[data-testid=model-resnet50]").wait_for(timeout=60_000)
    assert page.locator("[data-testid=model-vgg16]").count() == 1
    page.select_option("[data-testid=model-picker]", "alexnet")  # a pick changes the address, to link it
    page.wait_for_function("location.hash === '#models/alexnet,resnet50'")
    page.goto(f"{page.url_base}/#models/nonsense")
    page.wait_for_function("document.querySelector('[data-testid=models-note]').textContent.includes('No model called')")
    assert '"nonsense"' in page.locator("[data-testid=models-note]").text_content()
    page.goto(f"{page.url_base}/#walk/nonsense")
    page.wait_for_selector("[data-testid=walk-step][data-ready=lenet5]", timeout=60_000)
    assert 'There is no step "nonsense"; here is step 1.' in page.locator("[data-testid=walk-note]").text_content()
    page.goto(f"{page.url_base}/#nowhere")
    page.wait_for_function("document.querySelector('[data-testid=status]').textContent.includes('There is no page')")
    assert page.errors == []


def test_the_server_stopped_and_started_again_while_the_page_stays_open(browser, serve, tmp_path: Path) -> None:
    """Every request the page makes while the server is away says so in its own panel and is
    retried; after a restart on the same address the page recovers without a reload."""
    import subprocess
    import sys

    served = serve("--data-dir", str(SHARED_DATA))
    port = served.url.rsplit(":", 1)[1]
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    pg = context.new_page()
    restarted = None
    try:
        pg.goto(f"{served.url}/#models")
        pg.locator("[data-testid=model-lenet5]").wait_for(timeout=60_000)
        served.process.terminate()
        served.process.wait(10)
        pg.select_option("[data-testid=model-picker]", "vgg16")
        pg.wait_for_function("document.querySelector('#model-columns').textContent.includes('server not reachable: retrying')")
        assert pg.locator("[data-testid=model-lenet5]").count() == 0  # never the old model under the new name
        pg.evaluate("location.hash = '#block'")  # a view first opened during the outage
        pg.wait_for_function("document.querySelector('[data-testid=status]').textContent.includes('server not reachable')"
                             " || document.querySelector('#block-verdict').textContent.includes('server not reachable')")
        env = {**os.environ, "OMP_NUM_THREADS": "1"}
        restarted = subprocess.Popen([sys.executable, "-m", "classicnets", "serve", "--port", port, "--data-dir",
                                      str(SHARED_DATA), "--cache-dir", str(tmp_path / "cache")],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)  # fmt: skip
        pg.locator("[data-testid=block-headline]").wait_for(timeout=60_000)  # recovered, no reload
        pg.evaluate("location.hash = '#models/vgg16'")
        pg.locator("[data-testid=model-vgg16] [data-testid=params]").wait_for(timeout=60_000)
        assert "server not reachable" not in pg.locator("#model-columns").text_content()
        assert pg.locator("[data-testid=status]").text_content().strip() == ""
    finally:
        context.close()
        if restarted is not None:
            restarted.terminate()
            restarted.wait(10)


def test_the_drawing_pad_takes_the_keyboard_and_a_tap(browser, serve) -> None:
    served = serve("--data-dir", str(SHARED_DATA))
    context = browser.new_context(viewport={"width": 390, "height": 844}, has_touch=True, is_mobile=True)
    pg = context.new_page()
    try:
        pg.goto(f"{served.url}/#draw")
        pg.wait_for_selector("body[data-ready=draw]", timeout=60_000)
        pad = pg.locator("#pad")
        box = pad.bounding_box()
        pg.touchscreen.tap(box["x"] + box["width"] * 0.25, box["y"] + box["height"] * 0.25)
        ink = "(x, y) => document.querySelector('#pad').getContext('2d').getImageData(x, y, 1, 1).data[0]"
        assert pg.evaluate(f"({ink})(70, 70)") == 255  # the tap left a dot where it landed
        pg.click("#clear")
        pad.focus()
        pg.keyboard.press("Enter")  # pen down at the centre
        for _ in range(6):
            pg.keyboard.press("ArrowDown")
        pg.keyboard.press("Enter")  # pen up: the networks read it
        assert pg.evaluate(f"({ink})(140, 200)") == 255
        pg.wait_for_function("document.querySelector('[data-testid=prediction-line]').textContent.includes('reads')",
                             timeout=30_000)  # fmt: skip
        assert "pen up" in pg.locator("#pad-note").text_content()
    finally:
        context.close()


# ---- accessibility: axe-core on every page, at a desktop and a phone width ---------------------

AXE = Path(__file__).resolve().parents[1] / ".axe" / "node_modules" / "axe-core" / "axe.min.js"


@pytest.mark.parametrize("width", [1400, 390])
def test_no_serious_or_critical_accessibility_violation_on_any_page(browser, serve, width: int) -> None:
    """axe-core (npm; ``make test`` installs it into .axe/) on each page once it is drawn: no serious
    or critical violation, and headings in order (a moderate one the issue named)."""
    if not AXE.is_file():
        pytest.skip(f"axe-core is not installed at {AXE} (make test installs it with npm)")
    served = serve("--data-dir", str(SHARED_DATA))
    phone = width < 600
    context = browser.new_context(viewport={"width": width, "height": 844 if phone else 1000}, has_touch=phone, is_mobile=phone)
    pg = context.new_page()
    found = {}
    try:
        for view in VIEWS:
            pg.goto(f"{served.url}/#{view}")
            pg.wait_for_selector(f"body[data-ready={view}]", timeout=120_000)
            pg.wait_for_load_state("networkidle")
            pg.add_script_tag(path=str(AXE))
            violations = pg.evaluate("""async () => (await axe.run(document, { resultTypes: ["violations"] })).violations
                .filter((v) => v.impact === "serious" || v.impact === "critical" || v.id === "heading-order")
                .map((v) => `${v.id} (${v.impact}): ${v.nodes.length} node(s), e.g. ${v.nodes[0].target.join(" ")}`)""")
            found[view] = violations
    finally:
        context.close()
    assert found == {view: [] for view in VIEWS}, found


def test_the_figure_at_full_length_from_a_runs_folder(browser, serve, tmp_path: Path) -> None:
    """`experiment full-length` (tiny: 2 epochs of 256 digits) in a --runs folder: the page draws its
    curves against epochs (train and test of the four networks) and the final training error
    against depth, both measures, with the claim written from the numbers."""
    import torch

    from classicnets.experiments import FullLengthConfig, run_full_length

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        results = run_full_length(FullLengthConfig(out=str(tmp_path / "runs" / "full"), dataset="digits", subset=256,
                                                   epochs=2, device="cpu", progress=False, compile=False))  # fmt: skip
    finally:
        torch.set_num_threads(before)
    served = serve("--runs", str(tmp_path / "runs"), "--data-dir", str(SHARED_DATA))
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    pg = context.new_page()
    try:
        pg.goto(f"{served.url}/#degradation")
        pg.wait_for_selector("body[data-ready=degradation]", timeout=60_000)
        pg.select_option("[data-testid=result-picker]", "run:0/full")
        pg.wait_for_selector("[data-testid=curve-chart] path[data-series='ResNet-56 test']", state="attached",
                             timeout=30_000)  # (attached: a flat curve has no height to be "visible")
        assert pg.locator("[data-testid=curve-chart] path[data-series]").count() == 8
        assert pg.locator("[data-testid=depth-chart] path[data-series]").count() == 4
        assert results["claim"] in pg.locator("[data-testid=verdict-text]").text_content()
    finally:
        context.close()


# ---- train it live --------------------------------------------------------------------------------


def test_live_training_is_estimated_started_streamed_and_cancelled(browser, serve, tmp_path: Path, shots: Path) -> None:
    """On "Deeper is not better": the page says how long the pick takes on this machine before it
    starts, the server trains it (MNIST here: a data folder holding only MNIST, as on a machine
    without CIFAR-10), the curve streams into the page, and Cancel stops it."""
    only_mnist = tmp_path / "data"
    only_mnist.mkdir()
    (only_mnist / "mnist").symlink_to(SHARED_DATA / "mnist", target_is_directory=True)
    served = serve("--data-dir", str(only_mnist))
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    pg = context.new_page()
    errors: list[str] = []
    pg.on("pageerror", lambda e: errors.append(str(e)))
    try:
        pg.goto(f"{served.url}/#degradation")
        pg.wait_for_selector("body[data-ready=degradation]", timeout=60_000)
        pg.wait_for_function("document.querySelector('[data-testid=live-intro]').textContent.includes('on MNIST (CIFAR-10 is not on disk here)')")
        pg.select_option("[data-testid=live-a-depth]", "20")
        pg.select_option("[data-testid=live-b-kind]", "")  # no second network
        pg.fill("[data-testid=live-steps]", "400")
        pg.locator("[data-testid=live-steps]").dispatch_event("change")
        pg.wait_for_function("/^About .* plain-20 [^,]*\\.$/.test(document.querySelector('[data-testid=live-estimate] span')"
                             "?.textContent || '')", timeout=120_000)  # fmt: skip
        pg.click("[data-testid=live-start]")
        pg.wait_for_selector("[data-testid=live-chart] path[data-series='plain-20']", state="attached", timeout=180_000)
        pg.wait_for_function("(document.querySelector(\"[data-testid=live-chart] path[data-series='plain-20']\")"
                             "?.getAttribute('d') || '').split('L').length >= 4", timeout=120_000)  # four points streamed
        line = pg.locator("[data-testid=live-job]").text_content()
        assert "plain-20: training, iteration" in line and "of 400" in line, line
        assert pg.locator("[data-testid=live-command]").text_content().startswith(
            "The same run from a terminal: classicnets train plain20 --dataset mnist --recipe resnet-cifar")
        pg.locator("[data-testid=live-train]").screenshot(path=str(shots / "serve-live.png"))
        pg.click("[data-testid=live-cancel]")
        pg.wait_for_selector("[data-testid=live-job][data-status=cancelled]", timeout=60_000)
        assert pg.locator("[data-testid=live-cancel]").is_disabled()
        pg.locator("[data-testid=live-chart] summary").click()  # the numbers, reachable without a pointer too
        assert pg.locator("[data-testid=live-chart] table.chart-values tbody tr").count() >= 1
        assert errors == []
    finally:
        context.close()
