"""Schemathesis against the served spec: every operation, with a valid key, must never
answer 5xx nor anything the spec does not declare (status, headers, body, content type),
for valid input (positive) and for input that breaks the schema (negative, 4xx expected).

Bounded and derandomised, so it is a unit-test-sized run that fails the same way twice:
FUZZ_EXAMPLES per operation and mode (raise it in the environment for a longer hunt).

Every built-in check runs but "schema-valid request rejected": some rules cannot be said
in JSON Schema (a time at most 5 minutes ahead, an end after its start, a batch item's
kind judged per item), and breaking them is the documented 422, not a spec violation.
"""

from __future__ import annotations

import os

import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import APIOperation, GenerationMode
from schemathesis.specs.openapi.checks import positive_data_acceptance

from tests.conftest import make_key

FUZZ_EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "20"))
MODES = (GenerationMode.POSITIVE, GenerationMode.NEGATIVE)


def fuzz(operation: APIOperation, mode: GenerationMode) -> int:
    """Run one operation in one mode; returns the number of calls made."""
    calls = 0

    @settings(
        max_examples=FUZZ_EXAMPLES,
        deadline=None,
        database=None,
        derandomize=True,
        suppress_health_check=list(HealthCheck),
    )
    @given(case=operation.as_strategy(generation_mode=mode))
    def run(case: schemathesis.Case) -> None:
        nonlocal calls
        calls += 1
        case.call_and_validate(excluded_checks=[positive_data_acceptance])

    try:
        run()
    except Unsatisfiable:  # nothing to break: no parameter, no body (e.g. /health)
        assert mode is GenerationMode.NEGATIVE
    return calls


def test_no_operation_answers_5xx_or_off_spec(app, db):
    # Given as the spec's ApiKey scheme, so that schemathesis also sends requests without
    # it (which must be refused) and knows a dropped key is not a bad request.
    config = schemathesis.Config.from_dict(
        {"auth": {"openapi": {"ApiKey": {"api_key": make_key(db, "admin")}}}}
    )
    schema = schemathesis.openapi.from_asgi("/api/v1/openapi.json", app, config=config)
    operations = [result.ok() for result in schema.get_all_operations()]
    calls, failures = 0, []
    for operation in operations:
        for mode in MODES:
            try:
                calls += fuzz(operation, mode)
            except (Exception, BaseExceptionGroup) as error:  # fuzz all, report every finding
                failures.append(f"{operation.label} [{mode.value}]: {error}")
    print(f"\nfuzzed {len(operations)} operations x {len(MODES)} modes: {calls} calls")
    assert not failures, "\n\n".join(failures)
