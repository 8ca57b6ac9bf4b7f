"""K8s.server: the API server's version (`GET /version`), as the reference reads it: `version` (the
git version, `v1.33.5-eks-3025e55`, whose vendor suffix names a managed service), `platform` and
`goVersion`; "" where the answer lacks one."""

from __future__ import annotations

from aicrc.cluster.collectors.base import Collector, Sources
from aicrc.cluster.collectors.k8s_cluster import text
from aicrc.cluster.snapshot import Readings


def collect(sources: Sources) -> Readings:
    version = sources.cluster.version()
    return {"version": text(version, "gitVersion"), "platform": text(version, "platform"), "goVersion": text(version, "goVersion")}


COLLECTOR = Collector("K8s", "server", collect)
