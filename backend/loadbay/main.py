"""The ASGI application: lifespan, routers, error handlers, metrics, and the web app."""

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import structlog
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.middleware.gzip import GZipMiddleware
from fastapi.responses import FileResponse, JSONResponse, PlainTextResponse, Response
from fastapi.staticfiles import StaticFiles
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy.exc import DataError
from starlette.convertors import Convertor, register_url_convertor
from starlette.exceptions import HTTPException as StarletteHTTPException

from loadbay import __version__
from loadbay.api import api_router
from loadbay.config import Settings, get_settings
from loadbay.core import clients, isolate
from loadbay.core.bodies import RequestBodyLimit
from loadbay.core.docs import install_docs
from loadbay.core.headers import SECURITY_HEADERS, SecurityHeadersMiddleware
from loadbay.core.logging import configure_logging
from loadbay.core.metrics import check_scrape, metrics_middleware
from loadbay.core.queries import QueryStringCheck
from loadbay.core.request_id import RequestIdMiddleware
from loadbay.core.routing import explain_miss
from loadbay.db import make_engine, make_sessionmaker
from loadbay.errors import AppError, ErrorBody, FieldError
from loadbay.imports.router import is_upload
from loadbay.jobs import registry
from loadbay.worker.backend import make_backend

log = structlog.get_logger()

HTTP_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    406: "not_acceptable",
    413: "too_large",
    415: "unsupported_media_type",
}


def _error(
    status: int,
    code: str,
    detail: str,
    fields: list[FieldError] | None = None,
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    body = ErrorBody(error=code, detail=detail, fields=fields or [])
    return JSONResponse(body.model_dump(), status_code=status, headers=headers)


def _loc(loc: tuple[Any, ...]) -> str:
    parts = [str(p) for p in loc]
    if parts and parts[0] in ("body", "query", "path", "header", "cookie"):
        parts = parts[1:] or parts
    return ".".join(parts)


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(AppError)
    async def app_error(_: Request, exc: AppError) -> JSONResponse:
        return _error(exc.status_code, exc.code, exc.detail, exc.fields, exc.headers)

    @app.exception_handler(RequestValidationError)
    async def validation_error(_: Request, exc: RequestValidationError) -> JSONResponse:
        fields = [
            FieldError(
                field=_loc(tuple(e.get("loc", ()))),
                code=str(e.get("type", "invalid")),
                message=str(e.get("msg", "invalid")),
            )
            for e in exc.errors()
        ]
        detail = "; ".join(f"{f.field}: {f.message}" for f in fields[:5]) or "Invalid request."
        return _error(422, "invalid", detail, fields)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = HTTP_CODES.get(exc.status_code, "http_error")
        headers = dict(getattr(exc, "headers", None) or {})
        if exc.status_code in (404, 405):
            miss = explain_miss(app, request.method, request.url.path)
            if miss.allow:
                headers["Allow"] = ", ".join(miss.allow)
                return _error(
                    405,
                    HTTP_CODES[405],
                    f"{request.method} is not allowed here; use {' or '.join(miss.allow)}.",
                    headers=headers,
                )
            if miss.fields:
                detail = "; ".join(f"{f.field}: {f.message}" for f in miss.fields)
                return _error(422, "invalid", detail, list(miss.fields))
            if exc.status_code == 405 or request.url.path.startswith("/api/"):
                return _error(404, HTTP_CODES[404], f"No route {request.url.path}.")
        return _error(exc.status_code, code, str(exc.detail), headers=headers or None)

    @app.exception_handler(DataError)
    async def data_error(_: Request, exc: DataError) -> JSONResponse:
        # The database refused a value that passed validation: out of range, or a NUL character.
        log.warning("value_refused_by_database", error=str(exc.orig))
        return _error(
            422,
            "invalid",
            "A value cannot be stored: it is out of range or holds a character "
            "the database does not accept (such as NUL).",
        )

    @app.exception_handler(Exception)
    async def unexpected(_: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled_error", error=repr(exc))
        # Answered by Starlette's outermost middleware, outside the one that adds these.
        return _error(
            500,
            "internal_error",
            "Something went wrong on the server; it has been logged.",
            headers=dict(SECURITY_HEADERS),
        )


def _static_dir(settings: Settings) -> Path | None:
    candidates = [settings.static_dir] if settings.static_dir else []
    candidates.append(Path(__file__).resolve().parents[2] / "frontend" / "dist")
    return next((c for c in candidates if c and (c / "index.html").is_file()), None)


class _NotApi(Convertor[str]):
    """A path of the web app: anything that does not start with `api/`."""

    regex = r"(?!api(?:/|$)).*"

    def convert(self, value: str) -> str:
        return value

    def to_string(self, value: str) -> str:
        return value


register_url_convertor("not_api", _NotApi())


def install_spa(app: FastAPI, dist: Path) -> None:
    if (dist / "assets").is_dir():
        app.mount("/assets", StaticFiles(directory=dist / "assets"), name="assets")
    index = dist / "index.html"
    root = dist.resolve()

    # `not_api` never matches under /api/, so an unknown API path is a 404 and a wrong method a 405.
    @app.get("/{path:not_api}", include_in_schema=False)
    async def spa(path: str) -> Response:
        candidate = (root / path).resolve()
        if path and candidate.is_file() and candidate.is_relative_to(root):
            return FileResponse(candidate)
        return FileResponse(index, headers={"Cache-Control": "no-cache"})


def create_app(settings: Settings | None = None, *, engine: Any = None, sessionmaker: Any = None) -> FastAPI:
    """Build the app; tests pass their own engine or sessionmaker (bound to a rolled-back transaction)."""
    settings = settings or get_settings()
    configure_logging(settings.log_level, settings.log_format)
    owns_engine = engine is None

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        eng = engine if engine is not None else make_engine(settings)
        app.state.engine = eng
        if sessionmaker is None:
            app.state.sessionmaker = make_sessionmaker(eng)
        app.state.jobs = make_backend(settings, app.state.sessionmaker, registry(settings))
        await app.state.jobs.start()
        await asyncio.to_thread(isolate.start_server)
        try:
            yield
        finally:
            await app.state.jobs.close()
            if owns_engine:
                await eng.dispose()

    app = FastAPI(
        title="Loadbay",
        version=__version__,
        summary="Self-hosted data imports: upload, map, review, commit — and the records after.",
        description="Sign in with a session cookie (web app) or send `Authorization: Bearer <API key>`. "
        "Every error body is `{error, detail, fields}`.",
        lifespan=lifespan,
        openapi_url="/api/v1/openapi.json",
        docs_url=None,
        redoc_url=None,
    )
    app.state.settings = settings
    if engine is not None:
        app.state.engine = engine
        app.state.sessionmaker = make_sessionmaker(engine)
    if sessionmaker is not None:
        app.state.sessionmaker = sessionmaker
    install_error_handlers(app)
    app.middleware("http")(metrics_middleware)
    # The web app's scripts and the larger JSON bodies go compressed (a third of the bytes);
    # server-sent events are left alone by the middleware.
    app.add_middleware(GZipMiddleware, minimum_size=1024)
    # A body over the limit is refused before anything reads it.
    app.add_middleware(RequestBodyLimit, limit=settings.max_json_bytes, exempt=is_upload)
    app.add_middleware(QueryStringCheck)
    # Outermost: error answers (a refused body too) and static files carry the headers.
    app.add_middleware(SecurityHeadersMiddleware)
    # Outside everything: every answer, an error too, names its request.
    app.add_middleware(RequestIdMiddleware)
    app.include_router(api_router)
    clients.install(app)

    @app.get("/metrics", include_in_schema=False)
    async def metrics(request: Request) -> PlainTextResponse:
        check_scrape(request, token=settings.metrics_token, public=settings.metrics_public)
        return PlainTextResponse(generate_latest().decode(), media_type=CONTENT_TYPE_LATEST)

    dist = _static_dir(settings)
    install_docs(app, dist)
    if dist is not None:
        install_spa(app, dist)
    return app
