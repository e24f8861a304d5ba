"""Program analytics (issue 13, docs/analytics.md): partner-month facts as Parquet in S3, the
report's queries (the same SQL on Athena and on DuckDB), pilot-vs-control uplift and ROI.

`schema` is pure and imported by the close (it writes the facts' rows); `parquet` and `engine`
need DuckDB, which only the analytics function's layer ships.
"""
