"""``/docs``: Swagger UI from assets shipped in the package, so it works offline.

The assets are swagger-ui-dist, vendored by ``scripts/vendor_swagger.sh`` into
``api/static/swagger`` (its ``VERSION`` file names the version, licence and checksum).
"""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.openapi.docs import get_swagger_ui_html, get_swagger_ui_oauth2_redirect_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

#: Where the vendored Swagger UI files are, and the URL they are served under.
ASSETS = Path(__file__).parent / "static" / "swagger"
PREFIX = "/static/swagger"
DOCS_URL = "/docs"
REDIRECT_URL = "/docs/oauth2-redirect"


def install(app: FastAPI) -> None:
    """Serve ``/docs`` (Swagger UI) and its assets from the package; no CDN is asked."""
    app.mount(PREFIX, StaticFiles(directory=ASSETS), name="swagger-assets")

    @app.get(DOCS_URL, include_in_schema=False)
    def docs() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url=app.openapi_url or "/openapi.json",
            title=f"{app.title} - API docs",
            swagger_js_url=f"{PREFIX}/swagger-ui-bundle.js",
            swagger_css_url=f"{PREFIX}/swagger-ui.css",
            swagger_favicon_url=f"{PREFIX}/favicon-32x32.png",
            oauth2_redirect_url=REDIRECT_URL,
            # The validator badge would fetch an image from validator.swagger.io.
            swagger_ui_parameters={"validatorUrl": None},
        )

    @app.get(REDIRECT_URL, include_in_schema=False)
    def redirect() -> HTMLResponse:
        return get_swagger_ui_oauth2_redirect_html()
