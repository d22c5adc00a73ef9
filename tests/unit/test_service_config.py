"""The service's rendered files (movie_assets/automation/service.py): what supervisord runs,
where the storage URL goes (the environment, never a file), and the instance config."""

from __future__ import annotations

from pathlib import Path

import yaml

from movie_assets.automation.service import PROGRAMS, Service
from movie_assets.settings import Settings

SECRET_URL = "postgresql://dagster:s3cret-pw@db.example:5432/dagster"


def _service(tmp_path: Path, **values) -> Service:
    return Service(
        Settings(
            _env_file=None,
            MOVIES_SERVICE_DIR=str(tmp_path / "service"),
            MOVIES_LOG_DIR=str(tmp_path / "logs"),
            MOVIES_PG_DIR=str(tmp_path / "pg"),
            MOVIES_WEBSERVER_PORT="3100",
            MOVIES_CODE_SERVER_PORT="4100",
            MOVIES_PG_PORT="5500",
            **values,
        )
    )


def test_local_cluster_runs_every_program_on_loopback(tmp_path: Path) -> None:
    service = _service(tmp_path)
    service.write_files()
    config = service.supervisor_config.read_text()
    assert [line.removeprefix("[program:").rstrip("]") for line in config.splitlines() if line.startswith("[program:")] == list(PROGRAMS)
    assert "-p 5500 -c listen_addresses=127.0.0.1" in config
    assert "dagster-webserver -h 127.0.0.1 -p 3100" in config
    assert "code-server start -h 127.0.0.1 -p 4100" in config
    # The webserver and the daemon start once the code server and PostgreSQL accept connections.
    assert config.count("wait 127.0.0.1:4100 127.0.0.1:5500 --") == 2
    assert yaml.safe_load(service.workspace.read_text()) == {
        "load_from": [{"grpc_server": {"host": "127.0.0.1", "port": 4100, "location_name": "movie_assets"}}]
    }
    assert service.postgres_url() == "postgresql+psycopg2://postgres@127.0.0.1:5500/dagster"
    assert str(tmp_path / "logs" / "daemon.log") in config


def test_existing_server_url_stays_out_of_every_file(tmp_path: Path) -> None:
    service = _service(tmp_path, MOVIES_DAGSTER_PG_URL=SECRET_URL)
    service.write_files()
    assert "[program:postgres]" not in service.supervisor_config.read_text()
    for path in service.settings.service_dir.rglob("*"):
        if path.is_file():
            assert "s3cret-pw" not in path.read_text(), path
    assert service.environment()["MOVIES_DAGSTER_PG_URL"] == "postgresql+psycopg2://dagster:s3cret-pw@db.example:5432/dagster"
    assert "s3cret-pw" not in repr(service.settings)


def test_instance_config_queues_writers_one_at_a_time(tmp_path: Path) -> None:
    service = _service(tmp_path)
    service.write_files()
    config = yaml.safe_load((service.dagster_home / "dagster.yaml").read_text())
    assert config["storage"]["postgres"]["postgres_url"] == {"env": "MOVIES_DAGSTER_PG_URL"}
    assert config["run_retries"] == {"enabled": True, "max_retries": 1, "retry_on_asset_or_op_failure": False}
    assert config["telemetry"] == {"enabled": False}
    assert config["concurrency"]["runs"]["tag_concurrency_limits"] == [{"key": "movies/writes", "value": "warehouse", "limit": 1}]
    assert config["run_coordinator"]["class"] == "QueuedRunCoordinator"
    assert config["run_monitoring"]["enabled"] is True


def test_make_run_uses_the_service_only_when_make_up_left_it_running(tmp_path: Path) -> None:
    from movie_assets.automation.service_client import running_service

    service = _service(tmp_path)
    assert running_service(service.settings) is None
    # A state file left behind by a supervisord that is gone (machine restarted) is stale.
    service.settings.service_dir.mkdir(parents=True)
    service.state_file.write_text('{"webserver": "http://127.0.0.1:3100", "supervisord_pid": 1}')
    service.pid_file.write_text("999999999\n")
    assert running_service(service.settings) is None
