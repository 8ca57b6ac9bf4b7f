"""Bundle speed of the flagship recipe, as medians and ratios measured in this run.

    python benchmarks/bundle_speed.py [--runs N]
    AICR_BIN=/path/to/aicr python benchmarks/bundle_speed.py     # and against the reference system

- cold bundle: `aicrc bundle recipes/blackwell-eks-training.aicr -d helm -o DIR --force` as a new
  process, against `python -c pass` and a cold `aicrc compile` of the same recipe measured
  alongside (the on-disk compile cache is warmed first, as it is for anyone who has compiled once).
- in-process bundle: compile, build every file in memory, write them (the library already loaded);
  and the build alone. Target: compile + build + write <= 20 ms.
- with AICR_BIN (or an executable `aicr` under /tmp/aicr-ref): `aicr bundle --recipe R --output D
  --deployer helm` on the reference's own recipe for the same leaf
  (tests/reference/aicr-v0.11.1/recipe/gb200-eks-ubuntu-training-kubeflow.yaml), and our cold
  bundle's ratio to it. Target: at most 1.5x.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RECIPE = ROOT / "recipes" / "blackwell-eks-training.aicr"
REFERENCE_RECIPE = ROOT / "tests" / "reference" / "aicr-v0.11.1" / "recipe" / "gb200-eks-ubuntu-training-kubeflow.yaml"
IN_PROCESS_TARGET_MS = 20.0
REFERENCE_RATIO_TARGET = 1.5


def reference_binary() -> str | None:
    given = os.environ.get("AICR_BIN")
    if given:
        return given
    found = sorted(Path("/tmp/aicr-ref").rglob("aicr")) if Path("/tmp/aicr-ref").is_dir() else []
    return next((str(path) for path in found if path.is_file() and os.access(path, os.X_OK)), None)


def time_processes(commands: dict[str, list[str]], runs: int) -> dict[str, float]:
    """Median wall time of each command as a new process, in ms. The commands take turns within
    each round, so a noisy neighbour slows them all alike and the ratios stay fair."""
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    samples: dict[str, list[float]] = {name: [] for name in commands}
    for _ in range(runs):
        for name, argv in commands.items():
            start = time.perf_counter()
            subprocess.run(argv, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env, cwd=ROOT)
            samples[name].append(time.perf_counter() - start)
    return {name: statistics.median(values) * 1000 for name, values in samples.items()}


def median_ms(action: Callable[[], object], runs: int) -> float:
    for _ in range(5):
        action()
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        action()
        samples.append(time.perf_counter() - start)
    return statistics.median(samples) * 1000


def in_process(runs: int, scratch: Path) -> dict[str, float]:
    sys.path.insert(0, str(ROOT))
    import aicrc
    from aicrc.bundle.build import build_bundle
    from aicrc.bundle.recipe import from_document
    from aicrc.bundle.writer import write_bundle

    library = aicrc.load_library(use_env=False)
    document = library.compile_file(RECIPE).document

    def whole() -> None:
        recipe = from_document(library.compile_file(RECIPE).document)
        write_bundle(build_bundle(recipe, ["helm"]), str(scratch / "in-process"), force=True)

    return {
        "in-process bundle": median_ms(whole, runs),
        "  build alone": median_ms(lambda: build_bundle(from_document(document), ["helm"]), runs),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20)
    runs = parser.parse_args().runs
    scratch = Path(tempfile.mkdtemp(prefix="bundle-speed-"))
    try:
        commands = {
            "python -c pass": [sys.executable, "-c", "pass"],
            "cold compile": [sys.executable, "-m", "aicrc", "compile", str(RECIPE)],  # what bundling adds to it
            "cold bundle": [sys.executable, "-m", "aicrc", "bundle", str(RECIPE), "-d", "helm", "-o", str(scratch / "ours"), "--force"],
        }
        reference = reference_binary()
        if reference:
            # the reference refuses nothing and overwrites in place: a fresh folder each run is the fair match
            commands["reference aicr bundle"] = [
                "sh", "-c", 'rm -rf "$1" && exec "$0" bundle --recipe "$2" --output "$1" --deployer helm',
                reference, str(scratch / "reference"), str(REFERENCE_RECIPE),
            ]  # fmt: skip
        time_processes(commands, 2)  # warm the compile cache and the OS page cache
        results = time_processes(commands, runs)
        results.update(in_process(runs * 3, scratch))
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    baseline = results.pop("python -c pass")
    print(f"{'measure':<24} {'median ms':>10} {'x python -c pass':>17} {'target':>12}")
    print(f"{'python -c pass':<24} {baseline:>10.1f} {1.0:>17.2f} {'':>12}")
    for name, value in results.items():
        target = f"<= {IN_PROCESS_TARGET_MS:.0f} ms" if name == "in-process bundle" else ""
        print(f"{name:<24} {value:>10.1f} {value / baseline:>17.2f} {target:>12}")
    print(f"cold bundle / cold compile: {results['cold bundle'] / results['cold compile']:.2f}x")
    if "reference aicr bundle" in results:
        ratio = results["cold bundle"] / results["reference aicr bundle"]
        print(f"cold bundle / reference: {ratio:.2f}x (target <= {REFERENCE_RATIO_TARGET}x; reference: {reference})")
    else:
        print("no reference binary (set AICR_BIN to an `aicr` executable to compare)")


if __name__ == "__main__":
    main()
