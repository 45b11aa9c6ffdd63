#!/usr/bin/env bash
# `make test`: install what is missing, start PostgreSQL and Redis on loopback if they are not
# running, and run every check: lint and types, the backend on SQLite and on PostgreSQL + Redis,
# the contract, the frontend's unit tests and build, and the browser tests in Chromium.
source "$(dirname "$0")/lib.sh"
START=$(date +%s)
cd "$ROOT"

python_deps
frontend_deps
ensure_postgres
ensure_redis
ensure_chromium

say "lint and types (backend)"
uv run --frozen ruff check backend tests migrations bench
uv run --frozen ruff format --check backend tests migrations bench
uv run --frozen mypy

say "lint and types (frontend)"
(cd frontend && npm run --silent lint && npm run --silent typecheck)

say "docker-compose.yml against the compose-spec schema"
uv run --frozen check-jsonschema --builtin-schema vendor.compose-spec docker-compose.yml

say "backend tests on SQLite (in-process jobs)"
uv run --frozen pytest -q -p no:cacheprovider

say "backend tests on PostgreSQL + Redis"
LOADBAY_TEST_DB=postgres LOADBAY_TEST_REDIS_URL=redis://127.0.0.1:6379/0 \
  uv run --frozen pytest -q -p no:cacheprovider

say "frontend unit tests and build"
(cd frontend && npm run --silent test && npm run --silent build)

say "browser tests (Chromium) against a live server"
E2E_DIR="$(mktemp -d)"
PORT="$(free_port)"
E2E_PASSWORD="e2e-$(date +%s)-password"
LOADBAY_DATA_DIR="$E2E_DIR" LOADBAY_PORT="$PORT" LOADBAY_ADMIN_EMAIL=admin@example.test \
  LOADBAY_ADMIN_PASSWORD="$E2E_PASSWORD" LOADBAY_LOG_LEVEL=WARNING \
  uv run --frozen loadbay serve --demo >"$E2E_DIR/server.log" 2>&1 &
SERVER_PID=$!
trap 'kill "$SERVER_PID" 2>/dev/null || true; wait "$SERVER_PID" 2>/dev/null || true; rm -rf "$E2E_DIR"' EXIT
for _ in $(seq 1 120); do
  curl -fsS "http://127.0.0.1:$PORT/api/v1/health" >/dev/null 2>&1 && break
  kill -0 "$SERVER_PID" 2>/dev/null || { cat "$E2E_DIR/server.log"; exit 1; }
  sleep 0.5
done
(cd frontend && LOADBAY_E2E_URL="http://127.0.0.1:$PORT" LOADBAY_E2E_EMAIL=admin@example.test \
  LOADBAY_E2E_PASSWORD="$E2E_PASSWORD" npm run --silent e2e) || { tail -50 "$E2E_DIR/server.log"; exit 1; }

say "all checks passed in $(( $(date +%s) - START ))s"
