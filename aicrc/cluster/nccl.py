"""The performance phase: NCCL all-reduce bandwidth between GPU nodes (check nccl-all-reduce-bw).

aicrc does not run the test itself (it writes nothing to a cluster). `job_manifest` writes the
objects that run it, for the recipe's accelerator and network fabric: an Indexed Job with one pod
per node holding all its GPUs, a headless Service that names the pods, and a Secret with an SSH key
made for that file alone, with which the first pod's `mpirun` starts the ranks on the others (what
the reference's MPI TrainingRuntime does through Kubeflow Trainer). `read_results` reads what
nccl-tests' `all_reduce_perf` printed, and `check_performance` holds its bandwidth to the recipe's
threshold (`checkConstraints.performance`, in GB/s).

The measure is the reference's: the out-of-place bus bandwidth at the largest message size, where
the fabric, not latency, sets the pace. The `# Avg bus bandwidth` line nccl-tests ends with averages
every size, tiny ones included, so it is shown but not judged.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from aicrc import diagnostics as diag
from aicrc.cluster.report import Phase, Result, Status
from aicrc.records import Record

if TYPE_CHECKING:
    from aicrc.compiler.emit.model import CompiledRecipe, Constraint

CHECK = "nccl-all-reduce-bw"
NAME = "nccl-all-reduce"  # the Job's, the Service's and the pods' subdomain
SSH_PORT = 2222
DEADLINE_S = 30 * 60  # the reference's timeout for this check
MAX_RESULTS_BYTES = 64 * 1024 * 1024
REFERENCE_TOLERANCE = 0.9  # the reference passes a run within 10% of its threshold


class NodeShape(Record):
    """A GPU node of the accelerator, as the clouds sell it: GPUs, CPU architecture, and on AWS the
    instance type and its EFA devices (one per network card)."""

    gpus: int
    arch: str
    aws_instance: str = ""
    efa: int = 0


# Public instance specifications: p5.48xlarge 8 H100 and 32 EFA; p5en.48xlarge 8 H200 and 16 EFA;
# p4d.24xlarge 8 A100 and 4 EFA; p6-b200.48xlarge 8 B200 and 8 EFA; a GB200 NVL72 compute tray
# (p6e-gb200.36xlarge) 4 GPUs on Grace (arm64) with one 400 Gb/s NIC each; L40S servers with 4 GPUs
# (OCI BM.GPU.L40S-NC.4).
SHAPES: dict[str, NodeShape] = {
    "h100": NodeShape(8, "amd64", "p5.48xlarge", 32),
    "h200": NodeShape(8, "amd64", "p5en.48xlarge", 16),
    "a100": NodeShape(8, "amd64", "p4d.24xlarge", 4),
    "b200": NodeShape(8, "amd64", "p6-b200.48xlarge", 8),
    "gb200": NodeShape(4, "arm64", "p6e-gb200.36xlarge", 4),
    "l40s": NodeShape(4, "amd64"),
}


class Image(Record):
    """An image with OpenMPI and nccl-tests built with MPI, and where they are in it."""

    image: str
    mpi_prefix: str  # `mpirun --prefix`: where OpenMPI is, on every node
    all_reduce_perf: str
    library_path: str = ""


# The reference's images: AWS's nccl-tests build with EFA's libfabric and aws-ofi-nccl for EKS, and
# NGC's PyTorch container (OpenMPI and nccl-tests' MPI builds inside, no SSH server) elsewhere.
EFA_IMAGE = Image(
    "public.ecr.aws/hpc-cloud/nccl-tests:cuda12.8.1-efa1.43.2-ofiv1.16.3-ncclv2.27.7-1-testsv2.16.9",
    "/opt/amazon/openmpi",
    "/opt/nccl-tests/build/all_reduce_perf",
    "/opt/amazon/ofi-nccl/lib/x86_64-linux-gnu:/opt/amazon/efa/lib:/opt/amazon/openmpi/lib:/opt/nccl/build/lib:/usr/local/nvidia/lib",
)
NGC_IMAGE = Image("nvcr.io/nvidia/pytorch:25.06-py3", "/usr/local/mpi", "/usr/local/bin/all_reduce_perf_mpi")
RDMA_RESOURCE = "rdma/rdma_shared_device_a"  # the NVIDIA Network Operator's default RDMA shared device
TCPXO_COMPONENT = "gke-nccl-tcpxo"

# Run by every pod: serve SSH; the first pod (index 0) waits for the others, runs all_reduce_perf
# across all of them with mpirun, then tells them to stop and exits with mpirun's status.
SCRIPT = """\
set -eu
mkdir -p /root/.ssh /run/sshd
cp /etc/nccl-ssh/id_ed25519 /etc/nccl-ssh/authorized_keys /root/.ssh/
chmod 700 /root/.ssh && chmod 600 /root/.ssh/id_ed25519 /root/.ssh/authorized_keys
if [ ! -x /usr/sbin/sshd ]; then
  apt-get update -qq && apt-get install -y -qq --no-install-recommends openssh-server openssh-client >/dev/null
fi
ssh-keygen -A >/dev/null
/usr/sbin/sshd -p "$SSH_PORT" -o PermitRootLogin=prohibit-password -o PasswordAuthentication=no
if [ "$JOB_COMPLETION_INDEX" != 0 ]; then
  while [ ! -e /tmp/nccl-done ]; do sleep 5; done
  exit 0
fi
SSH_OPTIONS="-p $SSH_PORT -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o LogLevel=ERROR"
HOSTS=""
for i in $(seq 0 $((NODES - 1))); do
  host="$JOB_NAME-$i.$JOB_NAME"
  until ssh $SSH_OPTIONS "$host" true; do sleep 5; done
  HOSTS="$HOSTS${HOSTS:+,}$host:$GPUS_PER_NODE"
done
status=0
mpirun --allow-run-as-root --prefix "$MPI_PREFIX" -np $((NODES * GPUS_PER_NODE)) -H "$HOSTS" --bind-to none \\
  --mca plm_rsh_agent ssh --mca plm_rsh_args "$SSH_OPTIONS" -x PATH -x LD_LIBRARY_PATH -x NCCL_DEBUG=WARN $FABRIC_ENV \\
  "$ALL_REDUCE_PERF" -b 1K -e "$MAX_BYTES" -f 2 -g 1 || status=$?
for i in $(seq 1 $((NODES - 1))); do ssh $SSH_OPTIONS "$JOB_NAME-$i.$JOB_NAME" touch /tmp/nccl-done || true; done
exit $status
"""


# ---- the Job --------------------------------------------------------------------------------------


def job_manifest(recipe: CompiledRecipe, nodes: int) -> str:
    """The YAML that runs all_reduce_perf across `nodes` GPU nodes of the recipe's accelerator."""
    accelerator = recipe.metadata.criteria.get("accelerator", "")
    components = {component.name for component in recipe.components}
    shape = SHAPES.get(accelerator)
    if shape is None:
        raise diag.error(
            "E0921",
            f"cannot write the NCCL Job: the recipe's accelerator is {accelerator or 'not set'}",
            help=f"the Job is written for a recipe with an accelerator: {', '.join(SHAPES)}",
        )
    if TCPXO_COMPONENT in components:
        raise diag.error(
            "E0921",
            "cannot write the NCCL Job for GKE's GPUDirect-TCPXO: it needs the cluster's own GPU NIC networks and the TCPXO sidecar",
            help="run the reference's GKE TrainingRuntime, then give its output with --nccl-results FILE",
        )
    efa = "aws-efa" in components
    rdma = "network-operator" in components
    image = EFA_IMAGE if efa else NGC_IMAGE
    devices = {"nvidia.com/gpu": str(shape.gpus)}
    fabric_env = ""
    if efa and shape.efa:
        devices["vpc.amazonaws.com/efa"] = str(shape.efa)
        fabric_env = "-x FI_PROVIDER=efa -x FI_EFA_USE_DEVICE_RDMA=1 -x FI_EFA_FORK_SAFE=1 -x NCCL_SOCKET_IFNAME=eth0"
    if rdma:
        devices[RDMA_RESOURCE] = "1"
    fabric = "EFA" if "vpc.amazonaws.com/efa" in devices else "InfiniBand (RDMA)" if rdma else "TCP"
    max_bytes = "4G" if fabric == "TCP" else "16G"  # multi-gigabyte all-reduces over TCP take too long
    private_key, public_key = _ssh_keys()
    env = {
        "JOB_NAME": NAME,
        "SSH_PORT": str(SSH_PORT),
        "NODES": str(nodes),
        "GPUS_PER_NODE": str(shape.gpus),
        "MPI_PREFIX": image.mpi_prefix,
        "ALL_REDUCE_PERF": image.all_reduce_perf,
        "MAX_BYTES": max_bytes,
        "FABRIC_ENV": fabric_env,
        **({"LD_LIBRARY_PATH": image.library_path} if image.library_path else {}),
    }
    labels = {"app.kubernetes.io/name": NAME, "app.kubernetes.io/managed-by": "aicrc"}
    secret = {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": f"{NAME}-ssh", "labels": labels},
        "type": "Opaque",
        "stringData": {"id_ed25519": private_key, "authorized_keys": public_key},
    }
    service = {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": NAME, "labels": labels},
        "spec": {
            "clusterIP": "None",
            "publishNotReadyAddresses": True,  # mpirun reaches workers before they are Ready
            "selector": {"app.kubernetes.io/name": NAME},
            "ports": [{"name": "ssh", "port": SSH_PORT}],
        },
    }
    node_selector = {"nvidia.com/gpu.present": "true", "kubernetes.io/arch": shape.arch}
    if efa and shape.aws_instance:
        node_selector["node.kubernetes.io/instance-type"] = shape.aws_instance
    job = {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {"name": NAME, "labels": labels},
        "spec": {
            "completionMode": "Indexed",
            "completions": nodes,
            "parallelism": nodes,
            "backoffLimit": 0,
            "activeDeadlineSeconds": DEADLINE_S,
            "template": {
                "metadata": {"labels": labels},
                "spec": {
                    "subdomain": NAME,
                    "restartPolicy": "Never",
                    "nodeSelector": node_selector,
                    "tolerations": [{"operator": "Exists"}],
                    "containers": [
                        {
                            "name": "nccl",
                            "image": image.image,
                            "command": ["bash", "-c", SCRIPT],
                            "env": [{"name": name, "value": value} for name, value in env.items()],
                            "resources": {"limits": devices, "requests": devices},
                            "securityContext": {"capabilities": {"add": ["IPC_LOCK"]}},
                            "volumeMounts": [
                                {"name": "ssh", "mountPath": "/etc/nccl-ssh", "readOnly": True},
                                {"name": "dshm", "mountPath": "/dev/shm"},
                            ],
                        }
                    ],
                    "volumes": [
                        {"name": "ssh", "secret": {"secretName": f"{NAME}-ssh", "defaultMode": 0o400}},
                        {"name": "dshm", "emptyDir": {"medium": "Memory"}},
                    ],
                },
            },
        },
    }
    where = f"{shape.aws_instance}, " if efa and shape.aws_instance else ""
    header = [
        f"NCCL all-reduce bandwidth test for {recipe.metadata.name} ({accelerator} on {recipe.metadata.criteria.get('service', 'any')}),",
        f"written by `aicrc validate --nccl-job`: {nodes} nodes x {shape.gpus} GPUs ({where}{fabric}), messages 1K to {max_bytes}.",
        "  run:   kubectl apply -n NAMESPACE -f THIS-FILE",
        f"  wait:  kubectl wait -n NAMESPACE --for=condition=complete --timeout={DEADLINE_S // 60}m job/{NAME}",
        f"  read:  kubectl logs -n NAMESPACE -l job-name={NAME},batch.kubernetes.io/job-completion-index=0 > results.txt",
        "  check: aicrc validate RECIPE --phase performance --nccl-results results.txt",
        "  clean: kubectl delete -n NAMESPACE -f THIS-FILE",
        "The Secret holds an SSH key made for this file alone; keep the file private, and delete the objects after the run.",
    ]
    if efa and not shape.efa:
        header.append(f"No EFA device count is known for {accelerator}: add vpc.amazonaws.com/efa to the resources for EFA.")
    if image is EFA_IMAGE and shape.arch != "amd64":
        header.append(
            f"The EFA image is the reference's x86_64 build: on {shape.arch} nodes, set an {shape.arch} nccl-tests image with EFA."
        )
    documents = [yaml.dump(document, Dumper=_Dumper, sort_keys=False, width=1 << 30) for document in (secret, service, job)]
    return "".join(f"# {line}\n" for line in header) + "---\n" + "---\n".join(documents)


def _ssh_keys() -> tuple[str, str]:
    """A new Ed25519 key pair: (the private key, an authorized_keys line for it), in OpenSSH's formats."""
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
    from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat, PublicFormat

    key = Ed25519PrivateKey.generate()
    private = key.private_bytes(Encoding.PEM, PrivateFormat.OpenSSH, NoEncryption()).decode()
    public = key.public_key().public_bytes(Encoding.OpenSSH, PublicFormat.OpenSSH).decode()
    return private, f"{public} {NAME}\n"


class _Dumper(yaml.SafeDumper):
    """Multi-line strings (the script, the key) as literal blocks, lists indented under their key,
    and a map used twice (the labels, the resources) written out twice: no YAML anchors."""

    def increase_indent(self, flow: bool = False, indentless: bool = False) -> None:
        super().increase_indent(flow, False)

    def ignore_aliases(self, data: Any) -> bool:
        return True


_Dumper.add_representer(
    str, lambda dumper, text: dumper.represent_scalar("tag:yaml.org,2002:str", text, style="|" if "\n" in text else None)
)


# ---- the results ----------------------------------------------------------------------------------


class Row(Record):
    """One message size of the table: its out-of-place bus bandwidth, and the wrong values both
    runs (out-of-place, in-place) found (None: nccl-tests did not check, `-c 0`)."""

    size: int
    bus_bandwidth: float
    wrong: int | None


class NcclRun(Record):
    source: str  # the file, as named on the command line
    rows: tuple[Row, ...]
    ranks: int
    average: float | None  # `# Avg bus bandwidth`
    out_of_bounds: int | None  # `# Out of bounds values : N OK`

    @property
    def largest(self) -> Row:
        return max(self.rows, key=lambda row: row.size)


_ROW = re.compile(
    r"^\s*(\d+)\s+(\d+)\s+\S+\s+\S+\s+-?\d+\s+[\d.]+\s+[\d.]+\s+([\d.]+)\s+(\d+|N/A)(?:\s+[\d.]+\s+[\d.]+\s+[\d.]+\s+(\d+|N/A))?"
)
_AVERAGE = re.compile(r"^#\s*Avg bus bandwidth\s*:\s*([\d.]+)", re.MULTILINE)
_OUT_OF_BOUNDS = re.compile(r"^#\s*Out of bounds values\s*:\s*(\d+)", re.MULTILINE)
_RANK = re.compile(r"^#\s+Rank\s+\d+\s", re.MULTILINE)


def read_results(path: Path, display: str) -> NcclRun:
    try:
        with path.open("rb") as handle:
            data = handle.read(MAX_RESULTS_BYTES + 1)
    except FileNotFoundError:
        raise diag.error(
            "E0104", f"no such file: {display}", help="save the first pod's log: see the comment atop the --nccl-job file"
        ) from None
    except OSError as failure:
        raise diag.error("E0104", f"cannot read {display}: {failure.strerror}") from None
    if len(data) > MAX_RESULTS_BYTES:
        raise diag.error("E0105", f"{display} is larger than {MAX_RESULTS_BYTES // (1024 * 1024)} MiB: not an all_reduce_perf log")
    return parse_results(data.decode("utf-8", "replace"), display)  # a log, not a source: bad bytes are not the point


def parse_results(text: str, display: str) -> NcclRun:
    rows = []
    for line in text.splitlines():
        match = _ROW.match(line)
        if match:
            size, _, bandwidth, wrong_out, wrong_in = match.groups()
            wrongs = [int(w) for w in (wrong_out, wrong_in) if w and w != "N/A"]
            rows.append(Row(int(size), float(bandwidth), sum(wrongs) if wrongs else None))
    if not rows:
        raise diag.error(
            "E0920",
            f"{display} holds no all_reduce_perf results: no row of its table (`size count type redop root time algbw busbw #wrong ...`)",
            help="give the log of the NCCL Job's first pod (index 0), which prints the table",
        )
    average = _AVERAGE.search(text)
    bounds = _OUT_OF_BOUNDS.search(text)
    return NcclRun(
        display,
        tuple(rows),
        len(_RANK.findall(text)),
        float(average.group(1)) if average else None,
        int(bounds.group(1)) if bounds else None,
    )


# ---- the phase ------------------------------------------------------------------------------------


def check_performance(recipe: CompiledRecipe, run: NcclRun | None, against: str, how_to_measure: str) -> Phase:
    """The recipe's performance checks against the results of a run (None: none was given;
    `how_to_measure` says how to get one)."""
    results = []
    for name in recipe.checks.get("performance", []):
        if name != CHECK:
            results.append(Result(name, "skipped", f"aicrc has no performance check named {name} (it knows {CHECK})"))
            continue
        constraint = next((c for c in recipe.check_constraints.get("performance", []) if c.name == CHECK), None)
        results.append(_bandwidth(run, constraint, how_to_measure))
    return Phase("performance", against, tuple(results), note="the recipe lists no performance checks")


def _bandwidth(run: NcclRun | None, constraint: Constraint | None, how_to_measure: str) -> Result:
    looked_at = _described(run) if run else ()
    actual = f"{run.largest.bus_bandwidth:.2f} GB/s" if run else None

    def result(status: Status, message: str) -> Result:
        if constraint is None:
            return Result(CHECK, status, message, actual=actual, looked_at=looked_at)
        return Result(
            CHECK,
            status,
            message,
            operator=constraint.operator,
            expected=f"{str(constraint.value).strip()} GB/s",
            actual=actual,
            layer=constraint.layer,
            constraint=constraint.name,
            looked_at=looked_at,
        )

    if run is None:
        return result("skipped", f"not measured: {how_to_measure}")
    if constraint is None:
        return result("skipped", f"the recipe sets no {CHECK} threshold (checkConstraints.performance): nothing to hold {actual} to")
    wrong = sum(row.wrong or 0 for row in run.rows) + (run.out_of_bounds or 0)
    if wrong:
        return result("failed", f"the all-reduce returned {wrong} wrong values: a run that corrupts data measures nothing")
    threshold = _number(constraint.value)
    if threshold is None:
        return result("failed", f"cannot compare: the threshold {constraint.value!r} is not a number of GB/s")
    measured = run.largest.bus_bandwidth
    if _holds(measured, constraint.operator, threshold):
        return result("passed", f"{measured:.2f} GB/s {constraint.operator} {threshold:g} GB/s")
    lenient = constraint.operator in (">=", ">") and measured >= threshold * REFERENCE_TOLERANCE
    note = " (the reference passes a run within 10% of its threshold; aicrc holds to the recipe's number)" if lenient else ""
    return result("failed", f"expected {constraint.operator} {threshold:g} GB/s, measured {measured:.2f} GB/s{note}")


def _described(run: NcclRun) -> tuple[str, ...]:
    smallest = min(row.size for row in run.rows)
    lines = [
        f"{run.source}: {len(run.rows)} message sizes, {_size(smallest)} to {_size(run.largest.size)}, {run.ranks or 'unknown'} ranks",
        f"largest message {_size(run.largest.size)}: out-of-place bus bandwidth {run.largest.bus_bandwidth:.2f} GB/s (the measure)",
    ]
    if run.average is not None:
        lines.append(f"# Avg bus bandwidth {run.average:g} GB/s (over every size, small ones too: shown, not judged)")
    return tuple(lines)


def _size(size: int) -> str:
    for unit, scale in (("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)):
        if size >= scale and size % scale == 0:
            return f"{size // scale} {unit}"
    return f"{size} B"


def _number(value: Any) -> float | None:
    """The threshold as a number: `300`, `"300"`, `"300 GB/s"`, as the reference reads it."""
    match = re.match(r"\s*([0-9]+(?:\.[0-9]+)?)", str(value))
    return float(match.group(1)) if match and not isinstance(value, bool) else None


def _holds(measured: float, operator: str, threshold: float) -> bool:
    return {
        ">=": measured >= threshold,
        ">": measured > threshold,
        "<=": measured <= threshold,
        "<": measured < threshold,
        "==": measured == threshold,
        "!=": measured != threshold,
    }[operator]
