"""Prometheus metrics for HTTP requests (served at /metrics), and who may scrape them."""

import hmac
import ipaddress
import time
from collections.abc import Awaitable, Callable

from fastapi import Request, Response
from prometheus_client import Counter, Histogram

from loadbay.errors import Forbidden, Unauthorized

REQUESTS = Counter("loadbay_http_requests_total", "HTTP requests", ["method", "route", "status"])
LATENCY = Histogram("loadbay_http_request_seconds", "HTTP request latency", ["method", "route"])


async def metrics_middleware(
    request: Request, call_next: Callable[[Request], Awaitable[Response]]
) -> Response:
    start = time.perf_counter()
    response = await call_next(request)
    route = request.scope.get("route")
    path = getattr(route, "path", "unmatched")
    LATENCY.labels(request.method, path).observe(time.perf_counter() - start)
    REQUESTS.labels(request.method, path, str(response.status_code)).inc()
    return response


def check_scrape(request: Request, *, token: str | None, public: bool) -> None:
    """Who may read /metrics: anyone if the operator says so; else the holder of the token; else,
    with no token set, only clients on this machine."""
    if public:
        return
    if token:
        scheme, _, given = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() == "bearer" and hmac.compare_digest(given.strip().encode(), token.encode()):
            return
        raise Unauthorized(
            "Send the metrics token as `Authorization: Bearer <token>`.",
            code="metrics_token_required",
            headers={"WWW-Authenticate": "Bearer"},
        )
    if not _is_loopback(request.client.host if request.client else ""):
        raise Forbidden(
            "Metrics are served to this machine only; set LOADBAY_METRICS_TOKEN to scrape from elsewhere.",
            code="metrics_loopback_only",
        )


def _is_loopback(host: str) -> bool:
    try:
        addr = ipaddress.ip_address(host)
    except ValueError:
        return False
    if isinstance(addr, ipaddress.IPv6Address) and addr.ipv4_mapped is not None:
        return addr.ipv4_mapped.is_loopback
    return addr.is_loopback
