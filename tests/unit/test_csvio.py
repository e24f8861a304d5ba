from __future__ import annotations

import csv
import io

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from loyalty import csvio
from loyalty.csvio import ColumnSpec, CsvStream, FileError, RowIssue
from loyalty.ingest import SALES_SPEC

H = "sale_id,partner_id,sold_at,sku,quantity,unit_price,currency\n"


def rows(data: bytes, **kw: int) -> tuple[CsvStream, list[tuple[int, list[str] | RowIssue]]]:
    s = CsvStream(io.BytesIO(data), SALES_SPEC, **kw)
    return s, list(s.rows_iter())


def test_semicolon_bom_aliases_and_any_order() -> None:
    data = (
        "\ufeffQty;Date;Partner;SKU;Sale ID;Price;Currency;Extra\n2;2026-10-01;P1;A;S1;10,5;EUR;x\n".encode()
    )
    s, out = rows(data)
    assert s.delimiter == ";" and s.encoding == "utf-8-sig" and s.ignored_columns == ["Extra"]
    assert out == [(2, ["S1", "P1", "2026-10-01", "A", "2", "10,5", "EUR", "", "", ""])]


def test_windows_1251_with_russian_headers() -> None:
    text = "Номер продажи;Код партнера;Дата;Артикул;Количество;Цена;Валюта;Клиент\nS1;P1;2026-10-01;A;1;5;EUR;Иванов\n"
    s, out = rows(text.encode("cp1251"))
    assert s.encoding == "cp1251"
    assert out[0][1] == ["S1", "P1", "2026-10-01", "A", "1", "5", "EUR", "", "Иванов", ""]


def test_line_numbers_survive_quoted_newlines_and_blank_lines() -> None:
    data = (H + 'S1,P1,2026-10-01,"multi\nline",1,1,EUR\n\nS2,P1,2026-10-01,B,1,1,EUR\n').encode()
    s, out = rows(data)
    assert [ln for ln, _ in out] == [2, 5]
    assert s.blank_lines == 1


def test_long_line_is_cut_and_reported_in_constant_memory() -> None:
    data = (
        H + "S1,P1,2026-10-01,A,1,1,EUR\n" + "S2," + "x" * 50_000 + "\nS3,P1,2026-10-01,A,1,1,EUR\n"
    ).encode()
    _, out = rows(data, max_line_bytes=1000)
    assert [ln for ln, _ in out] == [2, 3, 4]
    assert isinstance(out[1][1], RowIssue) and "longer than 1000 bytes" in out[1][1].reason


def test_undecodable_bytes_late_in_file_reject_only_their_row() -> None:
    body = (H + "S0,P1,2026-10-01,A,1,1,EUR\n" * 5000).encode()
    data = body + "S9,P1,2026-10-01,Ж,1,1,EUR\n".encode("cp1251") + b"S10,P1,2026-10-01,A,1,1,EUR\n"
    _, out = rows(data)
    bad = [v for _, v in out if isinstance(v, RowIssue)]
    assert len(out) == 5002 and len(bad) == 1
    assert bad[0].line == 5002 and bad[0].column == "sku" and "mixes encodings" in bad[0].reason


@pytest.mark.parametrize(
    ("data", "code"),
    [
        (b"", "empty_file"),
        (b"\x00\x01\x02binary", "not_csv"),
        (b"a,b\n1,2\n", "missing_columns"),
        (b"sale_id\tpartner_id\n", "bad_delimiter"),
        ((H.strip() + ",price\n").encode(), "bad_header"),
    ],
)
def test_file_level_errors(data: bytes, code: str) -> None:
    with pytest.raises(FileError) as err:
        rows(data)
    assert err.value.code == code


def test_blocks_keep_every_row_in_exactly_one_place() -> None:
    lines = [f"S{i},P1,2026-10-01,A,1,1,EUR" if i % 7 else f"S{i},P1" for i in range(1, 3001)]
    s = CsvStream(io.BytesIO((H + "\n".join(lines) + "\n").encode()), SALES_SPEC)
    good = bad = 0
    seen: list[int] = []
    for b in s.blocks(size=256):
        good += len(b)
        bad += len(b.issues)
        seen += b.lines + [i.line for i in b.issues]
    assert good + bad == 3000 == s.rows
    assert sorted(seen) == list(range(2, 3002))


FIELD = st.text(alphabet=st.sampled_from(list("ab1 ,;.-=Жé")), max_size=5)


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.one_of(st.just([]), st.lists(FIELD, min_size=6, max_size=8)), min_size=1, max_size=60),
    st.sampled_from([",", ";"]),
    st.sampled_from(["\n", "\r\n"]),
    st.booleans(),
)
def test_quote_free_fast_path_equals_the_csv_module(
    rows: list[list[str]], delim: str, eol: str, quote_at_end: bool
) -> None:
    header = delim.join(["sale_id", "partner_id", "sold_at", "sku", "quantity", "unit_price", "currency"])
    lines = [delim.join(r) for r in rows]
    if quote_at_end:  # a quote late in the file hands the rest to the csv module
        lines.append(delim.join(['"q"', "p", "d", "s", "1", "1", "EUR"]))
    text = header + eol + eol.join(lines) + eol
    got = list(CsvStream(io.BytesIO(text.encode()), SALES_SPEC).rows_iter())
    expected: list[tuple[int, object]] = []
    for n, row in enumerate(csv.reader(io.StringIO(text.replace("\r\n", "\n")), delimiter=delim), start=1):
        if n == 1 or not row or (len(row) == 1 and not row[0].strip()):
            continue
        if len(row) != 7:
            expected.append((n, "issue"))
        else:
            expected.append((n, [*row, "", "", ""]))
    assert [(ln, v if isinstance(v, list) else "issue") for ln, v in got] == expected


# -- the C accelerator and the pure-Python path give the same columns -------------------------------
def test_the_accelerator_is_built_where_a_compiler_is() -> None:
    """`make venv` compiles loyalty._fastcsv; only a machine without a C compiler runs without it."""
    import shutil

    if shutil.which("cc") or shutil.which("gcc"):
        assert csvio._split_columns is not None, "run `make venv` (setup.py build_ext --inplace)"
    else:
        assert csvio._split_columns is None


@st.composite
def split_case(draw: st.DrawFn) -> tuple[str, str, int]:
    delim = draw(st.sampled_from([",", ";"]))
    width = draw(st.integers(min_value=1, max_value=4))
    if draw(st.booleans()):  # any text: mostly lines of other widths
        body = draw(st.text(alphabet=st.sampled_from(list("ab1 ,;.-=\nЖé\x1f")), max_size=80))
    else:  # lines of `width` fields, now and then one of another width
        field = st.text(
            alphabet=st.sampled_from(list("ab1 .-=Жé\x1f" + (";" if delim == "," else ","))), max_size=6
        )
        rows = draw(st.lists(st.lists(field, min_size=width, max_size=width), min_size=1, max_size=12))
        if draw(st.integers(0, 4)) == 0:
            rows.insert(draw(st.integers(0, len(rows))), draw(st.lists(field, min_size=1, max_size=5)))
        body = "".join(delim.join(r) + "\n" for r in rows)
    return (body if body.endswith("\n") else body + "\n"), delim, width


@settings(max_examples=400, deadline=None)
@given(split_case())
def test_split_columns_equals_the_python_split(case: tuple[str, str, int]) -> None:
    text, delim, width = case
    lines = text[:-1].split("\n")
    uniform = all(line.count(delim) == width - 1 for line in lines)
    expected = [[line.split(delim)[k] for line in lines] for k in range(width)] if uniform else None
    names = "abcd"[:width]
    spec = ColumnSpec(columns=tuple(names), required=frozenset(), repeated=frozenset(names[1::2]))
    stream = CsvStream(io.BytesIO((delim.join(names) + "\n").encode()), spec)
    stream.delimiter = delim  # (a one-column header has none to detect)
    assert stream._columns(text) == expected
    if csvio._split_columns is not None and text.isascii():
        canon: list[dict[str, str] | None] = [{} if k % 2 else None for k in range(width)]
        got = csvio._split_columns(text, delim, width, canon)
        assert got == expected
        if got is not None:  # repeated columns hold one object per distinct value
            for k in range(1, width, 2):
                assert len({id(v) for v in got[k]}) == len(set(got[k]))


def test_blocks_are_the_same_with_and_without_the_accelerator(monkeypatch: pytest.MonkeyPatch) -> None:
    lines = [
        f"S{i},P{i % 7},2026-10-{1 + i % 28:02d},A,{1 + i % 3},{i % 50}.5,{'USD' if i % 5 else 'EUR'}"
        if i % 97
        else f"S{i},P1"  # a short row now and then: that chunk takes the row-by-row path
        for i in range(1, 5001)
    ]
    data = (H + "\n".join(lines) + "\n").encode()

    def collect() -> list[tuple[list[int], list[list[str]], list[RowIssue]]]:
        s = CsvStream(io.BytesIO(data), SALES_SPEC)
        return [(b.lines, [list(c) for c in b.cols], b.issues) for b in s.blocks(size=300, chunk_chars=997)]

    with_c = collect()
    monkeypatch.setattr(csvio, "_split_columns", None)
    assert collect() == with_c
    assert sum(len(b[0]) + len(b[2]) for b in with_c) == 5000
