"""The analytics objects in the stack's bucket (`analytics/` prefix): the bucket's own adapter,
which also deletes (IAM lets only the analytics function delete, and only under analytics/)."""

from __future__ import annotations

from loyalty.adapters.s3sqs import S3Blobs


class S3Facts(S3Blobs):
    def delete(self, key: str) -> None:
        self.s3.delete_object(Bucket=self.bucket, Key=key)
