"""``make up`` / ``make down`` / ``make status``: the pipeline as a service on one machine.

    python -m movie_assets.automation.service up       # start everything, wait until the code loads
    python -m movie_assets.automation.service status   # each process, its PID and state; the URLs
    python -m movie_assets.automation.service down     # stop exactly what `up` started

One ``supervisord`` (PyPI ``supervisor``) keeps these processes running and restarts one that dies:

- ``postgres``: the local PostgreSQL cluster holding Dagster's runs, events and schedule/sensor
  state, created once with ``initdb`` under ``MOVIES_PG_DIR`` and listening on
  127.0.0.1:``MOVIES_PG_PORT`` (run as the ``postgres`` user when started as root, since
  PostgreSQL refuses root). Not started when ``MOVIES_DAGSTER_PG_URL`` names an existing server.
  Its second database, ``movies_serving``, receives the audited star schema for BI tools
  (``serving/postgres_publication``) unless ``MOVIES_SERVING_PG_URL`` names another one.
- ``code_server``: ``dagster code-server start`` on 127.0.0.1:``MOVIES_CODE_SERVER_PORT``, the
  only process that imports the definitions; it also starts each run's worker process.
- ``webserver``: ``dagster-webserver`` (UI and GraphQL) on 127.0.0.1:``MOVIES_WEBSERVER_PORT``.
- ``daemon``: the one ``dagster-daemon`` (schedules, sensors, the run queue, run monitoring,
  run retries).
- ``dashboard``: the analysts' Streamlit dashboard on 127.0.0.1:``MOVIES_DASHBOARD_PORT``.

The webserver and the daemon load the code through a workspace file that names the code
server, so new code is picked up by restarting the code server alone
(``supervisorctl -c <service dir>/supervisord.conf restart code_server``). The instance config
is ``deploy/dagster.yaml``, copied to ``<service dir>/dagster_home``. Every file the service
writes is under ``MOVIES_SERVICE_DIR`` (default ``data/service``) and ``MOVIES_LOG_DIR``
(default ``data/logs``); the PostgreSQL URL reaches the processes through their environment
only, never a file.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import requests

from movie_assets.settings import REPO_ROOT, Settings

LOCATION_NAME = "movie_assets"
DATABASE = "dagster"
#: The local cluster's database of the PostgreSQL publication for BI tools (serving/postgres_publication).
SERVING_DATABASE = "movies_serving"
#: The processes of the service, in start order (supervisord's ``priority``).
PROGRAMS = ("postgres", "code_server", "webserver", "daemon", "dashboard")
INSTANCE_CONFIG = REPO_ROOT / "deploy" / "dagster.yaml"
START_TIMEOUT_SECONDS = 600.0
STOP_TIMEOUT_SECONDS = 90.0

WORKSPACE_QUERY = """
{
  workspaceOrError {
    __typename
    ... on Workspace {
      locationEntries {
        name
        loadStatus
        locationOrLoadError { __typename ... on PythonError { message } }
      }
    }
  }
}
"""


class ServiceError(RuntimeError):
    """The service cannot start or stop; the message says why and where to look."""


def postgres_bin_dir() -> Path:
    """The newest Debian PostgreSQL's ``bin`` folder (``/usr/lib/postgresql/<major>/bin``), or
    the folder of the ``initdb`` on ``PATH``.

    Raises:
        ServiceError: no PostgreSQL server is installed (the message names the Debian package).
    """
    installed = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"), key=lambda path: int(path.parent.parent.name))
    if installed:
        return installed[-1].parent
    found = shutil.which("initdb")
    if found:
        return Path(found).resolve().parent
    raise ServiceError("PostgreSQL is not installed: `apt-get install postgresql` (or set MOVIES_DAGSTER_PG_URL)")


@dataclass(frozen=True)
class Service:
    """Where the service of ``settings`` keeps its files, and what it runs.

    Attributes:
        settings: the configuration (ports, folders, the PostgreSQL URL).
    """

    settings: Settings

    @property
    def dagster_home(self) -> Path:
        """The service's Dagster instance folder (``dagster.yaml`` from ``deploy/``)."""
        return self.settings.service_dir / "dagster_home"

    @property
    def supervisor_config(self) -> Path:
        return self.settings.service_dir / "supervisord.conf"

    @property
    def pid_file(self) -> Path:
        return self.settings.service_dir / "supervisord.pid"

    @property
    def workspace(self) -> Path:
        return self.settings.service_dir / "workspace.yaml"

    @property
    def state_file(self) -> Path:
        """``{"webserver": URL, "supervisord_pid": int}`` while the service is up (``make run``
        submits to that URL)."""
        return self.settings.service_dir / "state.json"

    @property
    def local_postgres(self) -> bool:
        """True when the service runs its own cluster (``MOVIES_DAGSTER_PG_URL`` unset)."""
        return self.settings.dagster_pg_url is None

    @property
    def webserver_url(self) -> str:
        return f"http://127.0.0.1:{self.settings.webserver_port}"

    @property
    def dashboard_url(self) -> str:
        return f"http://127.0.0.1:{self.settings.dashboard_port}"

    def postgres_url(self) -> str:
        """The storage URL: the local cluster's (user ``postgres``, trust on loopback, no
        password) or the secret ``MOVIES_DAGSTER_PG_URL``, with the psycopg2 driver named.
        For process environments only."""
        if self.settings.dagster_pg_url is None:
            return f"postgresql+psycopg2://postgres@127.0.0.1:{self.settings.pg_port}/{DATABASE}"
        url = self.settings.dagster_pg_url.get_secret_value()
        # dagster-postgres ships psycopg2; SQLAlchemy 2.1 would pick psycopg 3 for a bare scheme.
        scheme, rest = url.split("://", 1) if "://" in url else ("", url)
        return f"postgresql+psycopg2://{rest}" if scheme in ("postgresql", "postgres") else url

    def environment(self) -> dict[str, str]:
        """The environment of supervisord and so of every process of the service: the caller's,
        with ``DAGSTER_HOME`` the service's instance, ``MOVIES_DAGSTER_PG_URL`` the storage URL
        (read by ``deploy/dagster.yaml``), ``MOVIES_SERVING_PG_URL`` the local cluster's
        ``movies_serving`` database when unset and the cluster is the service's own, and the
        venv's ``bin`` first on ``PATH`` (dagster-dbt runs the ``dbt`` found there)."""
        env = dict(os.environ)
        env["DAGSTER_HOME"] = str(self.dagster_home)
        env["MOVIES_DAGSTER_PG_URL"] = self.postgres_url()
        if self.settings.serving_pg_url is None and self.local_postgres:
            env["MOVIES_SERVING_PG_URL"] = f"postgresql://postgres@127.0.0.1:{self.settings.pg_port}/{SERVING_DATABASE}"
        env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
        return env

    def programs(self) -> dict[str, list[str]]:
        """Program name → command line, in start order; ``postgres`` only for the local cluster.
        The webserver and the daemon wait for the code server's port (and PostgreSQL's) first."""
        bin_dir = Path(sys.executable).parent
        settings = self.settings
        waits = [f"127.0.0.1:{settings.code_server_port}"]
        programs: dict[str, list[str]] = {}
        if self.local_postgres:
            postgres = postgres_bin_dir() / "postgres"
            programs["postgres"] = [
                str(postgres),
                "-D",
                str(settings.pg_dir),
                "-p",
                str(settings.pg_port),
                "-c",
                "listen_addresses=127.0.0.1",
                "-k",
                str(settings.pg_dir),
            ]
            waits.append(f"127.0.0.1:{settings.pg_port}")
        wait = [sys.executable, "-m", "movie_assets.automation.service", "wait", *waits, "--"]
        programs["code_server"] = [
            str(bin_dir / "dagster"),
            "code-server",
            "start",
            "-h",
            "127.0.0.1",
            "-p",
            str(settings.code_server_port),
            "-m",
            "movie_assets.definitions",
            "--location-name",
            LOCATION_NAME,
        ]
        programs["webserver"] = [
            *wait,
            str(bin_dir / "dagster-webserver"),
            "-h",
            "127.0.0.1",
            "-p",
            str(settings.webserver_port),
            "-w",
            str(self.workspace),
        ]
        programs["daemon"] = [*wait, str(bin_dir / "dagster-daemon"), "run", "-w", str(self.workspace)]
        programs["dashboard"] = [
            str(bin_dir / "streamlit"),
            "run",
            str(REPO_ROOT / "movie_assets" / "serving" / "dashboard.py"),
            "--server.address",
            "127.0.0.1",
            "--server.port",
            str(settings.dashboard_port),
            "--server.headless",
            "true",
            "--browser.gatherUsageStats",
            "false",
        ]
        return programs

    def render_supervisor_config(self) -> str:
        """supervisord's configuration: its socket, PID file and log under the service's
        folders, one ``[program:…]`` per :meth:`programs` entry, logs in ``MOVIES_LOG_DIR``.

        A program's whole process group is stopped with it (a code server's run workers too),
        except PostgreSQL's, whose postmaster stops its own children on SIGINT (fast shutdown).
        """
        log_dir = self.settings.log_dir
        lines = [
            "[unix_http_server]",
            f"file={self.settings.service_dir / 'supervisor.sock'}",
            "chmod=0700",
            "",
            "[supervisord]",
            f"logfile={log_dir / 'supervisord.log'}",
            f"pidfile={self.pid_file}",
            f"directory={REPO_ROOT}",
            f"childlogdir={log_dir}",
            "",
            "[rpcinterface:supervisor]",
            "supervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface",
            "",
            "[supervisorctl]",
            f"serverurl=unix://{self.settings.service_dir / 'supervisor.sock'}",
        ]
        for priority, (name, command) in enumerate(self.programs().items(), start=1):
            lines += [
                "",
                f"[program:{name}]",
                "command=" + " ".join(_quote(part) for part in command),
                f"priority={priority * 10}",
                "autostart=true",
                "autorestart=true",
                "startsecs=2",
                "startretries=10",
                "stopwaitsecs=30",
                f"stdout_logfile={log_dir / (name + '.log')}",
                "redirect_stderr=true",
            ]
            if name == "postgres":
                lines += ["stopsignal=INT", f"directory={self.settings.pg_dir}"]
                if os.geteuid() == 0:
                    lines.append("user=postgres")
            else:
                lines += ["stopasgroup=true", "killasgroup=true"]
        return "\n".join(lines) + "\n"

    def render_workspace(self) -> str:
        """The workspace file of the webserver and the daemon: the code server on loopback."""
        return (
            "load_from:\n"
            "  - grpc_server:\n"
            "      host: 127.0.0.1\n"
            f"      port: {self.settings.code_server_port}\n"
            f"      location_name: {LOCATION_NAME}\n"
        )

    def write_files(self) -> None:
        """Write the instance config, the workspace and supervisord's config; make the log folder."""
        self.dagster_home.mkdir(parents=True, exist_ok=True)
        self.settings.log_dir.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(INSTANCE_CONFIG, self.dagster_home / "dagster.yaml")
        self.workspace.write_text(self.render_workspace(), encoding="utf-8")
        self.supervisor_config.write_text(self.render_supervisor_config(), encoding="utf-8")

    def supervisord_pid(self) -> int | None:
        """The PID of this service's running supervisord, or None (no PID file, or its process
        is gone or is no longer supervisord)."""
        try:
            pid = int(self.pid_file.read_text().strip())
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
        except (OSError, ValueError):
            return None
        return pid if b"supervisord" in cmdline else None

    def supervisorctl(self, *args: str) -> subprocess.CompletedProcess:
        """``supervisorctl -c <config> args…`` (output captured, not checked)."""
        command = [str(Path(sys.executable).parent / "supervisorctl"), "-c", str(self.supervisor_config), *args]
        return subprocess.run(command, capture_output=True, text=True, env=self.environment())


def _quote(part: str) -> str:
    # supervisord splits command= with shlex and expands %(...)s: quote spaces, escape %.
    text = part.replace("%", "%%")
    return f'"{text}"' if any(char.isspace() for char in text) or text == "" else text


def _port_taken(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return True
    return False


def ensure_local_cluster(service: Service) -> None:
    """Create the local PostgreSQL cluster under ``MOVIES_PG_DIR`` with its ``dagster``
    database, once, and its ``movies_serving`` database when missing (a cluster made before
    the PostgreSQL publication has none). The cluster must be stopped. As root, the cluster is
    owned and run by the Debian ``postgres`` user. Loopback connections are trusted (no
    password): the cluster listens on 127.0.0.1 only.

    Raises:
        ServiceError: ``initdb`` or the database creation failed (PostgreSQL's message), e.g.
            the ``postgres`` user cannot reach the folder.
    """
    pg_dir = service.settings.pg_dir
    as_user: dict = {}
    if os.geteuid() == 0:
        as_user = {"user": "postgres", "group": "postgres", "extra_groups": []}
    bin_dir = postgres_bin_dir()
    single_user = [str(bin_dir / "postgres"), "--single", "-D", str(pg_dir), "postgres"]

    def step(command: list[str], stdin: str | None) -> str:
        done = subprocess.run(command, input=stdin, capture_output=True, text=True, cwd=pg_dir, **as_user)
        if done.returncode != 0:
            hint = " (the postgres user must be able to enter every folder above it)" if as_user else ""
            raise ServiceError(f"{Path(command[0]).name} for {pg_dir} failed{hint}: {(done.stderr or done.stdout).strip()[-800:]}")
        return done.stdout

    if not (pg_dir / "PG_VERSION").exists():
        pg_dir.mkdir(parents=True, exist_ok=True)
        if as_user:
            shutil.chown(pg_dir, "postgres", "postgres")
        pg_dir.chmod(0o700)
        step([str(bin_dir / "initdb"), "-D", str(pg_dir), "-U", "postgres", "--auth=trust", "--encoding=UTF8"], None)
        step(single_user, f"CREATE DATABASE {DATABASE};\n")
    # Single-user mode prints each row as `datname = "<name>"`.
    if f'"{SERVING_DATABASE}"' not in step(single_user, f"SELECT datname FROM pg_database WHERE datname = '{SERVING_DATABASE}';\n"):
        step(single_user, f"CREATE DATABASE {SERVING_DATABASE};\n")


def location_status(url: str, timeout: float = 5.0) -> tuple[str, str | None]:
    """``(load status, error)`` of the code location as the webserver at ``url`` sees it:
    ``("LOADED", None)``, ``("LOADING", None)``, ``("ERROR", message)`` or ``("MISSING", None)``.

    Raises:
        requests.RequestException: the webserver does not answer.
    """
    response = requests.post(f"{url}/graphql", json={"query": WORKSPACE_QUERY}, timeout=timeout)
    response.raise_for_status()
    workspace = response.json()["data"]["workspaceOrError"]
    for entry in workspace.get("locationEntries", []):
        if entry["name"] == LOCATION_NAME:
            loaded = entry["locationOrLoadError"] or {}
            if loaded.get("__typename") == "PythonError":
                return "ERROR", loaded.get("message")
            return entry["loadStatus"], None
    return "MISSING", None


def up(service: Service) -> None:
    """Start the service and return once the webserver serves the loaded code location; write
    the state file. A service already up is left as it is.

    Raises:
        ServiceError: a port is taken, PostgreSQL cannot be set up, supervisord did not start,
            or the code location did not load in :data:`START_TIMEOUT_SECONDS` (the message
            names the log to read).
    """
    if service.supervisord_pid() is not None:
        return
    settings = service.settings
    ports = {
        "MOVIES_WEBSERVER_PORT": settings.webserver_port,
        "MOVIES_CODE_SERVER_PORT": settings.code_server_port,
        "MOVIES_DASHBOARD_PORT": settings.dashboard_port,
    }
    if service.local_postgres:
        ports["MOVIES_PG_PORT"] = settings.pg_port
    taken = [f"{name}={port}" for name, port in ports.items() if _port_taken(port)]
    if taken:
        raise ServiceError(f"port in use on 127.0.0.1: {', '.join(taken)}; choose another or stop what holds it")
    if service.local_postgres:
        ensure_local_cluster(service)
    service.write_files()
    service.state_file.unlink(missing_ok=True)
    started = subprocess.run(
        [str(Path(sys.executable).parent / "supervisord"), "-c", str(service.supervisor_config)],
        capture_output=True,
        text=True,
        env=service.environment(),
    )
    if started.returncode != 0:
        raise ServiceError(f"supervisord did not start: {(started.stderr or started.stdout).strip()}")
    deadline = time.monotonic() + START_TIMEOUT_SECONDS
    status, error, where = "DOWN", None, settings.log_dir / "webserver.log"
    while time.monotonic() < deadline:
        try:
            status, error = location_status(service.webserver_url)
        except requests.RequestException:
            status = "DOWN"
        if status == "LOADED" or status == "ERROR":
            where = settings.log_dir / "code_server.log"
            break
        # A program that kept crashing (supervisord gave up on it) will not come up by waiting.
        given_up = [line.split()[0] for line in service.supervisorctl("status").stdout.splitlines() if " FATAL " in line]
        if given_up:
            status, where = f"{given_up[0]} kept exiting", settings.log_dir / f"{given_up[0]}.log"
            break
        time.sleep(2.0)
    if status != "LOADED":
        raise ServiceError(f"the code location did not load ({status}{': ' + error.splitlines()[0] if error else ''}); see {where}, then `make down`")
    service.state_file.write_text(json.dumps({"webserver": service.webserver_url, "supervisord_pid": service.supervisord_pid()}), encoding="utf-8")


def down(service: Service) -> bool:
    """Stop supervisord by its PID (it stops its programs first) and wait for it to exit;
    remove the state file. False when the service was not running.

    Raises:
        ServiceError: supervisord did not exit in :data:`STOP_TIMEOUT_SECONDS`.
    """
    pid = service.supervisord_pid()
    service.state_file.unlink(missing_ok=True)
    if pid is None:
        return False
    os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + STOP_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        if service.supervisord_pid() is None:
            return True
        time.sleep(0.2)
    raise ServiceError(f"supervisord (PID {pid}) did not stop in {STOP_TIMEOUT_SECONDS:.0f} s; see {service.settings.log_dir}")


def status(service: Service) -> tuple[bool, str]:
    """``(every program running, text)``: supervisorctl's line per program (name, state, PID,
    uptime) and the URLs; ``(False, "service is down")`` when supervisord is not running."""
    if service.supervisord_pid() is None:
        return False, "service is down (make up starts it)"
    listing = service.supervisorctl("status")
    storage = (
        f"postgresql://127.0.0.1:{service.settings.pg_port}/{DATABASE} (local cluster in {service.settings.pg_dir})"
        if service.local_postgres
        else "the PostgreSQL of MOVIES_DAGSTER_PG_URL"
    )
    text = "\n".join(
        [
            listing.stdout.rstrip(),
            f"Dagster UI and GraphQL   {service.webserver_url}",
            f"dashboard                {service.dashboard_url}",
            f"storage                  {storage}",
            f"logs                     {service.settings.log_dir}",
        ]
    )
    return listing.returncode == 0, text


def wait_for_ports(addresses: list[str], timeout: float = START_TIMEOUT_SECONDS) -> None:
    """Return once every ``host:port`` accepts a TCP connection.

    Raises:
        ServiceError: one did not within ``timeout`` seconds.
    """
    deadline = time.monotonic() + timeout
    for address in addresses:
        host, port = address.rsplit(":", 1)
        while True:
            try:
                socket.create_connection((host, int(port)), timeout=1.0).close()
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise ServiceError(f"{address} not accepting connections after {timeout:.0f} s") from None
                time.sleep(0.5)


def main(argv: list[str] | None = None) -> int:
    """``up`` (0 when up, 1 when it failed to start), ``down`` (0), ``status`` (0 when every
    process runs, 3 when one does not or the service is down), ``wait HOST:PORT… -- COMMAND…``
    (replace this process with COMMAND once the ports accept connections; supervisord's
    programs use it); 2 for an invalid configuration."""
    from movie_assets.settings import InvalidSettings, load_settings_or_explain

    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["wait"] and "--" in argv:
        split = argv.index("--")
        wait_for_ports(argv[1:split])
        os.execv(argv[split + 1], argv[split + 1 :])
    parser = argparse.ArgumentParser(prog="python -m movie_assets.automation.service", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("up", help="start the service")
    commands.add_parser("down", help="stop the service")
    commands.add_parser("status", help="show each process and the URLs")
    commands.add_parser("wait", help="HOST:PORT… -- COMMAND…: wait for the ports, then become COMMAND")
    args = parser.parse_args(argv)
    try:
        service = Service(load_settings_or_explain())
    except InvalidSettings as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    try:
        if args.command == "up":
            up(service)
        elif args.command == "down":
            print("service stopped" if down(service) else "service was not running")
            return 0
    except ServiceError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    running, text = status(service)
    print(text)
    return 0 if running else 3


if __name__ == "__main__":
    sys.exit(main())
