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
import sys
import tempfile
from pathlib import Path

from measure import FLAGSHIP as RECIPE
from measure import ROOT, median_ms, reference_binary, time_processes

REFERENCE_RECIPE = ROOT / "tests" / "reference" / "aicr-v0.11.1" / "recipe" / "gb200-eks-ubuntu-training-kubeflow.yaml"
IN_PROCESS_TARGET_MS = 20.0
REFERENCE_RATIO_TARGET = 1.5


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
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    try:
        commands = {
            "python -c pass": ([sys.executable, "-c", "pass"], env),
            "cold compile": ([sys.executable, "-m", "aicrc", "compile", str(RECIPE)], env),  # what bundling adds to it
            "cold bundle": ([sys.executable, "-m", "aicrc", "bundle", str(RECIPE), "-d", "helm", "-o", str(scratch / "o"), "--force"], env),
        }
        reference = reference_binary()
        if reference:
            # the reference refuses nothing and overwrites in place: a fresh folder each run is the fair match
            commands["reference aicr bundle"] = ([
                "sh", "-c", 'rm -rf "$1" && exec "$0" bundle --recipe "$2" --output "$1" --deployer helm',
                reference, str(scratch / "reference"), str(REFERENCE_RECIPE),
            ], env)  # fmt: skip
        time_processes(commands, 2, ROOT)  # warm the compile cache and the OS page cache
        results = {name: figures.wall_ms for name, figures in time_processes(commands, runs, ROOT).items()}
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
