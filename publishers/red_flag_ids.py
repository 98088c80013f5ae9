"""The organisations a family's red flags name, shown as the published tables show them.

Red flags are computed on the compiled releases before the privacy stage, so their ``Buyer``,
``ProcuringEntity`` and ``Tenderer`` keys (and ``Transparency``'s) are source ids. People among them
already carry their pseudonym (``procurement.people``); this applies the job's policy on the id columns
too: where ``parties.party_id`` or the group's own column (``processes.buyer_id``,
``tenders.procuring_entity_id``, ``bids.tenderer_ids``, ``awards.supplier_ids``) is pseudonymised, the key
is the same keyed pseudonym the table publishes (so the pages' links still find the rows); where such a
column is dropped, masked, redacted, generalised or suppressed, the key is ``withheld-N``; kept columns
keep the id. A group the family run keeps in staging (``procurement.group_flags``) is renamed into a copy
there, never read into memory.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable
from typing import Any

from anonymize.operators import int_param
from procurement.group_flags import GroupFlags
from publishers.job import ColumnRule, Job

COLUMNS = {
    "Buyer": [("processes", "buyer_id"), ("parties", "party_id")],
    "ProcuringEntity": [("tenders", "procuring_entity_id"), ("parties", "party_id")],
    "Tenderer": [("bids", "tenderer_ids"), ("awards", "supplier_ids"), ("parties", "party_id")],
    "Transparency": [("processes", "buyer_id"), ("parties", "party_id")],
}


def _rules(job: Job, group: str) -> list[ColumnRule]:
    from publishers.family import table_policy

    found = []
    for table, column in COLUMNS[group]:
        rule = table_policy(job, table).columns.get(column)
        if rule is not None and rule.action != "keep":
            found.append(rule)
    return found


def public_ids(document: dict[str, Any], job: Job, key: Callable[[], bytes]) -> dict[str, Any]:
    """``document`` (Cardinal's shape) with its organisation keys as the job's policy publishes them."""
    shown = dict(document)
    for group in COLUMNS:
        values = document.get(group)
        rules = _rules(job, group)
        if not values or not rules:
            continue
        if all(r.action == "pseudonymize" for r in rules):
            length = int_param(rules[0].params, "length", 16, 8, 64)

            def pseudonym(k: Any, length: int = length) -> str:
                return hmac.new(key(), str(k).strip().encode("utf-8"), hashlib.sha256).hexdigest()[:length]

            shown[group] = values.renamed(pseudonym) if isinstance(values, GroupFlags) else \
                {pseudonym(k): v for k, v in values.items()}
        elif isinstance(values, GroupFlags):
            shown[group] = values.numbered("withheld-")
        else:
            shown[group] = {f"withheld-{n}": values[k] for n, k in enumerate(sorted(values), start=1)}
    return shown
