"""Reliability and security: no file ever runs code, a full disk loses no checkpoint, every bad
input is one clear line on stderr with exit status 2, and images of any mode and size are read.

docs/reliability.md lists every case with the test that proves it; the cases already proven in
test_train.py, test_data.py, test_data_fuzz.py and test_ecosystem.py are referenced there, not
repeated here.
"""

from __future__ import annotations

import ast
import dataclasses
import errno
import io
import os
import shutil
import tempfile
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image
from safetensors.torch import save_file

from classicnets import create_model
from classicnets.weights import shipped
from classicnets.cli import main
from classicnets.data import DataWarning, discovery, load_dataset, load_image
from classicnets.errors import DataError
from classicnets.train import checkpoint, make_config, metrics, predict, read_meta, read_metrics, read_weights, train
from classicnets.train.checkpoint import BEST, LAST, META_KEY, PENDING, STATE, load_training_state
from test_data import image_tree, save
from test_train import QUICK, Evil, assert_bit_identical, cli, one_line_error

ROOT = Path(__file__).resolve().parents[1]
# the gray run: lenet5_modern on digits, saved (last, best when validation improves) every 10 steps
GRAY_RUN = ["train", "lenet5_modern", *QUICK, "--iterations", "30", "--eval-every", "10", "--batch-size", "32"]
RUN_FILES = sorted(["config.json", "metrics.jsonl", "segments.json", LAST, BEST, STATE])
TIMING = ("images_per_s", "wall_time")  # the metrics that differ between identical runs


def snapshot(folder: Path) -> dict[str, bytes]:
    """Every file of a run folder, to prove a refused command changed nothing."""
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


def records(run: Path) -> list[dict[str, Any]]:
    return [{k: v for k, v in r.items() if k not in TIMING} for r in read_metrics(run)]


# --- fixtures ------------------------------------------------------------------------------------------


@pytest.fixture(scope="module", autouse=True)
def isolated(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Decoded data is cached in a temporary folder; the user's dataset places are not searched;
    the training threads are given back afterwards."""
    threads = torch.get_num_threads()
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("CLASSICNETS_CACHE", str(tmp_path_factory.mktemp("cache")))
        mp.setenv("HOME", str(tmp_path_factory.mktemp("home")))
        mp.delenv("CLASSICNETS_DATA", raising=False)
        mp.setattr(discovery, "SYSTEM_ROOTS", ())
        yield
    torch.set_num_threads(threads)


@pytest.fixture(scope="module")
def gray_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A finished GRAY_RUN (1 channel, 10 classes): also the uninterrupted reference."""
    out = tmp_path_factory.mktemp("gray") / "run"
    assert main([*GRAY_RUN, "--out", str(out)]) == 0
    return out


@pytest.fixture(scope="module")
def color_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """lenet5_modern on a folder of 12 x 12 RGB images in 2 classes (3 channels)."""
    root = tmp_path_factory.mktemp("color")
    data = image_tree(root / "data", {"a": 10, "b": 10})
    out = root / "run"
    train(make_config("lenet5_modern", f"folder:{data}", str(out), iterations=2, batch_size=8, threads=1, progress=False))
    return out


# --- untrusted files -------------------------------------------------------------------------------------

UNSAFE_MODULES = frozenset({"pickle", "_pickle", "cPickle", "dill", "cloudpickle", "joblib", "shelve", "marshal"})
UNSAFE_CALLS = frozenset({f"{m}.{f}" for m in UNSAFE_MODULES for f in ("load", "loads", "Unpickler")}) | {
    "torch.jit.load",  # TorchScript archives carry code
    "torch.package.PackageImporter",
}


def dotted(node: ast.expr) -> str:
    """``a.b.c`` for a chain of names and attributes, else ""."""
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return f"{dotted(node.value)}.{node.attr}" if dotted(node.value) else ""
    return ""


def test_source_never_unpickles() -> None:
    """Every torch.load in src/ (and hubconf.py) passes weights_only=True; no pickle-style loader,
    no allow_pickle=True, and no aliased import that could hide one."""
    torch_loads = []
    for path in [*sorted((ROOT / "src").rglob("*.py")), ROOT / "hubconf.py"]:
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            where = f"{path.relative_to(ROOT)}:{getattr(node, 'lineno', 0)}"
            if isinstance(node, ast.Import):
                assert all(a.asname is None for a in node.names if a.name in UNSAFE_MODULES), where
            elif isinstance(node, ast.ImportFrom) and node.module in UNSAFE_MODULES:
                assert not {a.name for a in node.names} & {"load", "loads", "Unpickler"}, where
            elif isinstance(node, ast.Call):
                name, keywords = dotted(node.func), {k.arg: k.value for k in node.keywords}
                assert name not in UNSAFE_CALLS, f"{where}: {name}"
                if name == "torch.load":
                    torch_loads.append(where)
                    flag = keywords.get("weights_only")
                    assert isinstance(flag, ast.Constant) and flag.value is True, f"{where}: torch.load without weights_only=True"
                allow = keywords.get("allow_pickle")
                assert not (isinstance(allow, ast.Constant) and allow.value), f"{where}: allow_pickle=True"
    # the scan sees the real call: the one place that loads files (checkpoints and weights use it)
    assert [w.split(":")[0] for w in torch_loads] == ["src/classicnets/safeload.py"]


def evil_file(path: Path, marker: Path) -> Path:
    """A torch.save file whose unpickling would write ``marker``."""
    evil = Evil()
    evil.marker = str(marker)
    torch.save({"format": 1, "payload": evil}, path)
    return path


def test_the_payload_is_live(tmp_path: Path) -> None:
    """The control: an unsafe load of the crafted file does run its code."""
    torch.load(evil_file(tmp_path / "evil.pt", tmp_path / "marker"), weights_only=False)
    assert (tmp_path / "marker").read_text() == "pwned"


ENTRY_POINTS = [  # (name, argv, where the bad file goes: None = given as the file itself)
    ("predict-file", ["predict", "{bad}", "{image}"], None),
    ("predict-run", ["predict", "{run}", "{image}"], BEST),
    ("eval-file", ["eval", "{bad}"], None),
    ("eval-run", ["eval", "{run}"], BEST),
    ("export-file", ["export", "{bad}", "-o", "{tmp}/m.onnx"], None),
    ("export-run", ["export", "{run}", "-o", "{tmp}/m.onnx"], BEST),
    ("resume-weights", ["train", "--resume", "{run}"], LAST),
    ("resume-state", ["train", "--resume", "{run}"], STATE),
]


@pytest.mark.parametrize(
    ("kind", "argv", "plant"),
    [
        pytest.param(kind, argv, plant, id=f"{kind}-{name}")
        for kind in ("pickle", "truncated")
        for name, argv, plant in ENTRY_POINTS
        if (kind, plant) != ("pickle", STATE)  # test_train.py::test_resume_refuses_state_that_would_run_code
    ],
)
def test_bad_checkpoint_is_refused_at_every_entry_point(
    kind: str, argv: list[str], plant: str | None, gray_run: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A file whose unpickling would run code (it writes a marker), or a truncated one, given to
    predict, eval, export or --resume: one line, exit status 2, no marker, the run untouched."""
    run, marker = tmp_path / "run", tmp_path / "marker"
    shutil.copytree(gray_run, run)
    bad = run / plant if plant else tmp_path / "bad.safetensors"
    if kind == "pickle":
        evil_file(bad, marker)
    else:
        good = (gray_run / (plant or LAST)).read_bytes()
        bad.write_bytes(good[: len(good) // 2])
    image = save(Image.new("L", (28, 28)), tmp_path / "digit.png")
    before = snapshot(run)
    assert main([a.format(bad=bad, run=run, image=image, tmp=tmp_path) for a in argv]) == 2
    assert str(bad) in one_line_error(capsys.readouterr().err)
    assert not marker.exists() and snapshot(run) == before


def test_errors_print_no_traceback_in_a_real_process(tmp_path: Path) -> None:
    marker = tmp_path / "marker"
    evil = evil_file(tmp_path / "evil.pt", marker)
    image = save(Image.new("L", (28, 28)), tmp_path / "digit.png")
    for args in (["predict", str(evil), str(image)], ["train", "lenet5", "--dataset", "mnsit", "--out", "x"]):
        proc = cli(*args)
        assert proc.returncode == 2 and proc.stdout == ""
        assert one_line_error(proc.stderr).startswith("classicnets: error: ")
    assert not marker.exists()


# --- a full disk -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("target", ["metrics.jsonl", BEST, PENDING, STATE])
def test_full_disk_keeps_the_previous_checkpoint(
    target: str, gray_run: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The disk fills up while the second checkpoint is written (halfway through ``target``): one
    line, exit status 2, no partial file left, the first checkpoint intact, and the resumed run
    ends bit-identical to the uninterrupted one."""
    run = tmp_path / "run"
    full = OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
    real_write, real_record = checkpoint._write_synced, metrics.MetricsLog.write

    def write_synced(path: Path, data: bytes, mode: str) -> None:
        if target in path.name and (run / LAST).exists():
            with open(path, mode) as f:
                f.write(data[: len(data) // 2])
            raise full
        real_write(path, data, mode)

    def write_record(log: metrics.MetricsLog, record: metrics.Record) -> None:
        if target == "metrics.jsonl" and (run / LAST).exists():
            with open(log.path, "a") as f:
                f.write('{"step": 20, "epoch": 0.')  # the line the full disk cut short
            raise full
        real_record(log, record)

    monkeypatch.setattr(checkpoint, "_write_synced", write_synced)
    monkeypatch.setattr(metrics.MetricsLog, "write", write_record)
    assert main([*GRAY_RUN, "--out", str(run)]) == 2
    message = one_line_error(capsys.readouterr().err)
    assert "No space left on device" in message and f"the last good checkpoint is kept in {run / LAST}" in message
    left = sorted(p.name for p in run.iterdir() if p.name not in RUN_FILES)
    assert left in ([], [PENDING])  # nothing half-written; at most complete weights whose state failed
    state, weights = load_training_state(run)  # the previous pair, as --resume finds it
    assert f"cannot save step {state['step'] + 10} in {run}" in message and read_meta(weights).step == state["step"]
    assert sorted(p.name for p in run.iterdir()) == RUN_FILES

    monkeypatch.undo()  # space is freed
    assert main(["train", "--resume", str(run)]) == 0
    assert_bit_identical(gray_run / LAST, run / LAST)
    assert_bit_identical(gray_run / BEST, run / BEST)
    assert records(run) == records(gray_run) and sorted(p.name for p in run.iterdir()) == RUN_FILES


# --- bad input at the command line ----------------------------------------------------------------------

BAD_INPUT = [  # (case, argv, the message says); placeholders are made by `places`
    ("unknown-model", ["train", "lenet55", *QUICK, "--out", "{new}"], "unknown model 'lenet55'; did you mean lenet5"),
    ("unknown-model-info", ["info", "resnet21"], "unknown model 'resnet21'; did you mean resnet32, resnet20"),
    ("unknown-dataset", ["train", "lenet5", "--dataset", "mnsit", "--out", "{new}"], "unknown dataset 'mnsit'; did you mean mnist"),
    ("missing-data", ["train", "lenet5", "--dataset", "mnist", "--data-dir", "{empty}", "--out", "{new}"],
     "dataset 'mnist' not found; looked in {empty}"),
    ("empty-folder", ["train", "lenet5", "--dataset", "folder:{empty}", "--out", "{new}"], "has no class subfolders"),
    ("single-class", ["train", "lenet5", "--dataset", "folder:{single}", "--out", "{new}"], "has a single class ('only')"),
    ("only-unreadable-files", ["train", "lenet5", "--dataset", "folder:{unreadable}", "--out", "{new}"], "has no readable images"),
    ("batch-larger-than-data", ["train", "lenet5_modern", *QUICK, "--batch-size", "5000", "--out", "{new}"], "lower --batch-size"),
    ("eval-batch-size-0", ["eval", "{run}", "--batch-size", "0"], "--batch-size must be positive"),
    ("predict-topk-0", ["predict", "{run}", "{image}", "--topk", "0"], "--topk must be >= 1"),
    ("out-under-a-file", ["train", "lenet5_modern", *QUICK, "--iterations", "1", "--out", "{file}/run"],
     "cannot write the run folder {file}/run: Not a directory"),
    ("png-under-a-file", ["eval", "{run}", "--png", "{file}/c.png"], "cannot write {file}/c.png"),
    ("onnx-under-a-file", ["export", "{run}", "-o", "{file}/m.onnx", "--no-check"], "cannot write {file}/m.onnx"),
    ("predict-missing-image", ["predict", "{run}", "{empty}/absent.png"], "cannot read image {empty}/absent.png"),
    ("predict-not-an-image", ["predict", "{run}", "{file}"], "cannot read image {file}: cannot identify image file"),
    ("predict-not-a-run", ["predict", "{empty}", "{image}"], "no best.safetensors or last.safetensors in {empty}"),
    ("predict-model-without-shipped-weights", ["predict", "resnet32", "{image}"],
     f"classicnets ships no pretrained weights for 'resnet32' (it has: {', '.join(sorted(shipped()))})"),
    ("resume-not-a-run", ["train", "--resume", "{empty}"], "no training state at {empty}/last.state.pt"),
    ("predict-weights-of-another-model", ["predict", "{foreign}", "{image}"], "do not fit lenet5_modern"),
    ("predict-edited-metadata", ["predict", "{edited}", "{image}"], "cannot rebuild lenet5_modern from its metadata"),
    ("eval-other-number-of-classes", ["eval", "{run}", "--dataset", "folder:{two}"], "has 2 classes but the model was trained on 10"),
    ("resume-as-another-model", ["train", "lenet5", "--resume", "{run}"], "cannot change MODEL 'lenet5' (the run has 'lenet5_modern') when resuming"),
    ("resume-weights-of-another-run", ["train", "--resume", "{mixed}"], "does not match last.state.pt"),
]  # fmt: skip


def places(tmp: Path, gray_run: Path, color_run: Path) -> dict[str, Path]:
    """The files and folders BAD_INPUT refers to."""
    empty, file = tmp / "empty", tmp / "file.txt"
    empty.mkdir()
    file.write_text("not an image")
    unreadable = tmp / "unreadable"
    for cls in ("a", "b"):
        (unreadable / cls).mkdir(parents=True)
        (unreadable / cls / "x.png").write_bytes(b"\x89PNG\r\n\x1a\n")
    run, mixed = tmp / "run", tmp / "mixed"
    shutil.copytree(gray_run, run)
    shutil.copytree(gray_run, mixed)
    shutil.copy(color_run / LAST, mixed / LAST)
    meta = read_meta(gray_run / LAST)
    foreign, edited = tmp / "foreign.safetensors", tmp / "edited.safetensors"
    save_file(create_model("lenet5", num_classes=10).state_dict(), foreign, metadata={META_KEY: meta.to_json()})
    edited_meta = dataclasses.replace(meta, model_args={"bogus": 1})
    save_file(read_weights(gray_run / LAST)[0], edited, metadata={META_KEY: edited_meta.to_json()})
    return {
        "new": tmp / "new", "empty": empty, "file": file, "unreadable": unreadable, "run": run, "mixed": mixed,
        "foreign": foreign, "edited": edited, "image": save(Image.new("L", (28, 28)), tmp / "digit.png"),
        "single": image_tree(tmp / "single", {"only": 3}), "two": image_tree(tmp / "two", {"a": 5, "b": 5}),
    }  # fmt: skip


@pytest.mark.parametrize(("argv", "says"), [pytest.param(a, s, id=c) for c, a, s in BAD_INPUT])
def test_bad_input_is_one_line_exit_2(
    argv: list[str], says: str, gray_run: Path, color_run: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Each bad input: exit status 2, one line on stderr naming the problem, nothing created or changed."""
    where = places(tmp_path, gray_run, color_run)
    before = snapshot(where["run"])
    assert main([a.format(**where) for a in argv]) == 2
    assert says.format(**where) in one_line_error(capsys.readouterr().err)
    assert not where["new"].exists() and snapshot(where["run"]) == before


def test_resume_refuses_data_that_gained_a_class(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = image_tree(tmp_path / "data", {"a": 10, "b": 10})
    run = tmp_path / "run"
    train(make_config("lenet5_modern", f"folder:{data}", str(run), iterations=2, batch_size=8, threads=1, progress=False))
    image_tree(data, {"c": 10}, seed=1)
    before = snapshot(run)
    assert main(["train", "--resume", str(run), "--iterations", "4"]) == 2
    assert "was trained with num_classes=2, but the model has 3" in one_line_error(capsys.readouterr().err)
    assert snapshot(run) == before


def test_skipped_files_are_one_counted_warning_line(color_run: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = image_tree(tmp_path / "data", {"a": 5, "b": 5})
    (data / "a" / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n")
    (data / "b" / "notes.txt").write_text("not an image")
    assert main(["eval", str(color_run), "--dataset", f"folder:{data}", "--png", str(tmp_path / "c.png")]) == 0
    warning = f"classicnets: warning: skipped 2 unreadable files in {data} (e.g. a/broken.png)"
    assert capsys.readouterr().err.splitlines() == [warning]


# --- images of any mode and size -------------------------------------------------------------------------


def test_predict_converts_any_mode_and_size(
    color_run: Path, gray_run: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Each image is predicted exactly as the image it is documented to become (docs/reliability.md)."""
    rng = np.random.default_rng(0)
    gray = rng.integers(0, 256, (20, 30), dtype=np.uint8)
    rgb = rng.integers(0, 256, (16, 16, 3), dtype=np.uint8)
    alpha = np.where(rng.random((16, 16)) < 0.5, 0, 255).astype(np.uint8)
    on_white = np.where(alpha[..., None] == 255, rgb, 255).astype(np.uint8)
    palette = Image.fromarray(rgb).convert("P")
    bits = Image.fromarray(gray).convert("1")

    def png(name: str, img: Image.Image) -> Path:
        return save(img, tmp_path / f"{name}.png")

    pairs = {  # run -> [(image, the image it must be read as)]
        color_run: [
            (png("gray", Image.fromarray(gray)), png("gray-as-rgb", Image.fromarray(np.stack([gray] * 3, -1)))),
            (png("rgba", Image.fromarray(np.dstack([rgb, alpha]))), png("rgba-as-rgb", Image.fromarray(on_white))),
            (png("i16", Image.fromarray(gray.astype(np.uint16) * 257)), png("i16-as-l", Image.fromarray(gray))),
            (png("palette", palette), png("palette-as-rgb", palette.convert("RGB"))),
            (png("bits", bits), png("bits-as-l", bits.convert("L"))),
        ],
        gray_run: [
            (png("color", Image.fromarray(rgb)), png("color-as-l", Image.fromarray(rgb).convert("L"))),
            (png("rgba-gray", Image.fromarray(np.dstack([rgb, alpha]))), png("rgba-as-l", Image.fromarray(on_white).convert("L"))),
        ],
    }  # fmt: skip
    for run, images in pairs.items():
        files = [f for pair in images for f in pair]
        top = predict(run, files, topk=2, device="cpu")
        for (a, b), got, want in zip(images, top[::2], top[1::2], strict=True):
            assert [n for n, _ in got] == [n for n, _ in want], a.name
            assert [p for _, p in got] == pytest.approx([p for _, p in want], abs=1e-6), b.name
        assert main(["predict", str(run), *map(str, files), "--topk", "1"]) == 0
        assert [line for line in capsys.readouterr().out.splitlines() if not line.startswith(" ")] == list(map(str, files))


FOLDER_MODES = ("1", "L", "LA", "I;16", "P", "RGB", "RGBA")
GRAY_MODES = frozenset({"1", "L", "LA", "I;16"})


def random_image(mode: str, h: int, w: int, seed: int) -> Image.Image:
    rng = np.random.default_rng(seed)
    if mode == "I;16":
        return Image.fromarray(rng.integers(0, 65536, (h, w), dtype=np.uint16))
    return Image.fromarray(rng.integers(0, 256, (h, w, 4), dtype=np.uint8), "RGBA").convert(mode)


@settings(max_examples=25, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(FOLDER_MODES), st.integers(1, 24), st.integers(1, 24)), min_size=6, max_size=8))
def test_folder_of_any_modes_and_sizes(images: list[tuple[str, int, int]]) -> None:
    """Random modes and sizes: every image is read (none skipped), at the common size or 64 x 64,
    with 1 channel exactly when all are gray."""
    with tempfile.TemporaryDirectory() as d:
        root = Path(d)
        for i, (mode, h, w) in enumerate(images):
            save(random_image(mode, h, w, i), root / "ab"[i % 2] / f"{i}.png")
        with warnings.catch_warnings():
            warnings.simplefilter("error", DataWarning)
            data = load_dataset(f"folder:{root}", cache=False, val_size=0)
    sizes = {(h, w) for _, h, w in images}
    assert data.image_size == (sizes.pop() if len(sizes) == 1 else (64, 64))
    assert data.in_chans == (1 if all(m in GRAY_MODES for m, _, _ in images) else 3)
    assert len(data.train) + len(data.test) == len(images)


def encoded(fmt: str) -> bytes:
    buffer = io.BytesIO()
    random_image("RGB", 6, 6, 0).save(buffer, fmt)
    return buffer.getvalue()


ENCODED = {fmt: encoded(fmt) for fmt in ("PNG", "JPEG", "BMP", "GIF", "TIFF")}


@pytest.fixture
def small_bomb_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    """A mutated header may claim millions of pixels: PIL's decompression-bomb check refuses them
    (lowered here so that fuzzing never allocates much)."""
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 1 << 16)


@pytest.mark.usefixtures("small_bomb_limit")
@pytest.mark.filterwarnings("ignore:::PIL")  # PIL warns about the tags and sizes it skips
@settings(max_examples=150, deadline=None)
@given(st.sampled_from(sorted(ENCODED)), st.lists(st.tuples(st.integers(0, 63), st.integers(0, 255)), min_size=1, max_size=4))
def test_mutated_image_headers(fmt: str, edits: list[tuple[int, int]]) -> None:
    """Random bytes in the first 64 of an image file: a one-line DataError or a correct tensor."""
    data = bytearray(ENCODED[fmt])
    for pos, value in edits:
        data[pos % len(data)] = value
    try:
        image = load_image(bytes(data), 3, 8)
    except DataError as e:
        assert "\n" not in str(e)
    else:
        assert image.shape == (3, 8, 8) and image.dtype == torch.uint8
