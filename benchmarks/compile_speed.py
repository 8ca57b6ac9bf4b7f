"""Compile speed of the flagship recipe, as medians and ratios measured in this run.

    python benchmarks/compile_speed.py [--runs N]

- cold: `aicrc compile recipes/blackwell-eks-training.aicr` as a new process, against
  `python -c pass` (the interpreter's own start-up, measured alongside so that ratios hold on any
  machine). The on-disk cache is warmed first, as it is for anyone who has compiled once.
- version: `aicrc --version` as a new process.
- in-process: `Library.compile_file` after warm-up (the library already loaded), the path a
  language server or an API server takes.
Targets on a 2-core machine: in-process <= 10 ms, cold <= 150 ms, --version <= 40 ms.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RECIPE = ROOT / "recipes" / "blackwell-eks-training.aicr"
TARGETS_MS = {"cold compile": 150.0, "--version": 40.0, "in-process compile": 10.0}


def time_processes(commands: dict[str, list[str]], runs: int) -> dict[str, float]:
    """Median wall time of each command as a new process, in ms. The commands take turns within
    each round, so a noisy neighbour slows them all alike and the ratios stay fair."""
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    samples: dict[str, list[float]] = {name: [] for name in commands}
    for _ in range(runs):
        for name, argv in commands.items():
            start = time.perf_counter()
            subprocess.run(argv, check=True, stdout=subprocess.DEVNULL, env=env, cwd=ROOT)
            samples[name].append(time.perf_counter() - start)
    return {name: statistics.median(values) * 1000 for name, values in samples.items()}


def in_process(runs: int) -> float:
    sys.path.insert(0, str(ROOT))
    import aicrc

    library = aicrc.load_library(use_env=False)
    for _ in range(5):
        library.compile_file(RECIPE).render()
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        library.compile_file(RECIPE).render()
        samples.append(time.perf_counter() - start)
    return statistics.median(samples) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=30)
    runs = parser.parse_args().runs
    aicrc = [sys.executable, "-m", "aicrc"]
    commands = {
        "python -c pass": [sys.executable, "-c", "pass"],
        "cold compile": [*aicrc, "compile", str(RECIPE)],
        "--version": [*aicrc, "--version"],
    }
    time_processes(commands, 2)  # warm the on-disk cache and the OS page cache
    results = time_processes(commands, runs)
    baseline = results.pop("python -c pass")
    results["in-process compile"] = in_process(runs * 3)
    print(f"{'measure':<20} {'median ms':>10} {'x python -c pass':>17} {'target ms':>10}")
    print(f"{'python -c pass':<20} {baseline:>10.1f} {1.0:>17.2f} {'':>10}")
    for name, value in results.items():
        print(f"{name:<20} {value:>10.1f} {value / baseline:>17.2f} {TARGETS_MS[name]:>10.0f}")


if __name__ == "__main__":
    main()
