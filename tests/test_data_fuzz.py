"""Fuzzing the binary readers: garbage, random headers and truncations must give ``DataError``
(never another exception, never a hang), and a random file in an image folder must be skipped."""

from __future__ import annotations

import gzip
import io
import tempfile
import warnings
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

from classicnets.data import DataWarning, load_dataset
from classicnets.data import cifar, idx
from classicnets.errors import DataError

FUZZ = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
MAGICS = st.sampled_from([idx.IMAGES_MAGIC, idx.LABELS_MAGIC])


def valid_idx(magic: int, dims: tuple[int, ...]) -> bytes:
    return magic.to_bytes(4, "big") + b"".join(d.to_bytes(4, "big") for d in dims) + bytes(int(np.prod(dims)))


def parse_or_data_error(data: bytes, magic: int) -> None:
    try:
        array = idx.parse_idx(data, magic, "fuzz")
    except DataError as e:
        assert "fuzz" in str(e) and "\n" not in str(e)
        return
    header = 4 + 4 * array.ndim  # accepted: then it must be exactly consistent
    assert array.ndim == magic & 0xFF and header + array.size == len(data) and array.dtype == np.uint8


@FUZZ
@given(st.binary(max_size=4096), MAGICS)
def test_random_bytes(data: bytes, magic: int) -> None:
    parse_or_data_error(data, magic)


@FUZZ
@given(
    st.integers(0, 2**32 - 1) | MAGICS,
    st.lists(st.integers(0, 2**32 - 1) | st.integers(0, 40), min_size=0, max_size=4),
    st.binary(max_size=2048),
    MAGICS,
)
def test_random_headers(found_magic: int, dims: list[int], body: bytes, magic: int) -> None:
    data = found_magic.to_bytes(4, "big") + b"".join(d.to_bytes(4, "big") for d in dims) + body
    parse_or_data_error(data, magic)


@FUZZ
@given(st.data(), MAGICS, st.integers(1, 6), st.integers(1, 6), st.integers(1, 6))
def test_truncated_or_extended_files(data: st.DataObject, magic: int, n: int, h: int, w: int) -> None:
    good = valid_idx(magic, (n, h, w) if magic == idx.IMAGES_MAGIC else (n,))
    cut = data.draw(st.integers(0, len(good) - 1))
    with pytest.raises(DataError):
        idx.parse_idx(good[:cut], magic, "fuzz")
    with pytest.raises(DataError):
        idx.parse_idx(good + data.draw(st.binary(min_size=1, max_size=8)), magic, "fuzz")


@pytest.fixture(scope="module")
def scratch(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("fuzz")


@FUZZ
@given(payload=st.binary(max_size=2048), gz=st.booleans(), cut=st.integers(0, 4096))
def test_read_idx_files(scratch: Path, payload: bytes, gz: bool, cut: int) -> None:
    path = scratch / "labels-idx1-ubyte"
    path.write_bytes(gzip.compress(payload)[:cut] if gz else payload)
    try:
        idx.read_idx(path, idx.LABELS_MAGIC)
    except DataError as e:
        assert str(path) in str(e) and "\n" not in str(e)


@FUZZ
@given(st.binary(max_size=3 * 3074), st.sampled_from([cifar.CIFAR10, cifar.CIFAR100]))
def test_cifar_binary_records(data: bytes, spec: cifar.CifarSpec) -> None:
    try:
        split = cifar.parse_binary(data, spec, "fuzz")
    except DataError as e:
        assert "\n" not in str(e)
        return
    assert split.images.shape == (len(data) // (spec.label_bytes + 3072), 3, 32, 32)


def png(seed: int) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(np.random.default_rng(seed).integers(0, 256, (6, 6, 3), dtype=np.uint8)).save(buf, "PNG")
    return buf.getvalue()


@settings(max_examples=40, deadline=None)
@given(st.binary(max_size=512) | st.builds(lambda cut: png(0)[:cut], st.integers(0, 120)), st.booleans())
def test_random_file_in_image_folder(data: bytes, only_garbage: bool) -> None:
    with tempfile.TemporaryDirectory() as d:
        root = Path(d)
        for c, cls in enumerate("ab"):
            (root / cls).mkdir()
            if not only_garbage:
                for i in range(3):
                    (root / cls / f"{i}.png").write_bytes(png(10 * c + i))
        (root / "a" / "x.jpg").write_bytes(data)
        (root / "b" / "y.jpg").write_bytes(data)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            try:
                loaded = load_dataset(f"folder:{root}", cache=False, val_size=0)
            except DataError as e:
                assert only_garbage and "\n" not in str(e)
                return
        skipped = [w for w in caught if issubclass(w.category, DataWarning)]
        total = len(loaded.train) + len(loaded.test)
        assert total == 6 + 2 * (not skipped)  # both garbage files skipped (one warning), or both decodable
        assert len(skipped) <= 1
