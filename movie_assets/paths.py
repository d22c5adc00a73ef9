"""The ``paths`` resource: where inputs are read from and reports are written to."""

from pathlib import Path

from dagster import ConfigurableResource


class PipelinePaths(ConfigurableResource):
    """Input and output folders (``MOVIES_INPUT_DIR``, ``MOVIES_REPORTS_DIR``).

    Attributes:
        input_dir: folder laid out like ``../shared/data``: ``tmdb/``, ``ids/movies.csv``,
            ``providers/critic_agg.csv``, ``providers/audience_pulse.json``,
            ``providers/box_office/{domestic,international,financials}.csv``.
        reports_dir: where the workbook, CSV exports and ``charts/`` are written.
    """

    input_dir: str
    reports_dir: str

    @property
    def inputs(self) -> Path:
        """:attr:`input_dir` as a path."""
        return Path(self.input_dir)

    @property
    def reports(self) -> Path:
        """:attr:`reports_dir` as a path, created if missing."""
        path = Path(self.reports_dir)
        path.mkdir(parents=True, exist_ok=True)
        return path

    @property
    def id_list(self) -> Path:
        """The analyst's ID list, ``ids/movies.csv`` under :attr:`input_dir`."""
        return self.inputs / "ids" / "movies.csv"
