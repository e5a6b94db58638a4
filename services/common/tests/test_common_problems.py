"""Every answer of an error is a problem document, a bug's too: the caller learns it failed,
never how the inside looks."""

import httpx
from fastapi import FastAPI

from dc_common.problems import install_problem_handlers


def app_with_a_bug() -> FastAPI:
    app = FastAPI()
    install_problem_handlers(app)

    @app.get("/broken")
    async def broken() -> None:
        raise RuntimeError("secret table name services_2026_12")

    return app


async def test_a_bug_answers_a_problem_that_tells_nothing_of_the_inside() -> None:
    transport = httpx.ASGITransport(app=app_with_a_bug(), raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        answer = await client.get("/broken")
    assert answer.status_code == 500
    assert answer.headers["content-type"] == "application/problem+json"
    assert answer.json()["title"] == "Internal error"
    assert "services_2026" not in answer.text
