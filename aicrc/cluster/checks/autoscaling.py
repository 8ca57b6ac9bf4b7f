"""Cluster autoscaling: something adds GPU nodes when GPU pods wait for them (cluster-autoscaling).

Looked for in the reference's order: Karpenter (available, with a NodePool that may add GPUs), a
cluster-autoscaler Deployment, then the clouds' own node scaling: GPU nodes in an EKS managed node
group (an Auto Scaling group), or GKE's cluster-autoscaler status. The reference then scales a
Deployment and watches nodes arrive; aicrc, read-only, reports what would do the scaling.
"""

from __future__ import annotations

from aicrc.cluster.checks.view import JSON, ClusterView, Finding, deployment_replicas, failed, labelled, name_of, passed

KARPENTER = {"app.kubernetes.io/name": "karpenter"}
AUTOSCALER_NAMES = ("cluster-autoscaler", "cluster-autoscaler-aws-cluster-autoscaler")
GPU_NODE = {"nvidia.com/gpu.present": "true"}  # what GPU Feature Discovery labels a GPU node with
EKS_NODE_GROUP = "eks.amazonaws.com/nodegroup"


def cluster_autoscaling(view: ClusterView) -> Finding:
    karpenter = labelled(
        view.items("list Karpenter Deployments", "/apis/apps/v1/deployments", [("labelSelector", "app.kubernetes.io/name=karpenter")]),
        KARPENTER,
    )
    if karpenter:
        return _karpenter(view, karpenter[0])
    view.saw("Deployments labelled app.kubernetes.io/name=karpenter: none")
    for name in AUTOSCALER_NAMES:
        if name in view.deployments("kube-system"):
            if view.deployment_ready("kube-system", name, every_replica=False):
                return passed(f"the cluster autoscaler (Deployment kube-system/{name}) is available")
            return failed(f"the cluster autoscaler (Deployment kube-system/{name}) has no available replica")
    view.saw(f"Deployments in kube-system named {' or '.join(AUTOSCALER_NAMES)}: none")
    gpu_nodes = labelled(view.nodes(), GPU_NODE)
    groups = sorted({str(((n.get("metadata") or {}).get("labels") or {}).get(EKS_NODE_GROUP) or "") for n in gpu_nodes} - {""})
    view.saw(f"GPU nodes (nvidia.com/gpu.present=true): {len(gpu_nodes)}, in EKS managed node groups: {', '.join(groups) or 'none'}")
    if groups:
        return passed(
            f"the GPU nodes are in EKS managed node group(s) {', '.join(groups)}, whose Auto Scaling group scales them"
            " (its size limits are set in AWS, where aicrc does not look)"
        )
    status = view.find(
        "read ConfigMap kube-system/cluster-autoscaler-status", "/api/v1/namespaces/kube-system/configmaps/cluster-autoscaler-status"
    )
    view.saw(f"ConfigMap kube-system/cluster-autoscaler-status: {'present' if status else 'not found'}")
    if status:
        return passed("the cloud's cluster autoscaler reports its status (ConfigMap kube-system/cluster-autoscaler-status)")
    return failed("nothing scales the GPU nodes: no Karpenter, no cluster autoscaler, no managed node group")


def _karpenter(view: ClusterView, deployment: JSON) -> Finding:
    where = f"{(deployment.get('metadata') or {}).get('namespace')}/{name_of(deployment)}"
    available, wanted = deployment_replicas(deployment)
    view.saw(f"Deployment {where} (Karpenter): {available}/{wanted} available")
    if available < max(wanted, 1):
        return failed(f"Karpenter (Deployment {where}) is unhealthy: {available}/{wanted} available")
    pools = view.items("list Karpenter NodePools", "/apis/karpenter.sh/v1/nodepools")
    gpu_pools = [name_of(pool) for pool in pools if "nvidia.com/gpu" in ((pool.get("spec") or {}).get("limits") or {})]
    view.saw(f"NodePools: {len(pools)}, with an nvidia.com/gpu limit: {', '.join(gpu_pools) or 'none'}")
    if not gpu_pools:
        return failed("Karpenter runs, but no NodePool sets an nvidia.com/gpu limit: none of them adds GPU nodes")
    return passed(f"Karpenter is available and NodePool(s) {', '.join(gpu_pools)} add GPU nodes")
