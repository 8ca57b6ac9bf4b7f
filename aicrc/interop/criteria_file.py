"""RecipeCriteria YAML files, as the reference system reads them:

kind: RecipeCriteria
apiVersion: aicr.nvidia.com/v1alpha1
spec: {service: eks, accelerator: gb200, intent: training}
"""

from __future__ import annotations

from pathlib import Path

from aicrc import diagnostics as diag
from aicrc.compiler.emit.recipe_result import AICR_API_VERSION
from aicrc.compiler.evaluate.criteria import RawCriterion
from aicrc.compiler.load.loader import read_source
from aicrc.source import SourceFile, Span

KIND = "RecipeCriteria"
API_VERSIONS = (AICR_API_VERSION,)


def read_criteria_file(path: Path) -> tuple[list[RawCriterion], SourceFile]:
    import yaml

    display = path.as_posix()
    source = read_source(path, display)

    def span(node: yaml.Node) -> Span:
        start, end = node.start_mark, node.end_mark
        return Span(display, start.line + 1, start.column + 1, end.line + 1, end.column + 1)

    def fail(message: str, node: yaml.Node | None, hint: str | None = None) -> diag.AicrcError:
        where = span(node) if node is not None else Span(display, 1, 1, 1, 1)
        return diag.AicrcError([diag.Diagnostic("E0404", message, where, help=hint)], {display: source})

    try:
        root = yaml.compose(source.text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as failure:
        mark = getattr(failure, "problem_mark", None)
        where = Span(display, mark.line + 1, mark.column + 1, mark.line + 1, mark.column + 2) if mark else None
        problem = getattr(failure, "problem", None) or str(failure)
        raise diag.AicrcError([diag.Diagnostic("E0404", f"invalid YAML: {problem}", where)], {display: source}) from None
    if not isinstance(root, yaml.MappingNode):
        raise fail(f"a criteria file is a YAML mapping with `kind: {KIND}`", root)
    fields = {key.value: (key, value) for key, value in root.value if isinstance(key, yaml.ScalarNode)}
    kind = fields.get("kind")
    if kind is None or kind[1].value != KIND:
        raise fail(f"expected `kind: {KIND}`", kind[1] if kind else root)
    api = fields.get("apiVersion")
    if api is not None and api[1].value not in API_VERSIONS:
        raise fail(f"unsupported apiVersion `{api[1].value}`", api[1], f"use {API_VERSIONS[0]}")
    spec = fields.get("spec")
    if spec is None or not isinstance(spec[1], yaml.MappingNode):
        raise fail("expected a `spec:` mapping of dimension: value", spec[1] if spec else root)
    criteria = []
    for key, value in spec[1].value:
        if not isinstance(value, yaml.ScalarNode) or not isinstance(key, yaml.ScalarNode):
            raise fail("each criterion is `dimension: value`", value)
        if value.value in ("", "~", "null"):
            continue
        criteria.append(RawCriterion(key.value, value.value, span(value)))
    return criteria, source
