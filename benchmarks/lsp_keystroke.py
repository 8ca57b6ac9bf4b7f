"""Language server re-analysis after one keystroke, on the flagship recipe, against a compile of
the same recipe measured in the same run.

    python benchmarks/lsp_keystroke.py [--runs N]

Each keystroke inserts one character into the flagship recipe (a fresh text, so nothing is
served from a cache) and re-analyses the buffer as the server does on `didChange`: parse,
compile with provenance, lint, diagnostics. Measured in-process, after the server's start-up
work (library loaded, parser built). Baseline: `Library.compile_file` of the saved recipe.
Target: a keystroke <= 50 ms (median and 95th percentile).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RECIPE = ROOT / "recipes" / "blackwell-eks-training.aicr"
TARGET_MS = 50.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=200)
    runs = parser.parse_args().runs
    sys.path.insert(0, str(ROOT))
    import aicrc
    from aicrc.lsp.analysis import Workspace

    text = RECIPE.read_text(encoding="utf-8")
    workspace = Workspace(ROOT)
    library = aicrc.load_library(use_env=False)
    workspace.analyse(RECIPE, text)  # start-up: library loaded, Lark grammar built
    library.compile_file(RECIPE)

    # Keystrokes: a comment being typed at the end of the recipe body, one character at a time,
    # so every buffer is new text that parses and compiles.
    insert_at = text.rindex("}")
    typed = "# tuned for the nightly training queue, owner: platform team " * 4
    keystroke, compile_ = [], []
    for run in range(runs):
        buffer = text[:insert_at] + "    " + typed[: run % len(typed) + 1] + "\n" + text[insert_at:]
        start = time.perf_counter()
        analysis = workspace.analyse(RECIPE, buffer)
        keystroke.append(time.perf_counter() - start)
        assert analysis.compilation is not None and not analysis.diagnostics
        start = time.perf_counter()
        library.compile_file(RECIPE)
        compile_.append(time.perf_counter() - start)

    def ms(values: list[float], quantile: float = 0.5) -> float:
        ordered = sorted(values)
        return ordered[min(len(ordered) - 1, int(quantile * len(ordered)))] * 1000

    baseline = statistics.median(compile_) * 1000
    print(f"{'measure':<28} {'median ms':>9} {'p95 ms':>7} {'x compile':>9} {'target ms':>9}")
    print(f"{'in-process compile':<28} {baseline:>9.1f} {ms(compile_, 0.95):>7.1f} {1.0:>9.2f} {'':>9}")
    median = ms(keystroke)
    print(f"{'keystroke re-analysis':<28} {median:>9.1f} {ms(keystroke, 0.95):>7.1f} {median / baseline:>9.2f} {TARGET_MS:>9.0f}")


if __name__ == "__main__":
    main()
