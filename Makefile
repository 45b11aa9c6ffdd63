# The two commands of the README: `make run` and `make test`. Each installs what it needs.
.PHONY: run test fuzz chaos openapi client lint format help
.DEFAULT_GOAL := help

run: ## Install, build the web app, serve on http://127.0.0.1:8000 (SQLite, in-process jobs, demo schema)
	@scripts/run.sh $(ARGS)

test: ## Install what is missing, start PostgreSQL and Redis, run every test and check
	@scripts/test.sh

fuzz: ## Long randomized API fuzzing (schemathesis) on SQLite and PostgreSQL; prints its seed (ARGS="--seed N" replays)
	@nice -n 10 uv run --frozen python bench/fuzz.py $(ARGS)

openapi: ## Regenerate openapi.yaml from the app
	uv run python -m loadbay.openapi > openapi.yaml.tmp && mv openapi.yaml.tmp openapi.yaml

client: openapi ## Regenerate the TypeScript client from openapi.yaml
	cd frontend && npm run --silent generate

format: ## Format the backend code
	uv run ruff format backend tests migrations bench
	uv run ruff check --fix backend tests migrations bench

chaos: ## Kill workers and the API at random moments during commits for MINUTES (10), check every invariant
	nice uv run python bench/chaos.py --minutes $(or $(MINUTES),10) $(if $(SEED),--seed $(SEED)) $(ARGS)

help:
	@grep -E '^[a-z]+:.*## ' Makefile | awk -F':.*## ' '{printf "  make %-8s %s\n", $$1, $$2}'
