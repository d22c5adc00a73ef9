"""The provider contract at landing: each checked provider column's type and range, read from
the one declaration silver uses too (dbt var ``provider_columns`` in ``dbt_project/dbt_project.yml``),
and the share of a column's values allowed to fail them (dbt var ``provider_max_flagged_share``).

A delivery where more than that share of a column's non-blank values cannot be read as its
type, or lies outside its range, is refused like a delivery missing a column
(:class:`~movie_assets.providers.deliveries.DeliveryError`), so a provider that changes a
scale (a 0-10 score sent as 0-100) or a format never replaces the previous delivery.

The readers below are DuckDB's spelling of the dbt macros of
``dbt_project/macros/provider_values.sql`` (``provider_whole_number``, ``provider_decimal``,
``provider_year``, ``provider_date``, ``provider_imdb_id``), applied to the value as
``provider_text`` trims it (blank and OMDb's ``N/A`` count as absent, not as failures).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import duckdb
import pyarrow as pa
import yaml

from movie_assets.settings import REPO_ROOT

DBT_PROJECT_FILE = REPO_ROOT / "dbt_project" / "dbt_project.yml"
#: How many failing values a refusal quotes.
EXAMPLES = 3
#: ``ratings[<source>]``: the value of the element of a JSON ratings column whose source is <source>.
_LIST_ENTRY = re.compile(r"^(?P<column>[^\[]+)\[(?P<source>[^\]]+)\]$")


@dataclass(frozen=True)
class ColumnRule:
    """One declared provider column (an entry of var ``provider_columns``).

    Attributes:
        column: the source column, or ``<json column>[<source>]`` for an entry of OMDb's
            ``ratings`` array (``ratings[Rotten Tomatoes]``).
        type: ``whole_number``, ``decimal``, ``year``, ``date`` or ``imdb_id``.
        suffix: for ``decimal``, a regex the number may be followed by (``%``, ``(/10)?``).
        min_value, max_value: the inclusive range (numbers, or ISO dates for ``date``); None
            when the column has no range.
        max_years_after_delivery: the range ends at the delivery's year plus this; None when
            ``max_value`` is fixed.
    """

    column: str
    type: str
    suffix: str = ""
    min_value: float | str | None = None
    max_value: float | str | None = None
    max_years_after_delivery: int | None = None

    @property
    def source_column(self) -> str:
        """The delivered column the rule reads (``ratings`` for ``ratings[...]``)."""
        entry = _LIST_ENTRY.match(self.column)
        return entry["column"] if entry else self.column

    def upper_bound(self, delivered_on: date) -> float | str | None:
        """The range's end for a delivery landed on ``delivered_on``."""
        if self.max_years_after_delivery is not None:
            return delivered_on.year + int(self.max_years_after_delivery)
        return self.max_value

    def describe(self, delivered_on: date) -> str:
        """``a decimal in [0, 10]``, ``an IMDb id``: what a value must be, for the refusal."""
        kind = {"whole_number": "a whole number", "decimal": "a decimal", "year": "a year", "date": "a date", "imdb_id": "an IMDb id"}.get(
            self.type, self.type
        )
        if self.min_value is None:
            return kind
        return f"{kind} in [{self.min_value}, {self.upper_bound(delivered_on)}]"


@dataclass(frozen=True)
class ProviderContract:
    """The declared rules by bronze table name (``critic_agg``, ...) and the share limit (0-1)."""

    rules: dict[str, tuple[ColumnRule, ...]]
    max_failed_share: float


@dataclass(frozen=True)
class ColumnFailure:
    """A column whose failing share is over the limit.

    Attributes:
        rule: the column's :class:`ColumnRule`.
        failed: non-blank values that are unreadable or out of range (count).
        non_blank: non-blank values (count).
        examples: up to :data:`EXAMPLES` ``(row number, value)`` of the first failing values,
            row numbers 1-based in file order.
    """

    rule: ColumnRule
    failed: int
    non_blank: int
    examples: list[tuple[int, str]]

    @property
    def share(self) -> float:
        return self.failed / self.non_blank


def load_provider_contract(project_file: Path = DBT_PROJECT_FILE) -> ProviderContract:
    """The provider contract declared in the dbt project's vars.

    Raises:
        ValueError: ``project_file`` lacks var ``provider_columns`` or
            ``provider_max_flagged_share``, or a rule has no ``type``.
    """
    variables = (yaml.safe_load(project_file.read_text()) or {}).get("vars", {})
    if "provider_columns" not in variables or "provider_max_flagged_share" not in variables:
        raise ValueError(f"{project_file}: vars provider_columns and provider_max_flagged_share are required")
    rules = {}
    for table, columns in variables["provider_columns"].items():
        table_rules = []
        for column, spec in columns.items():
            if "type" not in spec:
                raise ValueError(f"{project_file}: provider_columns.{table}.{column} has no type")
            table_rules.append(
                ColumnRule(
                    column=column,
                    type=spec["type"],
                    suffix=spec.get("suffix", ""),
                    min_value=spec.get("min"),
                    max_value=spec.get("max"),
                    max_years_after_delivery=spec.get("max_years_after_delivery"),
                )
            )
        rules[table] = tuple(table_rules)
    return ProviderContract(rules=rules, max_failed_share=float(variables["provider_max_flagged_share"]))


def _sql_text(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _quoted(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _raw(rule: ColumnRule) -> str:
    """The rule's text per row: the column, or the ratings entry's value."""
    entry = _LIST_ENTRY.match(rule.column)
    if not entry:
        return _quoted(rule.column)
    elements = f'from_json({_quoted(entry["column"])}, \'[{{"source": "VARCHAR", "value": "VARCHAR"}}]\')'
    return f"list_max(list_transform(list_filter({elements}, lambda e: e.source = {_sql_text(entry['source'])}), lambda e: e.value))"


def _parsed(rule: ColumnRule, text: str) -> str:
    """DuckDB SQL reading ``text`` (trimmed, non-blank) as the rule's type; NULL when unreadable."""
    if rule.type == "whole_number":
        digits = f"regexp_replace({text}, '[$,\\s]', '', 'g')"
        return f"CASE WHEN regexp_full_match({digits}, '[0-9]{{1,18}}') THEN CAST({digits} AS BIGINT) END"
    if rule.type == "decimal":
        pattern = _sql_text("^([0-9]+(\\.[0-9]+)?)\\s*" + rule.suffix + "$")
        return f"TRY_CAST(nullif(regexp_extract({text}, {pattern}, 1), '') AS DOUBLE)"
    if rule.type == "year":
        return f"TRY_CAST(nullif(regexp_extract({text}, '^([0-9]{{4}})(–|-)?([0-9]{{4}})?$', 1), '') AS INTEGER)"
    if rule.type == "date":
        return f"CAST(coalesce(try_strptime({text}, '%b %d %Y'), try_strptime({text}, '%Y-%m-%d')) AS DATE)"
    if rule.type == "imdb_id":
        return f"CASE WHEN regexp_full_match({text}, 'tt[0-9]{{7,10}}') THEN {text} END"
    raise ValueError(f"provider_columns: unknown type {rule.type!r} of {rule.column!r}")


def _bound(rule: ColumnRule, value: float | str) -> str:
    return f"DATE {_sql_text(str(value))}" if rule.type == "date" else str(value)


def column_failures(table: str, rows: pa.Table, contract: ProviderContract, delivered_on: date) -> list[ColumnFailure]:
    """The declared columns of bronze ``table`` present in ``rows`` (text columns as parsed
    from the file, in file order) whose failing share exceeds ``contract.max_failed_share``,
    in declaration order. A column with no non-blank value fails nothing."""
    rules = [rule for rule in contract.rules.get(table, ()) if rule.source_column in rows.column_names]
    if not rules:
        return []
    failures = []
    with duckdb.connect() as conn:
        conn.register("delivered", rows.append_column("_row_number", pa.array(range(1, rows.num_rows + 1), pa.int64())))
        for rule in rules:
            text = "nullif(nullif(trim(raw), ''), 'N/A')"
            ok = "parsed IS NOT NULL"
            if rule.min_value is not None:
                ok += f" AND parsed BETWEEN {_bound(rule, rule.min_value)} AND {_bound(rule, rule.upper_bound(delivered_on))}"
            failed, non_blank, examples = conn.execute(
                f"WITH texts AS (SELECT _row_number, {text} AS text FROM "
                f"(SELECT _row_number, {_raw(rule)} AS raw FROM delivered)), "
                f"parsed AS (SELECT _row_number, text, {_parsed(rule, 'text')} AS parsed FROM texts WHERE text IS NOT NULL) "
                f"SELECT count(*) FILTER (WHERE NOT coalesce({ok}, false)), count(*), "
                f"list([_row_number::VARCHAR, text] ORDER BY _row_number) FILTER (WHERE NOT coalesce({ok}, false)) "
                "FROM parsed"
            ).fetchone()
            if non_blank and failed > contract.max_failed_share * non_blank:
                failures.append(ColumnFailure(rule, failed, non_blank, [(int(row), value) for row, value in examples[:EXAMPLES]]))
    return failures
