"""Ship a trained run's weights inside the package (maintainers only).

    python scripts/ship_weights.py RUN_DIR --command "classicnets train ..." --data "..." [--notes "..."]

Copies the run's weights to src/classicnets/weights/: ``best.safetensors`` when the run chose on a
validation split, else ``last.safetensors`` (the last weights of a fixed schedule). Measures their
test error with ``classicnets.train.evaluate`` (the same as ``classicnets eval``: one view of each
test image), and records in weights/manifest.json the file, sha256, dataset, the data's copy, the
number of training images, which weights were chosen, the recipe, the command, the measured test
error, and each training segment (CPU or GPU, precision, steps and training seconds) from the
run's segments.json. The run's metrics log goes to docs/data/MODEL-DATASET-training.json with it.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import shutil
from pathlib import Path

from classicnets.data import load_dataset
from classicnets.train import TrainConfig, evaluate, load_run, read_metrics
from classicnets.train.checkpoint import BEST, LAST
from classicnets.train.loop import SEGMENTS
from classicnets.weights import MANIFEST


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("run", type=Path)
    ap.add_argument("--command", required=True, help="the classicnets train command that made the run")
    ap.add_argument("--data", required=True, help="which copy of the dataset, e.g. 'CIFAR-10, official pixels (PNG)'")
    ap.add_argument("--data-dir")
    ap.add_argument("--notes", default="")
    ap.add_argument("--publish", type=Path, default=Path("docs/data"),
                    help="where the run's metrics log and segments go, as MODEL-DATASET-training.json (default docs/data)")
    args = ap.parse_args()
    weights = args.run / (BEST if (args.run / BEST).is_file() else LAST)
    run = load_run(weights)
    meta = run.meta
    config = TrainConfig.from_dict(meta.config)
    raw = load_dataset(config.dataset, args.data_dir, val_size=config.val_size, split_seed=config.split_seed)
    train_images = config.subset or len(raw.train)
    result = evaluate(weights, data_dir=args.data_dir)
    records = read_metrics(args.run / "metrics.jsonl")
    if weights.name == BEST:
        chosen = f"best on the validation split (step {meta.step:,} of {records[-1]['step']:,})"
    else:
        chosen = f"the last weights of the fixed schedule (step {meta.step:,})"
    segments = json.loads((args.run / SEGMENTS).read_text()) if (args.run / SEGMENTS).is_file() else []
    dest = MANIFEST.parent / f"{meta.model}-{meta.dataset}.safetensors"
    shutil.copyfile(weights, dest)
    manifest = json.loads(MANIFEST.read_text()) if MANIFEST.is_file() else {}
    manifest[meta.model] = {
        "file": dest.name,
        "sha256": hashlib.sha256(dest.read_bytes()).hexdigest(),
        "dataset": meta.dataset,
        "data": args.data,
        "train_images": train_images,
        "chosen": chosen,
        "test_error": round(result.error, 5),
        "recipe": meta.recipe or "default (SGD + onecycle)",
        "command": args.command,
        "notes": args.notes,
        "segments": [
            {k: s.get(k) for k in ("cpu", "device", "precision", "threads", "from_step", "to_step", "train_wall_s")}
            for s in segments
        ],
    }
    MANIFEST.write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n")
    published = args.publish / f"{meta.model}-{meta.dataset}-training.json"
    published.parent.mkdir(parents=True, exist_ok=True)
    published.write_text(json.dumps({**manifest[meta.model], "metrics": records}, indent=1) + "\n")
    print(f"{meta.model}: test error {result.error:.2%} on {meta.dataset} ({chosen}); wrote {dest} and {MANIFEST}")


if __name__ == "__main__":
    main()
