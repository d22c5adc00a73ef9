"""A Spark standalone cluster on this machine: one master and one worker on 127.0.0.1.

``make spark-cluster`` / ``make spark-cluster-stop`` (``python -m
movie_assets.transform.spark_cluster start|stop``) and the test session use it to run the
Spark engine against a real cluster rather than ``local[*]``. The processes are started and
stopped by Spark's own ``sbin/spark-daemon.sh`` from the installed pyspark (which bundles
Spark), with their logs and PID files under ``state_dir`` (default ``data/spark/``); stop
signals exactly the PIDs recorded there, so other Spark processes on the machine are left
alone.

Ports, worker cores and memory come from Spark's own variables (``SPARK_MASTER_PORT``,
``SPARK_MASTER_WEBUI_PORT``, ``SPARK_WORKER_CORES``, ``SPARK_WORKER_MEMORY``,
``SPARK_WORKER_WEBUI_PORT``) or the command's flags. Needs Java 17 (``java`` on PATH or
``JAVA_HOME``).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import requests

from movie_assets.settings import REPO_ROOT

MASTER_CLASS = "org.apache.spark.deploy.master.Master"
WORKER_CLASS = "org.apache.spark.deploy.worker.Worker"
# spark-daemon.sh names its PID and log files after this string instead of $USER.
IDENT = "movies"


class ClusterNotReady(RuntimeError):
    """``spark-daemon.sh`` failed (the message holds its output), or the master or its worker
    did not come up in time (the message names the log files)."""


def spark_home() -> Path:
    """The Spark distribution inside the installed pyspark package (``bin/``, ``sbin/``, ``jars/``)."""
    import pyspark

    return Path(pyspark.__file__).parent


@dataclass(frozen=True)
class StandaloneCluster:
    """A Spark standalone master and one worker bound to ``host``.

    Attributes:
        state_dir: folder of the daemons' logs (``*.out``), PID files and the worker's
            scratch space (``work/``).
        host: address both daemons bind to.
        master_port: the master's RPC port (``spark://host:port``).
        master_webui_port: the master's web UI and JSON status (``http://host:port/json/``).
        worker_cores: cores the worker offers to applications.
        worker_memory: memory the worker offers, e.g. ``2g``.
        worker_webui_port: the worker's web UI.
    """

    state_dir: Path
    host: str = "127.0.0.1"
    master_port: int = 7077
    master_webui_port: int = 8080
    worker_cores: int = 2
    worker_memory: str = "2g"
    worker_webui_port: int = 8081

    @property
    def master_url(self) -> str:
        """The ``spark.master`` of this cluster (``MOVIES_SPARK_MASTER``), e.g. ``spark://127.0.0.1:7077``."""
        return f"spark://{self.host}:{self.master_port}"

    def _daemon(self, action: str, spark_class: str, *args: str) -> None:
        env = {
            **os.environ,
            "SPARK_HOME": str(spark_home()),
            "SPARK_LOG_DIR": str(self.state_dir),
            "SPARK_PID_DIR": str(self.state_dir),
            "SPARK_IDENT_STRING": IDENT,
            "SPARK_WORKER_DIR": str(self.state_dir / "work"),
        }
        done = subprocess.run(
            ["bash", str(spark_home() / "sbin" / "spark-daemon.sh"), action, spark_class, "1", *args],
            env=env,
            capture_output=True,
            text=True,
        )
        if done.returncode != 0:
            # The script says why (e.g. "running as process N. Stop it first.", the daemon's log tail).
            raise ClusterNotReady(f"spark-daemon.sh {action} {spark_class} exited {done.returncode}: {(done.stdout + done.stderr).strip()[-2000:]}")

    def alive_workers(self) -> int:
        """Workers the master reports ALIVE; 0 when the master does not answer."""
        try:
            status = requests.get(f"http://{self.host}:{self.master_webui_port}/json/", timeout=2).json()
        except (requests.RequestException, ValueError):
            return 0
        return int(status.get("aliveworkers", 0))

    def start(self, timeout_seconds: float = 90.0) -> str:
        """Start the master and the worker unless they already answer; wait until the worker
        has registered. Returns :attr:`master_url`.

        Raises:
            ClusterNotReady: ``spark-daemon.sh`` failed (its output in the message), or no
                worker registered within ``timeout_seconds`` (e.g. no ``java``: the script
                starts the daemon and returns 0; the daemon's log in :attr:`state_dir` says why).
        """
        if self.alive_workers():
            return self.master_url
        self.state_dir.mkdir(parents=True, exist_ok=True)
        self._daemon(
            "start",
            MASTER_CLASS,
            "--host",
            self.host,
            "--port",
            str(self.master_port),
            "--webui-port",
            str(self.master_webui_port),
        )
        self._daemon(
            "start",
            WORKER_CLASS,
            "--host",
            self.host,
            "--cores",
            str(self.worker_cores),
            "--memory",
            self.worker_memory,
            "--webui-port",
            str(self.worker_webui_port),
            self.master_url,
        )
        deadline = time.monotonic() + timeout_seconds
        while time.monotonic() < deadline:
            if self.alive_workers():
                return self.master_url
            time.sleep(0.5)
        raise ClusterNotReady(
            f"no Spark worker registered with {self.master_url} within {timeout_seconds:.0f} s; "
            f"see the logs in {self.state_dir} (spark-{IDENT}-*.out)"
        )

    def stop(self) -> None:
        """Stop the worker, then the master, by the PIDs recorded in :attr:`state_dir`; a
        daemon that is not running is skipped.

        Raises:
            ClusterNotReady: ``spark-daemon.sh`` failed (its output in the message).
        """
        for spark_class in (WORKER_CLASS, MASTER_CLASS):
            self._daemon("stop", spark_class)


def main(argv: list[str] | None = None) -> int:
    """``python -m movie_assets.transform.spark_cluster start|stop``: prints the master URL on start."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("action", choices=["start", "stop"])
    parser.add_argument("--state-dir", type=Path, default=REPO_ROOT / "data" / "spark")
    parser.add_argument("--master-port", type=int, default=int(os.environ.get("SPARK_MASTER_PORT", 7077)))
    parser.add_argument("--master-webui-port", type=int, default=int(os.environ.get("SPARK_MASTER_WEBUI_PORT", 8080)))
    parser.add_argument("--worker-cores", type=int, default=int(os.environ.get("SPARK_WORKER_CORES", 2)))
    parser.add_argument("--worker-memory", default=os.environ.get("SPARK_WORKER_MEMORY", "2g"))
    parser.add_argument("--worker-webui-port", type=int, default=int(os.environ.get("SPARK_WORKER_WEBUI_PORT", 8081)))
    args = parser.parse_args(argv)
    cluster = StandaloneCluster(
        state_dir=args.state_dir.absolute(),
        master_port=args.master_port,
        master_webui_port=args.master_webui_port,
        worker_cores=args.worker_cores,
        worker_memory=args.worker_memory,
        worker_webui_port=args.worker_webui_port,
    )
    try:
        if args.action == "stop":
            cluster.stop()
            print(f"stopped the Spark master and worker recorded in {cluster.state_dir}")
            return 0
        url = cluster.start()
    except ClusterNotReady as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    print(
        f"Spark master {url} with one worker ({cluster.worker_cores} cores, {cluster.worker_memory}); "
        f"status http://{cluster.host}:{cluster.master_webui_port}; logs and PIDs in {cluster.state_dir}\n"
        f"use it: MOVIES_ENGINE=spark MOVIES_SPARK_MASTER={url} make run"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
