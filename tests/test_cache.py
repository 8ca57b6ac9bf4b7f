"""The on-disk cache: keyed by the compiler's own code, private folders only, and entries that
must match their digest before they are unpickled."""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from aicrc import cache
from aicrc.resources import grammar_file
from tests.conftest import FLAGSHIP, ROOT


def _copy_package(tmp_path: Path) -> Path:
    """An installed-looking copy: `site/aicrc` with the grammar and standard library beside it."""
    site = tmp_path / "site"
    shutil.copytree(Path(cache.__file__).parent, site / "aicrc", ignore=shutil.ignore_patterns("__pycache__"))
    (site / "grammar").symlink_to(grammar_file().parent)
    (site / "stdlib").symlink_to(ROOT / "stdlib")
    return site


# ---- (a) the key covers the compiler's code -------------------------------------------------------


def test_the_code_digest_changes_with_any_source_file_or_the_grammar(tmp_path: Path) -> None:
    site = _copy_package(tmp_path)
    package, grammar = site / "aicrc", tmp_path / "aicr.lark"
    shutil.copy(grammar_file(), grammar)
    seen = {cache.code_digest_of(package, grammar)}
    assert cache.code_digest_of(package, grammar) in seen  # the same code, the same digest

    for edited in ("compiler/syntax/transform.py", "compiler/solve.py", "records.py"):
        with open(package / edited, "a", encoding="utf-8") as handle:
            handle.write("\n# edited\n")
        digest = cache.code_digest_of(package, grammar)
        assert digest not in seen, edited
        seen.add(digest)
    (package / "compiler" / "new_stage.py").write_text("")
    seen.add(cache.code_digest_of(package, grammar))
    (package / "records.py").rename(package / "records_renamed.py")
    seen.add(cache.code_digest_of(package, grammar))
    grammar.write_text(grammar.read_text() + "\n// edited\n")
    seen.add(cache.code_digest_of(package, grammar))
    assert len(seen) == 7


def test_the_key_includes_the_code_digest(cache_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    entry = cache.key("plan", "same input")
    cache.store("plan", entry, "computed by the old code")
    assert cache.load("plan", entry) == "computed by the old code"
    monkeypatch.setattr(cache, "code_digest", lambda: "0" * 64)  # what an edited installation hashes to
    assert cache.key("plan", "same input") != entry
    assert cache.load("plan", cache.key("plan", "same input")) is None


def test_with_the_cache_off_a_key_does_not_hash_the_code(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AICRC_NO_CACHE", "1")
    monkeypatch.setattr(cache, "code_digest", lambda: pytest.fail("the code was hashed"))
    assert cache.key("parse", "a") != cache.key("parse", "b")


def test_editing_an_installed_copy_misses_the_cache(tmp_path: Path) -> None:
    """The reported bug: after editing transform.py in an installed copy, a compile read the
    ASTs the unedited code had cached. A miss shows as Lark being imported again."""
    site = _copy_package(tmp_path)
    script = (
        "import sys, aicrc, aicrc.cli\n"
        "aicrc.cli.main(['compile', sys.argv[1], '-o', sys.argv[2]])\n"
        "print(aicrc.__file__, sorted(m for m in ('lark', 'networkx') if m in sys.modules))\n"
    )
    env = {**os.environ, "PYTHONPATH": str(site), "AICRC_CACHE_DIR": str(tmp_path / "cache")}

    def compile_imports() -> str:
        argv = [sys.executable, "-c", script, str(FLAGSHIP), str(tmp_path / "out.yaml")]
        done = subprocess.run(argv, capture_output=True, text=True, cwd=site, env=env, timeout=120, check=True)
        where, imported = done.stdout.strip().split(" ", 1)
        assert Path(where).is_relative_to(site)
        return imported

    assert compile_imports() == "['lark']"
    assert compile_imports() == "[]"  # warm
    with open(site / "aicrc" / "compiler" / "syntax" / "transform.py", "a", encoding="utf-8") as handle:
        handle.write("\n# edited\n")
    assert compile_imports() == "['lark']"


# ---- (b) only private folders ------------------------------------------------------------------------


def test_the_cache_folders_are_created_private(cache_dir: Path) -> None:
    previous = os.umask(0)  # with no umask to help, the mode passed to mkdir is all that protects
    try:
        cache.store("plan", cache.key("x"), 1)
    finally:
        os.umask(previous)
    assert stat.S_IMODE(cache_dir.stat().st_mode) == 0o700
    assert stat.S_IMODE((cache_dir / "plan").stat().st_mode) == 0o700
    assert cache.load("plan", cache.key("x")) == 1


@pytest.mark.parametrize("mode", [0o770, 0o707, 0o777, 0o1777])
def test_a_folder_others_may_write_is_not_used(cache_dir: Path, mode: int) -> None:
    cache_dir.mkdir()
    cache_dir.chmod(mode)
    cache.store("plan", cache.key("x"), 1)
    cache.store_bytes("output", cache.key("x"), b"1")
    assert list(cache_dir.iterdir()) == []  # not even the namespace folder
    assert cache.load_bytes("output", cache.key("x")) is None


def test_a_namespace_folder_others_may_write_is_not_used(cache_dir: Path) -> None:
    cache.store("plan", cache.key("x"), 1)
    (cache_dir / "plan").chmod(0o757)
    assert cache.load("plan", cache.key("x")) is None
    cache.store("plan", cache.key("y"), 2)
    assert sorted(path.name for path in (cache_dir / "plan").iterdir()) == [f"{cache.key('x')}.pickle"]


def test_a_folder_owned_by_someone_else_is_not_used(cache_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cache.store("plan", cache.key("x"), 1)
    someone_else = os.getuid() + 1
    monkeypatch.setattr(os, "getuid", lambda: someone_else)
    assert cache.load("plan", cache.key("x")) is None


def test_a_refused_folder_is_said_in_one_line_only_when_debugging(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture[str]
) -> None:
    for name, debug in (("quiet", None), ("debug", "1")):
        folder = tmp_path / name
        folder.mkdir(mode=0o777)
        folder.chmod(0o777)
        monkeypatch.setenv("AICRC_CACHE_DIR", str(folder))
        if debug:
            monkeypatch.setenv("AICRC_DEBUG", debug)
        for value in range(3):
            cache.store("plan", cache.key(str(value)), value)
            assert cache.load("plan", cache.key(str(value))) is None
    lines = capfd.readouterr().err.splitlines()
    assert len(lines) == 1 and str(tmp_path / "debug") in lines[0] and "cache not used" in lines[0]


def test_compiling_with_a_refused_cache_works_and_writes_nothing(tmp_path: Path) -> None:
    shared = tmp_path / "shared"
    shared.mkdir()
    shared.chmod(0o777)
    env = {**os.environ, "PYTHONPATH": str(ROOT), "AICRC_CACHE_DIR": str(shared)}
    done = subprocess.run(
        [sys.executable, "-m", "aicrc", "compile", str(FLAGSHIP)], capture_output=True, text=True, env=env, timeout=120, check=True
    )
    assert "gpu-operator" in done.stdout and done.stderr == ""
    assert list(shared.iterdir()) == []


# ---- (c) entries are checked before they are unpickled -----------------------------------------------


def test_a_valid_entry_round_trips(cache_dir: Path) -> None:
    value = {"order": ("a", "b"), "waves": {"a": 0, "b": 1}}
    cache.store("plan", cache.key("v"), value)
    assert cache.load("plan", cache.key("v")) == value


def _entry(cache_dir: Path, name: str) -> Path:
    return cache_dir / "plan" / f"{cache.key(name)}.pickle"


@pytest.mark.parametrize("position", [0, 31, 32, -1])  # in the digest, its last byte, the pickle's first, its last
def test_one_flipped_byte_is_a_miss(cache_dir: Path, position: int) -> None:
    cache.store("plan", cache.key("v"), ["a value", 12345])
    path = _entry(cache_dir, "v")
    data = bytearray(path.read_bytes())
    data[position] ^= 0x01
    path.write_bytes(bytes(data))
    assert cache.load("plan", cache.key("v")) is None


def test_a_replaced_pickle_that_still_loads_is_not_trusted(cache_dir: Path) -> None:
    import pickle

    cache.store("plan", cache.key("v"), "honest")
    path = _entry(cache_dir, "v")
    digest = path.read_bytes()[:32]
    path.write_bytes(digest + pickle.dumps("tampered"))
    assert cache.load("plan", cache.key("v")) is None
    path.write_bytes(pickle.dumps("tampered"))  # no digest at all: the format before this one
    assert cache.load("plan", cache.key("v")) is None
    path.write_bytes(b"")
    assert cache.load("plan", cache.key("v")) is None


def test_an_entry_copied_under_another_key_is_a_miss(cache_dir: Path) -> None:
    cache.store("plan", cache.key("one"), "for one")
    cache.store("plan", cache.key("two"), "for two")
    shutil.copy(_entry(cache_dir, "one"), _entry(cache_dir, "two"))
    assert cache.load("plan", cache.key("two")) is None


def test_a_tampered_cache_compiles_to_the_same_output_and_is_rebuilt(cache_dir: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}  # the fixture's AICRC_CACHE_DIR

    def compile_flagship() -> str:
        argv = [sys.executable, "-m", "aicrc", "compile", str(FLAGSHIP)]
        return subprocess.run(argv, capture_output=True, text=True, env=env, timeout=120, check=True).stdout

    cold, warm = compile_flagship(), compile_flagship()
    assert cold == warm
    entries = sorted(cache_dir.glob("*/*.pickle")) + sorted(cache_dir.glob("*/*.entry"))
    assert {path.parent.name for path in entries} >= {"ast", "grammar", "output"}
    for path in entries:
        data = bytearray(path.read_bytes())
        data[len(data) // 2] ^= 0xFF
        path.write_bytes(bytes(data))
    assert compile_flagship() == cold
    for path in entries:  # each tampered entry was a miss, so the compile wrote it again
        found = cache.load(path.parent.name, path.stem) if path.suffix == ".pickle" else cache.load_bytes(path.parent.name, path.stem)
        assert found is not None, path


# ---- (d) entries of plain bytes ----------------------------------------------------------------------


def test_byte_entries_are_sealed_like_pickles(cache_dir: Path) -> None:
    cache.store_bytes("output", cache.key("b"), b"replayed as it is")
    assert cache.load_bytes("output", cache.key("b")) == b"replayed as it is"
    path = cache_dir / "output" / f"{cache.key('b')}.entry"
    data = bytearray(path.read_bytes())
    data[-1] ^= 0x01
    path.write_bytes(bytes(data))
    assert cache.load_bytes("output", cache.key("b")) is None
    assert cache.load_bytes("output", cache.key("never stored")) is None


def test_the_fast_path_imports_no_more_than_it_needs(cache_dir: Path) -> None:
    """A warm compile decides and replays before anything heavy is imported."""
    heavy = ("lark", "networkx", "pydantic", "jsonschema", "yaml", "argparse", "pathlib", "typing")
    probe = f"import sys, aicrc.cli; aicrc.cli.main(); print(sorted(m for m in {heavy} if m in sys.modules), file=sys.stderr)"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}

    def imported() -> str:
        argv = [sys.executable, "-c", probe, "compile", str(FLAGSHIP), "--format", "json"]
        return subprocess.run(argv, capture_output=True, text=True, env=env, cwd=ROOT, timeout=120, check=True).stderr.strip()

    assert "lark" in imported()
    assert imported() == "[]"


# ---- (e) stamps: what a stat vouches for -------------------------------------------------------------


def test_a_stamp_vouches_only_for_a_settled_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "file"
    path.write_text("same size")
    assert cache.stamp(str(path)) == b""  # just written: the clock's resolution could hide another write
    monkeypatch.setattr(cache, "SETTLING_NS", 0)
    settled = cache.stamp(str(path))
    assert settled and cache.stamp(str(path)) == settled
    times = path.stat()
    path.write_text("same SIZE")
    os.utime(path, ns=(times.st_atime_ns, times.st_mtime_ns))  # size and mtime kept, as `cp -p` or a tool might
    assert cache.stamp(str(path)) not in (b"", settled)  # the ctime moved
    assert cache.stamp(str(tmp_path / "missing")) == b""


def test_the_code_digest_is_kept_under_the_files_stamps(tmp_path: Path, cache_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    site = _copy_package(tmp_path)
    package = site / "aicrc"
    monkeypatch.setattr(cache, "_PACKAGE", str(package))
    monkeypatch.setattr(cache, "SETTLING_NS", 0)
    monkeypatch.setattr(cache, "_code_digest", None)
    digest = cache.code_digest()
    assert digest == cache.code_digest_of(package, grammar_file())
    assert len(list((cache_dir / "code").iterdir())) == 1

    hash_again = cache.code_digest_of
    monkeypatch.setattr(cache, "code_digest_of", lambda *args: pytest.fail("the code was hashed again"))
    monkeypatch.setattr(cache, "_code_digest", None)
    assert cache.code_digest() == digest  # found under the stamps

    edited = package / "compiler" / "solve.py"
    times = edited.stat()
    edited.write_text(edited.read_text().replace("Stage 4", "Stage 5", 1))  # the same size
    os.utime(edited, ns=(times.st_atime_ns, times.st_mtime_ns))  # and the same mtime
    monkeypatch.setattr(cache, "code_digest_of", hash_again)
    monkeypatch.setattr(cache, "_code_digest", None)
    assert cache.code_digest() != digest
