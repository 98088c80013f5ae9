"""HTML pages for people and open metadata for machines: one router and the static files.

``create_app`` adds ``router`` and mounts ``STATIC_DIR`` at ``/static``; nothing else is needed.
"""

from __future__ import annotations

from fastapi import APIRouter

import api.ckan.write_actions  # noqa: F401  (registers the CKAN write actions)
from api.web import open_metadata, pages, procurement_pages, runs_page
from api.web.templating import STATIC_DIR

router = APIRouter()
router.include_router(pages.router)
router.include_router(runs_page.router)
router.include_router(open_metadata.router)
router.include_router(procurement_pages.router)  # buyers' and suppliers' red flags

__all__ = ["STATIC_DIR", "router"]
