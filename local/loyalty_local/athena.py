"""What Athena would bill for a query over Hive-partitioned Parquet, estimated locally.

Athena (Trino) reads, of each table a query scans, only the columns the query uses and only the
partitions its predicates on the partition key select (partition projection), and bills the
bytes it reads: at least 10 MB per query, rounded up to the megabyte, at $5 per TB. This module
estimates that from the query's text (sqlglot, Trino dialect) and the files' own metadata
(DuckDB's `parquet_metadata`: `total_compressed_size` of every column chunk):

- the `?` placeholders are bound to their values (as string literals, as Athena's execution
  parameters are passed);
- the query is qualified against the tables' columns (stars expanded) and the unused columns of
  subqueries and CTEs are pruned, predicates pushed down (sqlglot's optimizer rules, as Trino's
  planner does);
- every reference to a table in a scope is one scan (a CTE referenced twice is scanned twice, as
  Trino inlines CTEs): the columns that scope uses of it, in the partitions that the scope's WHERE
  and the table's JOIN ... ON conjuncts on the partition key allow (=, <, <=, >, >=, BETWEEN, IN
  against a constant; a constant expression is evaluated, by DuckDB); anything else reads every
  partition.

It is an upper bound of the real figure: Parquet footers (kilobytes) are not counted, and neither
row groups skipped by their min/max statistics nor Athena's query result reuse are credited.
It knows no application: the tables, their columns and the partition key come from the caller.
"""

from __future__ import annotations

import math
import operator
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import duckdb
import sqlglot
from sqlglot import exp
from sqlglot.optimizer import optimize
from sqlglot.optimizer.merge_subqueries import merge_subqueries
from sqlglot.optimizer.normalize import normalize
from sqlglot.optimizer.pushdown_predicates import pushdown_predicates
from sqlglot.optimizer.pushdown_projections import pushdown_projections
from sqlglot.optimizer.qualify import qualify
from sqlglot.optimizer.scope import Scope, build_scope
from sqlglot.tokenizer_core import TokenType

MB = 1 << 20
TB = 1 << 40
MIN_BILLED_BYTES = 10 * MB  # Athena's minimum per query
USD_PER_TB = 5.0  # Athena SQL queries, list price (us-east-1, eu-central-1)

# table -> partition value -> column -> compressed bytes
ColumnBytes = Mapping[str, Mapping[str, Mapping[str, int]]]

_OPS: dict[type[exp.Expr], Callable[[str, str], bool]] = {
    exp.EQ: operator.eq,
    exp.GT: operator.gt,
    exp.GTE: operator.ge,
    exp.LT: operator.lt,
    exp.LTE: operator.le,
}
_FLIPPED: dict[type[exp.Expr], Callable[[str, str], bool]] = {
    exp.EQ: operator.eq,
    exp.GT: operator.lt,
    exp.GTE: operator.le,
    exp.LT: operator.gt,
    exp.LTE: operator.ge,
}


@dataclass(frozen=True)
class TableScan:
    table: str
    columns: tuple[str, ...]
    partitions: tuple[str, ...]
    bytes: int


@dataclass(frozen=True)
class ScanEstimate:
    scans: tuple[TableScan, ...]
    bytes: int

    @property
    def billed_bytes(self) -> int:
        return max(MIN_BILLED_BYTES, math.ceil(self.bytes / MB) * MB)

    @property
    def usd(self) -> float:
        return self.billed_bytes / TB * USD_PER_TB


def column_bytes(
    root: Path, tables: Mapping[str, str], key: str = "period"
) -> dict[str, dict[str, dict[str, int]]]:
    """The compressed size of every column in every partition: `tables` maps a table to its
    folder under `root` (holding `<key>=<value>/*.parquet`)."""
    out: dict[str, dict[str, dict[str, int]]] = {}
    con = duckdb.connect(":memory:")
    try:
        for table, prefix in tables.items():
            per: dict[str, dict[str, int]] = {}
            folder = root / prefix
            if any(folder.glob(f"{key}=*/*.parquet")):
                pattern = f"{folder.as_posix()}/{key}=*/*.parquet".replace("'", "''")
                rows = con.execute(
                    "SELECT file_name, path_in_schema, sum(total_compressed_size)::BIGINT "  # noqa: S608
                    f"FROM parquet_metadata('{pattern}') GROUP BY ALL"
                ).fetchall()
                for file_name, column, size in rows:
                    part = Path(file_name).parent.name.split("=", 1)[1]
                    cols = per.setdefault(part, {})
                    cols[column] = cols.get(column, 0) + int(size)
            out[table] = per
    finally:
        con.close()
    return out


def bind(sql: str, values: Sequence[str]) -> str:
    """The query with its `?` placeholders (outside strings and comments) replaced, in order, by
    the values as string literals."""
    spots = [t for t in sqlglot.tokenize(sql, read="trino") if t.token_type == TokenType.PLACEHOLDER]
    if len(spots) != len(values):
        raise ValueError(f"{len(spots)} placeholders, {len(values)} values")
    out = sql
    for token, value in reversed(list(zip(spots, values, strict=True))):
        out = out[: token.start] + "'" + str(value).replace("'", "''") + "'" + out[token.end + 1 :]
    return out


def estimate_scan(
    sql: str,
    values: Sequence[str],
    schema: Mapping[str, Sequence[str]],
    sizes: ColumnBytes,
    key: str = "period",
) -> ScanEstimate:
    """The bytes Athena would read to run `sql` with `values` over tables of these columns
    (`schema`, the partition key not among them) and these column sizes."""
    columns: dict[str, object] = {t: {c: "varchar" for c in [*cols, key]} for t, cols in schema.items()}
    tree = _inline_ctes(sqlglot.parse_one(bind(sql, values), read="trino"))
    try:
        tree = optimize(
            tree,
            schema=columns,
            dialect="trino",
            rules=(qualify, pushdown_projections, normalize, pushdown_predicates, merge_subqueries),
        )
    except sqlglot.errors.SqlglotError:  # the rules could not: no pruning or pushdown credited
        tree = qualify(tree, schema=columns, dialect="trino")
    root = build_scope(tree)
    if root is None:
        raise ValueError("not a query")
    scans: list[TableScan] = []
    con = duckdb.connect(":memory:")
    try:
        _walk(root, _Context(schema, sizes, key, con), scans)
    finally:
        con.close()
    return ScanEstimate(tuple(scans), sum(s.bytes for s in scans))


def _inline_ctes(tree: exp.Expr) -> exp.Expr:
    """Every reference to a CTE replaced by a copy of its query (Trino inlines CTEs: each
    reference is planned, pruned and scanned on its own); unreferenced CTEs dropped."""
    while (with_ := next(tree.find_all(exp.With), None)) is not None:
        ctes = list(with_.expressions)
        owner = with_.parent
        with_.pop()
        for i, cte in enumerate(ctes):
            name = cte.alias_or_name
            targets = [c.this for c in ctes[i + 1 :]] + ([owner] if owner is not None else [])
            for target in targets:
                for ref in list(target.find_all(exp.Table)):
                    if ref.name == name and not ref.db:
                        alias = exp.TableAlias(this=exp.to_identifier(ref.alias_or_name))
                        ref.replace(exp.Subquery(this=cte.this.copy(), alias=alias))
    return tree


@dataclass(frozen=True)
class _Context:
    schema: Mapping[str, Sequence[str]]
    sizes: ColumnBytes
    key: str
    con: duckdb.DuckDBPyConnection


def _walk(scope: Scope, ctx: _Context, scans: list[TableScan]) -> None:
    for alias, (_node, source) in scope.selected_sources.items():
        if isinstance(source, Scope):
            _walk(source, ctx, scans)
        elif isinstance(source, exp.Table) and source.name in ctx.schema:
            scans.append(_scan(scope, alias, source.name, ctx))
    for child in (*scope.subquery_scopes, *scope.set_operation_scopes, *scope.udtf_scopes):
        _walk(child, ctx, scans)


def _scan(scope: Scope, alias: str, table: str, ctx: _Context) -> TableScan:
    known = set(ctx.schema[table])
    used = sorted({c.name for c in scope.columns if c.table == alias and c.name in known})
    present = sorted(ctx.sizes.get(table, {}))
    tests = [t for t in (_test(c, alias, ctx) for c in _conjuncts(scope, alias)) if t is not None]
    parts = [p for p in present if all(t(p) for t in tests)]
    size = sum(ctx.sizes[table][p].get(c, 0) for p in parts for c in used)
    return TableScan(table, tuple(used), tuple(parts), size)


def _conjuncts(scope: Scope, alias: str) -> list[exp.Expr]:
    conds: list[exp.Expr] = []
    where = scope.expression.args.get("where")
    if where is not None:
        conds.extend(_flatten(where.this))
    for join in scope.expression.args.get("joins") or []:
        if join.alias_or_name == alias and join.args.get("on") is not None:
            conds.extend(_flatten(join.args["on"]))
    return conds


def _flatten(cond: exp.Expr) -> list[exp.Expr]:
    cond = cond.unnest()
    return list(cond.flatten()) if isinstance(cond, exp.And) else [cond]


def _test(cond: exp.Expr, alias: str, ctx: _Context) -> Callable[[str], bool] | None:
    """A test of a partition value that `cond` implies, or None when it implies none."""

    def is_key(node: exp.Expr) -> bool:
        return isinstance(node, exp.Column) and node.name == ctx.key and node.table == alias

    test: Callable[[str], bool] | None = None
    if type(cond) in _OPS:
        left, right = cond.this, cond.expression
        if is_key(left) and (v := _const(right, ctx.con)) is not None:
            op, value = _OPS[type(cond)], v
            test = lambda p: op(p, value)  # noqa: E731
        elif is_key(right) and (v := _const(left, ctx.con)) is not None:
            op, value = _FLIPPED[type(cond)], v
            test = lambda p: op(p, value)  # noqa: E731
    elif isinstance(cond, exp.Between) and is_key(cond.this):
        low, high = _const(cond.args["low"], ctx.con), _const(cond.args["high"], ctx.con)
        if low is not None and high is not None:
            test = lambda p: low <= p <= high  # noqa: E731
    elif isinstance(cond, exp.In) and is_key(cond.this) and not cond.args.get("query"):
        found = [_const(e, ctx.con) for e in cond.expressions]
        if found and all(v is not None for v in found):
            allowed = set(found)
            test = lambda p: p in allowed  # noqa: E731
    return test


def _const(node: exp.Expr, con: duckdb.DuckDBPyConnection) -> str | None:
    """The value of a constant expression as a string (None when it is not one)."""
    if isinstance(node, exp.Literal):
        return str(node.this)
    if node.find(exp.Column, exp.Query, exp.Placeholder) is not None:
        return None
    try:  # e.g. date_format(date_add('month', -11, date('2026-10-01')), '%Y-%m')
        row = con.execute(f"SELECT CAST(({node.sql(dialect='duckdb')}) AS VARCHAR)").fetchone()
    except duckdb.Error:
        return None
    return None if row is None or row[0] is None else str(row[0])
