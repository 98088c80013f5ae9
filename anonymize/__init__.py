"""The anonymisation stage: detect personal data, apply the privacy policy, measure residual risk.

    anonymize_table(table, job, settings, run_id, previous=None) -> (AnonymizedTable, PrivacyReport)
    anonymize_parquet(raw_path, out_path, job, settings, run_id, previous=None) -> PrivacyReport  (chunked)

Modules: ``recognizers`` (our entity recognizers and their Protocol), ``name_rules`` (column names that
mean an entity), ``detect_columns`` (what each column holds), ``text_engine`` (Presidio on free text),
``operators`` and ``generalize`` (the policy's actions), ``keys`` (the pseudonym key), ``risk``
(k-anonymity), ``findings`` (what blocks a release), ``pipeline`` (the stage), ``chunked`` (the stage over a
staged Parquet file, chunk by chunk: what a run uses), ``report`` (typed results).
"""

from anonymize.pipeline import anonymize_table, policy_hash
from anonymize.report import (
    AnonymizedTable,
    ColumnReport,
    Detection,
    Finding,
    PrivacyReport,
    RiskMeasure,
    RiskReport,
)

__all__ = [
    "AnonymizedTable",
    "ColumnReport",
    "Detection",
    "Finding",
    "PrivacyReport",
    "RiskMeasure",
    "RiskReport",
    "anonymize_table",
    "policy_hash",
]
