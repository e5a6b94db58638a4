"""What every refusal looks like: a problem document (RFC 9457)."""

from typing import Any

import httpx

from dc_common.problems import PROBLEM_JSON


def assert_problem(
    response: httpx.Response, status: int, field: str | None = None
) -> dict[str, Any]:
    """A problem document with this status (and naming this field among its errors, when
    given); the document, for the test to look further."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM_JSON
    body: dict[str, Any] = response.json()
    assert body["status"] == status
    if field is not None:
        assert field in [error["field"] for error in body["errors"]], body
    return body
