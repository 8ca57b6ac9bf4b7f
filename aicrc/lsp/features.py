"""Hover, go to definition, completion and document symbols over an `Analysis` (no LSP types)."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from aicrc import diagnostics as diag
from aicrc.compiler.syntax import ast
from aicrc.compiler.syntax.ast import format_path
from aicrc.lsp.analysis import Analysis, Workspace
from aicrc.lsp.references import Ref
from aicrc.records import Record
from aicrc.source import Span
from aicrc.vocabulary import COMPONENT_KEYWORDS, DECLARATION_KEYWORDS, LAYER_KINDS, STATEMENT_KEYWORDS

MAX_LEAVES_SHOWN = 12


# ---- hover ---------------------------------------------------------------------------------------


def hover(workspace: Workspace, analysis: Analysis, line: int, col: int) -> tuple[str, Span] | None:
    """Markdown for what is under the cursor, and the span it describes."""
    ref = analysis.at(line, col)
    program = analysis.program
    if ref is None or program is None:
        return None
    text: str | None = None
    if ref.kind == "component" and ref.name in program.components:
        text = _component(analysis, program.components[ref.name], workspace.representative(analysis, _layer_at(analysis, line)))
    elif ref.kind == "path":
        text = _value(workspace, analysis, ref, line)
    elif ref.kind == "feature" and ref.name in program.features:
        enablers = sorted(_enablers(program, ref.name))
        text = f"**feature** `{ref.name}`\n\nenabled by: {', '.join(enablers) or 'nothing'}"
    elif ref.kind == "layer" and ref.name in program.layers:
        layer = program.layers[ref.name]
        text = f"**{layer.kind.text} layer** `{ref.name}`"
        compiled = analysis.compilation
        if compiled is not None:
            applied = any(a.name == ref.name for a in compiled.resolved.layers)
            text += f"\n\n{'applies' if applied else 'does not apply'} to recipe `{compiled.resolved.recipe}`"
    elif ref.kind in ("dimension", "value") and ref.name in program.dimensions:
        dimension = program.dimensions[ref.name]
        text = f"**dimension** `{dimension.name}`: {', '.join(dimension.values)}"
        if ref.kind == "value" and ref.target:
            members = sorted(dimension.expand(ref.target[0]))
            if members != [ref.target[0]]:
                text += f"\n\n`{ref.target[0]}` stands for {', '.join(members)}"
    return (text, ref.span) if text else None


def _component(analysis: Analysis, component: ast.Component, compiled: Any) -> str:
    lines = [f"**component** `{component.name.text}`"]
    if component.chart is not None:
        chart = component.chart
        lines.append(f"chart `{chart.name.text}` version `{chart.version.value}` from `{chart.repository.value}`")
    else:
        lines.append("manifests only")
    if component.namespace is not None:
        lines.append(f"namespace `{component.namespace.text}`")
    if component.needs:
        lines.append("needs " + ", ".join(f"`{n.text}`" for n in component.needs))
    if compiled is not None:
        resolved = compiled.resolved.components.get(component.name.text)
        recipe = compiled.resolved.recipe
        if resolved is None:
            lines.append(f"not in recipe `{recipe}`")
        else:
            wave = compiled.plan.waves.get(component.name.text)
            needs = ", ".join(sorted(resolved.needs)) or "nothing"
            lines.append(f"in recipe `{recipe}`" + (f": wave {wave}" if wave is not None else "") + f", after {needs}")
    return "\n\n".join(lines)


def _value(workspace: Workspace, analysis: Analysis, ref: Ref, line: int) -> str | None:
    from aicrc.tools.explain import render_text

    compiled = workspace.representative(analysis, _layer_at(analysis, line))
    shown = format_path(ref.target)
    if compiled is None:
        return f"`{shown}`"
    try:
        stories = compiled.explain(ref.target)
    except diag.AicrcError:
        return f"`{shown}`: no value in recipe `{compiled.resolved.recipe}`"
    title = f"`{shown}` in recipe `{compiled.resolved.recipe}`"
    if compiled is not analysis.compilation:
        title += f" ({compiled.recipe_file})"
    more = f"\n\n… and {len(stories) - MAX_LEAVES_SHOWN} more values" if len(stories) > MAX_LEAVES_SHOWN else ""
    return f"{title}\n\n```text\n{render_text(stories[:MAX_LEAVES_SHOWN]).rstrip()}\n```{more}"


def _layer_at(analysis: Analysis, line: int) -> str | None:
    module = analysis.module
    if module is None:
        return None
    for item in module.items:
        if isinstance(item, ast.Layer) and item.span.line <= line <= item.span.end_line:
            return item.name.text
    return None


def _enablers(program: Any, feature: str) -> Iterator[str]:
    for kind, table in (("layer", program.layers), ("feature", program.features), ("recipe", program.recipes)):
        for name, item in table.items():
            if any(isinstance(s, (ast.Enable, ast.Rule)) and feature in (f.text for f in s.features) for s in item.body):
                yield f"{kind} `{name}`"


# ---- go to definition ----------------------------------------------------------------------------


def definition(analysis: Analysis, line: int, col: int) -> tuple[Path, Span] | None:
    ref = analysis.at(line, col)
    program = analysis.program
    if ref is None or program is None:
        return None
    span: Span | None = None
    if ref.kind == "import":
        return _import_target(analysis, ref.name)
    if ref.kind == "component" and ref.name in program.components:
        span = program.components[ref.name].name.span
    elif ref.kind == "path" and ref.target[0] in program.components:
        span = program.components[ref.target[0]].name.span
    elif ref.kind == "feature" and ref.name in program.features:
        span = program.features[ref.name].name.span
    elif ref.kind == "layer" and ref.name in program.layers:
        span = program.layers[ref.name].name.span
    elif ref.kind == "dimension" and ref.name in program.dimensions:
        span = program.dimensions[ref.name].declaration.name.span
    elif ref.kind == "value" and ref.name in program.dimensions and ref.target:
        dimension, value = program.dimensions[ref.name], ref.target[0]
        found = dimension.values.get(value) or (dimension.families[value].name if value in dimension.families else None)
        found = found or (dimension.aliases[value].name if value in dimension.aliases else None)
        span = found.span if found is not None else None
    if span is None:
        return None
    source = program.sources.get(span.file)
    path = source.path if source is not None and source.path is not None else None
    return (path, span) if path is not None else None


def _import_target(analysis: Analysis, target: str) -> tuple[Path, Span] | None:
    name = target if target.endswith(".aicr") else target + ".aicr"
    candidates = [analysis.path.parent / name] if name.startswith(("./", "../")) else []
    if analysis.program is not None and not candidates:
        candidates = [root.directory / name for root in analysis.program.roots] + [analysis.path.parent / name]
    for candidate in candidates:
        if candidate.is_file():
            return candidate.resolve(), Span(str(candidate), 1, 1, 1, 1)
    return None


# ---- completion ----------------------------------------------------------------------------------


class Completion(Record):
    label: str
    kind: str  # keyword, component, feature, value, dimension, key
    detail: str = ""


_WORD_BEFORE = re.compile(r"([A-Za-z_][A-Za-z0-9_-]*)?$")
_SEGMENT = r'(?:[\w-]+|"[^"\n]*")'
_SET_PATH = re.compile(rf"\bset\s+([\w-]+)((?:\s*\.\s*{_SEGMENT})*)\s*\.\s*[\w-]*$")


def complete(workspace: Workspace, analysis: Analysis, line: int, col: int) -> list[Completion]:
    """What may be typed at the cursor, judged from the text before it (the document may not
    parse while it is being typed), with names from the last analysis that got far enough, or
    from the library."""
    source = analysis if analysis.program is not None else workspace.last_good.get(analysis.path)
    program = source.program if source is not None else _library(workspace)
    compilation = source.compilation if source is not None else None
    lines = analysis.text.split("\n")
    before = lines[line - 1][: col - 1] if line <= len(lines) else ""
    head = before[: len(before) - len(_WORD_BEFORE.search(before).group(0) or "")]  # type: ignore[union-attr]
    stripped = head.strip()
    if program is None:
        return _keywords(before, analysis.text, line)
    components = [Completion(n, "component", _chart_detail(c)) for n, c in sorted(program.components.items())]
    features = [Completion(n, "feature") for n in sorted(program.features)]
    if _SET_PATH.search(before):
        return _keys(program, compilation, analysis.text, before, line, col)
    if re.search(r"\bset\s+[\w-]*$", before):
        return components
    if re.search(r"\b(use|drop|values|manifest)\s+([\w-]+\s*,\s*)*$", head) or re.search(
        r"\bneeds\s+([\w-]+\s*:\s*)?([\w-]+\s*,\s*)*$", head
    ):
        return components
    if re.search(r"\benable\s+([\w-]+\s*,\s*)*$", head):
        return features
    dimension_value = re.search(r"\b([\w-]+)\s*(==|!=|=)\s*$", head) or re.search(r"\b([\w-]+)\s+in\s*\[\s*([\w-]+\s*,\s*)*$", head)
    if dimension_value and dimension_value.group(1) in program.dimensions:
        dimension = program.dimensions[dimension_value.group(1)]
        names = [*dimension.values, *dimension.families, *dimension.aliases]
        return [Completion(n, "value", f"{dimension.name}") for n in names] + (
            [Completion("any", "value", "unset")] if dimension_value.group(2) == "=" else []
        )
    if re.search(r"\bwhen\s+.*\b(and|or|not)\s*$", head) or re.search(r"\bwhen\s*\(?\s*$", head):
        return [Completion(n, "dimension") for n in program.dimensions]
    if re.search(r"^\s*layer\s+[\w-]+\s*:\s*$", head):
        return [Completion(k, "keyword", "layer kind") for k in LAYER_KINDS]
    if _values_context(analysis.text, line, col) is not None:
        return _keys(program, compilation, analysis.text, before, line, col)
    found = _keywords(before, analysis.text, line)
    if _enclosing(analysis.text, line, col) == "recipe" and not stripped:
        found += [Completion(d, "dimension", "bind a dimension") for d in program.dimensions]
    return found


def _chart_detail(component: ast.Component) -> str:
    chart = component.chart
    return f"{chart.name.text} {chart.version.value}" if chart is not None else "manifests"


def _keywords(before: str, text: str, line: int) -> list[Completion]:
    context = _enclosing(text, line, len(before) + 1)
    if context is None:
        words: tuple[str, ...] = DECLARATION_KEYWORDS
    elif context == "component":
        words = COMPONENT_KEYWORDS
    elif context == "dimension":
        words = ("values", "family", "alias", "default")
    else:
        words = STATEMENT_KEYWORDS
    return [Completion(w, "keyword") for w in words]


_OPENER = re.compile(r'"(?:[^"\\\n]|\\.)*"|#[^\n]*|\{|\}|\b(dimension|component|feature|layer|recipe|values)\b')


def _enclosing(text: str, line: int, col: int) -> str | None:
    """The declaration keyword of the outermost block around the cursor, or `values` inside a
    values block (None at the top level)."""
    offset = _offset(text, line, col)
    stack: list[str] = []
    last_keyword = None
    for match in _OPENER.finditer(text, 0, offset):
        token = match.group(0)
        if token[0] in '"#':
            continue
        if token == "{":
            stack.append(last_keyword or "{")
            last_keyword = None
        elif token == "}":
            if stack:
                stack.pop()
        else:
            last_keyword = token
    return stack[0] if stack else None


def _offset(text: str, line: int, col: int) -> int:
    lines = text.split("\n")
    return sum(len(item) + 1 for item in lines[: line - 1]) + min(col - 1, len(lines[line - 1]) if line <= len(lines) else 0)


_VALUES_TOKENS = re.compile(
    r'"(?:[^"\\\n]|\\.)*"|#[^\n]*|\{|\}|\[|\]|='
    r"|^\s*component\s+(?P<component>[\w-]+)"  # a component's own `values { }` configures it
    r"|values(?:\s+(?P<values>[\w-]+))?\s*(?=\{)"
    r'|([\w-]+|"[^"\n]*")(\s*\.\s*([\w-]+|"[^"\n]*"))*',
    re.MULTILINE,
)


def _values_context(text: str, line: int, col: int) -> tuple[str, tuple[str, ...]] | None:
    """Inside `values COMPONENT { ... key { ... } }`: the component and the keys around the cursor."""
    offset = _offset(text, line, col)
    stack: list[tuple[str, tuple[str, ...]] | None] = []
    pending: tuple[str, tuple[str, ...]] | None = None
    component = ""
    for match in _VALUES_TOKENS.finditer(text, 0, offset):
        token = match.group(0)
        if token[0] == "#":
            continue
        if match.group("component"):
            component = match.group("component")
        elif token.startswith("values") and (match.group("values") or len(stack) == 1):
            pending = (match.group("values") or component, ())
        elif token == "{":
            stack.append(pending)
            pending = None
        elif token == "}":
            if stack:
                stack.pop()
            pending = None
        elif token in ("=", "[", "]") or (token[0] == '"' and not stack):
            pending = None
        elif stack and stack[-1] is not None:
            owner, keys = stack[-1]
            segments = tuple(s.strip().strip('"') for s in re.split(r'\.(?=(?:[^"]*"[^"]*")*[^"]*$)', token))
            pending = (owner, (*keys, *segments))
        else:
            pending = None
    return stack[-1] if stack else None


def _library(workspace: Workspace) -> Any:
    try:
        return workspace.library()
    except diag.AicrcError:
        return None


def _keys(program: Any, compiled: Any, text: str, before: str, line: int, col: int) -> list[Completion]:
    """Keys that exist below the path being typed: from the compiled values and the schema."""
    component, prefix = _typed_path(text, before, line, col)
    if component is None or component not in program.components:
        return []
    found: dict[str, str] = {}
    values: Any = None
    if compiled is not None and component in compiled.resolved.components:
        values = compiled.resolved.components[component].values
    elif program.components[component].values is not None:
        from aicrc.compiler.load.resolve import to_python

        values = to_python(program.components[component].values)
    for key in prefix:
        values = values.get(key) if isinstance(values, dict) else None
    if isinstance(values, dict):
        found.update({key: json.dumps(value)[:60] for key, value in values.items()})
    from aicrc.compiler.evaluate.schemas import properties_at

    definition = program.component_defs.get(component)
    schema = definition.schema if definition is not None else None
    for key, sub in properties_at(schema, prefix).items() if schema is not None else ():
        found.setdefault(key, str(sub.get("description", sub.get("type", ""))) if isinstance(sub, dict) else "")
    return [Completion(format_path((key,)), "key", detail) for key, detail in sorted(found.items())]


def _typed_path(text: str, before: str, line: int, col: int) -> tuple[str | None, tuple[str, ...]]:
    """The component and keys of the value path being typed (`set a.b.|`, or `c.|` inside
    `values a { b { ... } }`)."""
    match = _SET_PATH.search(before)
    if match:
        rest = tuple(s.strip('"') for s in re.findall(r'[\w-]+|"[^"\n]*"', match.group(2)))
        return match.group(1), rest
    context = _values_context(text, line, col)
    if context is None:
        return None, ()
    typed = re.search(r"((?:[\w-]+|\"[^\"\n]*\")(?:\s*\.\s*(?:[\w-]+|\"[^\"\n]*\"))*)\s*\.\s*[\w-]*$", before)
    extra = tuple(s.strip('"') for s in re.findall(r'[\w-]+|"[^"\n]*"', typed.group(1))) if typed else ()
    return context[0], (*context[1], *extra)


# ---- document symbols ----------------------------------------------------------------------------


class Symbol(Record):
    name: str
    kind: str  # dimension, component, feature, layer, recipe, value, import
    detail: str
    span: Span
    selection: Span
    children: tuple[Symbol, ...] = ()


def symbols(analysis: Analysis) -> list[Symbol]:
    module = analysis.module
    if module is None:
        return []
    out = []
    for item in module.items:
        if isinstance(item, ast.Import):
            out.append(Symbol(item.target, "import", "import", item.span, item.span))
        elif isinstance(item, ast.Dimension):
            values = tuple(Symbol(v.text, "value", "value", v.span, v.span) for v in item.values)
            out.append(
                Symbol(item.name.text, "dimension", "extend dimension" if item.extends else "dimension", item.span, item.name.span, values)
            )
        elif isinstance(item, ast.Component):
            out.append(Symbol(item.name.text, "component", _chart_detail(item), item.span, item.name.span))
        elif isinstance(item, ast.Feature):
            out.append(Symbol(item.name.text, "feature", "feature", item.span, item.name.span))
        elif isinstance(item, ast.Layer):
            out.append(Symbol(item.name.text, "layer", f"{item.kind.text} layer", item.span, item.name.span))
        else:
            bindings = tuple(Symbol(f"{b.dimension.text} = {b.value.text}", "value", "binding", b.span, b.span) for b in item.bindings)
            out.append(Symbol(item.name.text, "recipe", "recipe", item.span, item.name.span, bindings))
    return out
