"""The reward catalog: `catalog/*.yaml|yml|csv` -> rewards (docs/rewards.md).

YAML: `version:` and `rewards:` (a list of mappings; scalars taken as written, never as floats).
CSV: a header with the columns below (`,` or `;`, UTF-8 or Windows-1251, sniffed like every
partner CSV by `loyalty.kernel.csvio`), an optional `version` column (else the file's name is the
version). Every row is checked on its own; a bad row is rejected with its line, column and
reason, the good ones load. A reward's definition is upserted (its `taken` count is kept);
a reward missing from a later file stays as it is (withdraw one with `valid_to`).
"""

from __future__ import annotations

import datetime as dt
import io
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import PurePosixPath

import yaml

from loyalty.kernel.csvio.model import ColumnSpec, FileError, RowIssue
from loyalty.kernel.csvio.stream import CsvStream
from loyalty.kernel.ids import ID_RE, is_formula
from loyalty.kernel.money import parse_decimal, to_cents
from loyalty.kernel.ports import BlobStore
from loyalty.points.model import Reward
from loyalty.points.ports import Catalog
from loyalty.program.config import LoadReport

COLUMNS = (
    "id",
    "name",
    "description",
    "points",
    "stock",
    "limit_per_period",
    "valid_from",
    "valid_to",
    "min_tier",
    "fmv_eur",
    "version",
)
SPEC = ColumnSpec(
    columns=COLUMNS,
    required=frozenset({"id", "name", "points", "stock", "fmv_eur"}),
    aliases={
        "reward_id": "id",
        "reward": "id",
        "title": "name",
        "limit": "limit_per_period",
        "limit_per_month": "limit_per_period",
        "tier": "min_tier",
        "minimum_tier": "min_tier",
        "fmv": "fmv_eur",
        "fair_market_value_eur": "fmv_eur",
    },
)
VERSION_RE = re.compile(r"^[A-Za-z0-9._-]{1,32}$")
PLAIN_RE = re.compile(r"^[^\x00-\x1f\x7f]*$")
UNLIMITED = ("", "unlimited", "none", "null", "~")
MAX_BYTES = 2 * 1024 * 1024
MAX_ROWS = 5_000
MAX_POINTS = 100_000_000
MAX_NAME, MAX_DESCRIPTION = 120, 1000


@dataclass
class CatalogFile:
    version: str
    rewards: list[Reward] = field(default_factory=list)
    issues: list[RowIssue] = field(default_factory=list)
    rows: int = 0  # data rows read (= len(rewards) + len(issues))


class RowError(ValueError):
    def __init__(self, column: str, value: str, reason: str) -> None:
        super().__init__(reason)
        self.column, self.value, self.reason = column, value, reason


def parse_catalog(data: bytes | str, filename: str, tiers: Sequence[str] = ()) -> CatalogFile:
    """The rewards of a catalog file and its rejected rows; raises FileError for what no row can
    fix (not YAML/CSV, no version, missing columns, too large). `tiers`: the rules' tier names
    (a `min_tier` must be one of them; empty = not checked)."""
    raw = data.encode("utf-8") if isinstance(data, str) else data
    if len(raw) > MAX_BYTES:
        raise FileError("too_large", f"a catalog file is at most {MAX_BYTES // (1024 * 1024)} MB")
    if filename.lower().endswith((".yaml", ".yml")):
        version, rows = _yaml_rows(raw)
    elif filename.lower().endswith(".csv"):
        version, rows = _csv_rows(raw, filename)
    else:
        raise FileError("not_catalog", "a catalog file is .yaml, .yml or .csv")
    if len(rows) > MAX_ROWS:
        raise FileError("too_many_rows", f"at most {MAX_ROWS} rewards per file")
    out = CatalogFile(version, rows=len(rows))
    names = {t.lower(): t for t in tiers}
    first: dict[str, int] = {}
    for line, cells in rows:
        if isinstance(cells, RowIssue):
            out.issues.append(cells)
            continue
        try:
            reward = check_row(cells, version, names)
            if reward.reward_id in first:
                raise RowError(
                    "id", reward.reward_id, f"{reward.reward_id} is already on line {first[reward.reward_id]}"
                )
        except RowError as exc:
            out.issues.append(RowIssue(line, exc.column, exc.value[:200], exc.reason))
            continue
        first[reward.reward_id] = line
        out.rewards.append(reward)
    return out


# -- reading rows ---------------------------------------------------------------------------------
Rows = list[tuple[int, dict[str, str] | RowIssue]]


def _csv_rows(raw: bytes, filename: str) -> tuple[str, Rows]:
    stream = CsvStream(io.BytesIO(raw), SPEC)
    rows: Rows = []
    for line, values in stream.rows_iter():
        if isinstance(values, RowIssue):
            rows.append((line, values))
        else:
            rows.append((line, dict(zip(SPEC.columns, (v.strip() for v in values), strict=True))))
    given = {c["version"] for _, c in rows if isinstance(c, dict) and c.get("version")}
    if len(given) > 1:
        raise FileError("version", f"all rows of a file share one version; found {', '.join(sorted(given))}")
    stem = PurePosixPath(filename).stem
    version = given.pop() if given else re.sub(r"[^A-Za-z0-9._-]", "-", stem)[:32]
    return _version(version), rows


def _version(text: str) -> str:
    if not VERSION_RE.match(text):
        raise FileError("version", f"version {text!r}: up to 32 of A-Z a-z 0-9 . _ - is required")
    return text


def _yaml_rows(raw: bytes) -> tuple[str, Rows]:
    try:
        root = yaml.compose(raw.decode("utf-8-sig"))
    except UnicodeDecodeError as exc:
        raise FileError("encoding", f"a YAML catalog is UTF-8 text (bad byte at {exc.start})") from exc
    except yaml.YAMLError as exc:
        raise FileError("yaml", f"not valid YAML: {exc}") from exc
    if not isinstance(root, yaml.MappingNode):
        raise FileError("yaml", "a catalog YAML file is a mapping with `version:` and `rewards:`")
    top = {str(k.value): v for k, v in root.value}
    extra = sorted(set(top) - {"version", "rewards", "description"})
    if extra:
        raise FileError("unknown_fields", f"unknown top-level field(s): {', '.join(extra)}")
    version_node = top.get("version")
    version = str(version_node.value).strip() if isinstance(version_node, yaml.ScalarNode) else ""
    items = top.get("rewards")
    if not isinstance(items, yaml.SequenceNode):
        raise FileError("yaml", "`rewards:` must be a list of rewards")
    rows: Rows = []
    for node in items.value:
        line = node.start_mark.line + 1
        rows.append((line, _yaml_cells(line, node)))
    return _version(version), rows


def _yaml_cells(line: int, node: yaml.Node) -> dict[str, str] | RowIssue:
    if not isinstance(node, yaml.MappingNode):
        return RowIssue(line, "", "", "a reward must be a mapping of fields")
    cells: dict[str, str] = {}
    for k, v in node.value:
        name = SPEC.canonical(str(k.value))
        if name is None or name == "version":
            return RowIssue(line, str(k.value), "", f"unknown field {str(k.value)!r}")
        if not isinstance(v, yaml.ScalarNode):
            return RowIssue(line, name, "", f"{name} must be a single value")
        cells[name] = "" if v.tag.endswith(":null") else str(v.value).strip()
    return cells


# -- checking a row ------------------------------------------------------------------------------
def check_row(cells: Mapping[str, str], version: str, tiers: Mapping[str, str]) -> Reward:
    """One row -> a Reward, or RowError naming the column and the reason."""
    rid = cells.get("id", "")
    if not rid or not ID_RE.match(rid) or is_formula(rid):
        raise RowError(
            "id", rid, "id is required: up to 64 printable characters, not starting with = + - @ | %"
        )
    name = cells.get("name", "")
    if not name or len(name) > MAX_NAME or is_formula(name) or not PLAIN_RE.match(name):
        raise RowError(
            "name", name, f"name is required: up to {MAX_NAME} printable characters, not a formula"
        )
    description = cells.get("description", "")
    if len(description) > MAX_DESCRIPTION or not PLAIN_RE.match(description.replace("\n", " ")):
        raise RowError(
            "description", description, f"description: at most {MAX_DESCRIPTION} printable characters"
        )
    points = _whole(cells, "points", minimum=1)
    assert points is not None
    stock = _whole(cells, "stock", minimum=0, unlimited=True)
    limit = _whole(cells, "limit_per_period", minimum=1, unlimited=True)
    valid_from, valid_to = _day(cells, "valid_from"), _day(cells, "valid_to")
    if valid_from and valid_to and valid_from > valid_to:
        raise RowError(
            "valid_to", cells["valid_to"], f"valid_to {valid_to} is before valid_from {valid_from}"
        )
    return Reward(
        reward_id=rid,
        name=name,
        description=description,
        points=points,
        stock=stock,
        limit_per_period=limit,
        valid_from=valid_from,
        valid_to=valid_to,
        min_tier=_tier(cells.get("min_tier", ""), tiers),
        fmv_eur=_fmv(cells.get("fmv_eur", "")),
        catalog_version=version,
    )


def _whole(cells: Mapping[str, str], col: str, minimum: int, unlimited: bool = False) -> int | None:
    text = cells.get(col, "")
    if unlimited and text.lower() in UNLIMITED:
        return None
    empty = "empty or `unlimited`, or " if unlimited else ""
    if not text.isdigit() or not text.isascii():
        raise RowError(col, text, f"{col} must be {empty}a whole number of at least {minimum}")
    value = int(text)
    if value < minimum or value > MAX_POINTS:
        raise RowError(col, text, f"{col} must be {empty}a whole number from {minimum} to {MAX_POINTS}")
    return value


def _day(cells: Mapping[str, str], col: str) -> dt.date | None:
    text = cells.get(col, "")
    if not text:
        return None
    try:
        if len(text) != 10:
            raise ValueError(text)
        return dt.date.fromisoformat(text)
    except ValueError:
        raise RowError(col, text, f"{col} is not an ISO date (YYYY-MM-DD)") from None


def _tier(text: str, tiers: Mapping[str, str]) -> str | None:
    if not text:
        return None
    if not tiers:
        return text
    if text.lower() not in tiers:
        raise RowError("min_tier", text, f"unknown tier {text!r}: use one of {', '.join(tiers.values())}")
    return tiers[text.lower()]


def _fmv(text: str) -> Decimal:
    try:
        value = parse_decimal(text)
    except ValueError as exc:
        raise RowError("fmv_eur", text, f"fmv_eur (fair-market value, EUR): {exc}") from None
    if value < 0 or value != to_cents(value):
        raise RowError("fmv_eur", text, "fmv_eur is EUR: at least 0, at most 2 decimals")
    return to_cents(value)


# -- the config loader ----------------------------------------------------------------------------
class CatalogLoader:
    """`catalog/` uploads (a `loyalty.program.config.FileLoader`): good rows are upserted, the
    report says which rewards are new, updated or unchanged (a re-upload changes nothing)."""

    def __init__(self, store: Catalog, blobs: BlobStore, tiers: Callable[[], list[str]]) -> None:
        self.store = store
        self.blobs = blobs
        self.tiers = tiers

    def load(self, key: str) -> LoadReport:
        rep = LoadReport("catalog", key)
        try:
            cat = parse_catalog(self.blobs.get(key), key, self.tiers())
        except FileError as exc:
            rep.file_error = exc.message
            return rep
        before = {r.reward_id for r in self.store.rewards()}
        outcome: dict[str, list[str]] = {"new": [], "updated": [], "unchanged": []}
        for reward in cat.rewards:
            changed = self.store.put_reward(reward)
            kind = "unchanged" if not changed else ("updated" if reward.reward_id in before else "new")
            outcome[kind].append(reward.reward_id)
        rep.rows, rep.accepted, rep.rejected = cat.rows, len(cat.rewards), len(cat.issues)
        rep.issues = cat.issues
        rep.detail = {"version": cat.version, **{k: v[:1000] for k, v in outcome.items()}}
        if not cat.rows:
            rep.file_error = "the catalog lists no rewards"
        return rep
