"""The API documentation works on a machine without internet: every asset comes from the gateway."""

import re

import httpx
import pytest

from dc_gateway.api import create_app
from dc_gateway.settings import GatewaySettings


@pytest.fixture
async def gateway() -> httpx.AsyncClient:
    app = create_app(GatewaySettings())
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://gateway")


@pytest.mark.parametrize("page", ["/docs", "/redoc"])
async def test_the_documentation_loads_only_what_the_gateway_serves(
    gateway: httpx.AsyncClient, page: str
) -> None:
    async with gateway:
        response = await gateway.get(page)
        assert response.status_code == 200
        assert (
            "'unsafe-inline'"
            not in response.headers["content-security-policy"].split("script-src")[1].split(";")[0]
        )
        assert "<script>" not in response.text  # no inline script
        assets = re.findall(r'(?:src|href)="([^"]+)"', response.text)
        assert assets and all(asset.startswith("/") for asset in assets), assets
        for asset in assets:
            loaded = await gateway.get(asset)
            assert loaded.status_code == 200, asset
            assert len(loaded.content) > 100, asset
        spec = await gateway.get("/openapi.json")
        assert spec.status_code == 200
        assert "/api/v1/services" in spec.json()["paths"]
