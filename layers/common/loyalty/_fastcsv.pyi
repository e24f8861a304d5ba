from collections.abc import Sequence

def split_columns(
    text: str, delim: str, width: int, canon: Sequence[dict[str, str] | None]
) -> list[list[str]] | None: ...
