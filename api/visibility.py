"""Which datasets a request may see in run history: the published ones, and every one for an officer.

A dataset awaiting its first approval (or whose runs have all been blocked) is not public yet: its name,
runs and errors are shown only to keys with the officer role or above.
"""

from __future__ import annotations

from catalog.api_keys import ApiKey
from catalog.store import Catalog


def visible_datasets(catalog: Catalog, key: ApiKey | None) -> set[str] | None:
    """The datasets whose runs this key may see; None: all of them."""
    if key is not None and key.may("officer"):
        return None
    names, _ = catalog.published_names()
    return set(names)
