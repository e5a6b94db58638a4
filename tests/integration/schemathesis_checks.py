"""Schemathesis checks of the platform's own rules, loaded by ``SCHEMATHESIS_HOOKS``: every
error the gateway answers is a problem document (RFC 9457) that says what went wrong."""

import sys
from collections.abc import Callable
from typing import Any

import schemathesis
from hypothesis.internal import lambda_sources

PROBLEM_TYPE = "application/problem+json"


def _described_or_unknown(describe: Callable[..., str]) -> Callable[..., str]:
    """Hypothesis parses a source file (``ast.parse``) only to describe a lambda in its
    messages; on CPython before 3.11.8 that parse may fail at random with ``SystemError: AST
    constructor recursion depth mismatch`` (python/cpython#106905) and end the run as a
    "Runtime Error" that says nothing of the API. Such a lambda is described as unknown."""

    def described(f: Any, *args: Any, **kwargs: Any) -> str:
        try:
            return describe(f, *args, **kwargs)
        except SystemError:
            return "lambda: <unknown>"

    return described


if sys.version_info < (3, 11, 8):
    lambda_sources._lambda_description = _described_or_unknown(lambda_sources._lambda_description)


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
