"""Where a run that did not publish leaves its reports: the worker's private folder, or private object storage.

A blocked or quarantined run keeps what a person needs to decide what to do (the privacy report, the
validation report, the schema drift report, quarantined rows) in ``HOME/private/{blocked,quarantine}``
on the machine that ran it. With several workers that folder is on whichever worker took the job, so
``OPENDATA_PRIVATE_STORAGE_URL`` (``s3://bucket/prefix``, a bucket or prefix the API is never given)
sends the folder there instead, under ``<dataset>/<run_id>/``, and the run history records its URL. The
local copy is removed once uploaded; if the upload fails the folder stays where it is and the run names it.
"""

from __future__ import annotations

import json
import logging
import shutil
from pathlib import Path
from typing import Any

from opendata.errors import CatalogError, ConfigurationError, OpendataError
from opendata.settings import Settings

log = logging.getLogger(__name__)


def _private_storage(settings: Settings) -> Any:
    from catalog.s3_storage import S3Storage

    url = settings.private_storage_url or ""
    if not url.startswith("s3://"):
        raise ConfigurationError(f"OPENDATA_PRIVATE_STORAGE_URL must be s3://bucket/prefix, not {url!r}")
    if settings.storage_url and url.rstrip("/") == settings.storage_url.rstrip("/"):
        raise ConfigurationError("OPENDATA_PRIVATE_STORAGE_URL must not be the public release storage")
    return S3Storage.from_settings(settings.model_copy(update={"storage_url": url}))


def keep_private(settings: Settings, folder: Path, dataset: str, run_id: str) -> str:
    """Put a run's private report folder where officers reach it; the location the run history records."""
    if not settings.private_storage_url:
        return str(folder)
    try:
        url: str = _private_storage(settings).put_folder(folder, f"{dataset}/{run_id}")
    except ConfigurationError:
        raise
    except OpendataError as exc:
        log.warning("the private reports of run %s stay in %s: %s", run_id, folder, exc)
        return str(folder)
    shutil.rmtree(folder, ignore_errors=True)
    return url


def read_private(settings: Settings, location: str, name: str) -> Any:
    """One JSON file of a run's report folder, wherever ``keep_private`` put it."""
    if location.startswith("s3://"):
        storage = _private_storage(settings)
        prefix = storage.readable_prefix()
        if not location.startswith(prefix):
            raise ConfigurationError(f"{location} is not under OPENDATA_PRIVATE_STORAGE_URL ({prefix})")
        data = storage.get_file(location.removeprefix(prefix).strip("/"), name)
    else:
        path = Path(location) / name
        data = path.read_bytes() if path.is_file() else None
    if data is None:
        raise CatalogError(f"the run's reports at {location} hold no {name}")
    return json.loads(data)
