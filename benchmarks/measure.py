"""What the benchmarks share: commands timed as new processes in interleaved rounds, medians of
in-process actions, the reference binary, and an installed copy of aicrc to time.

Timings on a shared machine are noisy, so every figure that is compared with another is measured
in the same run, alternating: a noisy neighbour slows them all alike and the ratios hold. Each
process is also charged its CPU time and peak memory (`os.wait4`), which other processes disturb
less than wall time.
"""

from __future__ import annotations

import compileall
import os
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FLAGSHIP = ROOT / "recipes" / "blackwell-eks-training.aicr"
# The reference's own command for the flagship's leaf: GB200, EKS, Ubuntu, training, Kubeflow.
REFERENCE_RECIPE = ["recipe", "--service", "eks", "--accelerator", "gb200", "--os", "ubuntu", "--intent", "training"]
REFERENCE_RECIPE += ["--platform", "kubeflow"]


@dataclass
class Process:
    """Medians over the rounds: wall and CPU milliseconds; the peak resident memory in MiB."""

    wall_ms: float
    cpu_ms: float
    peak_mib: float


def reference_binary() -> str | None:
    """The reference's `aicr`: AICR_BIN, else one built under /tmp/aicr-ref (see the README)."""
    given = os.environ.get("AICR_BIN")
    if given:
        return given
    found = sorted(Path("/tmp/aicr-ref").rglob("aicr")) if Path("/tmp/aicr-ref").is_dir() else []
    return next((str(path) for path in found if path.is_file() and os.access(path, os.X_OK)), None)


# Runs one command and reports its wall and CPU seconds, peak resident KiB and exit status. A child
# is charged the peak memory of the process that spawned it (Linux keeps the high-water mark across
# exec), so the benchmark, large after loading libraries, spawns each command through this small
# launcher (python -S: about 9 MiB, less than any command measured) and times it from there.
LAUNCHER = """
import os, sys, time
null = os.open(os.devnull, os.O_WRONLY)
actions = [(os.POSIX_SPAWN_DUP2, null, 1), (os.POSIX_SPAWN_DUP2, null, 2)]
start = time.perf_counter()
pid = os.posix_spawnp(sys.argv[1], sys.argv[1:], dict(os.environ), file_actions=actions)
_, status, usage = os.wait4(pid, 0)
print(time.perf_counter() - start, usage.ru_utime + usage.ru_stime, usage.ru_maxrss, os.waitstatus_to_exitcode(status))
"""


def run_once(argv: Sequence[str], env: dict[str, str], cwd: Path) -> tuple[float, float, float]:
    """One run: wall seconds, CPU seconds (user + system) and peak resident KiB of that process."""
    done = subprocess.run([sys.executable, "-S", "-c", LAUNCHER, *argv], env=env, cwd=cwd, capture_output=True, text=True, check=True)
    wall, cpu, peak, code = done.stdout.split()
    if code != "0":
        raise RuntimeError(f"{' '.join(argv)} exited {code}")
    return float(wall), float(cpu), float(peak)


def time_processes(commands: dict[str, tuple[list[str], dict[str, str]]], rounds: int, cwd: Path) -> dict[str, Process]:
    """Each command (argv, environment) once per round, in turn."""
    samples: dict[str, list[tuple[float, float, float]]] = {name: [] for name in commands}
    for _ in range(rounds):
        for name, (argv, env) in commands.items():
            samples[name].append(run_once(argv, env, cwd))
    return {
        name: Process(
            statistics.median(s[0] for s in runs) * 1000, statistics.median(s[1] for s in runs) * 1000, max(s[2] for s in runs) / 1024
        )
        for name, runs in samples.items()
    }


def median_ms(action: Callable[[], object], runs: int, warmup: int = 3) -> float:
    for _ in range(warmup):
        action()
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        action()
        samples.append(time.perf_counter() - start)
    return statistics.median(samples) * 1000


def installed_copy(site: Path) -> Path:
    """aicrc laid out as its wheel installs it, under `site`: the package with the grammar, the
    standard library and the recipes inside it, the parser tables and the parsed library and
    recipes that the build hook writes, and bytecode compiled, as pip does on install. Timing this
    copy times what users run, whatever the checkout (an editable install has neither;
    PYTHONDONTWRITEBYTECODE leaves no bytecode)."""
    shutil.rmtree(site, ignore_errors=True)
    package = site / "aicrc"
    shutil.copytree(ROOT / "aicrc", package, ignore=shutil.ignore_patterns("__pycache__", "aicr.tables", "aicr.asts", "manifests.valid"))
    for folder in ("grammar", "stdlib", "recipes"):
        shutil.copytree(ROOT / folder, package / folder)
    sys.path.insert(0, str(ROOT))
    from aicrc.compiler.syntax import tables

    tables.write(str(package / "grammar" / "aicr.lark"), str(package / "compiler" / "syntax" / "aicr.tables"))
    prebuilt = [str(package / "compiler" / "syntax" / "aicr.asts"), str(package / "compiler" / "load" / "manifests.valid")]
    subprocess.run([sys.executable, "-m", "aicrc.compiler.prebuilt", *prebuilt], env=environment(site, AICRC_NO_CACHE="1"), check=True)
    compileall.compile_dir(str(package), quiet=1)
    return site


def aicrc_command() -> list[str]:
    """The `aicrc` program the interpreter's environment installed (its console script), else
    `python -m aicrc`."""
    script = Path(sys.executable).parent / "aicrc"
    return [str(script)] if script.is_file() else [sys.executable, "-m", "aicrc"]


def environment(site: Path, **extra: str) -> dict[str, str]:
    """The environment the installed copy runs in: its folder first on the path, its own cache."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("AICRC_")}
    return {**env, "PYTHONPATH": str(site), "AICRC_CACHE_DIR": str(site.parent / "cache"), **extra}
