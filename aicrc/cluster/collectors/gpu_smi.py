"""GPU.smi: the node's NVIDIA GPUs as `nvidia-smi -q -x` reports them (under --root, its recorded
output `commands/nvidia-smi-q-x.xml`).

The readings are the reference's (driver, cuda-version, gpu-count, and for the first GPU its model,
architecture, display and persistence modes, addressing mode, VBIOS and GSP firmware), plus the
first GPU's MIG and ECC modes. A reading the XML lacks is "" (as the reference writes it). XML that
declares entities is refused unparsed: nvidia-smi never writes one, and entities are how XML
expands a small file into a huge one.
"""

from __future__ import annotations

import xml.etree.ElementTree as ElementTree

from aicrc.cluster.collectors.base import Collector, SkipError, Sources
from aicrc.cluster.snapshot import Readings

COMMAND = ("nvidia-smi", "-q", "-x")
RECORDED = "nvidia-smi-q-x.xml"

# reading key -> the element under <gpu> that holds it
FIRST_GPU = {
    "gpu.model": "product_name",
    "gpu.product-architecture": "product_architecture",
    "gpu.display-mode": "display_mode",
    "gpu.display-active": "display_active",
    "gpu.persistence-mode": "persistence_mode",
    "gpu.addressing-mode": "addressing_mode",
    "gpu.vbios-version": "vbios_version",
    "gpu.gsp-firmware-version": "gsp_firmware_version",
    "gpu.mig-mode": "mig_mode/current_mig",
    "gpu.ecc-mode": "ecc_mode/current_ecc",
}


def collect(sources: Sources) -> Readings:
    return readings(sources.node.run(COMMAND, RECORDED))


def readings(xml: str) -> Readings:
    """The readings of `nvidia-smi -q -x` output; a SkipError when it is not that."""
    if "<!ENTITY" in xml:
        raise SkipError("nvidia-smi output declares XML entities; refused")
    try:
        log = ElementTree.fromstring(xml)
    except ElementTree.ParseError as failure:
        raise SkipError(f"nvidia-smi output is not XML: {failure}") from None
    if log.tag != "nvidia_smi_log":
        raise SkipError(f"not nvidia-smi -q -x output: the document is <{log.tag}>, not <nvidia_smi_log>")
    gpus = log.findall("gpu")
    found: Readings = {
        "driver": _text(log, "driver_version"),
        "cuda-version": _text(log, "cuda_version"),
        "gpu-count": len(gpus),
    }
    if gpus:
        found.update({key: _text(gpus[0], path) for key, path in FIRST_GPU.items()})
    return found


def _text(element: ElementTree.Element, path: str) -> str:
    return (element.findtext(path) or "").strip()


COLLECTOR = Collector("GPU", "smi", collect)
