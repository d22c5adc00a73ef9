PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
# A reader's DuckDB 1.x (Python package and CLI from PyPI): the tests open the published
# snapshot with it (tests/integration/test_reader_compatibility.py).
READER_VENV := .venv-duckdb1
READER_DUCKDB := duckdb==1.5.5 duckdb-cli==1.5.6
export DAGSTER_HOME ?= $(CURDIR)/data/dagster_home

.PHONY: install reader-duckdb manifest run backfill dev up down status dashboard dashboard-screenshot screenshot spark-cluster spark-cluster-stop test test-fast lint format clean

# The Debian packages the README's commands need (postgresql, chromium, chromium-driver,
# openjdk-17-jre-headless) when missing: installed as root, otherwise the command to run is printed.
install: $(BIN)/activate
	scripts/install_system_packages.sh
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e ".[dev]"
	@$(MAKE) --no-print-directory manifest $(DAGSTER_HOME)/dagster.yaml reader-duckdb

# Re-installed when the pins above change (the stamp file names them).
reader-duckdb: $(READER_VENV)/pins
$(READER_VENV)/pins: Makefile
	rm -rf $(READER_VENV)
	$(PYTHON) -m venv $(READER_VENV)
	$(READER_VENV)/bin/pip install --quiet $(READER_DUCKDB)
	echo "$(READER_DUCKDB)" > $@

# The dbt manifest the definitions load (never parsed on import; make run and make backfill
# check it themselves): re-parsed when a dbt file changed or the warehouse settings differ
# from the last parse, a few stat calls otherwise.
manifest:
	$(BIN)/python -m movie_assets.transform.project

# The instance config (runs one at a time, see README "Storage tiers").
$(DAGSTER_HOME)/dagster.yaml: scripts/dagster.yaml
	@mkdir -p $(DAGSTER_HOME)
	cp scripts/dagster.yaml $@

$(BIN)/activate:
	$(PYTHON) -m venv $(VENV)

# Materializes the whole asset graph for today's (UTC) partition from TMDB_SOURCE
# (default snapshot: the bundled offline server). ACCEPT=<check name>[,...] accepts, for this
# run only, a source change a contract or gate check stops (recorded in meta.publication).
run: $(DAGSTER_HOME)/dagster.yaml
	$(BIN)/python -m movie_assets.cli $(if $(ACCEPT),--accept $(ACCEPT))

# One run per day from FROM to TO (YYYY-MM-DD, inclusive), e.g.
# make backfill FROM=2026-11-18 TO=2026-11-20; REFETCH=1 also fetches past days that have no
# TMDB observation, storing today's values under them marked observed_late (README "Backfills").
backfill: $(DAGSTER_HOME)/dagster.yaml
	$(BIN)/python -m movie_assets.cli --from $(FROM) --to $(TO)$(if $(REFETCH), --refetch)

# The venv's bin first on PATH: `dagster dev` re-parses the dbt project with the `dbt` on PATH.
dev: $(DAGSTER_HOME)/dagster.yaml
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/dagster dev -w workspace.yaml

# The pipeline as a service (README "Run it as a service"): PostgreSQL, the code server, the
# Dagster webserver and daemon and the dashboard under one supervisord; logs in data/logs.
up: manifest
	$(BIN)/python -m movie_assets.automation.service up

# Stops exactly the supervisord that make up started (by its PID file), and its processes.
down:
	$(BIN)/python -m movie_assets.automation.service down

# Each process of the service (state, PID, uptime) and the URLs.
status:
	$(BIN)/python -m movie_assets.automation.service status

# The analysts' dashboard (Streamlit) over MOVIES_DUCKDB_PATH, read-only, on 127.0.0.1 only.
dashboard:
	$(BIN)/streamlit run movie_assets/serving/dashboard.py --server.address 127.0.0.1 --server.port $${MOVIES_DASHBOARD_PORT:-8501} --server.headless true --browser.gatherUsageStats false

# docs/dashboard.png: the dashboard on the current warehouse in headless Chromium (needs the
# Debian packages chromium and chromium-driver).
dashboard-screenshot:
	$(BIN)/python scripts/dashboard_screenshot.py

# PNG of the asset graph in headless Chromium (needs the Debian package chromium).
screenshot: $(DAGSTER_HOME)/dagster.yaml
	$(BIN)/python scripts/ui_screenshot.py

# A Spark standalone master and one worker on 127.0.0.1 for MOVIES_ENGINE=spark (logs and PIDs
# in data/spark/). Spark's own variables set ports and size, e.g.
# make spark-cluster SPARK_MASTER_PORT=7077 SPARK_MASTER_WEBUI_PORT=8080 SPARK_WORKER_CORES=2 SPARK_WORKER_MEMORY=4g
spark-cluster:
	$(BIN)/python -m movie_assets.transform.spark_cluster start

# Stops exactly the master and worker that make spark-cluster started (by their PID files).
spark-cluster-stop:
	$(BIN)/python -m movie_assets.transform.spark_cluster stop

# Unit and integration tests (real HTTP server, real DuckDB files, real dbt builds).
test:
	$(BIN)/pytest

# Unit tests only: no dbt build, no server.
test-fast:
	$(BIN)/pytest tests/unit

# Python: ruff (lint, import order, format check); SQL: sqlfluff with the dbt templater, which
# renders dbt_project/ as dbt compiles it (the rules and their exclusions are in .sqlfluff).
lint:
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/sqlfluff lint dbt_project --processes 2

# Applies what ruff and sqlfluff can fix by themselves.
format:
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .
	$(BIN)/sqlfluff fix dbt_project --processes 2

clean:
	rm -rf data/warehouse.duckdb data/lake data/build data/serving data/reports data/dagster_home data/spark-warehouse dbt_project/target
