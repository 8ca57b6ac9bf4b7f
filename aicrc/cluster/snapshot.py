"""The Snapshot document, in the reference system's format (AICR v0.11.1, `aicr snapshot`):

    kind: Snapshot
    apiVersion: aicr.nvidia.com/v1alpha1
    metadata: {source-node: gpu-node-1, timestamp: "2026-11-26T21:51:52Z", version: 0.1.0}
    measurements:
      - type: OS                          # K8s, GPU, OS, SystemD, NodeTopology
        subtypes:
          - subtype: release
            data: {ID: ubuntu, VERSION_ID: "24.04"}   # readings: strings, integers, floats, booleans
          - subtype: grub
            data: {}
            context: {skipped: "/proc/cmdline: no such file"}   # why a collector measured nothing

A reading is named TYPE.SUBTYPE.KEY (`OS.sysctl./proc/sys/kernel/osrelease`): the key is everything
after the second dot, so keys may hold dots, as in the reference.
"""

from __future__ import annotations

import math
from decimal import Decimal
from typing import Final, Literal, TypeAlias

from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictFloat, StrictInt, StrictStr

from aicrc.records import Record

API_GROUP: Final = "aicr.nvidia.com"
API_VERSION: Final = "aicr.nvidia.com/v1alpha1"
KIND: Final = "Snapshot"

# The measurement types the reference defines; a constraint naming another type measures nothing.
MEASUREMENT_TYPES = ("K8s", "GPU", "OS", "SystemD", "NodeTopology")

# The context key that says why a collector measured nothing (its subtype then has no data).
SKIPPED = "skipped"

# bool first: pydantic's strict types never turn `true` into 1, whichever order, but a reader of
# this line should not have to know that.
Reading: TypeAlias = StrictBool | StrictInt | StrictFloat | StrictStr
Readings: TypeAlias = dict[str, Reading]


class _Strict(BaseModel):
    # Misspelt fields are errors, not silently ignored as the reference's Go decoder ignores them.
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class Subtype(_Strict):
    name: str = Field("", alias="subtype")
    data: Readings = Field(default_factory=dict)
    context: dict[str, str] = Field(default_factory=dict)

    @property
    def skipped(self) -> str | None:
        """Why the collector of this subtype measured nothing, when it could not run."""
        return self.context.get(SKIPPED)


class Measurement(_Strict):
    type: str
    subtypes: list[Subtype] = Field(default_factory=list)

    def subtype(self, name: str) -> Subtype | None:
        return next((subtype for subtype in self.subtypes if subtype.name == name), None)


class Snapshot(_Strict):
    kind: Literal["Snapshot"]
    api_version: Literal["aicr.nvidia.com/v1alpha1"] = Field(alias="apiVersion")
    metadata: dict[str, str] = Field(default_factory=dict)
    measurements: list[Measurement]

    def measurement(self, type_: str) -> Measurement | None:
        """The first measurement of a type, as the reference's constraint evaluation takes it."""
        return next((measurement for measurement in self.measurements if measurement.type == type_), None)

    def lookup(self, name: str) -> Lookup:
        """The reading named TYPE.SUBTYPE.KEY, or why there is none. A subtype whose name holds a
        dot (SystemD's `containerd.service`) is found too: the reference splits at the second dot
        only, so it can never name `SystemD.containerd.service.ActiveState`; here, when no subtype
        is named by the first segment, the longest subtype name the rest starts with is taken."""
        parts = name.split(".", 2)
        if len(parts) < 3:
            return Lookup(None, f"`{name}` is not TYPE.SUBTYPE.KEY")
        type_, subtype_name, key = parts
        if type_ not in MEASUREMENT_TYPES:
            return Lookup(None, f"`{type_}` is not a measurement type ({', '.join(MEASUREMENT_TYPES)})")
        measurement = self.measurement(type_)
        if measurement is None:
            return Lookup(None, f"the snapshot has no {type_} measurement")
        subtype = measurement.subtype(subtype_name)
        if subtype is None:
            rest = name[len(type_) + 1 :]
            dotted = [s for s in measurement.subtypes if "." in s.name and rest.startswith(s.name + ".")]
            if not dotted:
                return Lookup(None, f"the {type_} measurement has no subtype `{subtype_name}`")
            subtype = max(dotted, key=lambda s: len(s.name))
            subtype_name, key = subtype.name, rest[len(subtype.name) + 1 :]
        if key in subtype.data:
            return Lookup(subtype.data[key], "")
        if subtype.skipped:
            return Lookup(None, f"{type_}.{subtype_name} was skipped: {subtype.skipped}")
        return Lookup(None, f"{type_}.{subtype_name} has no reading `{key}`")


class Lookup(Record):
    value: Reading | None
    absent: str  # why there is no value, when there is none


def _subtype_data(subtype: Subtype) -> dict[str, object]:
    """A subtype as the reference writes it: `subtype` and `context` only when set, data sorted."""
    out: dict[str, object] = {}
    if subtype.name:
        out["subtype"] = subtype.name
    out["data"] = dict(sorted(subtype.data.items()))
    if subtype.context:
        out["context"] = dict(sorted(subtype.context.items()))
    return out


def to_data(snapshot: Snapshot) -> dict[str, object]:
    """The document as plain data, fields in the reference's order (Go maps sort their keys)."""
    out: dict[str, object] = {"kind": snapshot.kind, "apiVersion": snapshot.api_version}
    if snapshot.metadata:
        out["metadata"] = dict(sorted(snapshot.metadata.items()))
    measurements: list[dict[str, object]] = []
    for measurement in snapshot.measurements:
        entry: dict[str, object] = {"type": measurement.type}
        if measurement.subtypes:
            entry["subtypes"] = [_subtype_data(subtype) for subtype in measurement.subtypes]
        measurements.append(entry)
    out["measurements"] = measurements
    return out


def reading_text(value: Reading | object) -> str:
    """A value as the reference prints it (Go's %v): `true`, `5`, `1.5`, `1e+06`."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return _go_float(value)
    return str(value)


def _go_float(value: float) -> str:
    """Go's %v of a float64: the shortest digits that read back, as %e when the exponent is below
    -4 or at least 6 (1e+06, 1.5e-05), plainly otherwise (100000, 0.0001)."""
    if math.isinf(value) or math.isnan(value):
        return {math.inf: "+Inf", -math.inf: "-Inf"}.get(value, "NaN")
    sign, digits, exponent = Decimal(repr(value)).normalize().as_tuple()
    assert isinstance(exponent, int)  # finite
    text = "".join(map(str, digits))
    power = len(digits) + exponent - 1
    if power < -4 or power >= 6:
        mantissa = text[0] + (f".{text[1:]}" if len(text) > 1 else "")
        return f"{'-' if sign else ''}{mantissa}e{'-' if power < 0 else '+'}{abs(power):02d}"
    return f"{'-' if sign else ''}{Decimal(repr(abs(value))).normalize():f}"
