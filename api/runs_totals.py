"""How many runs a runs listing holds, kept while the catalog and its runs are unchanged.

A page of runs reads only its own rows (newest first, by index), but the total visits every matching run:
at 100,000 runs about 50 ms. Runs are never deleted, so the total of a listing without a state filter
changes only when a run is added (the newest run's insert order moves) or the published datasets change
(the catalog's change counter moves). With a state filter the total is counted each time (a run's state
changes in place, and on PostgreSQL the change counter follows datasets and releases only).

On PostgreSQL the mark is the sequence behind ``runs.seq``, which moves when an insert takes its number,
before that insert commits (and writers commit in any order): a total counted while a write to the runs table
is in flight is used for its request but not kept (``Catalog.runs_total`` says which), so no kept total misses
a run its mark already counts.
"""

from __future__ import annotations

import threading
import weakref
from collections import OrderedDict

from api.catalog_view import CatalogView
from catalog.models import Run

KEPT = 256
#: Per catalog view (one an app): listing -> total.
_kept: weakref.WeakKeyDictionary[CatalogView, OrderedDict[tuple[object, ...], int]] = weakref.WeakKeyDictionary()
_lock = threading.Lock()


def runs_page(
    view: CatalogView, dataset: str | None, state: str | None, *, limit: int, offset: int, published_only: bool
) -> tuple[list[Run], int]:
    catalog = view.catalog
    if state is not None:
        return catalog.runs_page(dataset, state, limit=limit, offset=offset, published_only=published_only)
    key = (dataset, published_only, view.version(), catalog.runs_mark())
    with _lock:
        kept = _kept.setdefault(view, OrderedDict())
        total = kept.get(key)
    if total is not None:
        runs, _ = catalog.runs_page(dataset, None, limit=limit, offset=offset, published_only=published_only,
                                    count=False)
        return runs, total
    total, exact = catalog.runs_total(dataset, published_only=published_only)
    runs, _ = catalog.runs_page(dataset, None, limit=limit, offset=offset, published_only=published_only, count=False)
    if not exact:
        return runs, total
    with _lock:
        kept[key] = total
        while len(kept) > KEPT:
            kept.popitem(last=False)
    return runs, total
