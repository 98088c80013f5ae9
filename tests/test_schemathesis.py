"""A bounded schemathesis run against the served app (the demo-like catalog of tests/web_fixtures.py), as
``schemathesis run --checks all --mode all`` would make it: every operation of /openapi.json, cases generated
from the document, schema-valid ones (positive) and schema-violating ones (negative), each answer put to every
check schemathesis has: no server error, a documented status code, content type and headers, a body
matching its schema, invalid data rejected and valid data accepted, and the rest.

Two settings, both stated below: a 414 (the URL over ``MAX_URL_BYTES``) is a rejection and is documented on
every operation; and the few parameters whose validity depends on the catalog's state, which no schema can
say (an opaque paging cursor, a page number past the last page, a row limit over the configured cap), may be
answered 400 to a schema-valid value on the operations that have them.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis.checks import CHECKS
from schemathesis.config import SchemathesisConfig
from schemathesis.generation import GenerationMode

from api.app import create_app
from tests.web_fixtures import build_catalog_home

#: Cases per operation and mode: ~950 cases, 15-40 s on 2 cores (bounded by count, not by a clock).
EXAMPLES = {GenerationMode.POSITIVE: 15, GenerationMode.NEGATIVE: 10}

REJECTED = '["400", "401", "403", "404", "405", "406", "409", "414", "415", "422", "428", "429"]'
ACCEPTED = '["2XX", "3XX", "401", "403", "404", "409", "414", "429"]'
CONFIG = f"""
[checks.negative_data_rejection]
expected-statuses = {REJECTED}

[checks.positive_data_acceptance]
expected-statuses = {ACCEPTED}

# A cursor is opaque (only a `next` this API gave is valid), a page may be past the catalog's last, a row
# limit past OPENDATA_MAX_PAGE_ROWS, a string that is not SQL: valid by the schema, refused by the state or
# by SQL's grammar.
[[operations]]
include-path-regex = "^/api/v1/datasets$|/rows$|^/catalog\\\\.(jsonld|ttl)$|^/api/v1/sql$"
checks.positive_data_acceptance.expected-statuses = ["2XX", "3XX", "400", "401", "403", "404", "409", "414", "429"]
"""


@pytest.fixture(scope="module")
def schema(tmp_path_factory: pytest.TempPathFactory) -> Any:
    home = build_catalog_home(Path(tmp_path_factory.mktemp("schemathesis")))
    config = SchemathesisConfig.from_str(CONFIG)
    return schemathesis.openapi.from_asgi("/openapi.json", create_app(home.settings), config=config)


def test_every_operation_answers_as_documented_to_valid_and_invalid_data(schema: Any) -> None:
    checks = CHECKS.get_all()
    assert len(checks) >= 14, "--checks all"
    failures: dict[str, str] = {}
    cases = {mode: 0 for mode in EXAMPLES}
    no_negative: list[str] = []
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 30
    started = time.monotonic()

    for operation in operations:
        for mode, examples in EXAMPLES.items():
            @given(case=operation.as_strategy(generation_mode=mode))
            @settings(max_examples=examples, deadline=None, derandomize=True, database=None,
                      suppress_health_check=list(HealthCheck), phases=[Phase.explicit, Phase.generate])
            def check(case: Any) -> None:
                cases[case.meta.generation.mode] += 1
                case.call_and_validate(checks=checks)

            try:
                check()
            except Unsatisfiable:  # nothing in the operation can be made invalid (no parameter, or free text)
                assert mode is GenerationMode.NEGATIVE, operation.label
                no_negative.append(operation.label)
            except BaseException as exc:  # schemathesis raises an exception group of its failures
                if isinstance(exc, KeyboardInterrupt):
                    raise
                failures[f"{operation.label} ({mode.value})"] = str(exc).strip()[:2000]
    seconds = time.monotonic() - started
    print(f"schemathesis: {len(operations)} operations, {cases[GenerationMode.POSITIVE]} positive and "
          f"{cases[GenerationMode.NEGATIVE]} negative cases, {len(no_negative)} operations with no negative case, "
          f"{seconds:.1f} s")
    assert failures == {}, "\n\n".join(f"{label}:\n{text}" for label, text in failures.items())
    assert cases[GenerationMode.NEGATIVE] > 100 and len(no_negative) < len(operations) / 2
