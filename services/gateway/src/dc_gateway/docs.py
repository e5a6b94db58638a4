"""The API's documentation pages, Swagger UI at /docs and ReDoc at /redoc, working offline: their
scripts and styles come from the pinned ``fastapi-offline`` package and are served from here."""

from importlib.resources import files
from pathlib import Path

from fastapi import APIRouter, FastAPI
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

DOCS_ASSETS = "/docs-assets"
OWN_ASSETS = Path(__file__).parent / "assets"

router = APIRouter(include_in_schema=False)

SWAGGER_PAGE = f"""<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8"><title>Dienstencheques platform API</title>
<link rel="icon" href="{DOCS_ASSETS}/favicon.png">
<link rel="stylesheet" href="{DOCS_ASSETS}/swagger-ui.css">
</head>
<body>
<div id="swagger-ui"></div>
<script src="{DOCS_ASSETS}/swagger-ui-bundle.js"></script>
<script src="/assets/swagger-init.js"></script>
</body>
</html>
"""

REDOC_PAGE = f"""<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8"><title>Dienstencheques platform API</title>
<link rel="icon" href="{DOCS_ASSETS}/favicon.png">
</head>
<body>
<redoc spec-url="/openapi.json"></redoc>
<script src="{DOCS_ASSETS}/redoc.standalone.js"></script>
</body>
</html>
"""

#: The documentation pages run their bundles' own code and styles (no inline script of ours).
DOCS_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; worker-src 'self' blob:; frame-ancestors 'none'"
)


@router.get("/docs")
async def swagger_ui() -> HTMLResponse:
    return HTMLResponse(SWAGGER_PAGE, headers={"Content-Security-Policy": DOCS_CSP})


@router.get("/redoc")
async def redoc() -> HTMLResponse:
    return HTMLResponse(REDOC_PAGE, headers={"Content-Security-Policy": DOCS_CSP})


def mount_docs(app: FastAPI) -> None:
    """The two pages and the assets they load, all from this process."""
    app.include_router(router)
    bundled = Path(str(files("fastapi_offline") / "static"))
    app.mount(DOCS_ASSETS, StaticFiles(directory=bundled), name="docs-assets")
    app.mount("/assets", StaticFiles(directory=OWN_ASSETS), name="assets")
