"""Schemathesis against the app's own OpenAPI schema, in process (no network): whatever the
schema allows, and whatever it does not, no request gets a 5xx. Bounded: a few examples per
operation (the solve operations each optimise a model)."""

from __future__ import annotations

import schemathesis
from hypothesis import HealthCheck, settings

from fab2flop.web.app import Limits, create_app
from fab2flop.web.memstore import InMemoryRunStore

app = create_app(InMemoryRunStore(), Limits(max_solve_s=20.0, max_waiting=8))
schema = schemathesis.openapi.from_asgi("/openapi.json", app)


@schema.parametrize()
@settings(
    max_examples=6,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    derandomize=True,
)
def test_no_server_error(case) -> None:
    response = case.call(timeout=600)
    assert response.status_code < 500, (case.method, case.path, response.text[:500])
