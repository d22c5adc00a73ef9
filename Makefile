PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
export DAGSTER_HOME ?= $(CURDIR)/data/dagster_home

.PHONY: install run backfill dev screenshot test bench clean

install: $(BIN)/activate
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e ".[dev]"
	$(BIN)/dbt parse --project-dir dbt_project --profiles-dir dbt_project --quiet
	@$(MAKE) --no-print-directory $(DAGSTER_HOME)/dagster.yaml

# The instance config (runs one at a time, see README "DuckDB concurrency").
$(DAGSTER_HOME)/dagster.yaml: scripts/dagster.yaml
	@mkdir -p $(DAGSTER_HOME)
	cp scripts/dagster.yaml $@

$(BIN)/activate:
	$(PYTHON) -m venv $(VENV)

# Materializes the whole asset graph for today's partition (offline snapshot server
# when no TMDB credentials are set).
run: $(DAGSTER_HOME)/dagster.yaml
	$(BIN)/python -m movie_assets.cli

# One run per day from FROM to TO (YYYY-MM-DD, inclusive), e.g.
# make backfill FROM=2026-11-18 TO=2026-11-20
backfill: $(DAGSTER_HOME)/dagster.yaml
	$(BIN)/python -m movie_assets.cli --from $(FROM) --to $(TO)

# The venv's bin first on PATH: `dagster dev` re-parses the dbt project with the `dbt` on PATH.
dev: $(DAGSTER_HOME)/dagster.yaml
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/dagster dev -w workspace.yaml

# PNG of the asset graph in headless Chromium (needs the Debian package chromium).
screenshot: $(DAGSTER_HOME)/dagster.yaml
	$(BIN)/python scripts/ui_screenshot.py

test:
	$(BIN)/pytest

clean:
	rm -rf data/warehouse.duckdb data/reports data/dagster_home dbt_project/target
