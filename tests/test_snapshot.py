"""`aicrc snapshot` and the Snapshot document: the collectors on a real H200 node's files
(tests/fixtures/nodes/h200-ubuntu-24.04), the live paths with stand-ins for nvidia-smi and NVML,
the reference's own snapshots read back, and hostile files refused with located errors.

With AICR_BIN naming the reference's `aicr` binary, both tools measure this machine and must
agree, and the reference reads what aicrc writes."""

from __future__ import annotations

import datetime
import json
import os
import re
import shutil
import subprocess
import sys
import time
import types
from pathlib import Path
from typing import Any

import pytest

from aicrc import diagnostics as diag
from aicrc.cli import main
from aicrc.cluster.collectors import NODE_COLLECTORS, gpu_nvml, gpu_smi
from aicrc.cluster.collectors.base import SkipError, Sources
from aicrc.cluster.collectors.node import NodeSource
from aicrc.cluster.read import MAX_SNAPSHOT_BYTES, parse_snapshot, read_snapshot
from aicrc.cluster.snapshot import API_VERSION, Snapshot, to_data
from aicrc.cluster.snapshotter import take_snapshot
from aicrc.cluster.write import render
from tests.conftest import ROOT

NODE = ROOT / "tests" / "fixtures" / "nodes" / "h200-ubuntu-24.04"
SNAPSHOTS = ROOT / "tests" / "fixtures" / "snapshots"
H200 = SNAPSHOTS / "h200-ubuntu-24.04.yaml"
REFERENCE_YAML = SNAPSHOTS / "aicr-v0.11.1-no-gpu-debian-12.yaml"
REFERENCE_JSON = SNAPSHOTS / "aicr-v0.11.1-no-gpu-debian-12.json"
NODE_RELATIVE = NODE.relative_to(ROOT).as_posix()


def snapshot_of(root: Path, now: datetime.datetime | None = None) -> Snapshot:
    return take_snapshot(Sources(NodeSource(root)), NODE_COLLECTORS, now=now)


def readings(snapshot: Snapshot, name: str) -> dict[str, Any]:
    type_, subtype = name.split(".")
    measurement = snapshot.measurement(type_)
    assert measurement is not None
    found = measurement.subtype(subtype)
    assert found is not None
    return dict(found.data)


def fails(text: str, name: str = "snap.yaml") -> diag.Diagnostic:
    with pytest.raises(diag.AicrcError) as caught:
        parse_snapshot(text, name)
    return caught.value.diagnostics[0]


def document(**changes: Any) -> str:
    base: dict[str, Any] = {"kind": "Snapshot", "apiVersion": API_VERSION, "measurements": []}
    return json.dumps({**base, **changes}) + "\n"


# ---- the collectors, on a real H200 node's files ---------------------------------------------------


@pytest.fixture(scope="module")
def h200() -> Snapshot:
    return snapshot_of(NODE)


def test_the_gpu_is_read_from_real_nvidia_smi_output(h200: Snapshot) -> None:
    assert readings(h200, "GPU.smi") == {
        "driver": "580.159.04",
        "cuda-version": "13.0",
        "gpu-count": 1,
        "gpu.model": "NVIDIA H200",
        "gpu.product-architecture": "Hopper",
        "gpu.display-mode": "Requested functionality has been deprecated",
        "gpu.display-active": "Disabled",
        "gpu.persistence-mode": "Enabled",
        "gpu.addressing-mode": "None",
        "gpu.vbios-version": "96.00.A5.00.1A",
        "gpu.gsp-firmware-version": "580.159.04",
        "gpu.mig-mode": "Disabled",
        "gpu.ecc-mode": "Enabled",
    }


def test_the_os_is_read_from_the_real_nodes_files(h200: Snapshot) -> None:
    release = readings(h200, "OS.release")
    assert (release["ID"], release["VERSION_ID"], release["PRETTY_NAME"]) == ("ubuntu", "24.04", "Ubuntu 24.04.3 LTS")
    assert readings(h200, "OS.kmod") == {"nvidia": True, "nvidia_uvm": True}
    sysctl = readings(h200, "OS.sysctl")
    assert sysctl["/proc/sys/kernel/osrelease"] == "6.18.44-fc-v657-gpu"
    assert sysctl["/proc/sys/kernel/core_modes"] == "file\npipe\nsocket"  # several lines, not KEY VALUE: one reading
    assert sysctl["/proc/sys/fs/file-nr"] == "92\t0\t13195538"
    assert len(sysctl) == 252 and not any(key.startswith("/proc/sys/net") for key in sysctl)


def test_what_cannot_be_read_is_skipped_with_why_and_the_snapshot_still_succeeds(h200: Snapshot) -> None:
    gpu, os_ = h200.measurement("GPU"), h200.measurement("OS")
    assert gpu is not None and os_ is not None
    nvml, grub = gpu.subtype("nvml"), os_.subtype("grub")
    assert nvml is not None and nvml.data == {} and nvml.skipped == "NVML reads the live driver, not a --root tree"
    assert grub is not None and grub.data == {} and grub.skipped == f"{NODE.as_posix()}/proc/cmdline: no such file"
    assert [m.type for m in h200.measurements] == ["GPU", "OS", "SystemD"]
    assert [s.name for s in os_.subtypes] == ["grub", "sysctl", "kmod", "release"]  # the reference's order


def test_the_fixture_snapshot_is_what_the_command_writes_today(tmp_path: Path) -> None:
    """tests/fixtures/snapshots/h200-ubuntu-24.04.yaml, taken again from the tree by the command
    PROVENANCE.md names (the timestamp aside)."""
    again = tmp_path / "again.yaml"
    assert main(["snapshot", "--root", NODE_RELATIVE, "-o", str(again)]) == 0
    stamp = re.compile(r'^  timestamp: "[^"]+"$', re.M)
    assert stamp.sub("", again.read_text(encoding="utf-8")) == stamp.sub("", H200.read_text(encoding="utf-8"))


def test_metadata_names_the_node_the_time_and_the_writer(h200: Snapshot) -> None:
    assert h200.kind == "Snapshot" and h200.api_version == "aicr.nvidia.com/v1alpha1"
    assert h200.metadata["source-node"] == "vm"
    assert h200.metadata["generator"] == "aicrc" and h200.metadata["source-root"] == NODE.as_posix()
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", h200.metadata["timestamp"])


def test_nvml_readings_from_a_real_h200() -> None:
    driver = json.loads((NODE / "nvml.json").read_text(encoding="utf-8"))
    assert gpu_nvml.readings(driver) == {
        "gpu-count": 1,
        "driver": "580.159.04",
        "nvml-version": "13.580.159.04",
        "cuda-version": "13.0",
        "gpu.model": "NVIDIA H200",
        "gpu.product-architecture": "Hopper",
        "gpu.compute-capability": "9.0",
        "gpu.memory-total-bytes": 150754820096,
        "gpu.mig-mode": "Disabled",
        "gpu.ecc-mode": "Enabled",
        "gpu.persistence-mode": "Enabled",
        "gpu.power-limit-watts": 700,
        "gpu.vbios-version": "96.00.A5.00.1A",
    }


# ---- the live paths: nvidia-smi and NVML stood in for ----------------------------------------------


class _FakeNVMLError(Exception):
    pass


def _fake_nvml(*, fail_init: bool = False) -> types.ModuleType:
    """pynvml as it answers on the H200 node (values from nvml.json); MIG is not supported."""
    module = types.ModuleType("pynvml")
    calls: list[str] = []

    def init() -> None:
        calls.append("init")
        if fail_init:
            raise _FakeNVMLError("NVML Shared Library Not Found")

    def not_supported(handle: object) -> None:
        raise _FakeNVMLError("Not Supported")

    answers: dict[str, Any] = {
        "nvmlInit": init,
        "nvmlShutdown": lambda: calls.append("shutdown"),
        "nvmlDeviceGetCount": lambda: 1,
        "nvmlDeviceGetHandleByIndex": lambda index: object(),
        "nvmlDeviceGetName": lambda handle: b"NVIDIA H200",  # bytes, as some versions return
        "nvmlDeviceGetMemoryInfo": lambda handle: types.SimpleNamespace(total=150754820096),
        "nvmlDeviceGetCudaComputeCapability": lambda handle: (9, 0),
        "nvmlDeviceGetArchitecture": lambda handle: 9,
        "nvmlDeviceGetMigMode": not_supported,
        "nvmlDeviceGetEccMode": lambda handle: [1, 1],
        "nvmlDeviceGetPowerManagementLimit": lambda handle: 700000,
        "nvmlDeviceGetVbiosVersion": lambda handle: "96.00.A5.00.1A",
        "nvmlDeviceGetPersistenceMode": lambda handle: 1,
        "nvmlSystemGetDriverVersion": lambda: "580.159.04",
        "nvmlSystemGetNVMLVersion": lambda: "13.580.159.04",
        "nvmlSystemGetCudaDriverVersion": lambda: 13000,
        "NVMLError": _FakeNVMLError,
        "calls": calls,
    }
    for name, value in answers.items():
        setattr(module, name, value)
    return module


def test_nvml_on_a_live_node_reads_the_driver_and_shuts_it_down(monkeypatch: pytest.MonkeyPatch) -> None:
    fake = _fake_nvml()
    monkeypatch.setitem(sys.modules, "pynvml", fake)
    found = gpu_nvml.collect(Sources(NodeSource()))
    assert found["gpu.model"] == "NVIDIA H200" and found["gpu.product-architecture"] == "Hopper"
    assert "gpu.mig-mode" not in found  # not supported: absent, not an error reading
    assert fake.calls == ["init", "shutdown"]


def test_nvml_that_cannot_start_or_is_not_installed_is_skipped(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "pynvml", _fake_nvml(fail_init=True))
    with pytest.raises(SkipError, match="NVML could not start: NVML Shared Library Not Found"):
        gpu_nvml.collect(Sources(NodeSource()))
    monkeypatch.setitem(sys.modules, "pynvml", None)  # an import of it fails
    with pytest.raises(SkipError, match=r"nvidia-ml-py is not installed \(pip install 'aicrc\[gpu\]'\)"):
        gpu_nvml.collect(Sources(NodeSource()))


def _stand_in(folder: Path, script: str) -> None:
    """An `nvidia-smi` on PATH that runs `script` (sh)."""
    folder.mkdir(exist_ok=True)
    program = folder / "nvidia-smi"
    program.write_text(f"#!/bin/sh\n{script}\n", encoding="utf-8")
    program.chmod(0o755)


def test_nvidia_smi_on_a_live_node(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    recorded = NODE / "commands" / "nvidia-smi-q-x.xml"
    bin_ = tmp_path / "bin"
    _stand_in(bin_, f'[ "$*" = "-q -x" ] || exit 7\n{shutil.which("cat")} "{recorded}"')  # PATH holds only bin_
    monkeypatch.setenv("PATH", str(bin_))
    assert gpu_smi.collect(Sources(NodeSource())) == gpu_smi.readings(recorded.read_text(encoding="utf-8"))
    _stand_in(bin_, 'echo "NVIDIA-SMI has failed because it couldn\'t communicate with the NVIDIA driver" >&2; exit 9')
    with pytest.raises(SkipError, match=r"nvidia-smi -q -x failed \(exit 9\): NVIDIA-SMI has failed"):
        gpu_smi.collect(Sources(NodeSource()))
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    with pytest.raises(SkipError, match="nvidia-smi is not on PATH"):
        gpu_smi.collect(Sources(NodeSource()))


@pytest.mark.parametrize(
    ("xml", "why"),
    [
        ('<?xml version="1.0"?><!DOCTYPE l [<!ENTITY a "aaaa">]><nvidia_smi_log>&a;</nvidia_smi_log>', "declares XML entities"),
        ("NVIDIA-SMI 580.159.04\n", "is not XML"),
        ("<html><body/></html>", "the document is <html>, not <nvidia_smi_log>"),
        ("<nvidia_smi_log><driver_version>580", "is not XML"),
    ],
)
def test_output_that_is_not_nvidia_smis_is_skipped(xml: str, why: str) -> None:
    with pytest.raises(SkipError, match=re.escape(why)):
        gpu_smi.readings(xml)


def test_a_node_with_no_gpus_reads_a_count_of_zero() -> None:
    assert gpu_smi.readings("<nvidia_smi_log><driver_version>580.1</driver_version></nvidia_smi_log>") == {
        "driver": "580.1",
        "cuda-version": "",
        "gpu-count": 0,
    }


# ---- the node's files: what is read, and what is not ------------------------------------------------


def _tree(root: Path, files: dict[str, str | bytes]) -> Path:
    for name, content in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")
    return root


def test_sysctl_files_read_as_the_reference_reads_them(tmp_path: Path) -> None:
    root = _tree(
        tmp_path,
        {
            "proc/sys/kernel/osrelease": "6.8.0-1024-aws\n",
            "proc/sys/vm/stats": "a  1\nb 2   3\n",  # KEY VALUE lines: one reading each
            "proc/sys/vm/mixed": "a 1\nlonely\n",  # not all KEY VALUE: one reading
            "proc/sys/net/ipv4/ip_forward": "1\n",  # left out
            "proc/sys/dev/cdrom/info": "x\n",  # left out
            "proc/sys/kernel/binary": b"\xff\xfe",  # not UTF-8: left out
        },
    )
    (root / "proc/sys/kernel/link").symlink_to(root / "proc/sys/kernel/osrelease")  # not followed
    snapshot = snapshot_of(root)
    assert readings(snapshot, "OS.sysctl") == {
        "/proc/sys/kernel/osrelease": "6.8.0-1024-aws",
        "/proc/sys/vm/stats/a": "1",
        "/proc/sys/vm/stats/b": "2 3",
        "/proc/sys/vm/mixed": "a 1\nlonely",
    }


def test_os_release_falls_back_and_cmdline_leaves_root_out(tmp_path: Path) -> None:
    root = _tree(
        tmp_path,
        {
            "usr/lib/os-release": '# comment\nID=rhel\nVERSION_ID="9.4"\nEMPTY=""\nPRETTY_NAME=\'Red Hat\'\n',
            "proc/cmdline": "BOOT_IMAGE=/vmlinuz root=UUID=1234 ro quiet  iommu=pt\n",
        },
    )
    snapshot = snapshot_of(root)
    assert readings(snapshot, "OS.release") == {"ID": "rhel", "VERSION_ID": "9.4", "PRETTY_NAME": "Red Hat"}
    assert readings(snapshot, "OS.grub") == {"BOOT_IMAGE": "/vmlinuz", "ro": "", "quiet": "", "iommu": "pt"}


def test_a_root_tree_never_reads_outside_itself(tmp_path: Path) -> None:
    root = tmp_path / "root"
    (root / "etc").mkdir(parents=True)
    (root / "etc" / "os-release").symlink_to("/etc/os-release")  # absolute: this machine's file
    (root / "proc").mkdir()
    (root / "proc" / "modules").symlink_to("../../outside")  # relative, out of the tree
    (tmp_path / "outside").write_text("secret 1 - - Live\n", encoding="utf-8")
    snapshot = snapshot_of(root)
    os_ = snapshot.measurement("OS")
    assert os_ is not None
    kmod, release = os_.subtype("kmod"), os_.subtype("release")
    assert kmod is not None and kmod.skipped == f"{root.as_posix()}/proc/modules: resolves outside --root"
    assert release is not None and release.skipped is not None and "etc/os-release: resolves outside --root" in release.skipped


def test_an_empty_root_skips_every_collector(tmp_path: Path) -> None:
    snapshot = snapshot_of(tmp_path)
    skipped = {f"{m.type}.{s.name}": s.skipped for m in snapshot.measurements for s in m.subtypes}
    assert all(skipped.values()) and len(skipped) == len(NODE_COLLECTORS)
    assert skipped["GPU.smi"] == f"{tmp_path.as_posix()}/commands/nvidia-smi-q-x.xml: no such file"
    assert skipped["OS.sysctl"] == f"{tmp_path.as_posix()}/proc/sys: no such folder"


# ---- the command line -----------------------------------------------------------------------------


def test_cli_writes_yaml_json_and_a_table(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "snap.yaml"
    assert main(["snapshot", "--root", str(NODE), "-o", str(out)]) == 0
    err = capsys.readouterr().err
    assert "note: GPU.nvml skipped: NVML reads the live driver, not a --root tree\n" in err
    assert "note: OS.grub skipped:" in err
    assert read_snapshot(out).lookup("GPU.smi.gpu.model").value == "NVIDIA H200"
    assert main(["snapshot", "--root", str(NODE), "--format", "json"]) == 0
    as_json = json.loads(capsys.readouterr().out)
    assert as_json["kind"] == "Snapshot" and as_json["measurements"][0]["subtypes"][0]["data"]["gpu-count"] == 1
    assert main(["snapshot", "--root", str(NODE), "--format", "table"]) == 0
    table = capsys.readouterr().out
    assert re.search(r"^GPU\.smi +gpu\.model +NVIDIA H200$", table, re.M)
    assert re.search(r"^OS\.sysctl +/proc/sys/fs/file-nr +92\\t0\\t13195538$", table, re.M)  # tabs shown, not obeyed
    assert re.search(r"^OS\.grub +\(skipped\) +.*/proc/cmdline: no such file$", table, re.M)


def test_cli_refuses_a_root_that_is_not_a_folder(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["snapshot", "--root", str(H200)]) == 2
    assert f"aicrc snapshot: error: --root {H200}: not a folder" in capsys.readouterr().err


def test_cli_on_this_machine_never_fails_for_what_it_cannot_read(tmp_path: Path) -> None:
    """Live: whatever this machine has (no GPU here), a snapshot that reads back, exit 0."""
    out = tmp_path / "live.yaml"
    done = subprocess.run([sys.executable, "-m", "aicrc", "snapshot", "-o", str(out)], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr
    snapshot = read_snapshot(out)
    assert [f"{m.type}.{s.name}" for m in snapshot.measurements for s in m.subtypes] == [
        *("GPU.smi", "GPU.nvml", "OS.grub", "OS.sysctl", "OS.kmod", "OS.release", "SystemD.containerd.service", "SystemD.kubelet.service"),
        *("K8s.server", "K8s.image", "K8s.policy", "K8s.node", "K8s.helm"),
    ]


# ---- reading: the reference's snapshots, and round trips -------------------------------------------


@pytest.mark.parametrize("path", [REFERENCE_YAML, REFERENCE_JSON], ids=["yaml", "json"])
def test_the_references_own_snapshots_read_with_their_types(path: Path) -> None:
    snapshot = read_snapshot(path)
    assert [m.type for m in snapshot.measurements] in (
        ["NodeTopology", "K8s", "SystemD", "GPU", "OS"],
        ["NodeTopology", "SystemD", "K8s", "GPU", "OS"],  # the reference's collectors run in parallel
    )
    assert snapshot.metadata["version"] == "0.11.1"
    systemd, k8s = snapshot.measurement("SystemD"), snapshot.measurement("K8s")
    assert systemd is not None and systemd.subtypes == []
    assert k8s is not None and [s.name for s in k8s.subtypes] == ["server", "image", "policy", "node"]
    assert snapshot.lookup("GPU.smi.gpu-count").value == 0  # an integer, not "0"
    assert snapshot.lookup("NodeTopology.summary.node-count").value == 0
    assert snapshot.lookup("OS.release.VERSION_ID").value == "12"  # quoted in YAML: a string
    assert snapshot.lookup("OS.sysctl./proc/sys/kernel/osrelease").value == "6.18.44-fc-v657"
    assert snapshot.lookup("OS.sysctl./proc/sys/kernel/core_modes").value == "file\npipe\nsocket"
    assert snapshot.lookup("K8s.server.version").absent == "K8s.server has no reading `version`"


@pytest.mark.parametrize("path", [REFERENCE_YAML, REFERENCE_JSON, H200], ids=["reference-yaml", "reference-json", "h200"])
@pytest.mark.parametrize("output_format", ["yaml", "json"])
def test_what_aicrc_writes_reads_back_the_same(path: Path, output_format: str) -> None:
    snapshot = read_snapshot(path)
    assert parse_snapshot(render(snapshot, output_format), f"again.{output_format}") == snapshot


def test_yaml_is_laid_out_as_the_reference_lays_it_out() -> None:
    text = render(read_snapshot(REFERENCE_YAML), "yaml")
    reference = REFERENCE_YAML.read_text(encoding="utf-8")
    for line in ("kind: Snapshot\n", "apiVersion: aicr.nvidia.com/v1alpha1\n", "measurements:\n", "  - type: SystemD\n"):
        assert line in text and line in reference
    for line in ("          node-count: 0\n", "          /proc/sys/kernel/osrelease: 6.18.44-fc-v657\n", '          VERSION_ID: "12"\n'):
        assert line in text and line in reference


def test_plain_scalars_read_as_yaml_1_2_reads_them() -> None:
    data = {"on": "on", "yes": "yes", "n": 5, "f": 1.5, "t": True, "hex": 255, "date": "2026-11-26T21:51:52Z", "ver": "24.04"}
    text = (
        f"kind: Snapshot\napiVersion: {API_VERSION}\nmeasurements:\n  - type: OS\n    subtypes:\n      - subtype: x\n        data:\n"
        "          on: on\n          yes: yes\n          n: 5\n          f: 1.5\n          t: true\n          hex: 0xff\n"
        '          date: 2026-11-26T21:51:52Z\n          ver: "24.04"\n'
    )
    assert readings(parse_snapshot(text, "x.yaml"), "OS.x") == data


def test_numbers_no_reading_can_hold_stay_the_text_written() -> None:
    huge, past, infinite = "9" * 5000, str(2**64), "1e400"  # int() of 5,000 digits is refused by Python itself
    text = document(measurements=[{"type": "OS", "subtypes": [{"subtype": "x", "data": {}}]}]).replace(
        '"data": {}', f'"data": {{"huge": {huge}, "past": {past}, "inf": {infinite}, "top": {2**64 - 1}}}'
    )
    assert readings(parse_snapshot(text, "x.json"), "OS.x") == {"huge": huge, "past": past, "inf": infinite, "top": 2**64 - 1}


# ---- hostile and broken files ----------------------------------------------------------------------


def test_a_newer_format_version_is_named_as_such() -> None:
    for newer in ("aicr.nvidia.com/v1alpha2", "aicr.nvidia.com/v1beta1", "aicr.nvidia.com/v1", "aicr.nvidia.com/v2"):
        found = fails(document(apiVersion=newer))
        assert found.code == "E0903" and newer in found.message and found.span is not None
        assert found.help is not None and "upgrade aicrc" in found.help
    for other in ("aicr.nvidia.com/v0", "example.com/v1alpha1", "v1"):
        assert fails(document(apiVersion=other)).code == "E0902"


def test_another_kind_of_document_says_what_it_is() -> None:
    found = fails("kind: RecipeResult\napiVersion: aicr.nvidia.com/v1alpha1\n")
    assert (found.code, found.message) == ("E0902", "not a Snapshot: kind is 'RecipeResult'")
    assert found.span is not None and (found.span.line, found.span.col) == (1, 7)
    assert fails("\n").code == "E0902" and fails("- a\n").code == "E0902" and fails("apiVersion: x\n").code == "E0902"


def test_a_truncated_file_is_a_located_error() -> None:
    """A snapshot cut anywhere but at the end of a line (where it is again a snapshot, only shorter)."""
    text = H200.read_text(encoding="utf-8")
    for cut in range(1, len(text), 53):
        if text[cut - 1] == "\n":
            continue
        found = fails(text[:cut])
        assert found.code in ("E0901", "E0902", "E0904") and found.span is not None, (cut, found)
    found = fails(text[:333])
    assert found.message == "the file ends in the middle of a line: was it cut short?"


def test_an_alias_bomb_is_refused_at_the_first_alias() -> None:
    bomb = "a: &a [x,x,x,x,x,x,x,x,x]\n" + "".join(
        f"{chr(98 + i)}: &{chr(98 + i)} [{','.join([f'*{chr(97 + i)}'] * 9)}]\n" for i in range(9)
    )
    started = time.monotonic()
    found = fails(bomb)
    assert time.monotonic() - started < 1
    assert found.code == "E0901" and "an alias (*a)" in found.message
    assert found.span is not None and (found.span.line, found.span.col) == (2, 8)


def test_deep_nesting_is_refused_before_it_costs_anything() -> None:
    started = time.monotonic()
    found = fails("[" * 200_000 + "\n")
    assert time.monotonic() - started < 5
    assert found.code == "E0901" and "nest" in found.message  # libyaml stops at 1,000 levels, aicrc at 16 before it
    found = fails("a:\n" + "".join(f"{'  ' * level}- \n" for level in range(1, 40)))
    assert found.code == "E0901" and "nested more than 16 levels; a snapshot nests 5" in found.message


def test_a_huge_file_is_refused_before_it_is_read(tmp_path: Path) -> None:
    huge = tmp_path / "huge.yaml"
    with huge.open("wb") as handle:  # 100 MB, sparse: nothing is really written
        handle.truncate(100 * 1000 * 1000)
    started = time.monotonic()
    with pytest.raises(diag.AicrcError) as caught:
        read_snapshot(huge)
    assert time.monotonic() - started < 1
    found = caught.value.diagnostics[0]
    assert found.code == "E0105" and "100.0 MB" in found.message and f"{MAX_SNAPSHOT_BYTES / 1e6:.1f} MB" in found.message


@pytest.mark.parametrize(
    ("text", "code", "message", "line"),
    [
        ("kind: Snapshot\nkind: Snapshot\n", "E0901", "key `kind` is given twice in one mapping", 2),
        ("kind: [\n", "E0901", "not valid YAML or JSON", 2),
        ("kind: Snapshot\n---\nkind: Snapshot\n", "E0901", "a second document (`---`): a snapshot is one", 2),
        ('{"kind": "Snapshot"\n', "E0901", "not valid YAML or JSON", 2),
        (
            document().replace('"measurements": []', '"measurements": [{"type": !!python/object:os.system "ls"}]'),
            "E0904",
            "explicit tag",
            1,
        ),
        (document(measurements=[{"type": "OS", "subtypes": [{"subtype": "x", "data": {"a": {"b": 1}}}]}]), "E0904", "a reading is", 1),
        (document(measurements=[{"type": "OS", "subtypes": [{"subtype": "x", "data": {"a": None}}]}]), "E0904", "a reading is", 1),
        (document(measurements=[{"type": "OS", "subtyps": []}]), "E0904", "unknown field `subtyps` at measurements.0", 1),
        (document(metadata={"a": 1}), "E0904", "metadata.a: expected a string", 1),
        (document(measurements=[5]), "E0904", "measurements.0: expected a mapping", 1),
        (document(measurements=[{}]), "E0904", "`type` is missing in measurements.0", 1),
        ('kind: Snapshot\napiVersion: aicr.nvidia.com/v1alpha1\nmeasurements: [{type: "\\ud800"}]\n', "E0904", "surrogate", 3),
        ("kind: Snapshot\napiVersion: aicr.nvidia.com/v1alpha1\n", "E0904", "`measurements` is missing", 1),
    ],
)
def test_malformed_files_are_located_errors(text: str, code: str, message: str, line: int) -> None:
    found = fails(text)
    assert found.code == code and message in found.message, found
    assert found.span is not None and found.span.line == line


def test_unreadable_inputs_are_errors_not_tracebacks(tmp_path: Path) -> None:
    (tmp_path / "latin1.yaml").write_bytes(b"kind: Snapshot\nname: \xe9\n")
    cases = {tmp_path / "missing.yaml": "E0104", tmp_path: "E0104", tmp_path / "latin1.yaml": "E0103"}
    for path, code in cases.items():
        with pytest.raises(diag.AicrcError) as caught:
            read_snapshot(path)
        assert caught.value.diagnostics[0].code == code


def test_json_as_other_tools_write_it_reads(tmp_path: Path) -> None:
    snapshot = read_snapshot(H200)
    data = to_data(snapshot)
    for text in (json.dumps(data, indent="\t"), json.dumps(data), json.dumps(data, ensure_ascii=True)):
        assert parse_snapshot(text, "snap.json") == snapshot
    emoji = json.dumps(data, ensure_ascii=True).replace("NVIDIA H200", "H200 \\ud83d\\ude00")  # a surrogate pair: one character
    assert parse_snapshot(emoji, "snap.json").lookup("GPU.smi.gpu.model").value == "H200 \U0001f600"


# ---- the reference itself, with AICR_BIN -----------------------------------------------------------

AICR_BIN = os.environ.get("AICR_BIN", "")
needs_reference = pytest.mark.skipif(not AICR_BIN, reason="AICR_BIN does not name the reference's aicr binary")
# Counters and random values that change between two reads of /proc.
VOLATILE = re.compile(r"/proc/sys/(fs/(dentry-state|file-nr|inode-nr|inode-state)|kernel/(ns_last_pid|random/.*))")


@needs_reference
def test_the_reference_and_aicrc_measure_this_machine_alike(tmp_path: Path) -> None:
    ours, theirs = tmp_path / "ours.yaml", tmp_path / "theirs.yaml"
    env = {**os.environ, "AICR_AGENT_MODE": "true"}
    subprocess.run([AICR_BIN, "snapshot", "--output", str(theirs)], env=env, capture_output=True, check=True, cwd=tmp_path)
    assert main(["snapshot", "-o", str(ours)]) == 0
    mine, reference = read_snapshot(ours), read_snapshot(theirs)
    for name in ("grub", "sysctl", "kmod", "release"):
        found = (mine.measurement("OS") or pytest.fail("no OS")).subtype(name)
        expected = (reference.measurement("OS") or pytest.fail("no OS")).subtype(name)
        if expected is None:  # the reference left out what it could not read; aicrc says why
            assert found is not None and found.skipped
            continue
        assert found is not None
        stable = {key: value for key, value in found.data.items() if not VOLATILE.fullmatch(key)}
        assert stable == {key: value for key, value in expected.data.items() if not VOLATILE.fullmatch(key)}


@needs_reference
def test_the_reference_reads_what_aicrc_writes(tmp_path: Path) -> None:
    """`aicr recipe --snapshot` infers criteria from aicrc's H200 snapshot (it knows no h200)."""
    for output_format in ("yaml", "json"):
        written = tmp_path / f"h200.{output_format}"
        written.write_text(render(read_snapshot(H200), output_format), encoding="utf-8")
        done = subprocess.run(
            [AICR_BIN, "recipe", "--snapshot", str(written), "--intent", "training"],
            capture_output=True,
            text=True,
            check=True,
            cwd=tmp_path,
        )
        assert "building recipe from snapshot: criteria=criteria(intent=training, os=ubuntu)" in done.stderr


def test_a_subtype_with_a_dot_in_its_name_is_looked_up_whole() -> None:
    """SystemD's subtypes are unit names (`containerd.service`): a constraint names their readings
    as `SystemD.containerd.service.ActiveState`, which the first-dot split alone cannot place."""
    snapshot = Snapshot.model_validate(
        {
            "kind": "Snapshot",
            "apiVersion": "aicr.nvidia.com/v1alpha1",
            "measurements": [
                {
                    "type": "SystemD",
                    "subtypes": [
                        {"subtype": "containerd.service", "data": {"ActiveState": "active"}},
                        {"subtype": "kubelet.service", "context": {"skipped": "not installed"}},
                    ],
                }
            ],
        }
    )
    assert snapshot.lookup("SystemD.containerd.service.ActiveState").value == "active"
    assert snapshot.lookup("SystemD.containerd.service.SubState").absent == "SystemD.containerd.service has no reading `SubState`"
    assert snapshot.lookup("SystemD.kubelet.service.ActiveState").absent == "SystemD.kubelet.service was skipped: not installed"
    assert snapshot.lookup("SystemD.docker.service.ActiveState").absent == "the SystemD measurement has no subtype `docker`"
