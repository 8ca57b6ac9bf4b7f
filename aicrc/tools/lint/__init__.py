"""`aicrc check`: lint findings over a program, each with a stable code, a place and a fix hint.

Findings are `Diagnostic`s of severity `warning`, so they render like compile errors. The rules
live in `rules` (the language: values set twice, unused features, unselectable or duplicate
layers, unpinned charts, `latest` images), the compiler's values-schema checks
(`aicrc.compiler.evaluate.schemas`) and `manifests` (removed Kubernetes APIs, `latest` images in
extra manifests).
"""

from __future__ import annotations

CODES: dict[str, tuple[str, str]] = {
    # code: (rule name, what it finds)
    "L0101": ("value-set-twice", "a value is set twice in one layer, feature or recipe"),
    "L0102": ("feature-never-enabled", "a feature that no layer, feature, checked recipe or shipped recipe enables"),
    "L0103": ("layer-never-selected", "a layer whose `when` no combination of dimension values satisfies"),
    "L0104": ("duplicate-layer", "two layers of the same kind with the same `when`"),
    "L0105": ("chart-not-pinned", "a chart version that is not one exact version"),
    "L0106": ("latest-image", "an image with the tag `latest` (or no tag, which pulls latest)"),
    "L0107": ("unknown-value-path", "a value path the component's values schema does not have"),
    "L0108": ("value-type", "a value the component's values schema does not allow"),
    "L0109": ("removed-api", "a manifest using a Kubernetes API version that has been removed"),
    "L0110": ("manifest-not-yaml", "a manifest that is not valid YAML (an error where a recipe installs it)"),
}
