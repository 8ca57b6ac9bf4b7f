"""K8s.helm: the Helm releases installed in the cluster, decoded from Helm's release Secrets by
`aicrc.cluster.helm_releases` (the latest deployed revision of each; chart, chart version, app
version, status, revision, and a digest of the values, never the values), keyed
`NAMESPACE/RELEASE.FIELD`. Listing Secrets needs RBAC `list secrets`; without it the subtype is
skipped with the API server's words."""

from __future__ import annotations

from aicrc.cluster.collectors.base import Collector, Sources
from aicrc.cluster.collectors.k8s_cluster import skipped
from aicrc.cluster.snapshot import Readings


def collect(sources: Sources) -> Readings:
    from aicrc.cluster.helm_releases import list_releases, to_readings
    from aicrc.cluster.kube import KubeError

    kube = sources.cluster.api()
    try:
        return to_readings(list_releases(kube))
    except KubeError as failure:
        raise skipped(failure) from None


COLLECTOR = Collector("K8s", "helm", collect)
