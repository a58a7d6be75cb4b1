"""``/docs`` (Swagger UI) and ``/redoc`` (ReDoc) from assets shipped with the package.

No script comes from a CDN (a clinical network may block it, and it would be a supply-chain
risk): the pages load ``/docs-assets/...`` (``web/static``, from the npm packages
``swagger-ui-dist`` and ``redoc``, licenses beside them) and start without inline script, so the
Content-Security-Policy of ``web.headers`` holds on these pages too.
"""

from __future__ import annotations

from html import escape
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

__all__ = ["ASSETS_PATH", "STATIC", "install_docs"]

STATIC = Path(__file__).resolve().parent / "static"
ASSETS_PATH = "/docs-assets"

_SWAGGER = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{title} - Swagger UI</title>
<link rel="stylesheet" href="{assets}/swagger-ui/swagger-ui.css">
<link rel="icon" type="image/png" href="{assets}/swagger-ui/favicon-32x32.png"></head>
<body><div id="swagger-ui" data-openapi-url="{openapi}"></div>
<script src="{assets}/swagger-ui/swagger-ui-bundle.js"></script>
<script src="{assets}/swagger-init.js"></script></body></html>
"""
_REDOC = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{title} - ReDoc</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="icon" type="image/png" href="{assets}/swagger-ui/favicon-32x32.png"></head>
<body><redoc spec-url="{openapi}"></redoc>
<script src="{assets}/redoc/redoc.standalone.js"></script></body></html>
"""


def install_docs(app: FastAPI) -> None:
    """Serve the assets and both pages (build the app with ``docs_url=None, redoc_url=None``)."""
    app.mount(ASSETS_PATH, StaticFiles(directory=STATIC), name="docs-assets")

    def page(template: str, request: Request) -> HTMLResponse:
        root = escape(str(request.scope.get("root_path", "")).rstrip("/"))
        return HTMLResponse(
            template.format(
                title=escape(app.title),
                assets=root + ASSETS_PATH,
                openapi=root + escape(app.openapi_url or "/openapi.json"),
            )
        )

    @app.get("/docs", include_in_schema=False)
    async def swagger_ui(request: Request) -> HTMLResponse:
        return page(_SWAGGER, request)

    @app.get("/redoc", include_in_schema=False)
    async def redoc(request: Request) -> HTMLResponse:
        return page(_REDOC, request)
