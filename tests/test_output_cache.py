"""The output cache (`aicrc.cli.fast`, `aicrc.cli.recording`): a repeated `aicrc compile` is
replayed byte for byte, and only while every input is as it was.

The command line is run in-process as the `aicrc` program runs it (`main()` with `sys.argv`), so
the replay path is the real one; whether the compiler ran is seen by counting calls of
`aicrc.cli.app.main`, which only a compile reaches.
"""

from __future__ import annotations

import os
import random
import shutil
import socket
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import NamedTuple

import pytest

from aicrc.cli import app, fast, main, recording
from aicrc.cli.recipe_names import shipped_recipes
from tests.conftest import FLAGSHIP, GOLDEN, ROOT


class Run(NamedTuple):
    code: int
    out: str
    err: str
    compiled: bool  # False: replayed from the cache


@pytest.fixture
def aicrc(cache_dir: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> Callable[..., Run]:
    """`aicrc ARGS...` as the installed program runs it."""
    compiles: list[list[str]] = []
    real = app.main

    def counted(arguments: list[str]) -> int:
        compiles.append(arguments)
        return real(arguments)

    monkeypatch.setattr(app, "main", counted)

    def run(*argv: str) -> Run:
        compiles.clear()
        monkeypatch.setattr(sys, "argv", ["aicrc", *argv])
        code = main()
        captured = capsys.readouterr()
        return Run(code, captured.out, captured.err, bool(compiles))

    return run


def uncached(capsys: pytest.CaptureFixture[str], *argv: str) -> Run:
    """The same command run by the compiler, as a caller passing `argv` always has it run."""
    code = main(list(argv))
    captured = capsys.readouterr()
    return Run(code, captured.out, captured.err, True)


def entries(cache_dir: Path) -> list[Path]:
    return sorted((cache_dir / fast.NAMESPACE).glob("*.entry")) if (cache_dir / fast.NAMESPACE).is_dir() else []


# ---- a small world with every kind of input ----------------------------------------------------------

WIDGET = """component widget {
    chart widget from "https://example.com/charts" version "1.2.0"
    namespace widgets
    schema "widget.schema.json"
    manifest "widget.yaml"
    values { replicas = 1 }
}
"""
SCHEMA = '{"type": "object", "properties": {"replicas": {"type": "integer"}, "image": {"type": "object"}}}'
RECIPE = """import "./settings"
recipe r {
    service = eks
    accelerator = h100
    intent = training
    use widget
}
"""


@pytest.fixture
def world(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A library (a copy of the golden one), an overlay with a component that has a manifest and
    a values schema, a recipe that imports a file beside it, and a RecipeCriteria file."""
    shutil.copytree(GOLDEN / "lib", tmp_path / "lib")
    overlay = tmp_path / "overlay"
    overlay.mkdir()
    (overlay / "widget.aicr").write_text(WIDGET)
    (overlay / "widget.schema.json").write_text(SCHEMA)
    (overlay / "widget.yaml").write_text("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: widget\n")
    (tmp_path / "recipe.aicr").write_text(RECIPE)
    (tmp_path / "settings.aicr").write_text('layer tuned: platform when intent == training { set widget.image.tag = "1" }\n')
    (tmp_path / "criteria.yaml").write_text(
        "kind: RecipeCriteria\napiVersion: aicr.nvidia.com/v1alpha1\nspec:\n  service: eks\n  accelerator: h100\n  intent: training\n"
    )
    monkeypatch.setenv("AICRC_STDLIB", str(tmp_path / "lib"))
    monkeypatch.chdir(tmp_path)
    return tmp_path


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text, (path, old)
    path.write_text(text.replace(old, new))


# Each kind of input, the command that reads it and an edit of it that changes what the command prints.
EDITS: dict[str, tuple[list[str], Callable[[Path], None]]] = {
    "library file": (
        ["recipe.aicr"],
        lambda w: _edit(w / "lib" / "layers.aicr", '"575.0"', '"576.1"'),
    ),
    "new library file": (
        ["recipe.aicr"],
        lambda w: (w / "lib" / "more.aicr").write_text("layer extra: os { set gpu-operator.extra = true }\n"),
    ),
    "overlay file": (
        ["recipe.aicr"],
        lambda w: _edit(w / "overlay" / "widget.aicr", "replicas = 1", "replicas = 2"),
    ),
    "new overlay file": (
        ["recipe.aicr"],
        lambda w: (w / "overlay" / "late.aicr").write_text("layer late: os { set widget.late = true }\n"),
    ),
    "recipe": (
        ["recipe.aicr"],
        lambda w: _edit(w / "recipe.aicr", "use widget", "use widget\n    set widget.replicas = 5"),
    ),
    "imported file": (
        ["recipe.aicr"],
        lambda w: _edit(w / "settings.aicr", 'tag = "1"', 'tag = "2"'),
    ),
    "manifest": (
        ["recipe.aicr"],
        lambda w: _edit(w / "overlay" / "widget.yaml", "name: widget", "name: widget-renamed"),
    ),
    "values schema": (  # the output is the same; the warning on stderr is new
        ["recipe.aicr"],
        lambda w: _edit(
            w / "overlay" / "widget.schema.json",
            '"image": {"type": "object"}',
            '"image": {"type": "object", "additionalProperties": false}',
        ),
    ),
    "criteria file": (
        ["--criteria", "criteria.yaml", "--platform", "kubeflow"],
        lambda w: _edit(w / "criteria.yaml", "accelerator: h100", "accelerator: gb200"),
    ),
}


@pytest.mark.parametrize("kind", EDITS)
def test_an_edit_of_any_input_changes_the_output(
    kind: str, world: Path, aicrc: Callable[..., Run], capsys: pytest.CaptureFixture[str]
) -> None:
    arguments, edit = EDITS[kind]
    argv = ["compile", *arguments, "--overlay", "overlay"]
    first = aicrc(*argv)
    assert first.code == 0 and first.compiled, first.err
    again = aicrc(*argv)
    assert again == first._replace(compiled=False)  # replayed, byte for byte

    edit(world)
    edited = aicrc(*argv)
    assert edited.compiled
    assert (edited.out, edited.err) != (first.out, first.err)
    assert edited == uncached(capsys, *argv)
    assert aicrc(*argv) == edited._replace(compiled=False)


def test_a_file_named_like_a_shipped_recipe_takes_its_place(
    tmp_path: Path, aicrc: Callable[..., Run], monkeypatch: pytest.MonkeyPatch
) -> None:
    """`compile NAME` compiles the shipped recipe only while no file of that name is here."""
    monkeypatch.chdir(tmp_path)
    shipped = aicrc("compile", "blackwell-eks-training")
    assert shipped.code == 0 and aicrc("compile", "blackwell-eks-training") == shipped._replace(compiled=False)
    (tmp_path / "blackwell-eks-training.aicr").write_text(FLAGSHIP.read_text().replace("node-problem-detector", "standalone-nfd"))
    local = aicrc("compile", "blackwell-eks-training")
    assert local.compiled and local.code == 0 and local.out != shipped.out


def test_the_environment_is_part_of_the_request(world: Path, aicrc: Callable[..., Run], monkeypatch: pytest.MonkeyPatch) -> None:
    plain = aicrc("compile", "recipe.aicr")
    assert plain.code == 1 and "widget" in plain.err  # the component is in the overlay
    monkeypatch.setenv("AICRC_PATH", str(world / "overlay"))
    through_path = aicrc("compile", "recipe.aicr")
    assert through_path.code == 0 and through_path.compiled
    assert aicrc("compile", "recipe.aicr") == through_path._replace(compiled=False)


def test_installing_or_upgrading_a_package_is_a_miss(
    world: Path, aicrc: Callable[..., Run], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Lark parses and PyYAML renders: a compile is not replayed across a change of the packages on
    the import path, which pip makes by adding and removing entries of their folder."""
    site = tmp_path / "site-packages"
    (site / "lark-1.3.1.dist-info").mkdir(parents=True)
    monkeypatch.setattr(sys, "path", [sys.path[0], str(site), *sys.path[1:]])  # after the script's own folder
    first = aicrc("compile", "recipe.aicr", "--overlay", "overlay")
    assert first.code == 0 and first.compiled, first.err
    assert not aicrc("compile", "recipe.aicr", "--overlay", "overlay").compiled
    (site / "lark-1.3.1.dist-info").rename(site / "lark-1.4.0.dist-info")  # `pip install -U lark`
    os.utime(site, ns=(0, os.stat(site).st_mtime_ns + 1_000_000_000))  # whatever the clock's resolution
    upgraded = aicrc("compile", "recipe.aicr", "--overlay", "overlay")
    assert upgraded == first


def test_warnings_are_replayed_on_stderr(world: Path, aicrc: Callable[..., Run]) -> None:
    _edit(world / "recipe.aicr", "use widget", 'use widget\n    set widget.replicas = "many"')
    first = aicrc("compile", "recipe.aicr", "--overlay", "overlay", "--format", "json")
    assert first.code == 0 and "warning[W0003]" in first.err
    assert aicrc("compile", "recipe.aicr", "--overlay", "overlay", "--format", "json") == first._replace(compiled=False)


def test_errors_and_help_are_never_cached(world: Path, aicrc: Callable[..., Run], cache_dir: Path) -> None:
    for argv in (["compile", "recipe.aicr"], ["compile", "missing.aicr"], ["compile", "--help"], ["compile", "recipe.aicr", "--strict"]):
        runs = [aicrc(*argv), aicrc(*argv)]
        assert all(run.compiled for run in runs) and runs[0] == runs[1], argv
    assert entries(cache_dir) == []


def test_written_files_are_written_again(world: Path, aicrc: Callable[..., Run]) -> None:
    argv = ["compile", "recipe.aicr", "--overlay", "overlay", "--format", "aicr", "-o", "out/recipe.yaml"]
    (world / "out").mkdir()
    first = aicrc(*argv)
    assert first.code == 0 and first.out == ""
    written = {path.relative_to(world / "out"): path.read_bytes() for path in (world / "out").rglob("*") if path.is_file()}
    assert Path("recipe.yaml") in written and Path("manifests/widget/widget.yaml") in written
    shutil.rmtree(world / "out" / "manifests")
    (world / "out" / "recipe.yaml").write_text("stale")
    assert aicrc(*argv) == first._replace(compiled=False)
    assert {path.relative_to(world / "out"): path.read_bytes() for path in (world / "out").rglob("*") if path.is_file()} == written


def test_a_replay_that_cannot_write_lets_the_compile_report_why(world: Path, aicrc: Callable[..., Run]) -> None:
    (world / "out").mkdir()
    argv = ["compile", "recipe.aicr", "--overlay", "overlay", "-o", "out/recipe.yaml"]
    assert aicrc(*argv).code == 0
    shutil.rmtree(world / "out")
    failed = aicrc(*argv)
    assert failed.compiled and failed.code == 1 and "E0104" in failed.err and "cannot write out/recipe.yaml" in failed.err


def test_a_broken_pipe_during_a_replay_is_a_quiet_success(world: Path, aicrc: Callable[..., Run], monkeypatch: pytest.MonkeyPatch) -> None:
    assert aicrc("compile", "recipe.aicr", "--overlay", "overlay").code == 0

    class ClosedPipe:
        def write(self, text: str) -> int:
            raise BrokenPipeError

        def fileno(self) -> int:
            raise ValueError("not a real file")

        def isatty(self) -> bool:
            return False

        encoding, errors = sys.stdout.encoding, sys.stdout.errors

    monkeypatch.setattr(sys, "stdout", ClosedPipe())
    monkeypatch.setattr(sys, "argv", ["aicrc", "compile", "recipe.aicr", "--overlay", "overlay"])
    assert main() == 0


# ---- byte for byte, with and without the cache -------------------------------------------------------


def _random_criteria(rng: random.Random, dimensions: dict[str, list[str]]) -> list[str]:
    """Some dimensions, each set to one of its values, `any`, another case, or a value it lacks."""
    argv = []
    for name in rng.sample(sorted(dimensions), rng.randint(1, len(dimensions))):
        value = rng.choice(
            [*dimensions[name], "any", rng.choice(dimensions[name]).upper(), "nosuch"] if rng.random() < 0.2 else dimensions[name]
        )
        argv += [f"--{name}", value]
    return argv + rng.choice([[], ["--format", "json"], ["--strict"]])


def test_the_cache_changes_no_byte_of_any_output(cache_dir: Path, aicrc: Callable[..., Run], capsys: pytest.CaptureFixture[str]) -> None:
    """Every shipped recipe and 200 random criteria: the compile without the cache, the compile
    that records, and the replay say exactly the same (errors are compiled every time)."""
    import aicrc as api

    dimensions = api.load_library(use_env=False).dimensions
    rng = random.Random(13)
    commands = [["compile", name] for name in shipped_recipes()]
    while len(commands) < len(shipped_recipes()) + 200:
        argv = ["compile", *_random_criteria(rng, dimensions)]
        if argv not in commands:
            commands.append(argv)
    replayed = 0
    for argv in commands:
        expected = uncached(capsys, *argv)
        first, second = aicrc(*argv), aicrc(*argv)
        assert first == expected, argv
        assert second == expected._replace(compiled=expected.code != 0), argv
        replayed += not second.compiled
    assert replayed > 100 and len(entries(cache_dir)) == replayed


# ---- what is never recorded -------------------------------------------------------------------------


def _recorded(cache_dir: Path, run: Callable[[], int]) -> bool:
    recording.compile_and_record("e" * 64, run)
    return (cache_dir / fast.NAMESPACE / f"{'e' * 64}.entry").exists()


def test_a_compile_that_reads_only_files_is_recorded(cache_dir: Path, tmp_path: Path) -> None:
    (tmp_path / "input").write_text("x")
    assert _recorded(cache_dir, lambda: len((tmp_path / "input").read_text()) - 1)


def test_an_input_that_changes_while_compiling_is_not_recorded(cache_dir: Path, tmp_path: Path) -> None:
    source = tmp_path / "input"
    source.write_text("before")

    def compile_while_edited() -> int:
        source.read_text()
        source.write_text("after")
        return 0

    assert not _recorded(cache_dir, compile_while_edited)


def test_the_network_or_another_program_is_not_recorded(cache_dir: Path) -> None:
    assert not _recorded(cache_dir, lambda: len(socket.getaddrinfo("localhost", None)) * 0)
    assert not _recorded(cache_dir, lambda: subprocess.run([sys.executable, "-c", "pass"], check=True).returncode)


def test_a_pipe_or_a_device_is_not_recorded(cache_dir: Path, tmp_path: Path) -> None:
    pipe = tmp_path / "pipe"
    os.mkfifo(pipe)
    writer = os.open(pipe, os.O_RDWR | os.O_NONBLOCK)  # so that opening it to read does not block
    try:
        assert not _recorded(cache_dir, lambda: len(open(pipe, "rb", buffering=0).read(0)))  # noqa: SIM115
    finally:
        os.close(writer)
    assert not _recorded(cache_dir, lambda: len(open(os.devnull, "rb").read()))  # noqa: SIM115


def test_a_file_written_around_the_output_writers_is_not_recorded(cache_dir: Path, tmp_path: Path) -> None:
    assert not _recorded(cache_dir, lambda: (tmp_path / "side-effect").write_text("x") - 1)
    assert not _recorded(cache_dir, lambda: sys.stdout.buffer.write(b""))


# ---- the compiler's own code ---------------------------------------------------------------------------


def test_an_edit_of_the_compiler_in_an_installed_copy_changes_the_output(tmp_path: Path) -> None:
    site = tmp_path / "site"
    shutil.copytree(ROOT / "aicrc", site / "aicrc", ignore=shutil.ignore_patterns("__pycache__", "aicr.tables"))
    for folder in ("grammar", "stdlib", "recipes"):
        (site / "aicrc" / folder).symlink_to(ROOT / folder)
    probe = (
        "import sys, aicrc.cli; code = aicrc.cli.main(); print(any(m.startswith('aicrc.compiler') for m in sys.modules), file=sys.stderr)"
    )
    env = {**os.environ, "PYTHONPATH": str(site), "AICRC_CACHE_DIR": str(tmp_path / "cache")}

    def compile_flagship() -> tuple[str, str]:
        argv = [sys.executable, "-c", probe, "compile", str(FLAGSHIP)]
        done = subprocess.run(argv, capture_output=True, text=True, cwd=tmp_path, env=env, timeout=120, check=True)
        return done.stdout, done.stderr.strip()

    cold = compile_flagship()
    assert cold[1] == "True" and compile_flagship() == (cold[0], "False")
    document = site / "aicrc" / "compiler" / "emit" / "document.py"
    document.write_text(document.read_text().replace('KIND = "CompiledRecipe"', 'KIND = "EditedRecipe"'))
    edited = compile_flagship()
    assert edited[1] == "True" and edited[0] == cold[0].replace("kind: CompiledRecipe", "kind: EditedRecipe")
