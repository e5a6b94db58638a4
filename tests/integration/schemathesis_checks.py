"""Schemathesis checks of the platform's own rules, loaded by ``SCHEMATHESIS_HOOKS``: every
error the gateway answers is a problem document (RFC 9457) that says what went wrong."""

from typing import Any

import schemathesis

PROBLEM_TYPE = "application/problem+json"


@schemathesis.check
def every_error_is_a_problem_document(ctx: Any, response: Any, case: Any) -> bool | None:
    if response.status_code < 400:
        return None
    content_type = response.headers.get("content-type", [""])[0].split(";")[0]
    assert content_type == PROBLEM_TYPE, (
        f"{response.status_code} answered as {content_type!r}, not {PROBLEM_TYPE}"
    )
    problem = response.json()
    assert isinstance(problem, dict), "the problem document is not an object"
    assert problem.get("status") == response.status_code, (
        f"the problem's status {problem.get('status')!r} is not the answer's"
    )
    assert isinstance(problem.get("title"), str) and problem["title"], "the problem has no title"
    if response.status_code == 503:
        assert response.headers.get("retry-after"), "a 503 without Retry-After"
    return None
