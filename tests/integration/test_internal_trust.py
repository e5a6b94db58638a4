"""The internal APIs answer only the gateway and the workers: a caller who sets the X-Actor-*
headers but lacks the shared secret is refused, whatever it asks."""

import re

import httpx
import pytest

from dc_identity.demo import DEMO, OPERATOR, SCHELDE_STAFF
from tests.support.platform import Platform
from tests.support.servers import internal_client

pytestmark = [pytest.mark.postgres, pytest.mark.devserver]

SCHELDE = DEMO.companies[0].enterprise_number
USER = DEMO.users[0].user_number
#: A call of each internal API that changes something, as a forger would send it.
FORGED = {
    "services-mgmt": ("POST", "/v1/services/00000000-0000-0000-0000-000000000000/cancel"),
    "wallet": ("POST", f"/v1/users/{USER}/voucher-orders"),
    "imports": ("GET", "/v1/imports"),
    "identity": ("POST", f"/v1/companies/{SCHELDE}/grants"),
}
ACTOR = {
    "X-Actor-Kind": "operator",
    "X-Actor-Id": OPERATOR.national_number,
    "X-Actor-Person": OPERATOR.national_number,
    "X-Actor-National-Number": OPERATOR.national_number,
}


@pytest.mark.parametrize("service", sorted(FORGED))
@pytest.mark.parametrize(
    "authorization", [None, "Bearer not-the-secret", "Basic c2VjcmV0", "Bearer"]
)
async def test_actor_headers_without_the_secret_are_refused(
    platform: Platform, service: str, authorization: str | None
) -> None:
    method, path = FORGED[service]
    headers = dict(ACTOR)
    if authorization is not None:
        headers["Authorization"] = authorization
    async with httpx.AsyncClient(base_url=platform.internal_urls[service]) as forger:
        response = await forger.request(method, path, headers=headers, json={})
    assert response.status_code == 401, response.text
    assert response.headers["content-type"] == "application/problem+json"


#: What an internal API serves to anyone by design: its probes, and an issuer's discovery and
#: public keys (identity's Jobtracker issuer; the development identity provider's pages when on).
OPEN = re.compile(r"^/(healthz|readyz)$|/\.well-known/openid-configuration$|jwks\.json$|^/dev/")


@pytest.mark.parametrize("service", sorted(FORGED))
async def test_every_route_of_every_internal_api_refuses_a_caller_without_the_secret(
    platform: Platform, service: str
) -> None:
    """Generated from each API's own route table (its OpenAPI document), so a route added
    later is tried too: every one of them, each method, answers 401 without the secret."""
    async with httpx.AsyncClient(base_url=platform.internal_urls[service]) as forger:
        document = (await forger.get("/openapi.json")).json()
        tried = []
        for path, operations in document["paths"].items():
            if OPEN.search(path):
                continue
            concrete = re.sub(r"\{[^}]+\}", "1", path)
            for method in operations:
                answer = await forger.request(method.upper(), concrete, headers=ACTOR, json={})
                assert answer.status_code == 401, (method, path, answer.status_code, answer.text)
                tried.append(f"{method.upper()} {path}")
    assert len(tried) >= 5, tried


async def test_the_secret_opens_the_internal_api(platform: Platform) -> None:
    async with internal_client(platform.internal_urls["identity"]) as worker:
        response = await worker.post(
            "/v1/people/access", json={"national_number": SCHELDE_STAFF.national_number}
        )
    assert response.status_code == 200


async def test_liveness_needs_no_secret(platform: Platform) -> None:
    for url in platform.internal_urls.values():
        async with httpx.AsyncClient(base_url=url) as probe:
            assert (await probe.get("/healthz")).status_code == 200
