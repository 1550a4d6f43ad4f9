"""Selfies in S3-compatible object storage (AWS S3, MinIO, Ceph ...): refs `s3:<uuid hex>`.

One object per selfie under `<prefix><id>` in one bucket. Credentials come from boto3's
usual chain (AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, a profile, an instance role), never
from our settings. Put the bucket's own encryption at rest and, as a backstop for selfies
whose onboarding never ran, a lifecycle rule that expires the prefix after some days.

A released selfie's tombstone overwrites its object in one request: an empty body whose
metadata names the process, tagged `onboarding-selfie=released`, so that a lifecycle rule
filtered on that tag expires tombstones after `TOMBSTONE_SECONDS` (docs/personal-data.md).
A selfie's claim is a small object under `<prefix>claims/<id>`, deleted with the selfie; a
capture's preview is an object under `<prefix>previews/<id>`, deleted with the capture (and
by its release); a review's sealed evidence one under `<prefix>evidence/<id>`, deleted with
the selfie but not by its release.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import TYPE_CHECKING

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

from activities.selfies.backend import (
    MAX_SELFIE_BYTES,
    Claim,
    SelfieNotFound,
    SelfieReleased,
    StoredSelfie,
    check_selfie,
    new_selfie_id,
    selfie_id,
)

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

BACKEND = "s3"
_MISSING = {"404", "NoSuchKey", "NotFound"}
RELEASED_METADATA = "released-process"  # S3 answers metadata keys in lower case
RELEASED_TAG = "onboarding-selfie=released"
CLAIMS = "claims/"
PREVIEWS = "previews/"
EVIDENCE = "evidence/"
_SELFIE_NAME = re.compile(r"[0-9a-f]{32}")


class S3SelfieStore:
    def __init__(
        self,
        client: S3Client,
        bucket: str,
        prefix: str = "selfies/",
        *,
        max_bytes: int = MAX_SELFIE_BYTES,
    ) -> None:
        self._client = client
        self.bucket = bucket
        self.prefix = prefix
        self.max_bytes = max_bytes

    @classmethod
    def connect(
        cls,
        bucket: str,
        prefix: str = "selfies/",
        endpoint_url: str | None = None,
        region: str | None = None,
    ) -> S3SelfieStore:
        config = Config(connect_timeout=5, read_timeout=30, retries={"max_attempts": 3})
        client = boto3.client("s3", endpoint_url=endpoint_url, region_name=region, config=config)
        return cls(client, bucket, prefix)

    def put(self, data: bytes) -> str:
        check_selfie(data, self.max_bytes)
        key = new_selfie_id()
        self._client.put_object(
            Bucket=self.bucket,
            Key=self.prefix + key,
            Body=data,
            ContentType="application/octet-stream",
        )
        return f"{BACKEND}:{key}"

    def get(self, ref: str) -> bytes:
        try:
            answer = self._client.get_object(Bucket=self.bucket, Key=self._key(ref))
        except ClientError as exc:
            if _is_missing(exc):
                raise SelfieNotFound(f"no selfie is stored under {ref}") from None
            raise
        process_id = answer.get("Metadata", {}).get(RELEASED_METADATA)
        if process_id:
            raise SelfieReleased(ref, process_id)
        return answer["Body"].read()

    def release(self, ref: str, process_id: str) -> None:
        """One PUT: the selfie's bytes are replaced by the tombstone, atomically."""
        if not process_id.strip():
            raise ValueError("a tombstone names the process that settled the selfie")
        self._client.put_object(
            Bucket=self.bucket,
            Key=self._key(ref),
            Body=b"",
            Metadata={RELEASED_METADATA: process_id},
            Tagging=RELEASED_TAG,
        )
        self._client.delete_object(Bucket=self.bucket, Key=self._preview_key(ref))

    def delete(self, ref: str) -> None:
        """S3 answers a delete of a missing key with success: a retried clean-up passes."""
        self._client.delete_object(Bucket=self.bucket, Key=self._key(ref))
        self._client.delete_object(Bucket=self.bucket, Key=self._claim_key(ref))
        self._client.delete_object(Bucket=self.bucket, Key=self._preview_key(ref))
        self._client.delete_object(Bucket=self.bucket, Key=self._evidence_key(ref))

    def put_preview(self, ref: str, data: bytes) -> None:
        check_selfie(data, self.max_bytes)
        self._client.put_object(
            Bucket=self.bucket,
            Key=self._preview_key(ref),
            Body=data,
            ContentType="application/octet-stream",
        )

    def put_evidence(self, ref: str, sealed: bytes) -> None:
        self._client.put_object(Bucket=self.bucket, Key=self._evidence_key(ref), Body=sealed)

    def get_evidence(self, ref: str) -> bytes:
        return self._body(self._evidence_key(ref), f"no evidence is kept beside {ref}")

    def get_preview(self, ref: str) -> bytes:
        return self._body(self._preview_key(ref), f"no preview is kept beside {ref}")

    def _body(self, key: str, missing: str) -> bytes:
        """An object's bytes; `SelfieNotFound(missing)` when there is none."""
        try:
            answer = self._client.get_object(Bucket=self.bucket, Key=key)
        except ClientError as exc:
            if _is_missing(exc):
                raise SelfieNotFound(missing) from None
            raise
        body: bytes = answer["Body"].read()
        return body

    def stored_at(self, ref: str) -> float:
        try:
            head = self._client.head_object(Bucket=self.bucket, Key=self._key(ref))
        except ClientError as exc:
            if _is_missing(exc):
                raise SelfieNotFound(f"no selfie is stored under {ref}") from None
            raise
        return head["LastModified"].timestamp()

    def read_claim(self, ref: str) -> Claim | None:
        try:
            answer = self._client.get_object(Bucket=self.bucket, Key=self._claim_key(ref))
        except ClientError as exc:
            if _is_missing(exc):
                return None
            raise
        return Claim.from_text(answer["Body"].read().decode("utf-8", "replace"))

    def write_claim(self, ref: str, claim: Claim) -> None:
        body = claim.to_text().encode("utf-8")
        self._client.put_object(Bucket=self.bucket, Key=self._claim_key(ref), Body=body)

    def selfies(self) -> Iterator[StoredSelfie]:
        pages = self._client.get_paginator("list_objects_v2").paginate(
            Bucket=self.bucket, Prefix=self.prefix
        )
        seen = set()
        for page in pages:
            for item in page.get("Contents", []):
                name = item["Key"][len(self.prefix) :].removeprefix(EVIDENCE)
                # A tombstone is an empty body; claims live under their own prefix; a
                # review's evidence outlives its selfie, so it is listed for the sweep.
                if _SELFIE_NAME.fullmatch(name) and item.get("Size", 0) > 0 and name not in seen:
                    seen.add(name)
                    stored_at = item["LastModified"].timestamp()
                    yield StoredSelfie(ref=f"{BACKEND}:{name}", stored_at=stored_at)

    def exists(self, ref: str) -> bool:
        """A selfie is there (a tombstone is none)."""
        try:
            key = self._key(ref)
        except SelfieNotFound:
            return False
        try:
            head = self._client.head_object(Bucket=self.bucket, Key=key)
        except ClientError as exc:
            if _is_missing(exc):
                return False
            raise
        return RELEASED_METADATA not in head.get("Metadata", {})

    def _key(self, ref: str) -> str:
        return self.prefix + selfie_id(ref, BACKEND)

    def _claim_key(self, ref: str) -> str:
        return self.prefix + CLAIMS + selfie_id(ref, BACKEND)

    def _preview_key(self, ref: str) -> str:
        return self.prefix + PREVIEWS + selfie_id(ref, BACKEND)

    def _evidence_key(self, ref: str) -> str:
        return self.prefix + EVIDENCE + selfie_id(ref, BACKEND)


def _is_missing(exc: ClientError) -> bool:
    return str(exc.response.get("Error", {}).get("Code")) in _MISSING
