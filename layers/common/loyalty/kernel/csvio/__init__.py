"""Streaming CSV reading for partner files: encoding and delimiter detection, header aliases,
bounded line length, per-row errors with line numbers, constant memory whatever the file size.

- `model`: the vocabulary — :class:`FileError` (a whole-file problem), :class:`RowIssue`,
  :class:`ColumnSpec` (canonical columns and header aliases), :class:`RawBlock`.
- `sniff`: encoding, delimiter and binary detection on the first bytes.
- `header`: the header line -> the spec's columns.
- `source`: the byte source that cuts over-long lines and marks NUL and undecodable bytes.
- `fast`: the quote-free split of a whole chunk into columns, and `ids_ok`.
- `stream`: :class:`CsvStream`, rows in columnar blocks.

Speed: the csv module does the parsing in C; over-long lines are found with a regex over raw
chunks, undecodable bytes by a codec error handler, so the per-row Python work is a few list
appends. Both problems leave a marker character (U+001A) in the row, and only while a marker is
pending are rows searched for it.
"""
