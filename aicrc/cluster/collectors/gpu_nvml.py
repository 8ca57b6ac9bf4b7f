"""GPU.nvml: the node's NVIDIA GPUs through NVML, the driver's own library, with the
`nvidia-ml-py` package (optional: `pip install 'aicrc[gpu]'`). It reads the live driver only, so
it is skipped under --root, where nvidia-smi's recorded output stands for the GPUs.

The driver is read into plain data first (`read_driver`: the same shape a capture of it on a real
node has, tests/fixtures/nodes/*/nvml.json), then into readings (`readings`), so the mapping is
tested on real data without a GPU. Serial numbers and UUIDs are never read into the snapshot.
"""

from __future__ import annotations

import importlib
from typing import Any

from aicrc.cluster.collectors.base import Collector, SkipError, Sources
from aicrc.cluster.snapshot import Readings

# NVML's nvmlDeviceArchitecture_t, as nvidia-ml-py 13.615 defines it.
ARCHITECTURES = {
    2: "Kepler",
    3: "Maxwell",
    4: "Pascal",
    5: "Volta",
    6: "Turing",
    7: "Ampere",
    8: "Ada Lovelace",
    9: "Hopper",
    10: "Blackwell",
    13: "Rubin",
}
_ENABLED = {0: "Disabled", 1: "Enabled"}


def collect(sources: Sources) -> Readings:
    if not sources.node.live:
        raise SkipError("NVML reads the live driver, not a --root tree")
    try:
        nvml = importlib.import_module("pynvml")
    except ImportError:
        raise SkipError("nvidia-ml-py is not installed (pip install 'aicrc[gpu]')") from None
    return readings(read_driver(nvml))


def read_driver(nvml: Any) -> dict[str, Any]:
    """What NVML says about the driver and each device, as plain data. A property a device does not
    support is recorded as `error: WHY`, and read as absent."""
    try:
        nvml.nvmlInit()
    except nvml.NVMLError as failure:
        raise SkipError(f"NVML could not start: {failure}") from None
    try:

        def ask(function: str, *args: Any) -> Any:
            try:
                return _text(getattr(nvml, function)(*args))
            except nvml.NVMLError as failure:
                return f"error: {failure}"

        devices = []
        for index in range(nvml.nvmlDeviceGetCount()):
            handle = nvml.nvmlDeviceGetHandleByIndex(index)
            memory = ask("nvmlDeviceGetMemoryInfo", handle)
            devices.append(
                {
                    "index": index,
                    "name": ask("nvmlDeviceGetName", handle),
                    "memory_total": memory if isinstance(memory, str) else memory.total,
                    "cuda_cc": ask("nvmlDeviceGetCudaComputeCapability", handle),
                    "arch": ask("nvmlDeviceGetArchitecture", handle),
                    "mig_mode": ask("nvmlDeviceGetMigMode", handle),
                    "ecc": ask("nvmlDeviceGetEccMode", handle),
                    "power_limit_mw": ask("nvmlDeviceGetPowerManagementLimit", handle),
                    "vbios": ask("nvmlDeviceGetVbiosVersion", handle),
                    "persistence": ask("nvmlDeviceGetPersistenceMode", handle),
                }
            )
        return {
            "driver": ask("nvmlSystemGetDriverVersion"),
            "nvml": ask("nvmlSystemGetNVMLVersion"),
            "cuda_driver": ask("nvmlSystemGetCudaDriverVersion"),
            "devices": devices,
        }
    except nvml.NVMLError as failure:
        raise SkipError(f"NVML: {failure}") from None
    finally:
        nvml.nvmlShutdown()


def readings(driver: dict[str, Any]) -> Readings:
    """The readings of what `read_driver` returns: the driver's, and the first GPU's (as GPU.smi)."""
    devices = driver.get("devices") or []
    found: Readings = {"gpu-count": len(devices)}
    _put(found, "driver", driver.get("driver"))
    _put(found, "nvml-version", driver.get("nvml"))
    cuda = driver.get("cuda_driver")
    if isinstance(cuda, int):  # 13000 is CUDA 13.0
        found["cuda-version"] = f"{cuda // 1000}.{cuda % 1000 // 10}"
    if devices:
        first = devices[0]
        _put(found, "gpu.model", first.get("name"))
        arch = first.get("arch")
        if isinstance(arch, int):
            found["gpu.product-architecture"] = ARCHITECTURES.get(arch, f"unknown ({arch})")
        capability = first.get("cuda_cc")
        if isinstance(capability, list | tuple) and len(capability) == 2:
            found["gpu.compute-capability"] = f"{capability[0]}.{capability[1]}"
        _put(found, "gpu.memory-total-bytes", first.get("memory_total"))
        _put(found, "gpu.mig-mode", _mode(first.get("mig_mode")))
        _put(found, "gpu.ecc-mode", _mode(first.get("ecc")))
        persistence = first.get("persistence")
        if isinstance(persistence, int):
            found["gpu.persistence-mode"] = _ENABLED.get(persistence, str(persistence))
        power = first.get("power_limit_mw")
        if isinstance(power, int):
            found["gpu.power-limit-watts"] = power // 1000
        _put(found, "gpu.vbios-version", first.get("vbios"))
    return found


def _mode(value: Any) -> str | None:
    """[current, pending], as NVML returns MIG and ECC modes: the current one."""
    if isinstance(value, list | tuple) and value and isinstance(value[0], int):
        return _ENABLED.get(value[0], str(value[0]))
    return None


def _put(found: Readings, key: str, value: Any) -> None:
    if isinstance(value, str) and value.startswith("error: "):
        return  # not supported on this device, or the driver would not say
    if isinstance(value, str | int) and not isinstance(value, bool):
        found[key] = value


def _text(value: Any) -> Any:
    """nvidia-ml-py returns bytes from some calls, on some versions."""
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else value


COLLECTOR = Collector("GPU", "nvml", collect)
