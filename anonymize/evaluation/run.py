"""The whole evaluation as one typed result, and its Markdown table (what README and docs quote)."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, Field

from anonymize.evaluation import corpus, presidio_set
from anonymize.evaluation.columns import ColumnEvaluation, evaluate_columns
from anonymize.evaluation.public_text import PublicTextEvaluation, evaluate_public_text
from anonymize.evaluation.public_text import markdown as public_text_markdown
from anonymize.evaluation.pycanon_check import CrossCheck, cross_check
from anonymize.evaluation.scoring import DIRECT, EntityScore, score
from anonymize.evaluation.systems import systems, timed


class SystemResult(BaseModel):
    system: str
    seconds: float
    texts_per_second: float
    scores: list[EntityScore]
    official: dict[str, float] = Field(default_factory=dict, description="presidio-evaluator's PII scores")


class CorpusResult(BaseModel):
    corpus: str
    texts: int
    systems: list[SystemResult]


class Evaluation(BaseModel):
    corpora: list[CorpusResult]
    columns: ColumnEvaluation | None = None
    public_text: PublicTextEvaluation | None = None
    pycanon: list[CrossCheck] = Field(default_factory=list)
    notes: list[str] = Field(default_factory=list)


def evaluate(model: str, cache: Path, size: int = 1500, seed: int = 20240601, presidio: bool = True,
             official: bool = True, pycanon: bool = True, columns: bool = True) -> Evaluation:
    sets = [("faker-10-locales", corpus.generate(size, seed))]
    notes: list[str] = []
    if presidio:
        sets.append(("presidio-evaluator synth_dataset_v2", presidio_set.load(cache)))
    results: list[CorpusResult] = []
    for name, labelled in sets:
        texts = [x.text for x in labelled]
        gold = [x.spans for x in labelled]
        runs: list[SystemResult] = []
        predictions = {}
        for system_name, system in systems(model).items():
            found, seconds = timed(system, texts)
            predictions[system_name] = found
            runs.append(SystemResult(system=system_name, seconds=round(seconds, 2),
                                     texts_per_second=round(len(texts) / seconds, 1), scores=score(texts, gold, found)))
        if official:
            try:
                theirs = presidio_set.official_scores(cache, texts, gold, predictions)
                for run in runs:
                    got = theirs[run.system]
                    run.official = {k: round(float(got[k]), 3) for k in ("precision", "recall", "f2")}
            except Exception as exc:  # the cross-check is extra: say why it is missing, keep our figures
                notes.append(f"presidio-evaluator scorer unavailable on {name}: {exc}")
        results.append(CorpusResult(corpus=name, texts=len(texts), systems=runs))
    return Evaluation(
        corpora=results,
        columns=evaluate_columns(model) if columns else None,
        public_text=evaluate_public_text(model),
        pycanon=cross_check(cache) if pycanon else [],
        notes=notes,
    )


def markdown(evaluation: Evaluation) -> str:
    lines: list[str] = []
    for result in evaluation.corpora:
        names = [s.system for s in result.systems]
        lines += [f"**{result.corpus}** ({result.texts} texts): token precision / recall per entity "
                  "(F2 for PII overall)", "",
                  "| entity | " + " | ".join(names) + " |", "|---|" + "---|" * len(names)]
        for i, entity in enumerate(s.entity for s in result.systems[0].scores):
            cells = []
            for system in result.systems:
                found = system.scores[i]
                cell = f"{found.precision:.2f} / {found.recall:.2f}"
                if entity == "PII":
                    cell += f" (F2 {found.f2:.3f})"
                cells.append(f"**{cell}**" if entity in DIRECT and found.recall < 0.95 else cell)
            lines.append(f"| {entity} | " + " | ".join(cells) + " |")
        if any(s.official for s in result.systems):
            lines.append("| PII, presidio-evaluator's scorer (P / R / F2) | " + " | ".join(
                f"{s.official['precision']:.3f} / {s.official['recall']:.3f} / {s.official['f2']:.3f}"
                if s.official else "—" for s in result.systems) + " |")
        lines.append("| texts/s | " + " | ".join(f"{s.texts_per_second:,.0f}" for s in result.systems) + " |")
        lines.append("")
    if evaluation.columns:
        cols = evaluation.columns
        lines += ["**Structured columns** (named `col_N`, values only): columns detected as their entity", "",
                  "| entity | detected |", "|---|---|"]
        lines += [f"| {s.entity} | {s.detected}/{s.columns} |" for s in cols.scores]
        lines += ["", f"False personal-data detections on {cols.negative_columns} open-data columns: "
                  f"{', '.join(cols.false_detections) or 'none'}.", ""]
    if evaluation.public_text:
        lines += public_text_markdown(evaluation.public_text)
    if evaluation.pycanon:
        lines += ["**k-anonymity and l-diversity, ours vs pycanon**", "", "| table | rows | k ours / pycanon | "
                  "l ours / pycanon |", "|---|---|---|---|"]
        lines += [f"| {c.table} | {c.rows} | {c.ours_k} / {c.pycanon_k} | {c.ours_l} / {c.pycanon_l} |"
                  for c in evaluation.pycanon]
        lines.append("")
    lines += [f"_{note}_" for note in evaluation.notes]
    return "\n".join(lines)
