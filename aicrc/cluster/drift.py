"""Drift: the Helm releases a cluster has, against the Helm components a compiled recipe installs.

Each Helm component of the recipe is installed as a release of its own name (as every aicrc bundle
installs it) in its namespace; drift compares that release with the component:

- missing: no release of that name, or only one uninstalled with its history kept;
- namespace: the release is in another namespace than the recipe's;
- chart, version: another chart, or another version of it (a leading `v` aside: Helm reads
  `v1.17.2` and `1.17.2` as one version);
- status: the release's revision is not `deployed` (a failed install, an upgrade pending);
- values: the values the release was installed with (Helm's user-supplied values) differ from the
  component's compiled values: each path that differs, is missing or is extra, with both values;
- extra: a release no component names, in a namespace the recipe installs into. Releases in other
  namespaces are the cluster's own business (an ingress controller, a CI runner), not drift; a
  release of a manifests-only component, or of a component's extra manifests (`NAME.manifests`),
  is how a Helmfile bundle installs them, so it is the recipe's, not extra.

What could not be compared is not passed: a release whose Secret cannot be read (`unreadable`),
or values a snapshot recorded no digest of (`unchecked`).

From a snapshot, the releases are the readings of `K8s.helm` (see helm_releases): everything above
can be told but which values differ, since a snapshot keeps only a digest of a release's values;
a digest unlike the compiled values' says that they differ, not where.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Final, Literal, TypeAlias, get_args

from aicrc import diagnostics as diag
from aicrc.cluster.helm_releases import DEPLOYED, HELM_SUBTYPE, RecordedRelease, Release, from_readings, values_digest
from aicrc.cluster.versions import compare, parse_version
from aicrc.compiler.syntax.ast import format_path
from aicrc.records import Record

if TYPE_CHECKING:
    from aicrc.cluster.snapshot import Snapshot
    from aicrc.compiler.emit.model import CompiledRecipe, Component

Kind: TypeAlias = Literal["missing", "namespace", "chart", "version", "status", "values", "extra", "unreadable", "unchecked"]
KINDS: Final[tuple[Kind, ...]] = get_args(Kind)  # in the order a report counts them
DRIFT_KINDS: Final[frozenset[Kind]] = frozenset({"missing", "namespace", "chart", "version", "status", "values", "extra"})
UNINSTALLED: Final = "uninstalled"
MANIFESTS_SUFFIX: Final = ".manifests"  # the release of a component's extra manifests in a Helmfile bundle
MAX_DIFFERENCES: Final = 20  # values paths listed per release; the rest are counted
MAX_VALUE_CHARS: Final = 80  # a value longer than this, as JSON, is cut with `...`

_C1 = re.compile("[\x7f-\x9f]")
_ABSENT: Final = object()  # a key one side of a values comparison lacks
Installed: TypeAlias = Release | RecordedRelease  # from the cluster (values in full), or from a snapshot (their digest)


class Difference(Record):
    """One values path that differs: both sides as JSON text (None: the side has no such key)."""

    path: str
    recipe: str | None
    installed: str | None

    @property
    def change(self) -> str:
        return "missing" if self.installed is None else "extra" if self.recipe is None else "changed"


class Finding(Record):
    kind: Kind
    message: str
    differences: tuple[Difference, ...] = ()
    more: int = 0  # differences found past MAX_DIFFERENCES


class Entry(Record):
    """A release the recipe installs (`component` set), or one it does not (an extra release)."""

    name: str
    namespace: str  # the recipe's namespace for it; for an extra release, its own
    component: str | None
    chart: str  # the chart the recipe installs and its version; "" for an extra release
    version: str
    installed: Release | None
    findings: tuple[Finding, ...]

    @property
    def status(self) -> str:
        return ", ".join(dict.fromkeys(finding.kind for finding in self.findings)) or "ok"


class DriftReport(Record):
    recipe: str
    criteria: dict[str, str]
    source: str  # `cluster URL` or `snapshot FILE`
    entries: tuple[Entry, ...]
    notes: tuple[str, ...] = ()

    @property
    def drifted(self) -> bool:
        return any(finding.kind in DRIFT_KINDS for entry in self.entries for finding in entry.findings)

    @property
    def complete(self) -> bool:
        """Whether everything was compared (no release unreadable, no values unchecked)."""
        return all(finding.kind in DRIFT_KINDS for entry in self.entries for finding in entry.findings)

    def count(self, kind: str) -> int:
        return sum(1 for entry in self.entries for finding in entry.findings if finding.kind == kind)


def check_drift(recipe: CompiledRecipe, installed: Iterable[Installed], source: str, notes: Sequence[str] = ()) -> DriftReport:
    by_name: dict[str, list[Installed]] = {}
    for item in installed:
        by_name.setdefault(_release(item).name, []).append(item)
    entries: list[Entry] = []
    claimed: set[int] = set()  # the releases matched with a component, by id
    ours: set[str] = set()  # release names that are the recipe's though it compares no chart with them
    for component in recipe.components:
        ours.add(f"{component.name}{MANIFESTS_SUFFIX}")
        if component.chart is None:
            ours.add(component.name)
            continue
        candidates = by_name.get(component.name, [])
        match = next((c for c in candidates if _release(c).namespace == component.namespace), candidates[0] if candidates else None)
        if match is not None:
            claimed.add(id(match))
        entries.append(_compare(component, match))
    namespaces = {component.namespace for component in recipe.components}
    for item in (item for items in by_name.values() for item in items):
        release = _release(item)
        if id(item) in claimed or release.name in ours or release.namespace not in namespaces or release.status == UNINSTALLED:
            continue
        message = f"no component of the recipe installs a release named {release.name}, in a namespace it installs into"
        finding = Finding("extra", message + (f" (and it cannot be read: {release.problem})" if release.problem else ""))
        entries.append(Entry(release.name, release.namespace, None, "", "", release, (finding,)))
    return DriftReport(recipe.metadata.name, dict(recipe.metadata.criteria), source, tuple(entries), tuple(notes))


def value_differences(recipe: Any, installed: Any) -> Iterator[Difference]:
    """Where two values trees differ, maps compared key by key, lists and scalars as a whole (as
    Helm merges them); `true` is not `1`, and `1` is `1.0`."""
    stack: list[tuple[tuple[str, ...], Any, Any]] = [((), recipe, installed)]
    while stack:
        path, left, right = stack.pop()
        if left is _ABSENT or right is _ABSENT:
            yield Difference(format_path(path), None if left is _ABSENT else _shown(left), None if right is _ABSENT else _shown(right))
        elif isinstance(left, dict) and isinstance(right, dict):
            for key in sorted(left.keys() | right.keys(), reverse=True):  # reversed: popped in order
                stack.append(((*path, key), left.get(key, _ABSENT), right.get(key, _ABSENT)))
        elif not _same(left, right):
            yield Difference(format_path(path), _shown(left), _shown(right))


def releases_in_snapshot(snapshot: Snapshot, shown: str) -> tuple[list[RecordedRelease], list[str]]:
    """The releases a snapshot recorded (its `K8s.helm` readings), and notes on readings it could
    not place; an error (E0930) when it recorded none: no such subtype, or its collector skipped."""
    measurement = snapshot.measurement("K8s")
    subtype = measurement.subtype(HELM_SUBTYPE) if measurement is not None else None
    if subtype is None:
        raise diag.error(
            "E0930",
            f"the snapshot {shown} records no Helm releases (it has no K8s.{HELM_SUBTYPE} subtype)",
            help="take the snapshot where it can list the cluster's Secrets, or compare with the cluster itself: --kubeconfig FILE",
        )
    if subtype.skipped:
        raise diag.error(
            "E0930",
            f"the snapshot {shown} could not record Helm releases: K8s.{HELM_SUBTYPE} was skipped: {subtype.skipped}",
            help="compare with the cluster itself: --kubeconfig FILE",
        )
    recorded, unknown = from_readings(subtype.data)
    notes = [f"K8s.{HELM_SUBTYPE}.{key} is not NAMESPACE/RELEASE.FIELD with a field drift reads: ignored" for key in unknown]
    return recorded, notes


# ---- internals -----------------------------------------------------------------------------------


def _release(item: Installed) -> Release:
    return item.release if isinstance(item, RecordedRelease) else item


def _compare(component: Component, match: Installed | None) -> Entry:
    assert component.chart is not None
    chart = component.chart
    release = _release(match) if match is not None else None

    def entry(*findings: Finding) -> Entry:
        return Entry(component.name, component.namespace, component.name, chart.name, chart.version, release, findings)

    wanted = f"{chart.name} {chart.version}"
    if release is None:
        return entry(Finding("missing", f"no release {component.name}: the recipe installs {wanted} in {component.namespace}"))
    if release.status == UNINSTALLED:
        message = f"release {component.name} was uninstalled (revision {release.revision}; Helm kept its history)"
        return entry(Finding("missing", message))
    findings: list[Finding] = []
    if release.namespace != component.namespace:
        findings.append(Finding("namespace", f"in namespace {release.namespace}; the recipe installs it in {component.namespace}"))
    if release.problem:
        return entry(*findings, Finding("unreadable", f"cannot read the release: {release.problem}"))
    if release.chart != chart.name:
        findings.append(Finding("chart", f"chart {release.chart} {release.version}; the recipe installs {wanted}"))
    elif _bare(release.version) != _bare(chart.version):
        order = _order(release.version, chart.version)
        findings.append(Finding("version", f"chart version {release.version}{order}; the recipe pins {chart.version}"))
    if release.status != DEPLOYED:
        findings.append(Finding("status", f"revision {release.revision} is {release.status}, not {DEPLOYED}"))
    values = _values_finding(component.values, match) if match is not None else None
    return entry(*findings, *([values] if values else []))


def _values_finding(compiled: Mapping[str, Any], match: Installed) -> Finding | None:
    if isinstance(match, RecordedRelease):
        if not match.values_digest:
            return Finding("unchecked", "values not compared: the snapshot records no digest of them")
        expected = values_digest(compiled)
        if match.values_digest == expected:
            return None
        return Finding(
            "values",
            f"the values differ from the recipe's (digest {_short(match.values_digest)}, the recipe's {_short(expected)}); "
            "a snapshot keeps only their digest: run drift against the cluster to see which",
        )
    differences = list(value_differences(dict(compiled), match.values))
    if not differences:
        return None
    message = f"{len(differences)} values path{'s' if len(differences) != 1 else ''} differ from the recipe's"
    return Finding("values", message, tuple(differences[:MAX_DIFFERENCES]), max(0, len(differences) - MAX_DIFFERENCES))


def _same(left: Any, right: Any) -> bool:
    if isinstance(left, bool) or isinstance(right, bool):
        return type(left) is type(right) and left == right
    if isinstance(left, int | float) and isinstance(right, int | float):
        return left == right
    if isinstance(left, list) and isinstance(right, list):
        return len(left) == len(right) and all(_same(a, b) for a, b in zip(left, right, strict=True))
    if isinstance(left, dict) and isinstance(right, dict):
        return left.keys() == right.keys() and all(_same(left[key], right[key]) for key in left)
    return type(left) is type(right) and bool(left == right)


def _shown(value: Any) -> str:
    """A value as JSON, cut at MAX_VALUE_CHARS: JSON escapes control characters but DEL and the C1
    range (which some terminals obey), escaped here too, so the text is safe to print as it is."""
    text = _C1.sub(lambda match: f"\\u{ord(match.group()):04x}", json.dumps(value, ensure_ascii=False, sort_keys=True))
    return text if len(text) <= MAX_VALUE_CHARS else text[: MAX_VALUE_CHARS - 3] + "..."


def _bare(version: str) -> str:
    return version[1:] if version[:1] in ("v", "V") and version[1:2].isdigit() else version


def _order(installed: str, wanted: str) -> str:
    have, want = parse_version(installed), parse_version(wanted)
    if have is None or want is None or have.precision != want.precision:
        return ""
    return {-1: " (older)", 1: " (newer)"}.get(compare(have, want), "")


def _short(digest: str) -> str:
    return digest[: len("sha256:") + 12]
