# Shared by scripts/run.sh and scripts/test.sh: install what is missing, start local services.
# shellcheck shell=bash
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export PATH="$HOME/.local/bin:$PATH"
export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1
export UV_LINK_MODE=copy

say() { printf '\033[1m==> %s\033[0m\n' "$*"; }

as_root() {
  if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi
}

apt_install() {
  say "installing Debian packages: $*"
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q "$@" >/dev/null \
    || { as_root apt-get update -q >/dev/null && as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q "$@" >/dev/null; }
}

ensure_uv() {
  command -v uv >/dev/null && return
  say "installing uv"
  command -v pip3 >/dev/null || command -v pip >/dev/null || apt_install python3-pip
  python3 -m pip install --user -q uv 2>/dev/null || python3 -m pip install --user -q --break-system-packages uv
  command -v uv >/dev/null || { echo "uv was installed but is not on PATH" >&2; exit 1; }
}

ensure_node() {
  command -v npm >/dev/null || apt_install nodejs npm
}

python_deps() {
  ensure_uv
  say "Python packages (uv sync)"
  (cd "$ROOT" && uv sync --frozen --quiet)
}

frontend_deps() {
  ensure_node
  local stamp="$ROOT/frontend/node_modules/.package-lock.json"
  if [ ! -f "$stamp" ] || [ "$ROOT/frontend/package-lock.json" -nt "$stamp" ]; then
    say "npm packages (npm ci)"
    (cd "$ROOT/frontend" && npm ci --no-audit --no-fund --loglevel=error)
  fi
}

frontend_build() {
  frontend_deps
  say "building the web app"
  (cd "$ROOT/frontend" && npm run --silent build)
}

ensure_postgres() {
  command -v pg_ctlcluster >/dev/null || apt_install postgresql
  if ! pg_isready -q -h 127.0.0.1 -p 5432; then
    say "starting PostgreSQL"
    local version
    version="$(ls /etc/postgresql | sort -V | tail -1)"
    as_root pg_ctlcluster --skip-systemctl-redirect "$version" main start
    for _ in $(seq 1 30); do pg_isready -q -h 127.0.0.1 -p 5432 && break; sleep 1; done
  fi
  # Tests need a role that may create databases over loopback. Use postgres if trust auth allows it,
  # otherwise make a dedicated password role (a fresh Debian install only trusts local peers).
  if psql -h 127.0.0.1 -U postgres -d postgres -tAc 'select 1' >/dev/null 2>&1 </dev/null; then
    export LOADBAY_TEST_PG_URL="${LOADBAY_TEST_PG_URL:-postgresql://postgres@127.0.0.1:5432/postgres}"
  else
    say "creating the loadbay_test PostgreSQL role"
    as_root runuser -u postgres -- psql -q -d postgres -c \
      "DO \$\$BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname='loadbay_test') THEN
         CREATE ROLE loadbay_test LOGIN CREATEDB PASSWORD 'loadbay_test'; END IF; END\$\$;" >/dev/null
    export LOADBAY_TEST_PG_URL="${LOADBAY_TEST_PG_URL:-postgresql://loadbay_test:loadbay_test@127.0.0.1:5432/postgres}"
  fi
}

ensure_redis() {
  command -v redis-server >/dev/null || apt_install redis-server
  if ! redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1; then
    say "starting Redis"
    redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no >/dev/null
    for _ in $(seq 1 30); do redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1 && break; sleep 0.5; done
  fi
}

ensure_chromium() {
  [ -x "${LOADBAY_CHROMIUM:-/usr/bin/chromium}" ] || apt_install chromium
}

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
