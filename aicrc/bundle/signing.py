"""Signing keys for bundle provenance: generated, written and read through securesystemslib.

A key pair is two PEM files: the private key (PKCS#8, unencrypted, mode 0600) at KEYFILE and the
public key (SubjectPublicKeyInfo) at KEYFILE.pub, the formats securesystemslib's CryptoSigner and
`openssl pkey` read. The key id in a signature is securesystemslib's default (a hash of the public
key), so the same public key always finds its own signature in an envelope.

Ed25519 is the default: its signatures are deterministic, so signing the same bundle twice writes
the same bytes. ECDSA (P-256) signatures are randomized: a bundle signed with it differs between
runs in its signature only.
"""

from __future__ import annotations

import os
from pathlib import Path

from securesystemslib.signer import CryptoSigner, SSlibKey

from aicrc import diagnostics as diag

KEY_TYPES = ("ed25519", "ecdsa")
DEFAULT_KEY_TYPE = "ed25519"
PUBLIC_SUFFIX = ".pub"


def generate(key_type: str) -> CryptoSigner:
    if key_type == "ecdsa":
        return CryptoSigner.generate_ecdsa()
    return CryptoSigner.generate_ed25519()


def write_key_pair(signer: CryptoSigner, private_path: Path) -> Path:
    """Write KEYFILE (0600) and KEYFILE.pub; E0850 when either exists: a key is never overwritten."""
    public_path = private_path.with_name(private_path.name + PUBLIC_SUFFIX)
    for path in (private_path, public_path):
        if path.exists():
            raise diag.error("E0850", f"{path} exists already", help="choose another -o KEYFILE, or remove the old key first")
    try:
        # O_EXCL with mode 0600: the private key is never readable by others, not even for a moment.
        descriptor = os.open(private_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(signer.private_bytes)
        public_path.write_bytes(public_pem(signer.public_key))
    except OSError as failure:
        raise diag.error("E0850", f"cannot write {failure.filename or private_path}: {failure.strerror}") from None
    return public_path


def public_pem(key: SSlibKey) -> bytes:
    from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

    return key._crypto_key().public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo)


def load_signer(path: Path) -> CryptoSigner:
    """The signer for a private key file `aicrc keygen` wrote (or any PEM PKCS#8 Ed25519 or ECDSA key)."""
    from cryptography.hazmat.primitives.serialization import load_pem_private_key

    pem = _read(path, "private")
    try:
        return CryptoSigner(load_pem_private_key(pem, None))
    except (ValueError, TypeError) as failure:
        raise diag.error("E0850", f"{path} is not a usable private key: {failure}", help=_KEYGEN) from None


def load_public_key(path: Path) -> SSlibKey:
    """The public key in a PEM file (KEYFILE.pub as `aicrc keygen` writes it)."""
    from cryptography.hazmat.primitives.serialization import load_pem_public_key

    pem = _read(path, "public")
    try:
        return SSlibKey.from_crypto(load_pem_public_key(pem))
    except (ValueError, TypeError) as failure:
        raise diag.error("E0850", f"{path} is not a usable public key: {failure}", help=_KEYGEN) from None


_KEYGEN = "give a PEM key as `aicrc keygen -o KEYFILE` writes it (KEYFILE to sign, KEYFILE.pub to verify)"


def _read(path: Path, which: str) -> bytes:
    try:
        return path.read_bytes()
    except OSError as failure:
        raise diag.error("E0850", f"cannot read the {which} key {path}: {failure.strerror}", help=_KEYGEN) from None
