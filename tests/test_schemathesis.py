"""A bounded schemathesis run against the served app (the demo-like catalog of tests/web_fixtures.py):
every operation of /openapi.json, cases generated from the document, each answer checked for no server
error, a documented status code, a documented content type and a body matching its schema."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from api.app import create_app
from tests.web_fixtures import build_catalog_home

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
EXAMPLES = 15  # cases per operation: the whole run stays within a few seconds


@pytest.fixture(scope="module")
def schema(tmp_path_factory: pytest.TempPathFactory) -> Any:
    home = build_catalog_home(Path(tmp_path_factory.mktemp("schemathesis")))
    return schemathesis.openapi.from_asgi("/openapi.json", create_app(home.settings))


def test_every_operation_answers_as_documented(schema: Any) -> None:
    failures: dict[str, str] = {}
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 30

    for operation in operations:
        @given(case=operation.as_strategy())
        @settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
                  suppress_health_check=list(HealthCheck), phases=[Phase.explicit, Phase.generate])
        def check(case: Any) -> None:
            case.call_and_validate(checks=CHECKS)

        try:
            check()
        except BaseException as exc:  # schemathesis raises an exception group of its failures
            if isinstance(exc, KeyboardInterrupt):
                raise
            failures[operation.label] = str(exc).strip()[:2000]
    assert failures == {}, "\n\n".join(f"{label}:\n{text}" for label, text in failures.items())
