"""Writes tests/data/bad/ (hostile and malformed sales files) and its manifest.

Run once (`python tests/data/make_bad_corpus.py`); the files are committed. Every entry says
which object key it is uploaded under and what the partner must be told.
"""

from __future__ import annotations

import json
from pathlib import Path

OUT = Path(__file__).parent / "bad"
H = "sale_id,partner_id,sold_at,sku,quantity,unit_price,currency,category,customer_id,original_sale_id\n"
GOOD = "S{n},P00001,2026-10-0{d},SKU-1,2,10.50,EUR,hardware,C1,\n"


def good(n: int, start: int = 1) -> str:
    return "".join(GOOD.format(n=i, d=1 + i % 9) for i in range(start, start + n))


def main() -> None:
    OUT.mkdir(exist_ok=True)
    cases: list[dict[str, object]] = []

    def add(name: str, body: bytes | str, expect: dict[str, object], key: str | None = None) -> None:
        data = body.encode() if isinstance(body, str) else body
        (OUT / name).write_bytes(data)
        cases.append({"file": name, "key": key or f"incoming/P00001/{name}", "expect": expect})

    add("empty.csv", b"", {"file_error": "empty_file"})
    add("whitespace_only.csv", "  \n\n \r\n", {"file_error": "empty_file"})
    add("binary.csv", b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 8, {"file_error": "not_csv"})
    add("utf16.csv", (H + good(2)).encode("utf-16"), {"file_error": "unsupported_encoding"})
    add("header_only.csv", H, {"file_error": "no_rows"})
    add("header_then_blank_lines.csv", H + "\n\n\n", {"file_error": "no_rows"})
    add(
        "missing_columns.csv",
        "sale_id,partner_id,sold_at,sku,quantity\nS1,P00001,2026-10-01,SKU,1\n",
        {"file_error": "missing_columns"},
    )
    add("wrong_headers.csv", "id;name;amount\n1;x;2\n", {"file_error": "missing_columns"})
    add(
        "duplicate_columns.csv",
        H.strip() + ",price\n" + "S1,P00001,2026-10-01,SKU-1,2,10.50,EUR,hardware,C1,,10.50\n",
        {"file_error": "bad_header"},
    )
    add(
        "tab_separated.csv",
        H.replace(",", "\t") + good(1).replace(",", "\t"),
        {"file_error": "bad_delimiter"},
    )
    add(
        "mixed_encoding_in_sample.csv",
        (H + "S1,P00001,2026-10-01,SKU,1,1.00,EUR,,Клиент,\n").encode()
        + "S2,P00001,2026-10-01,SKU,1,1.00,EUR,,Клиент,\n".encode("cp1251"),
        {"file_error": "mixed_encoding"},
    )
    add(
        "bad_dates.csv",
        H
        + good(2)
        + "B1,P00001,2026-02-30,SKU,1,1.00,EUR,,,\nB2,P00001,30/10/2026,SKU,1,1.00,EUR,,,\nB3,P00001,yesterday,SKU,1,1.00,EUR,,,\n",
        {
            "accepted": 2,
            "row_errors": [
                [4, "sold_at", "ISO 8601"],
                [5, "sold_at", "ISO 8601"],
                [6, "sold_at", "ISO 8601"],
            ],
        },
    )
    add(
        "future_date.csv",
        H + good(1) + "F1,P00001,2031-01-01,SKU,1,1.00,EUR,,,\n",
        {"accepted": 1, "row_errors": [[3, "sold_at", "future"]]},
    )
    add(
        "bad_numbers.csv",
        H
        + good(1)
        + "N1,P00001,2026-10-01,SKU,2.5,1.00,EUR,,,\nN2,P00001,2026-10-01,SKU,abc,1.00,EUR,,,\nN3,P00001,2026-10-01,SKU,1e3,1.00,EUR,,,\n"
        + 'N4,P00001,2026-10-01,SKU,1,"1.234,50",EUR,,,\nN5,P00001,2026-10-01,SKU,1,-3,EUR,,,\nN6,P00001,2026-10-01,SKU,0,1.00,EUR,,,\nN7,P00001,2026-10-01,SKU,1,1_000,EUR,,,\n',
        {
            "accepted": 1,
            "row_errors": [
                [3, "quantity", "whole number"],
                [4, "quantity", "whole number"],
                [5, "quantity", "whole number"],
                [6, "unit_price", "more than one decimal separator"],
                [7, "unit_price", "negative"],
                [8, "quantity", "must not be 0"],
                [9, "unit_price", "thousands separators"],
            ],
        },
    )
    add(
        "bad_currency.csv",
        H
        + "C1,P00001,2026-10-01,SKU,1,1.00,EURO,,,\nC2,P00001,2026-10-01,SKU,1,1.00,XYZ,,,\nC3,P00001,2026-10-01,SKU,1,1.00,,,,\n"
        + good(1, 10),
        {
            "accepted": 1,
            "row_errors": [
                [2, "currency", "ISO 4217"],
                [3, "currency", "ISO 4217"],
                [4, "currency", "ISO 4217"],
            ],
        },
    )
    add(
        "very_long_line.csv",
        H + good(1) + "L1,P00001,2026-10-01," + "X" * 100_000 + ",1,1.00,EUR,,,\n" + good(1, 5),
        {"accepted": 2, "row_errors": [[3, "", "line longer than"]]},
    )
    add(
        "formula_injection.csv",
        H
        + "I1,P00001,2026-10-01,=cmd|' /C calc'!A0,1,1.00,EUR,,,\n@SUM(1),P00001,2026-10-01,SKU,1,1.00,EUR,,,\nI3,P00001,2026-10-01,SKU,1,1.00,EUR,,+1+1,\nI4,P00001,2026-10-01,SKU,1,1.00,EUR,=1+2,,\n"
        + good(1),
        {
            "accepted": 1,
            "row_errors": [
                [2, "sku", "formula"],
                [3, "sale_id", "formula"],
                [4, "customer_id", "formula"],
                [5, "category", "formula"],
            ],
            "errors_csv_safe": True,
        },
    )
    body = (H + good(2000)).encode()
    add(
        "mixed_encodings_late.csv",
        body + "M1,P00001,2026-10-01,SKU,1,1.00,EUR,,Иванов,\n".encode("cp1251") + good(1, 3000).encode(),
        {"accepted": 2001, "row_errors": [[2002, "customer_id", "mixes encodings"]]},
    )
    add(
        "nul_byte_late.csv",
        (H + good(400)).encode() + b"Z1,P00001,2026-10-01,SK\x00U,1,1.00,EUR,,,\n" + good(1, 900).encode(),
        {"accepted": 401, "row_errors": [[402, "", "NUL"]]},
    )
    add(
        "another_partners_rows.csv",
        H + good(1) + "O1,P00002,2026-10-01,SKU,1,1.00,EUR,,,\n",
        {"accepted": 1, "row_errors": [[3, "partner_id", "may not create sales for partner"]]},
    )
    add(
        "unknown_partner_rows.csv",
        H + "U1,P99999,2026-10-01,SKU,1,1.00,EUR,,,\n",
        {"accepted": 0, "row_errors": [[2, "partner_id", "not in the registry"]]},
        key="incoming/D00001/unknown_partner_rows.csv",
    )
    add(
        "decimal_comma_unquoted.csv",
        H + good(1) + "D1,P00001,2026-10-01,SKU,1,12,50,EUR,,,\n",
        {"accepted": 1, "row_errors": [[3, "", "decimal comma"]]},
    )
    add(
        "wrong_field_count.csv",
        H + good(1) + "W1,P00001,2026-10-01\n",
        {"accepted": 1, "row_errors": [[3, "", "expected 10 fields, found 3"]]},
    )
    add(
        "return_without_minus.csv",
        H + good(1) + "R1,P00001,2026-10-02,SKU,1,10.50,EUR,,,S1\n",
        {"accepted": 1, "row_errors": [[3, "original_sale_id", "only allowed on returns"]]},
    )
    add(
        "sale_id_too_long.csv",
        H + "T" * 80 + ",P00001,2026-10-01,SKU,1,1.00,EUR,,,\n" + good(1),
        {"accepted": 1, "row_errors": [[2, "sale_id", "1-64 printable"]]},
    )
    add(
        "unterminated_quote.csv",
        H + good(2) + 'Q1,P00001,2026-10-01,"SKU,1,1.00,EUR,,,\n' + ("x" * 100 + "\n") * 5,
        {"accepted": 2, "row_errors": [[4, "", "unterminated quote"]]},
    )
    add(
        "path_traversal.csv",
        H + good(1),
        {"file_error": "bad_key"},
        key="incoming/P00001/../P00002/path_traversal.csv",
    )
    add(
        "nested_folder.csv",
        H + good(1),
        {"file_error": "bad_key"},
        key="incoming/P00001/sub/nested_folder.csv",
    )
    add("not_csv_name.txt", H + good(1), {"file_error": "bad_key"}, key="incoming/P00001/not_csv_name.txt")
    add("no_partner_folder.csv", H + good(1), {"file_error": "bad_key"}, key="incoming/no_partner_folder.csv")
    add(
        "unregistered_uploader.csv",
        H + good(1),
        {"file_error": "unknown_uploader"},
        key="incoming/NOBODY/unregistered_uploader.csv",
    )
    add("over_size_limit.csv", H + good(5000), {"file_error": "too_large"})
    (OUT / "manifest.json").write_text(json.dumps(cases, indent=1, ensure_ascii=False) + "\n")
    print(f"{len(cases)} cases")


if __name__ == "__main__":
    main()
