"""The AI platform's controllers: the operator of the recipe's platform (Dynamo or Kubeflow
Trainer) runs with a validating webhook that has endpoints to answer it (robust-controller), and
the inference gateway is accepted and programmed (inference-gateway).

The reference also submits an invalid object to see the webhook refuse it; aicrc writes nothing,
so it checks that the webhook is registered and has ready endpoints behind it.
"""

from __future__ import annotations

from aicrc.cluster.checks.view import (
    JSON,
    ClusterView,
    Finding,
    condition,
    condition_text,
    labelled,
    name_of,
    skipped,
    verdict,
)
from aicrc.records import Record


class Operator(Record):
    component: str
    deployment: str
    webhook: str  # the ValidatingWebhookConfiguration's name, or a part of it
    crd: str


OPERATORS = (
    Operator("dynamo-platform", "dynamo-platform-dynamo-operator-controller-manager", "dynamo", "dynamographdeployments.nvidia.com"),
    Operator("kubeflow-trainer", "kubeflow-trainer-controller-manager", "validator.trainer.kubeflow.org", "trainjobs.trainer.kubeflow.org"),
)
GATEWAY_COMPONENT = "kgateway"
GATEWAY_CRDS = (
    "gateways.gateway.networking.k8s.io",
    "httproutes.gateway.networking.k8s.io",
    "inferencepools.inference.networking.x-k8s.io",
)


def robust_controller(view: ClusterView) -> Finding:
    operator = next((o for o in OPERATORS if view.has(o.component)), None)
    if operator is None:
        return skipped(f"the recipe deploys none of the AI operators this check knows: {', '.join(o.component for o in OPERATORS)}")
    namespace = view.namespace(operator.component, operator.component)
    problems = []
    if not view.deployment_ready(namespace, operator.deployment, every_replica=False):
        problems.append(f"the {operator.component} controller has no available replica")
    configurations = view.items(
        "list ValidatingWebhookConfigurations", "/apis/admissionregistration.k8s.io/v1/validatingwebhookconfigurations"
    )
    webhook = next((c for c in configurations if operator.webhook in name_of(c)), None)
    if webhook is None:
        view.saw(f"ValidatingWebhookConfigurations: none named like {operator.webhook}")
        problems.append(f"no validating webhook of {operator.component}")
    else:
        problems += _webhook_problems(view, webhook)
    present = view.crd(operator.crd) is not None
    view.saw(f"CustomResourceDefinition {operator.crd}: {'present' if present else 'not found'}")
    if not present:
        problems.append(f"CRD {operator.crd} is not installed")
    return verdict(problems, f"the {operator.component} controller is available and its validating webhook has ready endpoints")


def _webhook_problems(view: ClusterView, configuration: JSON) -> list[str]:
    problems = []
    services = {
        (str(service.get("namespace")), str(service.get("name")))
        for hook in configuration.get("webhooks") or []
        if isinstance(hook, dict) and isinstance(service := (hook.get("clientConfig") or {}).get("service"), dict)
    }
    for namespace, name in sorted(services):
        slices = labelled(
            view.items(f"list EndpointSlices in {namespace}", f"/apis/discovery.k8s.io/v1/namespaces/{namespace}/endpointslices"),
            {"kubernetes.io/service-name": name},
        )
        ready = sum(
            1
            for piece in slices
            for endpoint in piece.get("endpoints") or []
            if isinstance(endpoint, dict) and (endpoint.get("conditions") or {}).get("ready") is not False
        )
        view.saw(f"ValidatingWebhookConfiguration {name_of(configuration)} -> Service {namespace}/{name}: ready endpoints: {ready}")
        if not ready:
            problems.append(f"the webhook's Service {namespace}/{name} has no ready endpoint")
    return problems


def inference_gateway(view: ClusterView) -> Finding:
    if not view.has(GATEWAY_COMPONENT):
        return skipped(f"the recipe deploys no {GATEWAY_COMPONENT}: the inference gateway check applies to inference recipes")
    gateways = view.manifest_objects(GATEWAY_COMPONENT, "Gateway")
    problems = []
    for gateway in gateways:
        namespace, name = (gateway.get("metadata") or {}).get("namespace", "default"), name_of(gateway)
        class_name = str((gateway.get("spec") or {}).get("gatewayClassName") or "")
        problems += _condition_problem(
            view, f"GatewayClass {class_name}", f"/apis/gateway.networking.k8s.io/v1/gatewayclasses/{class_name}", "Accepted"
        )
        problems += _condition_problem(
            view, f"Gateway {namespace}/{name}", f"/apis/gateway.networking.k8s.io/v1/namespaces/{namespace}/gateways/{name}", "Programmed"
        )
    if not gateways:
        view.saw(f"the recipe's {GATEWAY_COMPONENT} manifests: no Gateway")
        problems.append(f"the recipe's {GATEWAY_COMPONENT} manifests hold no Gateway to check")
    problems += view.missing_crds(GATEWAY_CRDS)
    installed = "the Gateway API and inference CRDs installed"
    return verdict(problems, f"{len(gateways)} Gateway(s) programmed, their GatewayClass accepted, and {installed}")


def _condition_problem(view: ClusterView, what: str, path: str, kind: str) -> list[str]:
    found = view.find(f"read {what}", path)
    state = condition(found, kind) if found else None
    view.saw(f"{what}: {condition_text(state) if found else 'not found'}")
    if found is None:
        return [f"{what} not found"]
    return [] if (state or {}).get("status") == "True" else [f"{what} is not {kind}"]
