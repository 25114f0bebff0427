"""The explorer's API fuzzed from its own OpenAPI schema (schemathesis): every generated request is
answered with a documented status, never a server error."""

import pytest

schemathesis = pytest.importorskip("schemathesis")

from fastapi.testclient import TestClient  # noqa: E402
from hypothesis import HealthCheck, settings  # noqa: E402

from smrplan.explore import create_app, load_target, prepare_state  # noqa: E402

APP = create_app(prepare_state(load_target("india-islands")))
CLIENT = TestClient(APP, base_url="http://127.0.0.1:8765")
SCHEMA = schemathesis.openapi.from_dict(APP.openapi())


@SCHEMA.include(path_regex="recompute|health").parametrize()
@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
def test_api_never_fails_with_a_server_error(case):
    body = ({} if type(case.body).__name__ == "NotSet" else  # a GET carries none
            {"content": case.body} if isinstance(case.body, bytes) else {"json": case.body})
    r = CLIENT.request(case.method, case.formatted_path, headers={"content-type": "application/json"}, **body)
    assert r.status_code < 500, (case.body, r.text)
    assert r.status_code in (200, 400, 405, 411, 413, 422), (case.body, r.status_code, r.text)
