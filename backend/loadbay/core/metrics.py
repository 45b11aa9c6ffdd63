"""Prometheus metrics for HTTP requests (served at /metrics)."""

import time
from collections.abc import Awaitable, Callable

from fastapi import Request, Response
from prometheus_client import Counter, Histogram

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
