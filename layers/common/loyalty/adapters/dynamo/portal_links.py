"""Presigned S3 links for the portal (boto3): downloads signed by the function's own role,
uploads signed by a session of the partner upload role named after the partner (session name
`partner-<id>`, session tag `loyalty-partner=<id>`): the bucket policy and the role then let the
form write only `incoming/<id>/`, and the splitter knows the uploader (ingest/principals.py)."""

from __future__ import annotations

from typing import Any

import boto3
from botocore.exceptions import ClientError

from loyalty.adapters.dynamo.console import S3Presigner
from loyalty.adapters.s3sqs import BOTO_CONFIG, client
from loyalty.ingest.principals import PARTNER_SESSION_PREFIX
from loyalty.portal.ports import PostForm


class S3PortalLinks:
    def __init__(
        self,
        bucket: str,
        region: str,
        endpoint_url: str | None,
        upload_role_arn: str,
        public_endpoint: str | None = None,
    ) -> None:
        self.bucket = bucket
        self.region = region
        self.endpoint_url = endpoint_url
        self.upload_role_arn = upload_role_arn
        self.s3 = client("s3", region, endpoint_url)
        # links are signed for where a browser reaches S3 (the local cloud's server; on AWS the
        # regional endpoint); signing makes no request
        self.public = public_endpoint or endpoint_url
        self.downloads = S3Presigner(bucket, region, endpoint_url, public_endpoint)

    def download_url(self, key: str, filename: str, expires: int) -> str:
        return self.downloads.presign_get(key, filename, expires)

    def _partner_s3(self, partner_id: str, expires: int) -> Any:
        if not self.upload_role_arn:
            raise RuntimeError("no partner upload role (PARTNER_UPLOAD_ROLE_ARN) to sign uploads with")
        creds = client("sts", self.region, self.endpoint_url).assume_role(
            RoleArn=self.upload_role_arn,
            RoleSessionName=f"{PARTNER_SESSION_PREFIX}{partner_id}",
            Tags=[{"Key": "loyalty-partner", "Value": partner_id}],
            DurationSeconds=max(900, expires),
        )["Credentials"]
        return boto3.session.Session(
            aws_access_key_id=creds["AccessKeyId"],
            aws_secret_access_key=creds["SecretAccessKey"],
            aws_session_token=creds["SessionToken"],
        ).client("s3", region_name=self.region, endpoint_url=self.public or None, config=BOTO_CONFIG)

    def upload_form(
        self, partner_id: str, key: str, content_type: str, max_bytes: int, expires: int
    ) -> PostForm:
        """A POST form for exactly `key`, the declared content type and 1..max_bytes bytes."""
        got = self._partner_s3(partner_id, expires).generate_presigned_post(
            Bucket=self.bucket,
            Key=key,
            Fields={"Content-Type": content_type},
            Conditions=[{"Content-Type": content_type}, ["content-length-range", 1, max_bytes]],
            ExpiresIn=expires,
        )
        return PostForm(str(got["url"]), {str(k): str(v) for k, v in got["fields"].items()})

    def exists(self, key: str) -> bool:
        try:
            self.s3.head_object(Bucket=self.bucket, Key=key)
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in {"404", "NoSuchKey", "NotFound"}:
                return False
            raise
        return True

    def keys(self, prefix: str) -> list[str]:
        out: list[str] = []
        for page in self.s3.get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=prefix):
            out += [o["Key"] for o in page.get("Contents", [])]
        return sorted(out)
