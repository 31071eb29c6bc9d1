"""The package as users get it: the wheel, installed into a fresh virtual environment that cannot
see this source tree, runs the demo, predicts with shipped weights, and loads them in Python."""

from __future__ import annotations

import os
import subprocess
import sys
import sysconfig
import venv
import zipfile
from pathlib import Path

import pytest
from PIL import Image

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, dict[str, str]]:
    """(the wheel, the fresh venv's python, an environment without the source tree or any data)."""
    tmp = tmp_path_factory.mktemp("wheel")
    subprocess.run([sys.executable, "-m", "pip", "wheel", str(ROOT), "--no-deps", "-q", "-w", str(tmp)],
                   check=True, capture_output=True)  # fmt: skip
    (wheel,) = tmp.glob("classicnets-*.whl")
    env_dir = tmp / "venv"
    venv.create(env_dir, with_pip=False)
    python = env_dir / "bin" / "python"
    purelib = subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                             check=True, capture_output=True, text=True).stdout.strip()  # fmt: skip
    # The dependencies (torch, ...) come from the test environment's site-packages: a path line in
    # a .pth file adds that folder without running its own .pth files, so the editable install of
    # this source tree stays invisible.
    Path(purelib, "deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    clean = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}  # nothing may stand in for the wheel
    subprocess.run([sys.executable, "-m", "pip", "--python", str(python), "install", "--no-deps", "--no-index",
                    "--force-reinstall", "-q", str(wheel)], check=True, capture_output=True, env=clean)  # fmt: skip
    home = tmp / "home"  # no ~/.cache/classicnets: no MNIST to find, so the demo falls back to digits
    home.mkdir()
    env = {"PATH": f"{env_dir / 'bin'}:/usr/bin:/bin", "HOME": str(home), "OMP_NUM_THREADS": "1",
           "MPLBACKEND": "Agg", "TMPDIR": os.environ.get("TMPDIR", "/tmp")}  # fmt: skip
    return wheel, python, env


def test_wheel_holds_the_shipped_weights_and_data_files(installed):
    wheel, _, _ = installed
    names = set(zipfile.ZipFile(wheel).namelist())
    shipped = {p.name for p in (ROOT / "src" / "classicnets" / "weights").iterdir() if p.suffix in (".safetensors", ".json")}
    assert shipped and {f"classicnets/weights/{n}" for n in shipped} <= names
    static = {p.relative_to(ROOT / "src").as_posix() for p in (ROOT / "src" / "classicnets").rglob("*")
              if p.is_file() and p.suffix in (".html", ".js", ".css", ".svg", ".json")}  # fmt: skip
    assert static <= names


@pytest.mark.slow
def test_installed_wheel_runs_the_demo_predicts_and_loads_weights(installed, tmp_path):
    _, python, env = installed
    found = subprocess.run([str(python), "-c", "import classicnets; print(classicnets.__file__)"], cwd=tmp_path,
                           env=env, capture_output=True, text=True)  # fmt: skip
    assert found.returncode == 0, found.stderr
    assert str(ROOT) not in found.stdout and "site-packages" in found.stdout  # the installed copy, not this tree
    demo = subprocess.run([str(python), "-m", "classicnets", "demo", "--out", str(tmp_path / "demo"), "--epochs", "1"],
                          cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600)  # fmt: skip
    assert demo.returncode == 0, demo.stderr
    assert "digits" in demo.stdout and (tmp_path / "demo" / "curves.png").is_file()
    digit = Image.new("L", (28, 28))
    digit.paste(255, (12, 4, 16, 24))  # a "1"
    digit.save(tmp_path / "one.png")
    pred = subprocess.run([str(python), "-m", "classicnets", "predict", "lenet5", str(tmp_path / "one.png"), "--topk", "1"],
                          cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)  # fmt: skip
    assert pred.returncode == 0, pred.stderr
    assert pred.stdout.splitlines()[1].split()[-1] == "1"
    code = ("import classicnets as cn; m = cn.create_model('resnet20', pretrained=True); "
            "print(m.pretrained_cfg.weights, m.pretrained_cfg.classes[0])")  # fmt: skip
    loaded = subprocess.run([str(python), "-c", code], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
    assert loaded.returncode == 0, loaded.stderr
    assert loaded.stdout.split() == ["classicnets", "airplane"]
