"""Gang scheduling: the KAI scheduler, which places a job's pods all at once or not at all, runs
with every one of its services, and its Queue and PodGroup kinds are installed (gang-scheduling).

The reference then schedules two pods as a gang; aicrc, read-only, checks what makes that work.
"""

from __future__ import annotations

from aicrc.cluster.checks.view import ClusterView, Finding, skipped, verdict

COMPONENT = "kai-scheduler"
# The Deployments of a working KAI scheduler, as the reference lists them.
SERVICES = ("kai-scheduler-default", "admission", "binder", "kai-operator", "pod-grouper", "podgroup-controller", "queue-controller")
CRDS = ("queues.scheduling.run.ai", "podgroups.scheduling.run.ai")


def gang_scheduling(view: ClusterView) -> Finding:
    if not view.has(COMPONENT):
        return skipped(f"the recipe does not deploy {COMPONENT}, the gang scheduler this check knows")
    namespace = view.namespace(COMPONENT, COMPONENT)
    problems = [f"Deployment {namespace}/{name} is not available" for name in SERVICES if not view.deployment_ready(namespace, name)]
    problems += view.missing_crds(CRDS)
    return verdict(problems, f"the KAI scheduler's {len(SERVICES)} services are available and its Queue and PodGroup kinds are installed")
