"""What the HTML pages and open-metadata routes keep per app: the search index and per-release facts.

Made on first use and kept on ``app.state.web``, so ``create_app`` needs only the router include.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Annotated

from fastapi import Depends, Request

from api.web.profile import ReleaseFacts
from catalog.models import Release
from catalog.release_facts import FACTS_FILE
from catalog.search import CatalogSearch
from catalog.store import Catalog

log = logging.getLogger(__name__)
_LOCK = threading.Lock()
WARM_DELAY_SECONDS = 0.5
#: Datasets profiled ahead of time: the most recently updated (the facts cache holds few more).
WARM_DATASETS = 100


class WebState:
    def __init__(self, request: Request) -> None:
        catalog: Catalog = request.app.state.catalog
        self.search = CatalogSearch(catalog, request.app.state.catalog_view.version)
        self.facts = ReleaseFacts(request.app.state.engine)
        # Not a daemon: interpreter exit waits for it rather than killing it inside a DuckDB query.
        threading.Thread(target=self.warm, args=(catalog,), name="web-warm", daemon=False).start()

    def warm(self, catalog: Catalog) -> None:
        """Profile in the background the latest release of the most recently updated datasets that were
        published without their facts (before ``facts.json``), so their pages are fast on first visit (a
        bounded number: the cache of facts is bounded too). A release with stored facts is read when shown."""
        time.sleep(WARM_DELAY_SECONDS)  # let the request that made this state finish first (2 cores, one GIL)
        try:
            latest: list[Release] = []
            for name in catalog.recently_updated(WARM_DATASETS):
                dataset, releases = catalog.published_dataset(name)
                if dataset is not None and FACTS_FILE not in releases[-1].files:
                    latest.append(releases[-1])
            for release in latest:
                self.facts.profile(release)
                self.facts.sample(release)
                self.facts.coverage(release)
        except Exception as exc:  # noqa: BLE001 - a page computes it again when asked, and shows any error
            log.info("profiling ahead of time stopped: %s", exc)


def get_web(request: Request) -> WebState:
    state = getattr(request.app.state, "web", None)
    if state is None:
        with _LOCK:
            state = getattr(request.app.state, "web", None)
            if state is None:
                state = WebState(request)
                request.app.state.web = state
    return state


WebDep = Annotated[WebState, Depends(get_web)]
