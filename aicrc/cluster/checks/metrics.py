"""GPU metrics, from the exporter to the autoscaler: the DCGM exporter runs and Prometheus holds its
metrics (accelerator-metrics), Kubernetes serves them through the custom metrics API
(ai-service-metrics), and a HorizontalPodAutoscaler can read GPU values from it (pod-autoscaling).

Prometheus is asked through the API server's service proxy (`services/proxy`, read-only), so the
checks need no network path into the cluster; where it is, and which metrics the adapter serves
under which names, is read from the recipe's prometheus-adapter values.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from aicrc.cluster.checks.view import JSON, ClusterView, Finding, condition, condition_text, skipped, verdict

GPU_OPERATOR = "gpu-operator"
ADAPTER = "prometheus-adapter"
EXPORTER = "nvidia-dcgm-exporter"
# The metrics the reference requires of the DCGM exporter.
DCGM_METRICS = ("DCGM_FI_DEV_GPU_UTIL", "DCGM_FI_DEV_FB_USED", "DCGM_FI_DEV_GPU_TEMP", "DCGM_FI_DEV_POWER_USAGE")
UTILISATION = "DCGM_FI_DEV_GPU_UTIL"
CUSTOM_METRICS = "v1beta1.custom.metrics.k8s.io"
EXTERNAL_METRICS = "v1beta1.external.metrics.k8s.io"


def accelerator_metrics(view: ClusterView) -> Finding:
    """The DCGM exporter is ready on every node it runs on, and Prometheus holds series of each
    metric the reference requires."""
    problems = []
    if not view.daemonset_ready(view.namespace(GPU_OPERATOR, GPU_OPERATOR), EXPORTER):
        problems.append(f"the DCGM exporter (DaemonSet {EXPORTER}) is not ready on every node")
    series = _dcgm_series(view)
    missing = [name for name in DCGM_METRICS if not series.get(name)]
    if missing:
        problems.append(f"Prometheus has no series of {', '.join(missing)}")
    return verdict(problems, f"Prometheus holds the DCGM exporter's {', '.join(DCGM_METRICS)}")


def ai_service_metrics(view: ClusterView) -> Finding:
    """GPU utilisation reaches Prometheus, and the custom metrics API is available and serves the
    GPU metrics the recipe's adapter defines."""
    if not view.has(ADAPTER):
        return skipped(f"the recipe deploys no {ADAPTER}: nothing serves GPU metrics to Kubernetes")
    problems = []
    if not _dcgm_series(view).get(UTILISATION):
        problems.append(f"Prometheus has no series of {UTILISATION}")
    if not _api_service_available(view, CUSTOM_METRICS):
        problems.append(f"APIService {CUSTOM_METRICS} is not available")
    else:
        listing = view.get("read the custom metrics API", "/apis/custom.metrics.k8s.io/v1beta1")
        served = {str(r.get("name", "")).partition("/")[2] for r in listing.get("resources") or [] if isinstance(r, dict)}
        wanted = _adapter_metrics(view, "custom")
        absent = [name for name in wanted if name not in served]
        view.saw(f"custom.metrics.k8s.io/v1beta1: serves {len(served)} metrics, {len(wanted) - len(absent)} of the adapter's {len(wanted)}")
        if absent:
            problems.append(f"the custom metrics API does not serve {', '.join(absent)}")
    return verdict(problems, "GPU metrics reach Prometheus and the custom metrics API serves them")


def pod_autoscaling(view: ClusterView) -> Finding:
    """autoscaling/v2 is served, and a GPU metric has values through the custom metrics API (for
    pods) and each of the adapter's external metrics has a value: what an HPA on GPU load reads.
    The reference then scales a Deployment; aicrc, read-only, stops at the values."""
    if not view.has(ADAPTER):
        return skipped(f"the recipe deploys no {ADAPTER}: no GPU metric can drive a HorizontalPodAutoscaler")
    problems = []
    autoscaling = view.find("read the autoscaling/v2 API", "/apis/autoscaling/v2")
    kinds = {str(r.get("name", "")) for r in (autoscaling or {}).get("resources") or [] if isinstance(r, dict)}
    view.saw(f"autoscaling/v2: {'serves horizontalpodautoscalers' if 'horizontalpodautoscalers' in kinds else 'not served'}")
    if "horizontalpodautoscalers" not in kinds:
        problems.append("autoscaling/v2 HorizontalPodAutoscalers are not served")
    if _api_service_available(view, CUSTOM_METRICS):
        namespace = view.namespace(GPU_OPERATOR, GPU_OPERATOR)
        with_values = next((name for name in _adapter_metrics(view, "custom") if _custom_values(view, namespace, name)), None)
        if with_values is None:
            problems.append(f"no GPU custom metric has values for pods in {namespace}")
    else:
        problems.append(f"APIService {CUSTOM_METRICS} is not available")
    external = _adapter_metrics(view, "external")
    if external and not _api_service_available(view, EXTERNAL_METRICS):
        problems.append(f"APIService {EXTERNAL_METRICS} is not available")
    elif empty := [name for name in external if not _external_values(view, name)]:
        problems.append(f"the external metrics {', '.join(empty)} have no value")
    return verdict(problems, "GPU metrics have values through the custom and external metrics APIs that HorizontalPodAutoscalers read")


# ---- reads the checks share ---------------------------------------------------------------------


def prometheus(view: ClusterView) -> tuple[str, str, int]:
    """(namespace, service, port) of the Prometheus the recipe's adapter reads
    (`prometheus.url = "http://kube-prometheus-prometheus"`, `prometheus.port = 9090`)."""
    settings: Mapping[str, Any] = view.values(ADAPTER).get("prometheus") or {}
    host = (urlsplit(str(settings.get("url") or "")).hostname or "").split(".")
    stack = view.values("kube-prometheus-stack").get("fullnameOverride") or "kube-prometheus-stack"
    service = host[0] if host[0] else f"{stack}-prometheus"
    namespace = host[1] if len(host) > 1 else view.namespace("kube-prometheus-stack", "monitoring")
    return namespace, service, int(settings.get("port") or 9090)


def _dcgm_series(view: ClusterView) -> dict[str, int]:
    """How many series Prometheus holds of each required DCGM metric (one query, for both checks)."""
    namespace, service, port = prometheus(view)
    query = f'count by (__name__) ({{__name__=~"{"|".join(DCGM_METRICS)}"}})'
    answer = view.get(
        f"query Prometheus {namespace}/{service}:{port} through the API server's service proxy",
        f"/api/v1/namespaces/{namespace}/services/{service}:{port}/proxy/api/v1/query",
        [("query", query)],
    )
    counts: dict[str, int] = {}
    for sample in (answer.get("data") or {}).get("result") or []:
        if isinstance(sample, dict):
            name = str((sample.get("metric") or {}).get("__name__", ""))
            counts[name] = int(float((sample.get("value") or [0, "0"])[-1]))  # [time, "count"]
    shown = ", ".join(f"{name} {counts.get(name, 0)}" for name in DCGM_METRICS)
    view.saw(f"Prometheus {namespace}/{service}:{port} (service proxy), series: {shown}")
    return counts


def _api_service_available(view: ClusterView, name: str) -> bool:
    service = view.find(f"read APIService {name}", f"/apis/apiregistration.k8s.io/v1/apiservices/{name}")
    available = condition(service, "Available") if service else None
    view.saw(f"APIService {name}: {condition_text(available) if service else 'not found'}")
    return (available or {}).get("status") == "True"


def _adapter_metrics(view: ClusterView, kind: str) -> list[str]:
    """The metric names the recipe's prometheus-adapter serves (`rules.custom[].name.as`)."""
    rules = (view.values(ADAPTER).get("rules") or {}).get(kind) or []
    return [str((rule.get("name") or {}).get("as")) for rule in rules if isinstance(rule, dict) and (rule.get("name") or {}).get("as")]


def _custom_values(view: ClusterView, namespace: str, metric: str) -> list[JSON]:
    values = view.find(f"read custom metric {metric}", f"/apis/custom.metrics.k8s.io/v1beta1/namespaces/{namespace}/pods/*/{metric}")
    items = [item for item in (values or {}).get("items") or [] if isinstance(item, dict)]
    view.saw(f"custom metric {metric} of pods in {namespace}: values: {len(items)}")
    return items


def _external_values(view: ClusterView, metric: str) -> list[JSON]:
    values = view.find(f"read external metric {metric}", f"/apis/external.metrics.k8s.io/v1beta1/namespaces/default/{metric}")
    items = [item for item in (values or {}).get("items") or [] if isinstance(item, dict)]
    view.saw(f"external metric {metric}: values: {len(items)}")
    return items
