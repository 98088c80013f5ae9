"""Scoring a file of compiled releases on every core: the file cut into parts at line ends, each part folded
by its own :class:`~procurement.indicators.Scorer` in a worker process, the parts' tallies merged in file
order, then the outliers finished once over the whole.

The result is the one a single pass gives, to the byte: results, ``Meta``, findings (first 200 and counts)
and every key in the same order. What one pass carries from line to line is carried across a cut too:
the main currency (found before the workers start, when the settings do not name it), line numbers, the
one currency finding per process, R048's one count per process and supplier, and ProACT's sums of
awarded values (kept per award in a part and added in file order, so the float sums are the same).
"""

from __future__ import annotations

import itertools
import os
import pickle
import subprocess
import sys
from pathlib import Path

from procurement.findings import KEPT, Finding
from procurement.indicators import GROUPS, Scorer, Scores
from procurement.lines import read_lines
from procurement.settings import IndicatorSettings

#: Below this size one pass is quicker than starting workers.
MIN_PART_BYTES = 32 * 1024 * 1024
_BLOCK = 16 * 1024 * 1024


def workers_available() -> int:
    return max(1, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1)


def score_file(path: Path, settings: IndicatorSettings, workers: int | None = None,
               min_part_bytes: int = MIN_PART_BYTES) -> Scores:
    """Cardinal's results for a JSON lines file, in parts on ``workers`` processes (default: the cores)."""
    size = path.stat().st_size
    count = min(workers or workers_available(), max(1, size // max(1, min_part_bytes)))
    parts = _cut(path, size, count) if count > 1 else []
    if len(parts) < 2:
        scorer = Scorer(settings)
        with open(path, "rb") as handle:
            for number, release in read_lines(handle, scorer.scores.findings):
                scorer.add(release, number)
        return scorer.finish()
    currency = settings.currency or _main_currency(path, settings, parts[1][1] - 1)
    jobs = [(str(path), start, first, lines, settings, None if index == 0 else currency)
            for index, (start, first, lines) in enumerate(parts)]
    whole = Scorer(settings)
    for part in _run(jobs):
        absorb(whole, part)
    if whole.proact is not None:
        whole.proact.values = None
    return whole.finish()


def _run(jobs: list[tuple[str, int, int, int | None, IndicatorSettings, str | None]]) -> list[Scorer]:
    """Each part in its own interpreter (``python -m procurement.parallel``: no fork of a process that may
    hold threads, and no re-import of the caller's main module), the job and its tallies passed as pickles
    between this module's two ends."""
    root = Path(__file__).resolve().parent.parent
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in (str(root), os.environ.get("PYTHONPATH")) if p)}
    running = [subprocess.Popen([sys.executable, "-m", "procurement.parallel"], stdin=subprocess.PIPE,
                                stdout=subprocess.PIPE, env=env) for _ in jobs]
    for child, job in zip(running, jobs, strict=True):
        assert child.stdin is not None
        child.stdin.write(pickle.dumps(job))
        child.stdin.close()
    scored: list[Scorer] = []
    for child in running:
        assert child.stdout is not None
        output = child.stdout.read()
        if child.wait() != 0:
            raise RuntimeError(f"a scoring worker failed (exit {child.returncode})")
        scored.append(pickle.loads(output))
    return scored


def _cut(path: Path, size: int, count: int) -> list[tuple[int, int, int | None]]:
    """(byte offset, number of its first line, lines in it or None for the rest) of each part."""
    starts = [0]
    with open(path, "rb") as handle:
        for k in range(1, count):
            handle.seek(size * k // count)
            handle.readline()  # to the end of the line the cut fell in
            at = handle.tell()
            if at >= size or at <= starts[-1]:
                break
            starts.append(at)
        firsts = [1]
        handle.seek(0)
        position, lines = 0, 0
        for start in starts[1:]:
            while position < start:
                block = handle.read(min(_BLOCK, start - position))
                lines += block.count(b"\n")
                position += len(block)
            firsts.append(lines + 1)
    return [(start, first, (firsts[i + 1] - first) if i + 1 < len(firsts) else None)
            for i, (start, first) in enumerate(zip(starts, firsts, strict=True))]


def _main_currency(path: Path, settings: IndicatorSettings, lines: int) -> str | None:
    """The main currency a single pass settles on within the first ``lines`` lines (None: not there, so the
    later parts find it themselves, as the single pass would)."""
    probe = Scorer(settings)
    with open(path, "rb") as handle:
        for number, release in read_lines(itertools.islice(handle, lines), probe.scores.findings):
            probe.add(release, number)
            if probe.scores.currency is not None:
                return probe.scores.currency
    return None


def _score_part(path: str, start: int, first: int, lines: int | None, settings: IndicatorSettings,
                currency: str | None) -> Scorer:
    scorer = Scorer(settings)
    if currency is not None:
        scorer.scores.currency = currency
    if scorer.proact is not None:
        scorer.proact.values = {}
    with open(path, "rb") as handle:
        handle.seek(start)
        source = handle if lines is None else itertools.islice(handle, lines)
        for number, release in read_lines(source, scorer.scores.findings, first=first):
            scorer.add(release, number)
    return scorer


def absorb(whole: Scorer, part: Scorer) -> None:
    """Fold the next part's tallies into the run's, as if its lines had followed in the same pass."""
    scores, found = whole.scores, part.scores
    if part.first_currency is not None and part.first_currency.ocid == whole._reported:
        _drop(found, part.first_currency)  # one pass gives one currency finding per process
    for group in GROUPS:
        results = scores.results[group]
        for key, codes in found.results[group].items():
            known = results.get(key)
            if known is None:
                results[key] = codes
            else:
                known.update(codes)
    room = KEPT - len(scores.findings.kept)
    scores.findings.kept += found.findings.kept[:max(0, room)]
    scores.findings.counts.update(found.findings.counts)
    scores.processes += found.processes
    for reason, n in found.excluded.items():
        scores.excluded[reason] = scores.excluded.get(reason, 0) + n
    if scores.currency is None:
        scores.currency = found.currency
    if whole.first_currency is None:
        whole.first_currency = part.first_currency
    if part._reported is not None:
        whole._reported = part._reported
    _absorb_outliers(whole, part)
    if whole.proact is not None and part.proact is not None:
        _absorb_proact(whole, part)


def _drop(found: Scores, finding: Finding) -> None:
    found.findings.counts["currency-not-main"] -= 1
    if not found.findings.counts["currency-not-main"]:
        del found.findings.counts["currency-not-main"]
    found.findings.kept = [f for f in found.findings.kept if f is not finding]


def _add_pairs(into: dict[str, list[int]], more: dict[str, list[int]]) -> None:
    for key, tally in more.items():
        known = into.get(key)
        if known is None:
            into[key] = tally
        else:
            known[0] += tally[0]
            known[1] += tally[1]


def _absorb_outliers(whole: Scorer, part: Scorer) -> None:
    mine, theirs = whole.outliers, part.outliers
    mine.second_lowest.update(theirs.second_lowest)
    _add_pairs(mine.r025, theirs.r025)
    for group, tallies in theirs.r038.items():
        _add_pairs(mine.r038[group], tallies)
    for supplier, (processes, last, prefixes, first) in theirs.r048.items():
        known = mine.r048.get(supplier)
        if known is None:
            mine.r048[supplier] = [processes, last, prefixes, first]
            continue
        known[0] += processes - (first == known[1])  # the same process, counted once
        known[1] = last
        known[2] |= prefixes


def _absorb_proact(whole: Scorer, part: Scorer) -> None:
    mine, theirs = whole.proact, part.proact
    assert mine is not None and theirs is not None
    for buyer, suppliers in (theirs.values or {}).items():
        shares = mine.spending.setdefault(buyer, {})
        for supplier, values in suppliers.items():
            total = shares.get(supplier, 0.0)
            for value in values:
                total += value
            shares[supplier] = total
    for buyer, n in theirs.buyer_processes.items():
        mine.buyer_processes[buyer] = mine.buyer_processes.get(buyer, 0) + n
    for buyer, tally in theirs.transparency.items():
        known = mine.transparency.get(buyer)
        if known is None:
            mine.transparency[buyer] = tally
        else:
            for index, n in enumerate(tally):
                known[index] += n


if __name__ == "__main__":
    sys.stdout.buffer.write(pickle.dumps(_score_part(*pickle.loads(sys.stdin.buffer.read())),
                                         protocol=pickle.HIGHEST_PROTOCOL))
