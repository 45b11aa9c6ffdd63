#!/usr/bin/env bash
# `make run`: install what is missing, build the web app, and serve Loadbay on http://127.0.0.1:8000
# with the embedded defaults (SQLite under LOADBAY_DATA_DIR, jobs in-process). Extra arguments go to
# `loadbay serve` (e.g. `make run ARGS="--port 9000"`).
source "$(dirname "$0")/lib.sh"
python_deps
frontend_build
cd "$ROOT"
say "starting Loadbay"
exec uv run --frozen loadbay serve --demo "$@"
