"""The layout docs/design.md draws, checked: the registry is a leaf, the arrows point one way, and
no import hides inside a function unless it defers a heavy optional dependency."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "src" / "classicnets"

# Function-local relative imports that are allowed, each deferring a heavy optional dependency:
# (the module, the module it imports).
DEFERRED = {
    ("cli/inspect.py", "inspect.draw"): "matplotlib",
    ("cli/inspect.py", "inspect.shapes"): "matplotlib",
    ("cli/serve.py", "serve"): "matplotlib and the web stack (starlette, uvicorn)",
}

# What each layer may import from classicnets (its own package always). A layer not listed may
# import any lower one; these are the arrows the design doc draws.
ALLOWED = {
    "errors": set(),
    "registry": {"errors"},
    "safeload": {"errors"},
    "data": {"errors"},
    "models": {"errors", "registry"},
    "weights": {"errors", "registry", "safeload", "models", "data"},
    "factory": {"errors", "registry", "models", "weights"},
    "inspect": {"errors", "registry", "models", "factory"},
    "train": {"errors", "registry", "safeload", "models", "weights", "factory", "data"},
    "experiments": {"errors", "registry", "models", "weights", "factory", "data", "train"},
    "serve": {"errors", "safeload", "models", "factory", "weights", "inspect", "data", "train", "experiments"},
}


def modules() -> list[Path]:
    return sorted(PACKAGE.rglob("*.py"))


def relative_imports(path: Path) -> list[tuple[str, bool]]:
    """(imported classicnets module, inside a function?) for each relative import of ``path``."""
    tree = ast.parse(path.read_text())
    parts = path.relative_to(PACKAGE).with_suffix("").parts
    package = parts[:-1] if parts[-1] != "__init__" else parts[:-1]
    found = []

    def visit(node: ast.AST, in_function: bool) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.ImportFrom) and child.level:
                base = list(package[: len(package) - (child.level - 1)])
                if child.module:  # from .x.y import name
                    found.append((".".join([*base, *child.module.split(".")]), in_function))
                else:  # from . import x, y (modules)
                    found.extend((".".join([*base, alias.name]), in_function) for alias in child.names)
            visit(child, in_function or isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef)))

    visit(tree, False)
    return found


def test_importing_the_registry_loads_no_model_family():
    code = "import sys, classicnets.registry; print(sorted(m for m in sys.modules if m.startswith('classicnets')))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert eval(out) == ["classicnets", "classicnets.errors", "classicnets.registry"]


def test_no_function_local_relative_imports_outside_the_allowed_list():
    found = set()
    for path in modules():
        rel = path.relative_to(PACKAGE).as_posix()
        found |= {(rel, target) for target, local in relative_imports(path) if local}
    assert found == set(DEFERRED), "import at the top of the module, or defer a heavy optional dependency only"


@pytest.mark.parametrize("layer", sorted(ALLOWED))
def test_layers_import_only_downwards(layer):
    paths = [PACKAGE / f"{layer}.py"] if (PACKAGE / f"{layer}.py").exists() else sorted((PACKAGE / layer).rglob("*.py"))
    assert paths
    for path in paths:
        for target, _ in relative_imports(path):
            top = target.split(".")[0]
            assert top == layer or top in ALLOWED[layer], f"{path.relative_to(PACKAGE)} imports {target}"


@pytest.mark.parametrize(
    "path",
    [
        "inflight/degradation-sweep/runs/seed0/plain56/last.state.pt",  # an experiment's run folders
        "inflight/resnet32-cifar10/last.safetensors",
        "inflight/resnet32-cifar10/metrics.jsonl",
    ],
)
def test_state_carried_between_sittings_is_not_ignored_by_git(path):
    """inflight/ is committed between segments (docs/design.md): an ignore rule that swallowed it
    (as ``runs/`` once did for an experiment's ``runs/`` folders) would lose the run at the end of a sitting."""
    repo = Path(__file__).resolve().parents[1]
    if not (repo / ".git").exists():
        pytest.skip("not a git checkout")
    proc = subprocess.run(["git", "check-ignore", "-q", "--no-index", path], cwd=repo, check=False)
    assert proc.returncode == 1, f"{path} is ignored by git: it would not be committed"


STATIC = PACKAGE / "serve" / "static"


def test_the_explorers_modules_point_one_way() -> None:
    """The explorer's ES modules: dom.js imports nothing, charts.js only dom.js, each page only the
    shared helpers and other pages, main.js the pages; nothing imports main.js. One module per page
    of index.html (``pages/<view>.js``); a part of a page lives in the page's folder
    (``pages/<view>/<part>.js``), imports only the shared helpers, and only its page imports it."""
    import re

    js = STATIC / "js"
    imports = {}
    for path in sorted(js.rglob("*.js")):
        rel = path.relative_to(js).as_posix()
        found = re.findall(r'^import \{[^}]*\} from "([^"]+)";', path.read_text(), flags=re.M)
        imports[rel] = {(path.parent / f).resolve().relative_to(js.resolve()).as_posix() for f in found}
    assert imports["dom.js"] == set() and imports["charts.js"] == {"dom.js"}
    pages = {p for p in imports if p.startswith("pages/") and p.count("/") == 1}
    parts = {p for p in imports if p.startswith("pages/") and p.count("/") == 2}
    for page in pages:
        assert imports[page] <= {"dom.js", "charts.js"} | pages | {p for p in parts if p.startswith(page[:-3] + "/")}, page
    for part in parts:
        assert imports[part] <= {"dom.js", "charts.js"}, part
        assert f"{part.split('/')[1]}.js" in {p.removeprefix("pages/") for p in pages}, part
    assert imports["main.js"] <= {"dom.js"} | pages and not any("main.js" in v for v in imports.values())
    views = set(re.findall(r'<section id="(\w+)" class="view"', (STATIC / "index.html").read_text()))
    assert {p.removeprefix("pages/").removesuffix(".js") for p in pages} == views
    assert '<script type="module" src="/static/js/main.js">' in (STATIC / "index.html").read_text()
