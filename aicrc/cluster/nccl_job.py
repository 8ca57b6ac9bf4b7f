"""The NCCL all-reduce Job of the performance phase (check nccl-all-reduce-bw), written for the
recipe's accelerator and network fabric: an Indexed Job with one pod per node holding all its GPUs,
a headless Service that names the pods, and a Secret with an SSH key made for that file alone, with
which the first pod's `mpirun` starts the ranks on the others (what the reference's MPI
TrainingRuntime does through Kubeflow Trainer). aicrc writes the file; it never applies it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import yaml

from aicrc import diagnostics as diag
from aicrc.records import Record

if TYPE_CHECKING:
    from aicrc.compiler.emit.model import CompiledRecipe

NAME = "nccl-all-reduce"  # the Job's, the Service's and the pods' subdomain
SSH_PORT = 2222
DEADLINE_S = 30 * 60  # the reference's timeout for this check


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
