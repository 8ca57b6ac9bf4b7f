"""A bundle as one reproducible tar.gz (the layer of its OCI artifact), and back.

The same bundle always gives the same bytes, so the same recipe pushed twice has the same digest:
entries sorted by path, plain files only (folders are implied by the paths), mtime 0, uid and gid
0 with no user or group names, mode 0644 or 0755, and gzip with mtime 0 and no file name.
Reading back accepts only what packing writes: regular files at relative paths inside the bundle,
so an archive from elsewhere cannot write outside the folder or plant a link.
"""

from __future__ import annotations

import gzip
import io
import tarfile

from aicrc import diagnostics as diag
from aicrc.bundle.files import EXECUTABLE, Bundle

MEDIA_TYPE = "application/vnd.aicrc.bundle.layer.v1.tar+gzip"


def pack(bundle: Bundle) -> bytes:
    archive = io.BytesIO()
    with tarfile.open(fileobj=archive, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for path in sorted(bundle, key=lambda path: path.encode()):
            file = bundle[path]
            info = tarfile.TarInfo(path)
            info.size, info.mode, info.mtime = len(file.content), file.mode, 0
            info.uid = info.gid = 0
            info.uname = info.gname = ""
            tar.addfile(info, io.BytesIO(file.content))
    compressed = io.BytesIO()
    with gzip.GzipFile(filename="", mode="wb", fileobj=compressed, mtime=0, compresslevel=9) as stream:
        stream.write(archive.getvalue())
    return compressed.getvalue()


def unpack(data: bytes, origin: str) -> Bundle:
    """The bundle in a tar.gz that `pack` wrote; E0856 naming `origin` for anything else."""
    bundle = Bundle()
    try:
        with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as tar:
            for member in tar:
                if not member.isreg():
                    raise ValueError(f"{member.name!r} is not a plain file")
                handle = tar.extractfile(member)
                assert handle is not None  # a regular member always has its data
                bundle.add(member.name, handle.read(), executable=member.mode & 0o111 == EXECUTABLE & 0o111)
    except (tarfile.TarError, OSError, EOFError, ValueError) as failure:  # gzip, tar and path errors alike
        raise diag.error("E0856", f"{origin} is not an aicrc bundle archive: {failure}", help=_PUSH) from None
    return bundle


_PUSH = "pull an artifact that `aicrc bundle -o oci://...` pushed"
