"""Which datasets a request may see in run history: the published ones, and every one for an officer.

A dataset awaiting its first approval (or whose runs have all been blocked) is not public yet: its name,
runs and errors are shown only to keys with the officer role or above.
"""

from __future__ import annotations

from collections.abc import Container

from catalog.api_keys import ApiKey
from catalog.store import Catalog
from opendata.errors import CatalogError


class PublishedNames:
    """The names of the published datasets, asked one name at a time (an indexed read), never all listed."""

    def __init__(self, catalog: Catalog) -> None:
        self.catalog = catalog
        self._known: dict[str, bool] = {}

    def __contains__(self, name: object) -> bool:
        if not isinstance(name, str):
            return False
        if name not in self._known:
            try:
                self.catalog.dataset(name)
                self._known[name] = True
            except CatalogError:
                self._known[name] = False
        return self._known[name]


def visible_datasets(catalog: Catalog, key: ApiKey | None) -> Container[str] | None:
    """The datasets whose runs this key may see (``in`` asks per name); None: all of them."""
    if key is not None and key.may("officer"):
        return None
    return PublishedNames(catalog)
