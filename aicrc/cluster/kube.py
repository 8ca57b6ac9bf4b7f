"""The Kubernetes API, through the official client: one connection per command, and one way to
call it that turns every failure into a `KubeError` saying what was asked and why it did not work.

Responses are read as plain JSON data (`_preload_content=False`), not as the client's generated
models: a collector or a check reads the few fields it needs, and an object with fields the
client's models do not know (a newer API server, a CRD) must not fail the whole call.

    kube = connect(kubeconfig, context)
    nodes = kube.read("list nodes", kube.core.list_node)            # {"items": [...]}
    policy = kube.read("read ClusterPolicy", kube.custom.get_cluster_custom_object,
                       "nvidia.com", "v1", "clusterpolicies", "cluster-policy")
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from typing import Any, Final, Literal, TypeAlias

from aicrc import diagnostics as diag
from aicrc.diagnostics import AicrcError
from aicrc.records import Record

DEFAULT_TIMEOUT_S: Final = 10.0
FIELD_MANAGER: Final = "aicrc"  # who owns the fields aicrc writes by server-side apply
APPLY_PATCH: Final = "application/apply-patch+yaml"  # JSON is YAML: an apply body may be JSON
MAX_RESPONSE_BYTES: Final = 64 * 1024 * 1024  # a list of every Secret of a large cluster fits

Reason: TypeAlias = Literal["config", "unreachable", "timeout", "unauthorized", "forbidden", "not-found", "conflict", "rejected", "invalid"]

# What each reason tells the user to do next.
_HINTS: dict[str, str] = {
    "config": "give --kubeconfig FILE (and --context NAME), or set KUBECONFIG",
    "unreachable": "check that the API server in the kubeconfig is reachable from here",
    "timeout": "the API server did not answer in time; try again, or raise --request-timeout",
    "unauthorized": "the kubeconfig's credentials were refused; refresh them",
    "forbidden": "the kubeconfig's identity lacks the RBAC permission named above",
    "not-found": "the object or its API group does not exist on this cluster",
    "conflict": "another field manager owns these fields; rerun with --force-conflicts to take them",
    "rejected": "the API server refused the request",
    "invalid": "the API server's answer is not the JSON object Kubernetes writes",
}


class KubeError(Exception):
    """A Kubernetes call that did not work: what was asked, why (`reason`), and the server's words."""

    def __init__(self, reason: Reason, what: str, detail: str) -> None:
        super().__init__(f"{what}: {detail}")
        self.reason: Reason = reason
        self.what = what
        self.detail = detail

    @property
    def hint(self) -> str:
        return _HINTS[self.reason]

    def as_error(self) -> AicrcError:
        """The failure as the command line reports it (E0910, with what to do next)."""
        return diag.error("E0910", f"Kubernetes: cannot {self.what}: {self.detail}", help=self.hint)


class Target(Record):
    """Which cluster: a kubeconfig file and context (None: the client's defaults, then in-cluster)."""

    kubeconfig: str | None = None
    context: str | None = None
    timeout: float = DEFAULT_TIMEOUT_S


class Kube:
    """The typed API groups aicrc uses, over one `ApiClient`."""

    def __init__(self, api_client: Any, timeout: float = DEFAULT_TIMEOUT_S) -> None:
        from kubernetes import client

        self.api_client = api_client
        self.timeout = timeout
        self.host: str = api_client.configuration.host
        self.core = client.CoreV1Api(api_client)
        self.batch = client.BatchV1Api(api_client)
        self.rbac = client.RbacAuthorizationV1Api(api_client)
        self.version = client.VersionApi(api_client)
        # Any group/version/plural, built-in ones too (DeviceClass, APIService): a GET of its path.
        self.custom = client.CustomObjectsApi(api_client)

    def read(self, what: str, call: Callable[..., Any], *args: Any, **kwargs: Any) -> dict[str, Any]:
        """Call the API and return its JSON object; `what` names the request in any error."""
        from kubernetes.client.exceptions import ApiException
        from urllib3.exceptions import HTTPError, MaxRetryError, NewConnectionError, ProtocolError, TimeoutError

        try:
            response = call(*args, _preload_content=False, _request_timeout=self.timeout, **kwargs)
            body = response.read(MAX_RESPONSE_BYTES + 1) if hasattr(response, "read") else response.data
        except ApiException as failure:
            raise _status_error(what, failure.status, failure.body) from None
        except (TimeoutError, MaxRetryError) as failure:
            cause = failure.reason if isinstance(failure, MaxRetryError) else failure
            if isinstance(cause, TimeoutError) and not isinstance(cause, NewConnectionError):  # urllib3 files a refusal under timeouts
                raise KubeError("timeout", what, f"no answer from {self.host} within {self.timeout:g} s") from None
            raise KubeError("unreachable", what, f"cannot reach {self.host}: {_first_line(cause or failure)}") from None
        except (ProtocolError, HTTPError, OSError) as failure:  # ssl.SSLError is an OSError
            raise KubeError("unreachable", what, f"cannot reach {self.host}: {_first_line(failure)}") from None
        status = getattr(response, "status", 200)
        if status >= 400:
            raise _status_error(what, status, body)
        return _json_object(what, body)

    def apply(self, what: str, call: Callable[..., Any], *args: Any, force: bool = False, **kwargs: Any) -> dict[str, Any]:
        """Server-side apply: `call` is a `patch_*` method; aicrc is the field manager."""
        return self.read(what, call, *args, field_manager=FIELD_MANAGER, force=force, _content_type=APPLY_PATCH, **kwargs)


def connect(target: Target) -> Kube:
    """A client for the target cluster: the kubeconfig named, else $KUBECONFIG or ~/.kube/config,
    else the in-cluster service account (the agent Job runs with it)."""
    from kubernetes import client, config
    from kubernetes.config.config_exception import ConfigException
    from urllib3.util.retry import Retry

    configuration = client.Configuration()
    # $KUBECONFIG as it is now: the client reads it once, when it is first imported. It may list
    # several files (separated as PATH is); the client merges them.
    where = target.kubeconfig or os.environ.get("KUBECONFIG") or "~/.kube/config"
    in_cluster = target.kubeconfig is None and target.context is None and _in_cluster()
    if not in_cluster and not any(os.path.isfile(os.path.expanduser(path)) for path in where.split(os.pathsep) if path):
        raise KubeError("config", f"read the kubeconfig {where}", "no such file")  # the client says "no configuration found"
    try:
        if in_cluster:
            config.load_incluster_config(client_configuration=configuration)  # type: ignore[no-untyped-call]
        else:
            config.load_kube_config(  # type: ignore[no-untyped-call]
                config_file=where, context=target.context, client_configuration=configuration
            )
    except (ConfigException, OSError, ValueError, TypeError, KeyError, AttributeError) as failure:
        raise KubeError("config", f"read the kubeconfig {where}", _first_line(failure) or type(failure).__name__) from None
    except Exception as failure:  # a kubeconfig written by hand fails in the client in ways it does not name
        raise KubeError("config", f"read the kubeconfig {where}", f"{type(failure).__name__}: {_first_line(failure)}") from None
    # A refused or reset connection is tried again twice; a request the server is slow to answer is
    # not (the timeout is the user's patience, not a third of it).
    configuration.retries = Retry(total=2, read=0, status=0, backoff_factor=0.2)
    return Kube(client.ApiClient(configuration), target.timeout)


def _in_cluster() -> bool:
    return bool(os.environ.get("KUBERNETES_SERVICE_HOST")) and not os.environ.get("KUBECONFIG")


def _status_error(what: str, status: int | None, body: object) -> KubeError:
    """An HTTP error status as a reason, with the message of the Kubernetes Status object when the
    body is one (`pods is forbidden: User "x" cannot list resource "pods" ...`)."""
    text = body.decode("utf-8", "replace") if isinstance(body, bytes) else str(body or "")
    message = text.strip()[:500]
    try:
        status_object = json.loads(text)
        if isinstance(status_object, dict) and isinstance(status_object.get("message"), str):
            message = status_object["message"]
    except ValueError:
        pass
    reason: Reason = {401: "unauthorized", 403: "forbidden", 404: "not-found", 409: "conflict"}.get(status or 0, "rejected")  # type: ignore[assignment]
    if status in (408, 504):
        reason = "timeout"
    return KubeError(reason, what, f"HTTP {status}: {message or '(no message)'}")


def _json_object(what: str, body: object) -> dict[str, Any]:
    if not isinstance(body, bytes | str):
        raise KubeError("invalid", what, f"the body is {type(body).__name__}")
    if len(body) > MAX_RESPONSE_BYTES:
        raise KubeError("invalid", what, f"the answer is larger than {MAX_RESPONSE_BYTES // (1024 * 1024)} MiB")
    try:
        data = json.loads(body)
    except (ValueError, RecursionError) as failure:
        raise KubeError("invalid", what, f"not JSON: {_first_line(failure)}") from None
    if not isinstance(data, dict):
        raise KubeError("invalid", what, f"a JSON {type(data).__name__}, not an object")
    return data


def _first_line(failure: BaseException) -> str:
    text = str(failure).strip()
    return text.splitlines()[0][:300] if text else type(failure).__name__
