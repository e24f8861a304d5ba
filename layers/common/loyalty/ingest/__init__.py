"""Sales-file ingestion: the file contract, upload keys, the splitter, chunks, the finaliser and
dead letters."""
