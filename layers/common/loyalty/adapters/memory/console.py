"""The finance console's downloads in memory: a URL that names the key, the file name and the
expiry (what a presigned URL binds), and the keys handed out (tests read them)."""

from __future__ import annotations

from urllib.parse import quote, urlencode


class MemoryPresigner:
    def __init__(self, bucket: str = "memory-bucket") -> None:
        self.bucket = bucket
        self.signed: list[tuple[str, str, int]] = []

    def presign_get(self, key: str, filename: str, expires: int = 300, inline: bool = False) -> str:
        self.signed.append((key, filename, expires))
        kind = "inline" if inline else "attachment"
        query = urlencode(
            {"response-content-disposition": f"{kind}; filename={filename}", "X-Expires": expires}
        )
        return f"memory://{self.bucket}/{quote(key)}?{query}"
