"""Writing a Snapshot: YAML laid out as the reference writes it (two-space indents, lists indented
under their key, keys sorted where Go sorts them), JSON, or a table for the terminal.

Strings that YAML 1.1 would read as something else (`"yes"`, `"24.04"`, `"2024"`) are quoted, so
both the reference's reader and PyYAML read every value back as written.
"""

from __future__ import annotations

import json

import yaml

from aicrc.cluster.display import one_line
from aicrc.cluster.snapshot import Reading, Snapshot, reading_text, to_data


class _Dumper(yaml.SafeDumper):
    """Block style, lists indented under their key (`measurements:\\n  - type: OS`), double quotes."""

    def increase_indent(self, flow: bool = False, indentless: bool = False) -> None:
        super().increase_indent(flow, False)

    def choose_scalar_style(self) -> str:
        style: str = super().choose_scalar_style()
        return '"' if style == "'" else style  # the reference (yaml.v3) quotes with double quotes


def _text(dumper: yaml.SafeDumper, text: str) -> yaml.ScalarNode:
    style = "|" if "\n" in text and not text.endswith((" ", "\t")) and "\t" not in text else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", text, style=style)


_Dumper.add_representer(str, _text)


def render(snapshot: Snapshot, output_format: str) -> str:
    data = to_data(snapshot)
    if output_format == "json":
        return json.dumps(data, indent=2, ensure_ascii=False) + "\n"
    if output_format == "table":
        return table(snapshot)
    text: str = yaml.dump(data, Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=1 << 30, default_flow_style=False)
    return text


def table(snapshot: Snapshot) -> str:
    """What was measured, one reading a row, and each collector that could not run, with why."""
    header = [("snapshot", snapshot.api_version), *((one_line(k), one_line(v)) for k, v in sorted(snapshot.metadata.items()))]
    rows: list[tuple[str, str, str]] = []
    for measurement in snapshot.measurements:
        for subtype in measurement.subtypes:
            where = one_line(f"{measurement.type}.{subtype.name}")
            if subtype.skipped:
                rows.append((where, "(skipped)", one_line(subtype.skipped)))
            elif not subtype.data:
                rows.append((where, "(no readings)", ""))
            rows += [(where, one_line(key), _shown(value)) for key, value in sorted(subtype.data.items())]
        if not measurement.subtypes:
            rows.append((one_line(measurement.type), "(nothing measured)", ""))
    width = max(len(name) for name, _ in header)
    lines = [f"{name:<{width}}  {value}" for name, value in header]
    if rows:
        columns = [max(len(row[index]) for row in [("MEASUREMENT", "KEY", ""), *rows]) for index in range(2)]
        lines += ["", f"{'MEASUREMENT':<{columns[0]}}  {'KEY':<{columns[1]}}  VALUE"]
        lines += [f"{where:<{columns[0]}}  {key:<{columns[1]}}  {value}".rstrip() for where, key, value in rows]
    return "\n".join(lines) + "\n"


def _shown(value: Reading) -> str:
    """One line per reading, as the reference prints it, control characters as escapes."""
    return one_line(reading_text(value))
