"""The SQL subset Athena (Trino) and DuckDB both run (docs/analytics-report.md, "The SQL subset"):
what a query file may contain, checked with sqlglot.

A query passes when
- it parses as Trino SQL, as one query (SELECT / WITH ... SELECT / UNION);
- it is, token for token, what sqlglot writes for Trino from it: nothing in it needed rewriting
  (ILIKE, FROM-first, SELECT * EXCLUDE and other DuckDB sugar are rewritten, so they fail);
- it has no DuckDB-only syntax sqlglot would quietly accept in Trino mode (`::` casts);
- every function in it is one of the few both engines spell and mean the same way;
- it divides nothing (`/` on integers is integer division in Trino and a double in DuckDB);
- read as DuckDB and read as Trino it is the same statement (sqlglot writes both as the same Trino
  SQL): a construct the two dialects read differently shows up here.
"""

from __future__ import annotations

import sqlglot
from sqlglot import exp
from sqlglot.errors import ErrorLevel, ParseError, TokenError, UnsupportedError
from sqlglot.tokens import Token, TokenType

# functions (sqlglot's expression classes) both engines run alike; And/Or/If are sqlglot's
# nodes for AND, OR and CASE's WHEN branches
ALLOWED_FUNCTIONS: frozenset[type[exp.Expression]] = frozenset(
    {
        exp.And,
        exp.Or,
        exp.Case,
        exp.If,
        exp.Cast,
        exp.Coalesce,
        exp.Count,
        exp.Sum,
        exp.Max,
        exp.Min,
        exp.Substring,
        exp.RowNumber,
    }
)


def subset_problems(sql: str) -> list[str]:
    """Why `sql` is outside the subset (empty when it is inside)."""
    try:
        tokens = sqlglot.tokenize(sql, read="trino")
        trino = sqlglot.parse_one(sql, read="trino")
    except (ParseError, TokenError) as exc:
        return [f"does not parse as Trino SQL: {exc}"]
    problems: list[str] = []
    if not isinstance(trino, exp.Query):
        problems.append(f"not a query: parses as {type(trino).__name__}")
    try:
        written = sqlglot.tokenize(
            trino.sql(dialect="trino", unsupported_level=ErrorLevel.RAISE), read="trino"
        )
    except UnsupportedError as exc:
        problems.append(f"Trino has no equivalent: {exc}")
    else:
        if _words(tokens) != _words(written):
            first = next(
                (a.text for a, b in zip(tokens, written, strict=False) if _word(a) != _word(b)),
                "the end",
            )
            problems.append(f"not Trino as written: sqlglot rewrites it (from {first!r})")
    if any(t.token_type == TokenType.DCOLON for t in tokens):
        problems.append("`::` cast (DuckDB/PostgreSQL only): write CAST(x AS type)")
    for node in trino.find_all(exp.Func):
        if type(node) not in ALLOWED_FUNCTIONS:
            name = node.sql_name() if not isinstance(node, exp.Anonymous) else str(node.this)
            problems.append(f"function {name} is not in the subset")
    if any(True for _ in trino.find_all(exp.Div, exp.IntDiv)):
        problems.append("division: compute ratios in Python (integer division differs)")
    try:
        duck = sqlglot.parse_one(sql, read="duckdb")
    except (ParseError, TokenError) as exc:
        return [*problems, f"does not parse as DuckDB SQL: {exc}"]
    if duck.sql(dialect="trino") != trino.sql(dialect="trino"):
        problems.append("DuckDB and Trino read it differently")
    return problems


def _word(token: Token) -> tuple[TokenType, str]:
    return token.token_type, token.text.upper()


def _words(tokens: list[Token]) -> list[tuple[TokenType, str]]:
    return [_word(t) for t in tokens]
