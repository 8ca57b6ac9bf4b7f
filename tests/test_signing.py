"""`aicrc keygen`: a key pair through securesystemslib, the private half 0600, never overwritten;
keys that cannot be read or used are located errors (E0850), not tracebacks."""

from __future__ import annotations

import stat
from collections.abc import Callable
from pathlib import Path

import pytest

from aicrc import diagnostics as diag
from aicrc.bundle import signing
from aicrc.cli import main


@pytest.mark.parametrize("key_type", ["ed25519", "ecdsa"])
def test_keygen_writes_a_private_key_only_its_owner_reads_and_a_public_key_that_matches(
    key_type: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    key = tmp_path / "key"
    assert main(["keygen", "-o", str(key), "--type", key_type]) == 0
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    assert key.read_bytes().startswith(b"-----BEGIN PRIVATE KEY-----")
    assert (tmp_path / "key.pub").read_bytes().startswith(b"-----BEGIN PUBLIC KEY-----")
    signer, public = signing.load_signer(key), signing.load_public_key(tmp_path / "key.pub")
    assert signer.public_key == public and public.keytype == key_type
    assert public.keyid in capsys.readouterr().out


def test_keygen_defaults_to_ed25519(tmp_path: Path) -> None:
    assert main(["keygen", "-o", str(tmp_path / "key")]) == 0
    assert signing.load_public_key(tmp_path / "key.pub").keytype == "ed25519"


@pytest.mark.parametrize("existing", ["key", "key.pub"])
def test_keygen_never_overwrites_a_key(existing: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / existing).write_text("precious\n")
    assert main(["keygen", "-o", str(tmp_path / "key")]) == 1
    assert f"error[E0850]: {tmp_path / existing} exists already" in capsys.readouterr().err
    assert (tmp_path / existing).read_text() == "precious\n"
    assert [p.name for p in tmp_path.iterdir()] == [existing]


def test_keys_that_cannot_be_used_are_located_errors(tmp_path: Path) -> None:
    assert main(["keygen", "-o", str(tmp_path / "key")]) == 0
    (tmp_path / "junk").write_text("not a key\n")
    cases: list[tuple[Callable[[Path], object], str, str]] = [
        (signing.load_signer, "missing", "cannot read the private key"),
        (signing.load_signer, "junk", "is not a usable private key"),
        (signing.load_signer, "key.pub", "is not a usable private key"),
        (signing.load_public_key, "key", "is not a usable public key"),
    ]
    for load, name, message in cases:
        with pytest.raises(diag.AicrcError) as failure:
            load(tmp_path / name)
        assert [d.code for d in failure.value.diagnostics] == ["E0850"]
        assert message in failure.value.diagnostics[0].message


def test_keygen_needs_an_output(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["keygen"]) == 2
    assert "-o" in capsys.readouterr().err
