"""The cluster a snapshot measures: the Kubernetes API behind a connection already known to answer,
or why there is none (`ClusterSource.absent`).

Whether to measure a cluster, and what to do when it cannot be reached, is decided before the
snapshot starts (`aicrc snapshot` connects with `ClusterSource.connect`, which asks the API server
its version). The K8s collectors then read through `read` and `items`, which turn every failure of
one request (RBAC denial, a missing API group, a slow or closed connection) into a `SkipError`
naming the request and the server's words: that subtype is skipped, the others still measured.

Nothing here imports the `kubernetes` client: `aicrc.cluster.kube` imports it when it connects, so
a snapshot of the node alone never loads it.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from aicrc.cluster.collectors.skip import SkipError

if TYPE_CHECKING:
    from aicrc.cluster.kube import Kube, KubeError, Target

PAGE_SIZE = 500  # objects a list request asks for at once, as kubectl does: a large cluster's pods fit no single answer


class ClusterSource:
    def __init__(self, kube: Kube | None, version: dict[str, Any], absent: str) -> None:
        self._kube = kube
        self._version = version
        self._absent = absent

    @classmethod
    def absent(cls, why: str) -> ClusterSource:
        """No cluster to measure; each K8s subtype is skipped with `why`."""
        return cls(None, {}, why)

    @classmethod
    def connect(cls, target: Target) -> ClusterSource:
        """Connect to the target cluster and ask its version: a `KubeError` when the cluster cannot
        be measured at all (kubeconfig unreadable, server unreachable, silent or refusing us)."""
        from aicrc.cluster.kube import connect

        kube = connect(target)
        return cls(kube, kube.read("read the API server's version", kube.version.get_code), "")

    def api(self) -> Kube:
        """The connection, or a SkipError saying why there is none."""
        if self._kube is None:
            raise SkipError(self._absent)
        return self._kube

    def version(self) -> dict[str, Any]:
        """The API server's `/version` answer, asked when connecting."""
        self.api()
        return self._version

    def read(self, what: str, call: Callable[..., Any], *args: Any, not_found: str = "", **kwargs: Any) -> dict[str, Any]:
        """One request's JSON object; `not_found` says what a 404 means (an API group not installed)."""
        from aicrc.cluster.kube import KubeError

        try:
            return self.api().read(what, call, *args, **kwargs)
        except KubeError as failure:
            raise skipped(failure, not_found) from None

    def items(self, what: str, call: Callable[..., Any], *args: Any, **kwargs: Any) -> Iterator[dict[str, Any]]:
        """Every object of a list, asked for page by page (`limit` and `continue`)."""
        token, seen = "", set()
        while True:
            paging: dict[str, Any] = {"limit": PAGE_SIZE, **({"_continue": token} if token else {})}
            page = self.read(what, call, *args, **kwargs, **paging)
            items = page.get("items") or []
            if not isinstance(items, list):
                raise SkipError(f"cannot {what}: the answer's `items` is not a list")
            yield from (item for item in items if isinstance(item, dict))
            token = text(page, "metadata", "continue")
            if not token:
                return
            if token in seen:  # a server that hands the same page out again would never end the list
                raise SkipError(f"cannot {what}: the API server repeated the continue token {token[:40]!r}")
            seen.add(token)


def skipped(failure: KubeError, not_found: str = "") -> SkipError:
    """A request that failed, as the reason its subtype was skipped: the request and the server's
    words (`cannot list pods in all namespaces: HTTP 403: pods is forbidden: ...`)."""
    if failure.reason == "not-found" and not_found:
        return SkipError(not_found)
    return SkipError(f"cannot {failure.what}: {failure.detail}")


def ambient_cluster() -> bool:
    """Whether the client finds a cluster without being told: $KUBECONFIG, ~/.kube/config, or the
    service account of a pod (the agent Job)."""
    return bool(os.environ.get("KUBECONFIG") or os.environ.get("KUBERNETES_SERVICE_HOST")) or Path("~/.kube/config").expanduser().is_file()


def field(data: object, *path: str) -> object:
    """The value at `path` in an API object read as JSON, or None where any step is missing or not
    an object (a hostile or newer server's answer reads as absent, not as a crash)."""
    for key in path:
        if not isinstance(data, dict):
            return None
        data = data.get(key)
    return data


def text(data: object, *path: str) -> str:
    """The string at `path`, or "" where there is none."""
    value = field(data, *path)
    return value if isinstance(value, str) else ""
