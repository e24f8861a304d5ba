"""The finance console's downloads on AWS: S3 presigned GET URLs (5 minutes, as attachments; a
page meant to be read in the browser inline)."""

from __future__ import annotations

from urllib.parse import quote

from loyalty.adapters.s3sqs import client


class S3Presigner:
    """Presigned downloads, signed for where a browser reaches S3 (`public_endpoint`: the local
    cloud's server; on AWS the regional endpoint). Signing makes no request."""

    def __init__(
        self, bucket: str, region: str, endpoint_url: str | None = None, public_endpoint: str | None = None
    ) -> None:
        self.bucket = bucket
        self.s3 = client("s3", region, public_endpoint or endpoint_url)

    def presign_get(self, key: str, filename: str, expires: int = 300, inline: bool = False) -> str:
        kind = "inline" if inline else "attachment"
        disposition = f"{kind}; filename*=UTF-8''{quote(filename, safe='')}"
        url: str = self.s3.generate_presigned_url(
            "get_object",
            Params={"Bucket": self.bucket, "Key": key, "ResponseContentDisposition": disposition},
            ExpiresIn=expires,
        )
        return url
