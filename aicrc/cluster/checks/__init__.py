"""The deployment and conformance checks, run from the client through read-only API calls.

`CHECKS` names every check a recipe may list (`check conformance dra-support`) with the function
that runs it; the names and what each verifies are the reference's (recipes/validators/catalog.yaml),
but where the reference runs each check as a Job in the cluster that creates test pods, aicrc reads
what is there and says what it looked at. A check a cluster does not let aicrc read (403), or does
not answer, is skipped with why; one whose object or API is missing decides itself whether that is
a failure (the recipe installs it: dra-support) or does not apply (inference-gateway without kgateway).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from aicrc.cluster.checks import autoscaling, controllers, dra, gpu_operator, metrics, resources, scheduling
from aicrc.cluster.checks.view import ClusterView, Finding
from aicrc.cluster.kube import KubeError
from aicrc.cluster.report import Phase, Result

if TYPE_CHECKING:
    from aicrc.cluster.kube import Kube
    from aicrc.compiler.emit.model import CompiledRecipe

CHECKS: dict[str, Callable[[ClusterView], Finding]] = {
    # deployment
    "operator-health": gpu_operator.operator_health,
    "expected-resources": resources.expected_resources,
    "gpu-operator-version": gpu_operator.gpu_operator_version,
    "check-nvidia-smi": gpu_operator.check_nvidia_smi,
    # conformance
    "dra-support": dra.dra_support,
    "gang-scheduling": scheduling.gang_scheduling,
    "accelerator-metrics": metrics.accelerator_metrics,
    "ai-service-metrics": metrics.ai_service_metrics,
    "inference-gateway": controllers.inference_gateway,
    "pod-autoscaling": metrics.pod_autoscaling,
    "cluster-autoscaling": autoscaling.cluster_autoscaling,
    "robust-controller": controllers.robust_controller,
    "secure-accelerator-access": dra.secure_accelerator_access,
    "gpu-operator-health": gpu_operator.gpu_operator_health,
    "platform-health": resources.platform_health,
}


def check_cluster(phase: str, recipe: CompiledRecipe, kube: Kube, against: str) -> Phase:
    """Every check the recipe lists for `phase`, in its order, against the cluster `kube` reaches."""
    names = recipe.checks.get(phase, [])
    view = ClusterView(kube, recipe)
    if names:
        try:
            view.get("read the server version", "/version")
        except KubeError as failure:  # one answer for every check, not a timeout each
            return not_run(phase, recipe, against, f"could not check: cannot {failure.what}: {failure.detail}")
    return Phase(phase, against, tuple(_run(view, name) for name in names), note=f"the recipe lists no {phase} checks")


def not_run(phase: str, recipe: CompiledRecipe, against: str, why: str) -> Phase:
    """The phase's checks, each skipped for the same reason (no cluster was given, or it did not answer)."""
    names = recipe.checks.get(phase, [])
    return Phase(phase, against, tuple(Result(name, "skipped", why) for name in names), note=f"the recipe lists no {phase} checks")


def _run(view: ClusterView, name: str) -> Result:
    check = CHECKS.get(name)
    if check is None:
        return Result(name, "skipped", f"aicrc has no check named {name} (it knows {len(CHECKS)}: see `aicrc validate --help`)")
    view.looked = []
    try:
        finding = check(view)
    except KubeError as failure:
        finding = _unread(failure)
    except (AttributeError, TypeError, ValueError, KeyError, IndexError) as failure:  # an answer no API server writes
        finding = Finding(
            "skipped", f"could not check: an answer of the cluster has an unexpected shape ({type(failure).__name__}: {failure})"
        )
    constraint = finding.constraint
    return Result(
        name,
        finding.status,
        finding.message,
        operator=constraint.operator if constraint else "",
        expected=str(constraint.value).strip() if constraint else "",
        actual=finding.actual,
        layer=constraint.layer if constraint else "",
        constraint=constraint.name if constraint else "",
        looked_at=tuple(view.looked),
    )


def _unread(failure: KubeError) -> Finding:
    """A read the check needed and did not get: refused or unanswered is not checked (skipped); a
    missing object the check needed is a failure."""
    if failure.reason == "not-found":
        return Finding("failed", f"cannot {failure.what}: not found ({failure.detail})")
    if failure.reason in ("forbidden", "unauthorized"):
        return Finding("skipped", f"not allowed to {failure.what}: {failure.detail} ({failure.hint})")
    return Finding("skipped", f"could not check: cannot {failure.what}: {failure.detail}")
