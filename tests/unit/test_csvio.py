from __future__ import annotations

import csv
import io

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from loyalty.ingest.sales.contract import SALES_SPEC
from loyalty.kernel.csvio.fast import ids_ok
from loyalty.kernel.csvio.header import map_header, read_header_line, split_header
from loyalty.kernel.csvio.model import ColumnSpec, FileError, RowIssue
from loyalty.kernel.csvio.sniff import check_sample
from loyalty.kernel.csvio.stream import CsvStream

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


# -- the columnar split and the line-shape check ----------------------------------------------------
@st.composite
def split_case(draw: st.DrawFn) -> tuple[str, str, int]:
    delim = draw(st.sampled_from([",", ";"]))
    width = draw(st.integers(min_value=1, max_value=4))
    if draw(st.booleans()):  # any text: mostly lines of other widths
        body = draw(st.text(alphabet=st.sampled_from(list("ab1 ,;.-=\nЖé\x1f")), max_size=80))
    else:  # lines of `width` fields, now and then one of another width
        chars = "ab1 .-=+@|\t\x1f\x7fЖé" + (";" if delim == "," else ",")
        field = st.one_of(
            st.text(alphabet=st.sampled_from(list(chars)), max_size=6),
            st.sampled_from(["S1", "P-2", "x" * 64, "y" * 65, " z", "z ", ""]),
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
    spec = ColumnSpec(columns=tuple(names), required=frozenset())
    stream = CsvStream(io.BytesIO((delim.join(names) + "\n").encode()), spec)
    stream.delimiter = delim  # (a one-column header has none to detect)
    assert stream._columns(text) == expected
    assert stream._columns(text.replace("\n", "\r\n"), "\r\n") == expected  # Windows line ends
    if expected is not None and len(lines) > 1:  # one line end of the other kind: not this path
        assert stream._columns(text.replace("\n", "\r\n", 1), "\r\n") is None
    for k in range(width):  # the scans over a joined column say what the row-by-row check says
        if expected is not None:
            assert ids_ok(expected[k], k % 2 == 0) == all(_one_id_ok(v, k % 2 == 0) for v in expected[k])


def _one_id_ok(value: str, required: bool) -> bool:
    if not value:
        return not required
    return (
        len(value) <= 64
        and value.isprintable()
        and value == value.strip(" ")
        and not value.startswith(("=", "+", "-", "@", "|"))
    )


def test_blocks_are_the_same_whatever_the_read_size() -> None:
    lines = [
        f"S{i},P{i % 7},2026-10-{1 + i % 28:02d},A,{1 + i % 3},{i % 50}.5,{'USD' if i % 5 else 'EUR'}"
        if i % 97
        else f"S{i},P1"  # a short row now and then: that chunk takes the row-by-row path
        for i in range(1, 5001)
    ]
    data = (H + "\n".join(lines) + "\n").encode()

    def collect(chunk_chars: int | None) -> list[tuple[int, list[str] | RowIssue]]:
        s = CsvStream(io.BytesIO(data), SALES_SPEC)
        out: list[tuple[int, list[str] | RowIssue]] = []
        for b in s.blocks(size=300, chunk_chars=chunk_chars):
            out += [(ln, list(v)) for ln, v in zip(b.lines, zip(*b.cols, strict=True), strict=True)]
            out += [(i.line, i) for i in b.issues]
        return sorted(out, key=lambda t: t[0])

    small = collect(997)  # chunk boundaries in the middle of lines, many times over
    assert collect(None) == small == collect(1 << 20)
    assert len(small) == 5000
    assert sum(isinstance(v, RowIssue) for _, v in small) == 5000 // 97


def test_header_line_and_mapping_on_their_own() -> None:
    text = io.StringIO("\n  \nSale-ID;partner;Date;SKU;QTY;Price;ccy;Notes\nS1;P1\n")
    line, lines_read = read_header_line(text)
    assert lines_read == 3 and text.readline() == "S1;P1\n"
    header, delimiter = split_header(line)
    assert delimiter == ";" and header[-1] == "Notes"
    index, ignored = map_header(SALES_SPEC, header, delimiter)
    assert index == [0, 1, 2, 3, 4, 5, 6, -1, -1, -1] and ignored == ["Notes"]
    with pytest.raises(FileError, match="both mean 'sale_id'") as err:
        map_header(SALES_SPEC, ["sale_id", "Sale ID"], ",")
    assert err.value.code == "bad_header"


def test_the_sample_says_what_the_file_is() -> None:
    assert check_sample(H.encode()) == "utf-8"
    assert check_sample("Дата;Цена\n".encode("cp1251")) == "cp1251"
    assert check_sample(b"\xef\xbb\xbf" + H.encode()) == "utf-8-sig"
    for data, code in (
        (b" \r\n", "empty_file"),
        (b"\xff\xfea\x00", "unsupported_encoding"),
        (b"\x00" * 9, "not_csv"),
    ):
        with pytest.raises(FileError) as err:
            check_sample(data)
        assert err.value.code == code
