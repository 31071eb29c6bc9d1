"""``classicnets serve``: the explorer's API on the real models, its bad-input answers, its path
safety, a hypothesis fuzz of the running server, and the command line's errors."""

from __future__ import annotations

import base64
import io
import json
import os
import socket
import struct
import subprocess
import sys
import warnings
import zlib
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import httpx
import numpy as np
import pytest
from conftest import REPO, SHARED_DATA, free_port, tiny_run
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

from classicnets.serve import create_app
from classicnets.serve.digits import mnist_like

with warnings.catch_warnings():
    warnings.simplefilter("ignore")  # starlette's note about its test client's HTTP library
    from starlette.testclient import TestClient


@pytest.fixture(scope="module")
def run_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A --runs folder with one real (tiny) run, a symlink that leads out of it, and a secret outside."""
    root = tmp_path_factory.mktemp("runs")
    tiny_run(root / "tiny", iterations=12, eval_every=4)
    outside = root.parent / "outside"
    outside.mkdir(exist_ok=True)
    (outside / "metrics.jsonl").write_text('{"step": 1, "train_error": 0.5}\n')
    (root / "escape").symlink_to(outside, target_is_directory=True)
    return root


@pytest.fixture(scope="module")
def client(run_root: Path) -> Iterator[TestClient]:
    app = create_app(runs=[run_root], data_dir=str(SHARED_DATA))
    yield TestClient(app)
    app.state.live.close()


def png(array: np.ndarray) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(array).save(buf, "PNG")
    return buf.getvalue()


def a_seven() -> np.ndarray:
    """A 7 drawn large on a 280 x 280 canvas, as the page sends it."""
    canvas = np.zeros((280, 280), dtype=np.uint8)
    canvas[40:60, 60:220] = 255  # the bar
    for i in range(180):  # the stem, down to the left
        y, x = 60 + i, 200 - i // 2
        canvas[y : y + 8, x : x + 18] = 255
    return canvas


# ---- the API on the real models ------------------------------------------------------------------


def test_models_page_has_the_checked_layer_table(client: TestClient) -> None:
    names = [m["name"] for m in client.get("/api/models").json()]
    assert "vgg16" in names and "plain56" in names
    page = client.get("/api/models/vgg16").json()
    assert page["summary"]["totals"]["params"] == 138_357_544
    assert [c["ok"] for c in page["summary"]["checks"]] == [True, True]  # params exactly, MACs within 1%
    assert [p["channels"] for p in page["shapes"]][:3] == [64, 64, 128] and page["shapes"][-1]["hw"] == 14 * 14
    svg = client.get("/api/models/lenet5/diagram.svg")
    assert svg.status_code == 200 and svg.headers["content-type"].startswith("image/svg+xml") and b"<svg" in svg.content


def test_a_drawn_seven_is_read_as_seven_by_both_lenets(client: TestClient) -> None:
    answer = client.post("/api/digit", content=png(a_seven()))
    assert answer.status_code == 200, answer.text
    body = answer.json()
    for name in ("lenet5", "lenet5_modern"):
        m = body["models"][name]
        assert m["prediction"] == "7" and abs(sum(m["probabilities"]) - 1) < 1e-3
        assert [m["maps"][k]["count"] for k in ("C1", "S2", "C3", "S4")] == [6, 6, 16, 16]
        assert [m["maps"][k]["height"] for k in ("C1", "S2", "C3", "S4")] == [28, 14, 10, 5]
        assert (m["input"]["height"], m["input"]["width"]) == (32, 32)
    rbf = body["models"]["lenet5"]["rbf_distances"]
    assert rbf.index(min(rbf)) == 7 and body["models"]["lenet5_modern"]["rbf_distances"] is None


def test_drawings_are_made_mnist_like() -> None:
    digit = mnist_like(Image.fromarray(a_seven()))
    assert digit.shape == (28, 28)
    ys, xs = np.nonzero(digit > 25)
    assert max(ys.max() - ys.min(), xs.max() - xs.min()) + 1 <= 21  # inside the 20 x 20 box
    cy, cx = (np.indices(digit.shape) * digit).reshape(2, -1).sum(1) / digit.sum()
    assert abs(cy - 14) < 1 and abs(cx - 14) < 1  # centred on its centre of mass


def test_sample_digits_come_from_mnist_when_it_is_on_disk(client: TestClient) -> None:
    if not (SHARED_DATA / "mnist").is_dir():
        pytest.skip(f"MNIST not found in {SHARED_DATA}")
    sample = client.get("/api/digit/sample").json()
    assert sample["source"] == "MNIST test set" and sample["label"] in "0123456789"
    pixels = Image.open(io.BytesIO(base64.b64decode(sample["png"].split(",")[1])))
    assert pixels.size == (28, 28)


@pytest.mark.parametrize(
    "shortcut,zero,changes,identity,returns",
    [("identity", True, False, True, "a[l]  (identity)"),
     ("none", True, False, False, "g(b) = 0 everywhere  (a[l] is lost)"),
     ("C", True, False, False, "W_s a[l]  (a projection, not the identity)"),
     ("B", True, True, False, "g(W_s a[l])  (W_s projects a[l] to the new shape)"),
     ("identity", False, False, False, None)],
)  # fmt: skip
def test_block_page_numbers_come_from_the_running_block(client, shortcut, zero, changes, identity, returns) -> None:
    b = client.post("/api/block", json={"shortcut": shortcut, "zero_last": zero, "changes_shape": changes}).json()
    assert b["identity"] is identity
    if returns:
        assert b["returns"] == returns
    assert b["needs_ws"] is (shortcut == "C" or (shortcut == "B" and changes))
    if identity:
        assert b["a_next"] == b["a_l"] and b["max_diff_from_input"] == 0
    if shortcut == "none" and zero:
        assert b["shortcut_term"] is None and all(v == 0 for row in b["a_next"] for v in row)


def test_runs_are_listed_and_their_curves_read(client: TestClient) -> None:
    runs = client.get("/api/runs").json()["runs"]
    assert {"id": "0/tiny", "kind": "run", "name": f"{runs[0]['name'].split('/')[0]}/tiny"} in runs
    curves = client.get("/api/runs/curves", params={"id": "0/tiny"}).json()
    assert [r["step"] for r in curves["records"]] == [4, 8, 12]


def test_published_results_are_served() -> None:
    published = TestClient(create_app()).get("/api/published").json()
    assert "degradation-quick" in published and published["degradation-quick"]["depths"] == [20, 32]


def need_cifar() -> None:
    if not (SHARED_DATA / "cifar10" / "test").is_dir():
        pytest.skip(f"CIFAR-10 not found in {SHARED_DATA}")


def test_why_gradients_have_one_finite_value_per_weight_layer(client: TestClient) -> None:
    need_cifar()
    body = client.get("/api/why/gradients").json()
    assert set(body["models"]) == {"plain20", "resnet20", "plain56", "resnet56"}
    for name, layers in body["models"].items():
        assert len(layers) == int(name.removeprefix("plain").removeprefix("resnet"))  # convs + the classifier
        assert all(np.isfinite(r["norm"]) and r["norm"] > 0 for r in layers)
        assert layers[0]["layer"] == "conv1" and layers[-1]["layer"] == "fc"


def test_why_ratios_come_from_the_shipped_weights(client: TestClient) -> None:
    import torch

    import classicnets as cn
    from classicnets.experiments import why
    from classicnets.experiments.why import RATIO_IMAGES, WhyLab
    from classicnets.weights import shipped

    need_cifar()
    body = client.get("/api/why/ratios").json()
    deepest = why.trained("resnet")  # ResNet-56 once it ships, ResNet-20 before
    assert body["model"] == deepest and deepest in shipped()
    assert f"the shipped {deepest} ({shipped()[deepest].recipe}, {100 * shipped()[deepest].test_error:.2f}% error" in body["weights"]
    assert len(body["blocks"]) == (int(deepest.removeprefix("resnet")) - 2) // 2  # 9 blocks for 20 layers, 27 for 56
    assert all(b["ratio"] > 0 for b in body["blocks"])
    assert [b["shortcut"] for b in body["blocks"]].count("zero-pad") == 2  # option A where the shape changes
    # the same measurement on other weights (the same network untrained) gives other numbers
    lab = WhyLab(str(SHARED_DATA))
    torch.manual_seed(0)
    untrained = cn.create_model(deepest)
    x, _ = lab.batch(RATIO_IMAGES, untrained.pretrained_cfg.mean, untrained.pretrained_cfg.std)
    other = [r.ratio for r in why.residual_ratios(untrained, x)]
    assert max(abs(a - b["ratio"]) for a, b in zip(other, body["blocks"], strict=True)) > 0.05


def test_why_removing_a_block_changes_the_accuracy(client: TestClient) -> None:
    from classicnets.experiments import why

    need_cifar()
    body = client.get("/api/why/removals").json()
    resnet = body["resnet"]
    assert resnet["model"] == why.trained("resnet") and 0.5 < resnet["accuracy"] <= 1
    assert len(resnet["blocks"]) == (int(resnet["model"].removeprefix("resnet")) - 2) // 2
    assert all(0 <= b["accuracy"] <= 1 for b in resnet["blocks"])
    assert len({b["accuracy"] for b in resnet["blocks"]}) > 1  # each removal measured, not one number copied
    if why.trained("plain") is None:
        assert body["plain"] is None and "no trained plain network ships yet" in body["plain_note"]
    else:  # whatever the numbers show is reported: here only that each block was measured, bypassed as in the ResNet
        plain = body["plain"]
        assert plain["model"] == why.trained("plain") and body["plain_note"] is None
        assert len(plain["blocks"]) == (int(plain["model"].removeprefix("plain")) - 2) // 2
        assert [b["shortcut"] for b in plain["blocks"]].count("zero-pad") == 2
        assert all(0 <= b["accuracy"] <= 1 for b in plain["blocks"])


def test_a_removed_block_passes_its_input_around() -> None:
    import torch

    import classicnets as cn
    from classicnets.experiments import why

    torch.manual_seed(0)
    for name in ("resnet20", "plain20"):  # a plain block is passed around the same way: only F is lost
        model = cn.create_model(name).eval()
        block = model.layer2[1]
        x = torch.relu(torch.randn(2, 32, 16, 16))
        with why.removed(block):
            out = block(x)
        assert torch.equal(out, x) and why.bypass_path(block) == "identity"
        assert not torch.equal(block(x), out)  # restored afterwards
        # where the shape changes (16 -> 32 channels, stride 2): option A's every other pixel and zero channels
        first = model.layer2[0]
        x = torch.relu(torch.randn(2, 16, 32, 32))
        with why.removed(first):
            out = first(x)
        assert out.shape == (2, 32, 16, 16) and why.bypass_path(first) == "zero-pad"
        assert torch.equal(out[:, :16], x[:, :, ::2, ::2]) and not out[:, 16:].any()


# ---- bad input: 4xx and one line, and the server keeps serving ----------------------------------

def png_claiming(width: int, height: int) -> bytes:
    """A small PNG whose header claims ``width`` x ``height`` pixels (its pixel data is far too short)."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"\0" * 64)) + chunk(b"IEND", b"")


BAD = [
    ("get", "/api/models/resnet21", {}, 404, "unknown model 'resnet21'; did you mean resnet32, resnet20, resnet18?"),
    ("post", "/api/digit", {"content": b"this is not an image"}, 422, "the body is not an image"),
    ("post", "/api/digit", {"content": b""}, 400, "the request has no image"),
    ("post", "/api/digit", {"content": b"\x89PNG" + b"0" * 2_100_000}, 413, "larger than 2,000,000 bytes"),
    ("post", "/api/digit", {"content": png(np.zeros((50, 50), dtype=np.uint8))}, 422, "the drawing is blank"),
    ("post", "/api/block", {"content": b"{not json"}, 400, "the body is not JSON"),
    ("post", "/api/block", {"content": b"[1, 2]"}, 400, "must be a JSON object"),
    ("post", "/api/block", {"content": b"[" * 4_000 + b"]" * 4_000}, 400, "the body is nested too deeply"),
    ("post", "/api/digit", {"content": png_claiming(20_000, 20_000)}, 422, "the image is too large to decode"),
    ("post", "/api/digit", {"content": png_claiming(5_000, 300)}, 422, "the image is too large: 5,000 x 300 pixels"),
    ("post", "/api/block", {"json": {"shortcut": "D"}}, 400, "shortcut must be one of"),
    ("post", "/api/block", {"json": {"shortcut": "A", "zero_last": "yes"}}, 400, "true or false"),
    ("get", "/api/runs/curves?id=0/../..", {}, 403, "is not a folder inside the --runs folder"),
    ("get", "/api/runs/curves?id=0/tiny/../../outside", {}, 403, "is not a folder inside the --runs folder"),
    ("get", "/api/runs/curves?id=0/escape", {}, 403, "is not a folder inside the --runs folder"),
    ("get", "/api/runs/curves?id=7/tiny", {}, 403, "no --runs folder number '7'"),
    ("get", "/api/runs/curves?id=%C2%B9/tiny", {}, 403, "no --runs folder number"),  # a digit that int() refuses (hypothesis found it)
    ("get", "/api/runs/curves?id=0/absent", {}, 403, "no run at 'absent'"),
    ("get", "/api/runs/curves", {}, 400, "give the run as ?id="),
    ("get", "/api/nothing-here", {}, 404, "Not Found"),
]


@pytest.mark.parametrize("method,path,kwargs,status,message", BAD, ids=[f"{b[1]}-{b[3]}" for b in BAD])
def test_bad_input_is_a_4xx_with_one_json_line(client, method, path, kwargs, status, message) -> None:
    answer = getattr(client, method)(path, **kwargs)
    assert answer.status_code == status
    error = answer.json()["error"]
    assert message in error and "\n" not in error
    assert client.get("/api/models").status_code == 200  # and it keeps serving


# ---- the running server, fuzzed ------------------------------------------------------------------

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4),
    max_leaves=10,
)
block_bodies = st.fixed_dictionaries(
    {}, optional={"shortcut": st.sampled_from(["identity", "A", "B", "C", "none", "x", ""]) | json_values,
                  "zero_last": st.booleans() | json_values, "changes_shape": st.booleans() | json_values},
)  # fmt: skip
images = st.builds(lambda a: png(np.array(a, dtype=np.uint8)), st.lists(st.lists(st.integers(0, 255), min_size=3, max_size=12),
                                                                        min_size=3, max_size=12).filter(lambda rows: len({len(r) for r in rows}) == 1))  # fmt: skip
run_ids = st.text(alphabet=st.sampled_from(list("0123/.abc\\%~ ")) | st.characters(), max_size=30)
requests = st.one_of(
    st.tuples(st.just("GET"), st.builds(lambda n: f"/api/models/{quote(n, safe='', errors='surrogatepass')}", st.text(max_size=20)), st.none()),
    st.tuples(st.just("GET"), st.builds(lambda n: f"/api/models/{n}/diagram.svg", st.sampled_from(["lenet5", "nope", "..", "%2e%2e"]))),
    st.tuples(st.just("POST"), st.just("/api/digit"), st.binary(max_size=300) | images),
    st.tuples(st.just("POST"), st.just("/api/block"), st.binary(max_size=100) | block_bodies.map(lambda d: json.dumps(d).encode())),
    st.tuples(st.just("GET"), st.builds(lambda i: "/api/runs/curves?id=" + quote(i, safe="/", errors="surrogatepass"), run_ids)),
    st.tuples(st.sampled_from(["GET", "POST", "PUT", "DELETE"]), st.text(alphabet="/abcdefgmoprstuvz0._-%", max_size=30)),
    # live training: every body but a valid one (a valid one would start a real job)
    st.tuples(st.just("POST"), st.just("/api/live/jobs"), st.binary(max_size=100) | json_values.map(lambda d: json.dumps(d).encode())),
    st.tuples(st.sampled_from(["GET", "POST"]), st.builds(lambda i, c: f"/api/live/jobs/{quote(i, safe='', errors='surrogatepass')}{c}",
                                                          st.text(max_size=8), st.sampled_from(["", "/cancel"]))),
    st.tuples(st.just("GET"), st.builds(lambda n, k: f"/api/live/estimate?network={quote(n, errors='surrogatepass')}&steps={quote(k, errors='surrogatepass')}",
                                        st.text(max_size=10), st.text(max_size=6))),
)


@pytest.mark.slow
def test_fuzzing_the_running_server_gives_no_5xx_and_no_traceback(serve, run_root: Path) -> None:
    served = serve("--runs", str(run_root), "--data-dir", str(SHARED_DATA))
    seen: list[tuple[str, str, int]] = []
    with httpx.Client(base_url=served.url, timeout=30) as http:

        @settings(max_examples=250, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
        @given(requests)
        def fuzz(request: tuple) -> None:
            method, path, *body = request
            if not path.startswith("/"):
                path = "/" + path
            answer = http.request(method, path, params=None, content=body[0] if body and body[0] else None)
            seen.append((method, path, answer.status_code))
            assert answer.status_code < 500, (method, path, answer.text)
            if path.startswith("/api/") and answer.status_code >= 400:
                assert "error" in answer.json()

        fuzz()
        assert http.get("/api/models").status_code == 200
    assert len(seen) >= 250 and any(s >= 400 for *_, s in seen) and any(s == 200 for *_, s in seen)
    output = served.output()
    assert "Traceback" not in output and "Exception" not in output, output[-3000:]


# ---- a classroom's load (benchmarks/serve_load.py, short) ------------------------------------------


def test_a_short_classroom_load_has_no_failed_request(serve) -> None:
    """4 clients for 4 s mixing the pages' real requests (the "why it works" figures aside: the
    benchmark includes them), with 20 idle connections held open first: every request answered."""
    sys.path.insert(0, str(REPO / "benchmarks"))
    try:
        import serve_load
    finally:
        sys.path.remove(str(REPO / "benchmarks"))
    served = serve("--data-dir", str(SHARED_DATA))
    assert serve_load.with_idle_connections(served.url, 20) < 10_000
    found = serve_load.classroom(served.url, clients=4, seconds=4, why=False)
    assert sum(len(v) for v in found.values()) >= 20 and len(found) >= 5
    failed = {endpoint: sum(ms is None for ms in v) for endpoint, v in found.items()}
    assert not any(failed.values()), failed
    assert "Traceback" not in served.output()


# ---- the command line ----------------------------------------------------------------------------


def cli(*args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(REPO / "src"), "OMP_NUM_THREADS": "1"}
    return subprocess.run([sys.executable, "-m", "classicnets", *args], capture_output=True, text=True, env=env,
                          timeout=timeout)  # fmt: skip


def test_a_port_in_use_is_one_line_and_exit_2() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        result = cli("serve", "--port", str(port))
    assert result.returncode == 2
    assert result.stderr.strip() == f"classicnets: error: port {port} on 127.0.0.1 is in use: stop what uses it, or pick another with --port"


def test_bad_runs_folder_is_one_line_and_exit_2(tmp_path: Path) -> None:
    result = cli("serve", "--port", str(free_port()), "--runs", str(tmp_path / "absent"))
    assert result.returncode == 2 and result.stderr.strip() == f"classicnets: error: --runs {tmp_path / 'absent'}: no such folder"


def test_listening_beyond_localhost_warns_once(serve) -> None:
    served = serve("--host", "0.0.0.0")
    output = served.output()
    assert output.count("warning: listening on 0.0.0.0: anyone on the network") == 1
    assert httpx.get(served.url + "/api/models").status_code == 200


def test_localhost_only_by_default_and_no_warning(serve) -> None:
    from classicnets.cli import build_parser
    from classicnets.serve import is_local

    assert build_parser().parse_args(["serve"]).host == "127.0.0.1"
    assert is_local("127.0.0.1") and is_local("::1") and is_local("localhost") and not is_local("0.0.0.0")
    served = serve()
    assert "warning" not in served.output() and served.output().startswith("classicnets explorer at http://127.0.0.1:")
