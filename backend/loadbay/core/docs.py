"""The interactive API docs at /api/docs, self-contained.

Swagger UI comes with the built web app (`frontend/dist/docs-assets`, from the pinned npm
package), not from a CDN: a script from elsewhere on this origin could call the API as whoever
opens the page, and a self-hosted server may have no internet. The page passes the same
Content-Security-Policy as the web app (no inline script).
"""

from pathlib import Path

from fastapi import FastAPI
from fastapi.responses import HTMLResponse

ASSETS = "docs-assets"

_PAGE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Loadbay API</title>
<link rel="stylesheet" href="/{assets}/swagger-ui.css">
</head>
<body>
<div id="swagger-ui"></div>
<script src="/{assets}/swagger-ui-bundle.js"></script>
<script src="/{assets}/init.js"></script>
</body>
</html>
"""

_MISSING = """<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>Loadbay API</title></head>
<body>
<p>The interactive docs come with the built web app (<code>make run</code> builds it).
The contract itself is at <a href="/api/v1/openapi.json">/api/v1/openapi.json</a>.</p>
</body>
</html>
"""


def install_docs(app: FastAPI, dist: Path | None) -> None:
    built = dist is not None and (dist / ASSETS / "swagger-ui-bundle.js").is_file()
    page = _PAGE.format(assets=ASSETS) if built else _MISSING

    @app.get("/api/docs", include_in_schema=False)
    async def docs() -> HTMLResponse:
        return HTMLResponse(page, headers={"Cache-Control": "no-cache"})
