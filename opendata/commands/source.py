"""``opendata source preview JOB.yaml``: the first rows of a job's source and the types inferred from
them, for any source type, read the way a run reads it (nothing is published or staged for good)."""

from __future__ import annotations

import argparse

from opendata.commands._shared import EXIT_OK, emit
from opendata.settings import Settings
from publishers.job import load_job
from publishers.preview import infer_from_table, preview

HELP = "show the first rows of a job's source and the types inferred from them"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("action", choices=["preview"])
    parser.add_argument("job", metavar="JOB.yaml")
    parser.add_argument("--rows", type=int, default=10, help="rows to show (default 10)")
    parser.add_argument("--sample", type=int, default=1000, help="rows the types are inferred from (default 1000)")


def run(args: argparse.Namespace, settings: Settings) -> int:
    job = load_job(args.job)
    table = preview(job, settings, max(args.rows, args.sample))
    schema = infer_from_table(table)
    types = {f["name"]: f["type"] for f in schema["fields"]}
    rows = table.slice(0, args.rows).to_pylist()
    value = {"job": job.name, "source": job.source.type, "columns": types, "rows": rows,
             "sampled": table.num_rows}
    emit(args, value, _text(types, rows, table.num_rows))
    return EXIT_OK


def _text(types: dict[str, str], rows: list[dict[str, object]], sampled: int) -> str:
    names = list(types)
    cells = [[_cell(r.get(n)) for n in names] for r in rows]
    widths = [max([len(n), len(types[n])] + [len(c[i]) for c in cells]) for i, n in enumerate(names)]
    lines = ["  ".join(n.ljust(w) for n, w in zip(names, widths, strict=True)),
             "  ".join(types[n].ljust(w) for n, w in zip(names, widths, strict=True))]
    lines += ["  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)) for row in cells]
    lines.append(f"({len(rows)} rows shown; types inferred from {sampled} rows)")
    return "\n".join(lines)


def _cell(value: object) -> str:
    text = "" if value is None else str(value).replace("\n", " ")
    return text if len(text) <= 40 else text[:39] + "…"
