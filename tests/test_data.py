"""The data layer on the real datasets in ../shared/data and on small files built here: readers,
discovery, cache, folder datasets, image conversion, the batch loader and its augmentation."""

from __future__ import annotations

import dataclasses
import gzip
import io
import os
import shutil
import tarfile
import warnings
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image, ImageOps
from scipy.stats import chisquare
from torchvision import transforms
from torchvision.transforms import v2
from torchvision.transforms.v2 import functional as TF

from classicnets.data import (
    Augment,
    BatchLoader,
    DataWarning,
    TensorSplit,
    find_data,
    list_datasets,
    load_dataset,
    load_image,
    preprocess,
    search_roots,
)
from classicnets.data import cifar, download, idx
from classicnets.data.core import RawData, channel_stats
from classicnets.errors import ConfigError, DataError, DataNotFoundError, UnknownNameError

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"
MNIST_TRAIN_COUNTS = [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]
MNIST_TEST_COUNTS = [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]


def need(path: Path) -> Path:
    if not path.exists():
        pytest.skip(f"real dataset not available: {path} is missing")
    return path


def one_line(e: pytest.ExceptionInfo[BaseException]) -> str:
    msg = str(e.value)
    assert msg and "\n" not in msg
    return msg


# --- fixtures and builders ----------------------------------------------------------------------------


@pytest.fixture(scope="session", autouse=True)
def cache_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Every test caches into a session temp folder, never into the user's home."""
    path = tmp_path_factory.mktemp("tensor-cache")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("CLASSICNETS_CACHE", str(path))
        mp.delenv("CLASSICNETS_DATA", raising=False)
        yield path


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty home, so ~/.cache/classicnets holds nothing the test did not put there."""
    h = tmp_path / "home"
    h.mkdir()
    monkeypatch.setenv("HOME", str(h))
    return h


@pytest.fixture(scope="session")
def mnist_raw() -> RawData:
    files = idx.find_idx_files(need(DATA / "mnist"))
    assert files is not None
    return idx.read_idx_dataset(files, [str(i) for i in range(10)])


@pytest.fixture(scope="session")
def cifar10(cache_dir: Path):  # noqa: ARG001  (decodes the PNG tree once per session, into the temp cache)
    need(DATA / "cifar10" / "train")
    return load_dataset("cifar10", DATA)


def idx_bytes(array: np.ndarray) -> bytes:
    magic = idx.IMAGES_MAGIC if array.ndim == 3 else idx.LABELS_MAGIC
    header = magic.to_bytes(4, "big") + b"".join(d.to_bytes(4, "big") for d in array.shape)
    return header + array.astype(np.uint8).tobytes()


def write_mnist_like(folder: Path, n_train: int = 30, n_test: int = 10, gz: bool = True, seed: int = 0) -> Path:
    """A tiny dataset in MNIST's four-file IDX layout; labels cycle through 0..9."""
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    for stem, n in (("train", n_train), ("t10k", n_test)):
        arrays = {"images-idx3": rng.integers(0, 256, (n, 28, 28)), "labels-idx1": np.arange(n) % 10}
        for kind, a in arrays.items():
            data = idx_bytes(a)
            name = f"{stem}-{kind}-ubyte"
            if gz:
                (folder / f"{name}.gz").write_bytes(gzip.compress(data, mtime=0))
            else:
                (folder / name).write_bytes(data)
    return folder


def save(img: Image.Image, path: Path, fmt: str | None = None) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    img.save(path, format=fmt)
    return path


def random_rgb(rng: np.random.Generator, h: int = 12, w: int = 12) -> Image.Image:
    return Image.fromarray(rng.integers(0, 256, (h, w, 3), dtype=np.uint8))


def image_tree(root: Path, classes: dict[str, int], seed: int = 0, h: int = 12, w: int = 12) -> Path:
    rng = np.random.default_rng(seed)
    for cls, n in classes.items():
        (root / cls).mkdir(parents=True, exist_ok=True)
        for i in range(n):
            save(random_rgb(rng, h, w), root / cls / f"{i:03d}.png")
    return root


# --- IDX ---------------------------------------------------------------------------------------------


def test_mnist_idx_reader(mnist_raw: RawData) -> None:
    train, test = mnist_raw.train, mnist_raw.test
    assert train.images.shape == (60000, 1, 28, 28) and test.images.shape == (10000, 1, 28, 28)
    assert train.images.dtype == torch.uint8 and train.labels.dtype == torch.int64
    assert int(train.labels[0]) == 5 and int(test.labels[0]) == 7
    assert torch.bincount(train.labels).tolist() == MNIST_TRAIN_COUNTS
    assert torch.bincount(test.labels).tolist() == MNIST_TEST_COUNTS


def test_idx_gz_and_uncompressed_agree(tmp_path: Path) -> None:
    src = need(DATA / "mnist") / "t10k-labels-idx1-ubyte.gz"
    raw = tmp_path / "t10k-labels-idx1-ubyte"
    raw.write_bytes(gzip.decompress(src.read_bytes()))
    a, b = idx.read_idx(src, idx.LABELS_MAGIC), idx.read_idx(raw, idx.LABELS_MAGIC)
    assert a.shape == (10000,) and np.array_equal(a, b)


@pytest.mark.parametrize(
    "mutate, fragment",
    [
        (lambda b: b[:10], "truncated IDX header"),
        (lambda b: b[:-1], "expected"),
        (lambda b: b + b"\0", "expected"),
        (lambda b: (2049).to_bytes(4, "big") + b[4:], "magic 2049"),
        (lambda b: gzip.compress(b)[:-9], "corrupt gzip"),
    ],
)
def test_idx_reader_is_strict(tmp_path: Path, mutate, fragment: str) -> None:
    path = tmp_path / "x-idx3-ubyte"
    path.write_bytes(mutate(idx_bytes(np.zeros((3, 4, 5)))))
    with pytest.raises(DataError) as e:
        idx.read_idx(path, idx.IMAGES_MAGIC)
    assert str(path) in one_line(e) and fragment in str(e.value)


def test_mismatched_counts_and_labels_out_of_range(tmp_path: Path) -> None:
    folder = write_mnist_like(tmp_path / "m")
    (folder / "t10k-labels-idx1-ubyte.gz").write_bytes(gzip.compress(idx_bytes(np.arange(9) % 10)))
    with pytest.raises(DataError, match="10 images but 9 labels"):
        load_dataset("mnist", folder, cache=False)
    (folder / "t10k-labels-idx1-ubyte.gz").write_bytes(gzip.compress(idx_bytes(np.full(10, 10))))
    with pytest.raises(DataError, match="label 10 out of range"):
        load_dataset("mnist", folder, cache=False)


# --- discovery ----------------------------------------------------------------------------------------


def test_torchvision_layout_and_uncompressed_files(tmp_path: Path, home: Path) -> None:  # noqa: ARG001
    raw = write_mnist_like(tmp_path / "MNIST" / "raw", gz=False)
    assert find_data("mnist", tmp_path) == raw
    data = load_dataset("mnist", tmp_path, val_size=0, cache=False)
    assert len(data.train) == 30 and len(data.test) == 10 and len(data.val) == 0


def test_discovery_order(tmp_path: Path, home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    arg, env, cached = tmp_path / "arg", tmp_path / "env", home / ".cache" / "classicnets"
    for root in (arg, env, cached):
        write_mnist_like(root / "mnist")
    monkeypatch.setenv("CLASSICNETS_DATA", str(env))
    assert search_roots(arg)[:3] == [arg, env, cached]
    assert Path("/usr/share/datasets") in search_roots()
    assert find_data("mnist", arg) == arg / "mnist"
    assert find_data("mnist") == env / "mnist"
    monkeypatch.delenv("CLASSICNETS_DATA")
    assert find_data("mnist") == cached / "mnist"
    # the dataset folder itself, but never a folder named after another dataset
    assert find_data("mnist", arg / "mnist") == arg / "mnist"
    fashion = write_mnist_like(tmp_path / "fashion-mnist")
    assert find_data("fashion-mnist", fashion) == fashion
    assert find_data("mnist", fashion) != fashion


def test_missing_data_message(tmp_path: Path, home: Path) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    for name in ("mnist", "fashion-mnist", "cifar10", "cifar100"):
        if find_data(name, empty) is not None:  # a system-wide copy: nothing is missing
            continue
        with pytest.raises(DataNotFoundError) as e:
            load_dataset(name, empty)
        msg = one_line(e)
        assert name in msg and "--download" in msg and "--data-dir" in msg
        assert f"{empty}, {home / '.cache' / 'classicnets'}, /usr/share/datasets" in msg
        assert ("apt install dataset-fashion-mnist" in msg) == (name == "fashion-mnist")


def test_real_datasets_are_found() -> None:
    need(DATA)
    assert find_data("mnist", DATA) == DATA / "mnist" and find_data("fashion-mnist", DATA) == DATA / "fashion-mnist"
    assert find_data("cifar10", DATA) == DATA / "cifar10"  # the PNG tree: train/<class>/, test/<class>/
    assert find_data("cifar10", DATA / "cifar10") == DATA / "cifar10"


def test_unknown_names_suggest() -> None:
    assert list_datasets() == ["mnist", "fashion-mnist", "cifar10", "cifar100", "digits"]
    with pytest.raises(UnknownNameError) as e:
        load_dataset("mnsit")
    assert "did you mean mnist" in one_line(e)
    with pytest.raises(ConfigError, match="folder datasets only"):
        load_dataset("digits", image_size=32)


def test_download_only_when_asked(tmp_path: Path, home: Path, monkeypatch: pytest.MonkeyPatch) -> None:  # noqa: ARG001
    calls = []

    def fake_fetch(name: str, root: Path) -> None:
        calls.append((name, root))
        write_mnist_like(root / "MNIST" / "raw")

    monkeypatch.setattr("classicnets.data.catalog.fetch", fake_fetch)
    with pytest.raises(DataNotFoundError):
        load_dataset("mnist", tmp_path / "d")
    assert calls == []
    data = load_dataset("mnist", tmp_path / "d", download=True, val_size=0, cache=False)
    assert calls == [("mnist", tmp_path / "d")] and len(data.train) == 30


def test_download_failure_is_one_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def offline(*args: object, **kwargs: object) -> None:
        raise RuntimeError("Error downloading train-images-idx3-ubyte.gz:\nTried https://x, got:\n<urlopen error>")

    monkeypatch.setitem(download.TORCHVISION_CLASSES, "mnist", offline)
    monkeypatch.setattr(download, "download_and_extract_archive", offline)
    for name in ("mnist", "cifar10"):
        with pytest.raises(DataNotFoundError) as e:
            download.download(name, tmp_path)
        assert f"could not download {name}" in one_line(e)
    assert download.CIFAR_ARCHIVES["cifar10"][0].endswith("cifar-10-binary.tar.gz")


# --- CIFAR --------------------------------------------------------------------------------------------


def test_cifar10_from_the_png_tree(cifar10) -> None:
    assert (len(cifar10.train), len(cifar10.val), len(cifar10.test)) == (45000, 5000, 10000)
    assert cifar10.classes == cifar.CIFAR10_CLASSES and cifar10.classes[0] == "airplane" and cifar10.classes[-1] == "truck"
    assert cifar10.name == "cifar10" and Path(cifar10.source) == DATA / "cifar10"
    assert int(cifar10.train.labels[0]) == 0 and cifar10.image_size == (32, 32) and cifar10.in_chans == 3
    assert torch.bincount(cifar10.test.labels).tolist() == [1000] * 10
    assert torch.bincount(cifar10.val.labels).tolist() == [500] * 10  # stratified
    assert cifar10.mean == channel_stats(cifar10.train.images)[0]
    assert all(0.4 < m < 0.5 for m in cifar10.mean) and all(0.24 < s < 0.27 for s in cifar10.std)


@pytest.mark.slow
def test_png_tree_equals_the_official_binary_release(tmp_path: Path, cifar10) -> None:
    """The shared folder's own to_binary.py rebuilds the official binary files; they must be the
    release's bytes, and our binary reader must give the same test images as our folder reader."""
    import hashlib
    import subprocess
    import sys

    script = need(DATA / "cifar10" / "to_binary.py")
    subprocess.run([sys.executable, str(script), str(tmp_path)], check=True, capture_output=True)
    test_bin = (tmp_path / "test_batch.bin").read_bytes()
    assert hashlib.md5(test_bin).hexdigest() == "803d5f7f4d78ea53de84dbe85f74fb6d"  # the official test_batch.bin
    binary = cifar.read_binary(cifar.CIFAR10, tmp_path)
    assert (len(binary.train), len(binary.test)) == (50000, 10000)
    # the folder reader orders by (class, file name = official index): sort the binary version alike
    order = torch.argsort(binary.test.labels * 10_000 + torch.arange(10_000))
    assert torch.equal(binary.test.labels[order], cifar10.test.labels)
    assert torch.equal(binary.test.images[order], cifar10.test.images)


def test_cifar_folder_and_tar_decode_identically(tmp_path: Path, home: Path, cifar10) -> None:  # noqa: ARG001
    small_tar, tree = tmp_path / "small" / "cifar10.tar", tmp_path / "tree" / "cifar10"
    small_tar.parent.mkdir()
    with tarfile.open(small_tar, "w") as out:  # the first two files of each class, from the real PNG tree
        for split in ("train", "test"):
            for c in cifar.CIFAR10_CLASSES:
                for png in sorted((DATA / "cifar10" / split / c).iterdir())[:2]:
                    out.add(png, arcname=f"{split}/{c}/{png.name}")
                    (tree / split / c).mkdir(parents=True, exist_ok=True)
                    shutil.copyfile(png, tree / split / c / png.name)
    from_tar = load_dataset("cifar10", small_tar.parent, val_size=0, cache=False)
    from_tree = load_dataset("cifar10", tree.parent, val_size=0, cache=False)
    assert from_tree.source == str(tree) and from_tar.source == str(small_tar)
    for a, b in ((from_tar.train, from_tree.train), (from_tar.test, from_tree.test)):
        assert torch.equal(a.images, b.images) and torch.equal(a.labels, b.labels)
    # and the same pixels as the full tree: test image i of class c is at 1000 c + i there
    index = torch.tensor([1000 * c + i for c in range(10) for i in range(2)])
    assert torch.equal(from_tree.test.images, cifar10.test.images[index])


def write_cifar_binary(folder: Path, spec: cifar.CifarSpec, per_file: int = 4) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(1)
    folder.mkdir(parents=True)
    written = {}
    for f in spec.train_files + spec.test_files:
        labels = rng.integers(0, len(spec.classes), (per_file, spec.label_bytes))
        pixels = rng.integers(0, 256, (per_file, 3 * 32 * 32))
        (folder / f).write_bytes(np.concatenate([labels, pixels], axis=1).astype(np.uint8).tobytes())
        written[f] = np.concatenate([labels, pixels], axis=1)
    return written


@pytest.mark.parametrize("spec", [cifar.CIFAR10, cifar.CIFAR100], ids=lambda s: s.name)
def test_cifar_binary_version(tmp_path: Path, home: Path, spec: cifar.CifarSpec) -> None:  # noqa: ARG001
    written = write_cifar_binary(tmp_path / spec.bin_dir, spec)
    (tmp_path / spec.tar_names[0]).write_bytes(b"not read: the binary version is preferred")
    data = load_dataset(spec.name, tmp_path, val_size=0, cache=False)
    assert data.source == str(tmp_path / spec.bin_dir) and data.num_classes == len(spec.classes)
    first = written[spec.train_files[0]][0]
    assert int(data.train.labels[0]) == first[spec.label_bytes - 1]  # CIFAR-100: the fine label
    img = data.train.images[0]
    assert img[0, 0, 0] == first[spec.label_bytes] and img[1, 0, 0] == first[spec.label_bytes + 1024]
    assert img[0, 0, 1] == first[spec.label_bytes + 1] and img[0, 1, 0] == first[spec.label_bytes + 32]
    (tmp_path / spec.bin_dir / spec.test_files[0]).write_bytes(b"\0" * 3000)
    with pytest.raises(DataError, match="whole number") as e:
        load_dataset(spec.name, tmp_path, cache=False)
    one_line(e)


def test_pickle_version_is_refused(tmp_path: Path, home: Path) -> None:  # noqa: ARG001
    py = tmp_path / "cifar-10-batches-py"
    py.mkdir()
    for f in ("batches.meta", "data_batch_1", "test_batch"):
        (py / f).write_bytes(b"cos\nsystem\n(S'echo never run'\ntR.")  # a pickle that would run a command
    with pytest.raises(DataError) as e:
        load_dataset("cifar10", tmp_path)
    msg = one_line(e)
    assert "python version" in msg and "binary version" in msg and str(py) in msg
    assert find_data("cifar10", tmp_path) != py


# --- cache --------------------------------------------------------------------------------------------


def test_second_load_hits_the_cache(cifar10, monkeypatch: pytest.MonkeyPatch) -> None:
    def no_decoding(*args: object) -> None:
        raise AssertionError("decoded again instead of reading the cache")

    monkeypatch.setattr(cifar, "open_image", no_decoding)
    again = load_dataset("cifar10", DATA)
    assert torch.equal(again.train.images, cifar10.train.images) and torch.equal(again.test.labels, cifar10.test.labels)
    assert again.mean == cifar10.mean


def test_changed_source_rebuilds_the_cache(tmp_path: Path, cache_dir: Path, home: Path, monkeypatch: pytest.MonkeyPatch) -> None:  # noqa: ARG001
    folder = write_mnist_like(tmp_path / "mnist", gz=False, seed=42)
    reads = []
    real = idx.read_idx
    monkeypatch.setattr(idx, "read_idx", lambda *a: reads.append(a) or real(*a))
    first = load_dataset("mnist", tmp_path, val_size=0)
    assert len(reads) == 4
    load_dataset("mnist", tmp_path, val_size=0)
    assert len(reads) == 4  # cached
    labels = folder / "train-labels-idx1-ubyte"
    data = bytearray(labels.read_bytes())
    data[8] = (data[8] + 1) % 10  # the first training label
    labels.write_bytes(bytes(data))
    second = load_dataset("mnist", tmp_path, val_size=0)
    assert len(reads) == 8 and int(second.train.labels[0]) == (int(first.train.labels[0]) + 1) % 10
    files = sorted(p.name for p in cache_dir.iterdir())
    assert all(f.endswith(".safetensors") and not f.startswith(".") for f in files)
    # a corrupt cache file is rebuilt, not trusted
    for f in cache_dir.glob("mnist-*.safetensors"):
        f.write_bytes(b"garbage")
    assert torch.equal(load_dataset("mnist", tmp_path, val_size=0).train.images, second.train.images)
    assert len(reads) == 12


def test_unwritable_cache_only_warns_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("a file where the cache folder should be")
    monkeypatch.setenv("CLASSICNETS_CACHE", str(blocker / "tensors"))
    with pytest.warns(DataWarning, match="not caching"):
        data = load_dataset("digits")
    with warnings.catch_warnings():
        warnings.simplefilter("error", DataWarning)
        assert len(load_dataset("digits").test) == len(data.test)


# --- digits, splits, fit_to ---------------------------------------------------------------------------


def test_digits_offline() -> None:
    data = load_dataset("digits")
    assert data.image_size == (28, 28) and data.in_chans == 1 and data.classes == [str(i) for i in range(10)]
    assert len(data.train) + len(data.val) + len(data.test) == 1797 and len(data.test) == 359
    assert len(data.val) == round(0.1 * (1797 - 359))
    assert int(data.train.images.max()) > 200  # scaled to 0..255
    other = load_dataset("digits", split_seed=1)
    assert torch.equal(other.test.images, data.test.images)  # the test hold-out never moves
    assert not torch.equal(other.val.labels, data.val.labels) or not torch.equal(other.val.images, data.val.images)


def test_val_split(mnist_raw: RawData) -> None:  # noqa: ARG001  (skips without MNIST)
    a, b = load_dataset("mnist", DATA), load_dataset("mnist", DATA)
    assert (len(a.train), len(a.val), len(a.test)) == (55000, 5000, 10000)
    assert torch.equal(a.val.images, b.val.images)
    c = load_dataset("mnist", DATA, split_seed=1)
    assert not torch.equal(a.val.labels, c.val.labels)
    assert len(load_dataset("mnist", DATA, val_size=0.2).val) == 12000
    assert a.mean == channel_stats(a.train.images)[0] and abs(a.mean[0] - 0.1307) < 2e-3
    for bad in (60000, -1, 1.5, "10"):
        with pytest.raises(ConfigError):
            load_dataset("mnist", DATA, val_size=bad)  # type: ignore[arg-type]


def test_subset_is_stratified(cifar10) -> None:
    sub = cifar10.train.subset(100, seed=3)
    assert len(sub) == 100 and torch.bincount(sub.labels).tolist() == [10] * 10
    assert torch.equal(sub.images, cifar10.train.subset(100, seed=3).images)
    assert len(cifar10.val.subset(10**6)) == len(cifar10.val)


def test_fit_to_pads_like_lecun() -> None:
    data = load_dataset("digits")
    fitted = data.fit_to(32)
    x = fitted.train.images
    assert fitted.image_size == (32, 32) and len(fitted.test) == len(data.test)
    assert torch.equal(x[:, :, 2:30, 2:30], data.train.images)
    assert x[:, :, :2].eq(0).all() and x[:, :, 30:].eq(0).all() and x[:, :, :, :2].eq(0).all() and x[:, :, :, 30:].eq(0).all()
    assert fitted.mean[0] < data.mean[0] and fitted.mean == channel_stats(x)[0]
    same = data.fit_to((28, 28), in_chans=1)
    assert same is not data and same.train.images is data.train.images and same.mean == data.mean


def test_fit_to_resize_and_channels(cifar10) -> None:
    digits = load_dataset("digits")
    small = digits.fit_to(20)
    assert torch.equal(small.train.images, TF.resize(digits.train.images, [20, 20], antialias=True))
    rgb = digits.fit_to(28, in_chans=3)
    assert rgb.in_chans == 3 and torch.equal(rgb.train.images[:, 0], rgb.train.images[:, 2])
    sub = cifar10.test.subset(200)
    few = dataclasses.replace(cifar10, train=sub, val=sub, test=sub)
    gray = few.fit_to(32, in_chans=1)
    assert gray.in_chans == 1 and len(gray.std) == 1
    for i in range(len(sub)):
        pil = Image.fromarray(sub.images[i].permute(1, 2, 0).numpy()).convert("L")
        assert np.array_equal(gray.test.images[i, 0].numpy(), np.asarray(pil))
    doubled = few.fit_to(64)  # twice the size: resized, not padded
    assert doubled.image_size == (64, 64) and doubled.train.images[:, :, 0].float().mean() > 10


# --- folders and image conversion ----------------------------------------------------------------------


def test_folder_train_test_layout(tmp_path: Path) -> None:
    image_tree(tmp_path / "train", {"dog": 6, "cat": 5, "ant": 4})
    image_tree(tmp_path / "test", {"dog": 2, "cat": 2, "ant": 1}, seed=1)
    data = load_dataset(f"folder:{tmp_path}", cache=False)
    assert data.classes == ["ant", "cat", "dog"] and data.name == f"folder:{tmp_path}"
    assert len(data.test) == 5 and len(data.train) + len(data.val) == 15 and len(data.val) == 2
    assert data.image_size == (12, 12) and data.in_chans == 3
    ref = np.asarray(Image.open(tmp_path / "test" / "ant" / "000.png"))
    assert np.array_equal(data.test.images[0].permute(1, 2, 0).numpy(), ref)
    (tmp_path / "test" / "zebra").mkdir()
    with pytest.raises(DataError, match="zebra"):
        load_dataset(f"folder:{tmp_path}", cache=False)
    shutil.rmtree(tmp_path / "test")
    with pytest.raises(DataError, match="train/ but no test/"):
        load_dataset(f"folder:{tmp_path}", cache=False)


def test_folder_single_holdout(tmp_path: Path) -> None:
    image_tree(tmp_path, {"a": 10, "b": 10, "c": 5}, h=10, w=14)
    data = load_dataset(f"folder:{tmp_path}")
    assert torch.bincount(data.test.labels).tolist() == [2, 2, 1]
    again = load_dataset(f"folder:{tmp_path}", split_seed=5)
    assert torch.equal(again.test.images, data.test.images) and data.image_size == (10, 14)
    assert len(data.val) == 2
    save(random_rgb(np.random.default_rng(9), 30, 20), tmp_path / "c" / "big.png")
    mixed = load_dataset(f"folder:{tmp_path}")  # a changed folder: re-read, now mixed sizes -> 64 x 64
    assert mixed.image_size == (64, 64) and len(mixed.train) + len(mixed.val) + len(mixed.test) == 26
    assert load_dataset(f"folder:{tmp_path}", image_size=(16, 24), cache=False).image_size == (16, 24)


def test_folder_skips_unreadable_files_with_one_warning(tmp_path: Path) -> None:
    image_tree(tmp_path, {"a": 5, "b": 5})
    buf = io.BytesIO()
    random_rgb(np.random.default_rng(2), 40, 40).save(buf, "JPEG")
    (tmp_path / "a" / "broken.jpg").write_bytes(buf.getvalue()[: len(buf.getvalue()) // 2])
    (tmp_path / "b" / "notes.txt").write_text("not an image")
    (tmp_path / "b" / ".DS_Store").write_bytes(b"\0\1")  # hidden: ignored, not counted
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        data = load_dataset(f"folder:{tmp_path}", cache=False)
    msgs = [str(w.message) for w in caught if issubclass(w.category, DataWarning)]
    assert len(msgs) == 1 and msgs[0].startswith(f"skipped 2 unreadable files in {tmp_path} (e.g. ")
    assert len(data.train) + len(data.val) + len(data.test) == 10


@pytest.mark.parametrize(
    "layout, message",
    [
        ({}, "no class subfolders"),
        ({"only": 3}, "single class"),
        ({"a": 0, "b": 0}, "no readable images"),
    ],
)
def test_folder_errors(tmp_path: Path, layout: dict[str, int], message: str) -> None:
    image_tree(tmp_path, layout)
    (tmp_path / "loose.png").write_bytes(b"")
    with pytest.raises(DataError, match=message) as e:
        load_dataset(f"folder:{tmp_path}", cache=False)
    one_line(e)


def test_folder_missing() -> None:
    with pytest.raises(DataNotFoundError) as e:
        load_dataset("folder:/nonexistent/classicnets-data")
    assert "/nonexistent/classicnets-data" in one_line(e)
    assert find_data("folder:/nonexistent/classicnets-data") is None


def test_load_image_modes(tmp_path: Path) -> None:
    rng = np.random.default_rng(3)
    rgb = random_rgb(rng, 6, 8)
    assert np.array_equal(load_image(rgb, 3, (6, 8)).permute(1, 2, 0).numpy(), np.asarray(rgb))
    assert np.array_equal(load_image(rgb, 1, (6, 8))[0].numpy(), np.asarray(rgb.convert("L")))
    gray = Image.fromarray(rng.integers(0, 256, (6, 8), dtype=np.uint8))
    assert torch.equal(load_image(gray, 3, (6, 8)), torch.from_numpy(np.array(gray)).expand(3, 6, 8))
    rgba = np.zeros((6, 8, 4), dtype=np.uint8)
    rgba[:3] = (10, 20, 30, 255)  # opaque top half, transparent bottom half
    out = load_image(save(Image.fromarray(rgba), tmp_path / "rgba.png"), 3, (6, 8))
    assert out[:, 0, 0].tolist() == [10, 20, 30] and out[:, 5, 0].tolist() == [255, 255, 255]
    la = load_image(Image.merge("LA", [Image.fromarray(rgba[..., c].copy()) for c in (0, 3)]), 1, (6, 8))
    assert la[0, 0, 0] == 10 and la[0, 5, 0] == 255
    pal = Image.new("P", (8, 6))
    pal.putpalette([0, 0, 0, 200, 100, 50] + [0] * 762)
    pal.paste(1, (0, 0, 4, 6))
    out = load_image(save(pal, tmp_path / "p.png"), 3, (6, 8))
    assert out[:, 0, 0].tolist() == [200, 100, 50] and out[:, 0, 7].tolist() == [0, 0, 0]
    deep = np.array([[0, 257 * 100, 65535, 128]], dtype=np.uint16).repeat(6, 0).repeat(2, 1)
    out = load_image(save(Image.fromarray(deep), tmp_path / "i16.png"), 1, (6, 8))
    assert out[0, 0, ::2].tolist() == [0, 100, 255, 0]  # scaled, not clipped (128 / 257 rounds to 0)
    cmyk = Image.new("CMYK", (8, 6), (0, 255, 255, 0))
    out = load_image(save(cmyk, tmp_path / "c.jpg", "JPEG"), 3, (6, 8))
    assert np.abs(out.permute(1, 2, 0).numpy().astype(int) - np.asarray(cmyk.convert("RGB"))).max() < 8
    assert load_image(Image.new("1", (8, 6), 1), 1, (6, 8)).eq(255).all()


def test_load_image_applies_exif_orientation(tmp_path: Path) -> None:
    exif = Image.Exif()
    exif[0x0112] = 6  # stored landscape, shown rotated 90 degrees clockwise
    path = save(random_rgb(np.random.default_rng(6), 4, 8), tmp_path / "r.jpg")
    Image.open(path).save(path, exif=exif, quality=100)
    upright = np.asarray(ImageOps.exif_transpose(Image.open(path)))
    assert upright.shape == (8, 4, 3)
    assert np.array_equal(load_image(path, 3, (8, 4)).permute(1, 2, 0).numpy(), upright)


def test_load_image_resize_crop_matches_torchvision() -> None:
    img = random_rgb(np.random.default_rng(4), 30, 50)
    ref = v2.Compose([v2.PILToTensor(), v2.Resize(16), v2.CenterCrop(16)])
    assert torch.equal(load_image(img, 3, 16), ref(img))
    assert load_image(img, 3, (16, 40)).shape == (3, 16, 40)


def test_corrupt_image_is_one_line_data_error(tmp_path: Path) -> None:
    for data in (b"", b"\x89PNG\r\n\x1a\n garbage", b"hello"):
        (tmp_path / "x.png").write_bytes(data)
        with pytest.raises(DataError) as e:
            load_image(tmp_path / "x.png", 3, 8)
        assert "x.png" in one_line(e)


def test_mixed_modes_folder_channels(tmp_path: Path) -> None:
    rng = np.random.default_rng(5)
    for cls in ("a", "b"):
        save(Image.fromarray(rng.integers(0, 256, (8, 8), dtype=np.uint8)), tmp_path / cls / "l.png")
        save(Image.fromarray(rng.integers(0, 65535, (8, 8), dtype=np.uint16)), tmp_path / cls / "i16.png")
    assert load_dataset(f"folder:{tmp_path}", cache=False, val_size=0).in_chans == 1
    save(Image.new("CMYK", (8, 8)), tmp_path / "a" / "cmyk.jpg", "JPEG")
    save(Image.new("RGBA", (8, 8)), tmp_path / "b" / "rgba.png")
    assert load_dataset(f"folder:{tmp_path}", cache=False, val_size=0).in_chans == 3


# --- BatchLoader --------------------------------------------------------------------------------------


def test_loader_matches_torchvision_reference(mnist_raw: RawData) -> None:
    split = mnist_raw.test.select(np.arange(100))
    mean, std = (0.1307,), (0.3081,)
    ref = transforms.Compose([transforms.ToTensor(), transforms.Normalize(mean, std)])
    loader = BatchLoader(split, 32, mean=mean, std=std)
    batches = list(loader)
    assert len(loader) == len(batches) == 4 and batches[-1][0].shape == (4, 1, 28, 28)
    x, y = torch.cat([b[0] for b in batches]), torch.cat([b[1] for b in batches])
    expected = torch.stack([ref(img.permute(1, 2, 0).numpy()) for img in split.images])
    assert x.dtype == torch.float32 and torch.allclose(x, expected, atol=1e-6, rtol=0)
    assert torch.equal(y, split.labels)
    assert torch.allclose(preprocess(split.images[0], mean, std), expected[0], atol=1e-6, rtol=0)


def test_augmentation_matches_random_crop_and_flip_statistics() -> None:
    p, n = 4, 81 * 100
    base = torch.arange(1, 65, dtype=torch.uint8).view(1, 8, 8)  # unique pixels: the crop is identifiable
    split = TensorSplit(base.expand(n, 1, 8, 8).clone(), torch.zeros(n, dtype=torch.int64))
    loader = BatchLoader(split, 1000, mean=(0.0,), std=(1 / 255,), augment=Augment(crop_padding=p, hflip=True), seed=7)
    out = torch.cat([x for x, _ in loader]).round().to(torch.uint8).view(n, 64)
    # every (offset, flip) as torchvision's RandomCrop(8, padding=4) + RandomHorizontalFlip produce it
    padded = TF.pad(base, [p])
    cands = [(oy, ox, f) for oy in range(2 * p + 1) for ox in range(2 * p + 1) for f in (False, True)]
    ref = torch.stack([
        (TF.horizontal_flip(c) if f else c).reshape(64)
        for oy, ox, f in cands
        for c in [TF.crop(padded, oy, ox, 8, 8)]
    ])
    match = (out[:, None, :] == ref[None]).all(-1)
    assert match.sum(1).eq(1).all()  # every output is exactly one of torchvision's
    which = match.float().argmax(1)
    offsets = torch.bincount(which // 2, minlength=81)
    assert offsets.min() > 0 and chisquare(offsets.numpy()).pvalue > 1e-3
    flip_rate = (which % 2).float().mean().item()
    assert abs(flip_rate - 0.5) < 0.03


def test_loader_determinism_and_resume() -> None:
    n = 50
    split = TensorSplit(torch.randint(0, 256, (n, 3, 8, 8), generator=torch.Generator().manual_seed(0), dtype=torch.uint8), torch.arange(n))

    def make(seed: int) -> BatchLoader:
        return BatchLoader(split, 8, mean=(0.5,) * 3, std=(0.25,) * 3, shuffle=True, augment=Augment(2, True), seed=seed)

    state = torch.get_rng_state()
    a, b = list(make(1).epoch(3)), list(make(1).epoch(3))
    assert torch.equal(torch.get_rng_state(), state)  # the global RNG is untouched
    assert len(a) == 7 and all(torch.equal(x1, x2) and torch.equal(y1, y2) for (x1, y1), (x2, y2) in zip(a, b))
    assert sorted(torch.cat([y for _, y in a]).tolist()) == list(range(n))
    tail = list(make(1).epoch(3, start=4))
    assert len(tail) == 3 and all(torch.equal(x1, x2) for (x1, _), (x2, _) in zip(a[4:], tail))
    assert not torch.equal(torch.cat([y for _, y in make(1).epoch(4)]), torch.cat([y for _, y in a]))
    assert not torch.equal(list(make(2).epoch(3))[0][1], a[0][1])
    with pytest.raises(ConfigError):
        make(1).epoch(0, start=8)


@pytest.mark.parametrize("drop_last", [False, True])
def test_loader_shards_for_ddp(drop_last: bool) -> None:
    n, ws = 103, 4
    split = TensorSplit(torch.zeros(n, 1, 2, 2, dtype=torch.uint8), torch.arange(n))
    shards = []
    for rank in range(ws):
        loader = BatchLoader(split, 8, mean=(0.0,), std=(1.0,), shuffle=True, seed=3, rank=rank, world_size=ws, drop_last=drop_last)
        ys = [y for _, y in loader.epoch(2)]
        assert len(ys) == len(loader)
        shards.append(torch.cat(ys).tolist())
    seen = [i for s in shards for i in s]
    assert len(seen) == len(set(seen))  # disjoint
    if drop_last:
        assert {len(s) for s in shards} == {24}  # same steps on every rank
    else:
        assert sorted(seen) == list(range(n))  # covers the epoch


def test_loader_layout_options() -> None:
    split = TensorSplit(torch.zeros(10, 3, 4, 4, dtype=torch.uint8), torch.zeros(10, dtype=torch.int64))
    x, _ = next(iter(BatchLoader(split, 4, mean=(0.0,) * 3, std=(1.0,) * 3, channels_last=True)))
    assert x.is_contiguous(memory_format=torch.channels_last)
    assert len(BatchLoader(split, 4, mean=(0.0,) * 3, std=(1.0,) * 3, drop_last=True)) == 2
    with pytest.raises(ConfigError):
        BatchLoader(split, 4, mean=(0.0,), std=(1.0,))
    with pytest.raises(ConfigError):
        BatchLoader(split, 4, mean=(0.0,) * 3, std=(1.0,) * 3, rank=2, world_size=2)
    with pytest.raises(ConfigError):
        Augment(crop_padding=-1)


def test_data_dir_env_var_is_used(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write_mnist_like(tmp_path / "one" / "mnist")
    monkeypatch.setenv("CLASSICNETS_DATA", os.pathsep.join([str(tmp_path / "none"), str(tmp_path / "one")]))
    assert find_data("mnist") == tmp_path / "one" / "mnist"
