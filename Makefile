PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
export DAGSTER_HOME ?= $(CURDIR)/data/dagster_home

.PHONY: install run dev test bench clean

install: $(BIN)/activate
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e ".[dev]"
	$(BIN)/dbt parse --project-dir dbt_project --profiles-dir dbt_project --quiet

$(BIN)/activate:
	$(PYTHON) -m venv $(VENV)

# Materializes the whole asset graph for today's partition (offline snapshot server
# when no TMDB credentials are set).
run:
	@mkdir -p $(DAGSTER_HOME)
	$(BIN)/python -m movie_assets.run

dev:
	@mkdir -p $(DAGSTER_HOME)
	$(BIN)/dagster dev -w workspace.yaml

test:
	$(BIN)/pytest

clean:
	rm -rf data/warehouse.duckdb data/reports data/dagster_home dbt_project/target
