"""`SkipError`: a collector could not run here, and says why (not a failure of the snapshot)."""

from __future__ import annotations


class SkipError(Exception):
    """The collector could not run here; the message says why, for the snapshot to record."""
