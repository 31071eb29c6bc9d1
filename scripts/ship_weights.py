"""Ship a trained run's weights inside the package (maintainers only).

    python scripts/ship_weights.py RUN_DIR --command "classicnets train ..." [--notes "..."]

Copies RUN_DIR's best.safetensors (chosen on validation) to src/classicnets/weights/, measures its
test error with ``classicnets.train.evaluate`` (the same as ``classicnets eval``), and records file,
sha256, dataset, recipe, command and the measured test error in weights/manifest.json.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import shutil
from pathlib import Path

from classicnets.train import evaluate, load_run
from classicnets.weights import MANIFEST


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("run", type=Path)
    ap.add_argument("--command", required=True, help="the classicnets train command that made the run")
    ap.add_argument("--data-dir")
    ap.add_argument("--notes", default="")
    args = ap.parse_args()
    run = load_run(args.run)
    meta = run.meta
    result = evaluate(args.run, data_dir=args.data_dir)
    dest = MANIFEST.parent / f"{meta.model}-{meta.dataset}.safetensors"
    shutil.copyfile(run.path, dest)
    manifest = json.loads(MANIFEST.read_text()) if MANIFEST.is_file() else {}
    manifest[meta.model] = {
        "file": dest.name,
        "sha256": hashlib.sha256(dest.read_bytes()).hexdigest(),
        "dataset": meta.dataset,
        "test_error": round(result.error, 5),
        "recipe": meta.recipe or "default (SGD + onecycle)",
        "command": args.command,
        "notes": args.notes,
    }
    MANIFEST.write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n")
    print(f"{meta.model}: test error {result.error:.2%} on {meta.dataset}; wrote {dest} and {MANIFEST}")


if __name__ == "__main__":
    main()
