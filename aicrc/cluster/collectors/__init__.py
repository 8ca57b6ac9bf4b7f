"""The collectors of a snapshot, in the order their readings are written. Each is a module of its
own exposing `COLLECTOR` (see `base.py`); the Kubernetes collectors of the next slice join this list.
"""

from __future__ import annotations

from aicrc.cluster.collectors import cmdline, gpu_nvml, gpu_smi, kmod, os_release, sysctl
from aicrc.cluster.collectors.base import Collector

NODE_COLLECTORS: tuple[Collector, ...] = (
    gpu_smi.COLLECTOR,
    gpu_nvml.COLLECTOR,
    cmdline.COLLECTOR,
    sysctl.COLLECTOR,
    kmod.COLLECTOR,
    os_release.COLLECTOR,
)
