"""Fidelity to the reference system: every leaf AICR v0.11.1 resolves (tests/reference/), compiled by
aicrc with exactly its criteria, gives the same components, charts, constraints, checks, Helm
values and manifest objects (the reference's rendered as its bundler renders them), except where
tests/reference/deviations.yaml declares a difference with its evidence.

A declared deviation that no longer occurs fails too, so the file never goes stale.
"""

from __future__ import annotations

import functools

import pytest
import yaml

import aicrc
from tests.reference_compare import DEVIATIONS, Deviation, Difference, compare, compare_manifests, leaves, read_deviations

LEAVES = leaves()


@functools.cache
def _differences() -> dict[str, list[Difference]]:
    library = aicrc.load_library(use_env=False)
    found = {}
    for leaf, criteria in LEAVES.items():
        document = library.compile(criteria).document
        found[leaf] = compare(leaf, document) + compare_manifests(leaf, document)
    return found


def test_twenty_leaves_are_recorded() -> None:
    assert len(LEAVES) == 20


def test_the_deviations_file_has_the_agreed_form() -> None:
    entries = yaml.safe_load(DEVIATIONS.read_text())
    assert isinstance(entries, list) and entries
    for entry in entries:
        assert set(entry) == {"component", "path", "leaves", "reason", "source"}, entry
        assert all(isinstance(entry[key], str) for key in entry), entry
        assert entry["component"] and entry["leaves"] and len(entry["reason"]) > 20 and len(entry["source"]) > 10, entry


@pytest.mark.parametrize("leaf", sorted(LEAVES))
def test_the_leaf_resolves_as_the_reference_does(leaf: str) -> None:
    deviations = read_deviations()
    undeclared = [str(d) for d in _differences()[leaf] if not any(deviation.covers(d) for deviation in deviations)]
    assert not undeclared, "differences from the reference that deviations.yaml does not declare:\n" + "\n".join(undeclared)


@pytest.mark.parametrize("deviation", read_deviations(), ids=lambda d: f"{d.component}:{d.path or '*'}:{d.leaves}")
def test_every_declared_deviation_still_occurs(deviation: Deviation) -> None:
    matched = [d for differences in _differences().values() for d in differences if deviation.covers(d)]
    assert matched, f"{deviation.component} {deviation.path!r} on {deviation.leaves}: declared, but no leaf differs there any more"


def test_a_difference_is_covered_only_by_a_matching_entry() -> None:
    entry = Deviation("gpu-operator", "driver", "h100-*", "a reason long enough to read", "a source")
    assert entry.covers(Difference("h100-eks-training", "gpu-operator", "driver.version", ""))
    assert entry.covers(Difference("h100-eks-training", "gpu-operator", "driver", ""))
    assert not entry.covers(Difference("h100-eks-training", "gpu-operator", "driverx", ""))
    assert not entry.covers(Difference("gb200-eks-training", "gpu-operator", "driver.version", ""))
    assert not entry.covers(Difference("h100-eks-training", "nvsentinel", "driver.version", ""))
