"""Rebuild ``given_names.txt.gz`` and ``surnames.txt.gz`` from PyPI's ``names-dataset`` (MIT), and
``common_words.txt.gz`` and ``dictionary_words.txt.gz`` from ``wordfreq`` (Apache-2.0; its word lists CC-BY-SA 4.0).

    pip install names-dataset==3.3.1 wordfreq==3.1.1 && python -m anonymize.lexicons.build_names

names-dataset ranks first and last names by how common they are in each of 105 countries. We keep a name
when it is among the ``--rank`` most common of at least one country, folded to lower case without accents
(the form :func:`anonymize.lexicons.fold` gives), one per line, sorted. Words among the 500 most common of
English, Spanish, French, Portuguese, German or Italian (``wordfreq``) are left out ("the", "main",
"street", "will"), unless the name is among the 100 most common of two countries or more ("maria", "john",
"mark"). Loading the whole dataset takes about 10 s and 1.2 GB per file, so the platform reads these small
files instead.
"""

from __future__ import annotations

import argparse
import gzip
import pickle
import re
from pathlib import Path

from anonymize.lexicons import fold

HERE = Path(__file__).parent
_WORD = re.compile(r"^[a-z][a-z'-]*[a-z]$")


def names(pickle_path: Path, rank: int) -> list[str]:
    with gzip.open(pickle_path, "rb") as handle:
        data = pickle.load(handle)  # noqa: S301 - the package's own data file
    common = common_words()
    kept = set()
    for name, info in data.items():
        ranks = info.get("rank") or {}
        if not ranks or min(ranks.values()) > rank:
            continue
        folded = fold(name)
        if not _WORD.match(folded):
            continue
        if folded in common and sum(1 for r in ranks.values() if r <= 100) < 2:
            continue
        kept.add(folded)
    return sorted(kept)


LANGUAGES = ("en", "es", "fr", "pt", "de", "it")


def common_words(per_language: int = 500, languages: tuple[str, ...] = LANGUAGES) -> set[str]:
    import wordfreq

    return {fold(w) for lang in languages for w in wordfreq.top_n_list(lang, per_language)}


def main() -> None:
    import names_dataset

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rank", type=int, default=1000, help="keep names ranked this or better in a country")
    args = parser.parse_args()
    source = Path(names_dataset.__file__).parent / "v3"
    for kind, out in (("first_names", "given_names.txt.gz"), ("last_names", "surnames.txt.gz")):
        _write(out, names(source / f"{kind}.pkl.gz", args.rank))
    _write("common_words.txt.gz", sorted(common_words(5000, ("en",)) | common_words(1000)))
    _write("dictionary_words.txt.gz", sorted(common_words(30000, ("en", "es", "fr", "pt"))))


def _write(name: str, words: list[str]) -> None:
    data = ("\n".join(words) + "\n").encode("utf-8")
    (HERE / name).write_bytes(gzip.compress(data, compresslevel=9, mtime=0))
    print(f"{name}: {len(words)} words")


if __name__ == "__main__":
    main()
