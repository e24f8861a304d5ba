"""Reading a targets file into rows of text cells, each with its line: CSV (a header, one target
per row) or YAML (`version:`, `effective_from:`, `targets:` list). Both come out the same way, so
one row validator (`loyalty.program.targets.parse_targets`) judges them. YAML scalars are taken as
written (no float ever): `goal: 66000.10` is the text "66000.10"; lists (`month_goals: [..]`,
`bands: ["80:50", ..]` or `bands: [[80, 50], ..]` or `[{attainment_pct: 80, bonus_pct: 50}]`) are
joined with `|` as in the CSV."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field

import yaml

from loyalty.kernel.csvio.model import FileError

COLUMNS = (
    "target_id",
    "scope",
    "scope_value",
    "metric",
    "category",
    "interval",
    "period",
    "goal",
    "month_goals",
    "bonus_eur",
    "bands",
    "method",
    "version",
    "effective_from",
)
REQUIRED = ("target_id", "scope", "scope_value", "metric", "interval", "period", "goal", "bonus_eur")
MAX_BYTES = 5 * 1024 * 1024
MAX_ROWS = 20_000


@dataclass
class RawRows:
    rows: list[tuple[int, dict[str, str]]] = field(default_factory=list)
    version: str = ""  # the file's own (YAML top level); CSV: every row carries it
    effective_from: str = ""


def read_rows(raw: bytes, key: str) -> RawRows:
    """Rows of a targets file; raises FileError for what no row can fix."""
    if len(raw) > MAX_BYTES:
        raise FileError("too_large", f"a targets file is at most {MAX_BYTES // (1024 * 1024)} MB")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise FileError("encoding", f"not UTF-8 text (byte {exc.start})") from exc
    out = _yaml(text) if key.lower().endswith((".yaml", ".yml")) else _csv(text)
    if len(out.rows) > MAX_ROWS:
        raise FileError("too_many_rows", f"at most {MAX_ROWS} targets per file")
    return out


def _csv(text: str) -> RawRows:
    reader = csv.reader(io.StringIO(text, newline=""))
    header = [h.strip().lower() for h in next(reader, [])]
    _check_columns(header, "version", "effective_from")
    out = RawRows()
    start = reader.line_num + 1
    for rec in reader:
        line, start = start, reader.line_num + 1
        if not any(v.strip() for v in rec):
            continue
        cells = {h: (rec[i].strip() if i < len(rec) else "") for i, h in enumerate(header)}
        if len(rec) != len(header):
            cells["__shape__"] = f"{len(rec)} cells, the header has {len(header)}"
        out.rows.append((line, cells))
    return out


def _check_columns(header: list[str], *also: str) -> None:
    if not header or header == [""]:
        raise FileError("empty", "the file is empty: a header row is needed")
    unknown = [h for h in header if h not in COLUMNS]
    if unknown:
        raise FileError("unknown_columns", f"unknown column(s): {', '.join(unknown)}")
    dups = sorted({h for h in header if header.count(h) > 1})
    if dups:
        raise FileError("duplicate_columns", f"column(s) given twice: {', '.join(dups)}")
    missing = [c for c in (*REQUIRED, *also) if c not in header]
    if missing:
        raise FileError("missing_columns", f"missing column(s): {', '.join(missing)}")


def _yaml(text: str) -> RawRows:
    try:
        root = yaml.compose(text)
    except yaml.YAMLError as exc:
        raise FileError("yaml", f"not valid YAML: {exc}") from exc
    if not isinstance(root, yaml.MappingNode):
        raise FileError("yaml", "a targets YAML file is a mapping with version, effective_from and targets")
    top = {str(k.value): v for k, v in root.value}
    extra = sorted(set(top) - {"version", "effective_from", "targets", "description"})
    if extra:
        raise FileError("unknown_fields", f"unknown top-level field(s): {', '.join(extra)}")
    out = RawRows(version=_scalar(top.get("version")), effective_from=_scalar(top.get("effective_from")))
    items = top.get("targets")
    if not isinstance(items, yaml.SequenceNode):
        raise FileError("yaml", "`targets:` must be a list of targets")
    for node in items.value:
        line = node.start_mark.line + 1
        if not isinstance(node, yaml.MappingNode):
            out.rows.append((line, {"__shape__": "a target must be a mapping of fields"}))
            continue
        cells: dict[str, str] = {}
        for k, v in node.value:
            name = str(k.value).strip().lower()
            if name not in COLUMNS:
                cells["__shape__"] = f"unknown field {name!r}"
                continue
            if isinstance(v, yaml.MappingNode):
                cells["__shape__"] = f"{name}: a value or a list, not a mapping"
                continue
            cells[name] = _cell(v)
        out.rows.append((line, cells))
    return out


def _scalar(node: yaml.Node | None) -> str:
    return str(node.value).strip() if isinstance(node, yaml.ScalarNode) else ""


def _cell(node: yaml.Node) -> str:
    """A field as CSV text: scalars as written; lists joined by `|`; a band as `a:v`."""
    if isinstance(node, yaml.ScalarNode):
        return "" if node.tag.endswith(":null") else str(node.value).strip()
    return "|".join(_band(v) for v in node.value) if isinstance(node, yaml.SequenceNode) else ""


def _band(node: yaml.Node) -> str:
    if isinstance(node, yaml.SequenceNode) and len(node.value) == 2:
        return ":".join(_scalar(v) for v in node.value)
    if isinstance(node, yaml.MappingNode):
        d = {str(k.value): _scalar(v) for k, v in node.value}
        return f"{d.get('attainment_pct', '')}:{d.get('bonus_pct', '')}"
    return _scalar(node)
