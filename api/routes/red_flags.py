"""GET /api/v1/datasets/{name}/releases/{n}/red-flags: a procurement release's red-flag results.

Cardinal's output shape (groups ``OCID``, ``Buyer``, ``ProcuringEntity``, ``Tenderer``; values per code;
``Meta`` with quartiles and fences), filtered by ``group`` and ``code`` (each repeatable). A release that is
not a procurement release answers 404. Each answer is served from ``procurement.served``: the file is read
once per immutable release and each filter serialized once.
"""

from __future__ import annotations

import hashlib
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Response

from api.deps import CatalogDep, EngineDep
from opendata.errors import CatalogError
from procurement.results import FILE
from procurement.served import STORE

router = APIRouter(prefix="/api/v1/datasets/{name}/releases/{number}", tags=["procurement"])
IMMUTABLE = "public, max-age=86400, immutable"


@router.get("/red-flags", name="red_flags", response_model=dict[str, Any])
def red_flags(
    name: str,
    number: Annotated[int, Path(ge=1, le=2**31 - 1, description="release number")],
    catalog: CatalogDep,
    engine: EngineDep,
    group: Annotated[list[str] | None, Query(description="OCID, Buyer, ProcuringEntity or Tenderer")] = None,
    code: Annotated[list[str] | None, Query(description="indicator code, e.g. R024")] = None,
    meta: Annotated[bool, Query(description="include Meta (quartiles and fences)")] = True,
) -> Response:
    """Red flags raised on the release's contracting processes and organisations (a reason to look, not a
    finding of wrongdoing)."""
    release = catalog.release(name, number)
    if FILE not in release.files:
        raise CatalogError(f"release {number} of '{name}' is not a procurement release: it has no red flags")
    answer = STORE.answer((name, number, release.files[FILE]), lambda: engine.storage.read_bytes(release, FILE),
                          group, code, meta)
    asked = hashlib.sha256(repr((group, code, meta)).encode()).hexdigest()[:12]
    headers = {"ETag": f'"{release.files[FILE]}-{asked}"', "Cache-Control": IMMUTABLE}  # the release is immutable
    return Response(answer, media_type="application/json", headers=headers)  # serialized once, kept
