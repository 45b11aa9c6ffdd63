# Loadbay: the API, the worker and the built web app in one image.
#   docker build -t loadbay .
#   docker run -p 127.0.0.1:8000:8000 -e LOADBAY_DATABASE_URL=postgresql+psycopg://… loadbay
# See docker-compose.yml for PostgreSQL, Redis, the API and a worker together.

# --- web app -------------------------------------------------------------------------------------
FROM node:22-slim AS web
WORKDIR /src/frontend
COPY frontend/package.json frontend/package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY frontend/ ./
RUN npm run build

# --- API and worker ------------------------------------------------------------------------------
FROM python:3.11-slim AS app
COPY --from=ghcr.io/astral-sh/uv:0.13.9 /uv /usr/local/bin/uv

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    UV_COMPILE_BYTECODE=1 \
    UV_LINK_MODE=copy \
    UV_PYTHON_DOWNLOADS=never \
    UV_PROJECT_ENVIRONMENT=/app/.venv \
    PATH=/app/.venv/bin:$PATH \
    LOADBAY_DATA_DIR=/data \
    LOADBAY_LOG_FORMAT=json

WORKDIR /app
# Dependencies first: this layer is rebuilt only when the lock file changes.
COPY pyproject.toml uv.lock README.md ./
RUN uv sync --frozen --no-dev --no-install-project

# The package is installed editable on purpose: `loadbay` finds alembic.ini, migrations/, examples/
# and frontend/dist/ next to backend/, as in a source checkout.
COPY alembic.ini ./
COPY migrations/ migrations/
COPY examples/ examples/
COPY backend/ backend/
RUN uv sync --frozen --no-dev
COPY --from=web /src/frontend/dist/ frontend/dist/

RUN useradd --system --uid 10001 --user-group --home-dir /app --no-create-home loadbay \
    && mkdir -p /data && chown loadbay:loadbay /data
USER loadbay
VOLUME ["/data"]

EXPOSE 8000
HEALTHCHECK --interval=15s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/api/v1/health', timeout=4)"]
CMD ["loadbay", "serve", "--host", "0.0.0.0"]
