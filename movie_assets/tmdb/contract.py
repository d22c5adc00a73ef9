"""The TMDB body contract: what silver expects of each ``GET /movie/{id}`` body in bronze.

Declared once, as a JSON Schema (``movie_body.schema.json`` beside this module): each
top-level field's JSON type(s), whether it may be null (``"null"`` among its types), and
``x-min-share``, the share of a day's bodies expected to carry it with a declared type. The
check ``tmdb_movies_body_contract`` (:mod:`movie_assets.tmdb.checks`) measures every field of
a partition in one DuckDB pass over the lake and names, for a field below its share, the
share seen and three example movie ids with the ``jsonschema`` library's reason for the
first; the README's table of the contract is printed from the same file
(``python -m movie_assets.tmdb.contract``).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import duckdb

SCHEMA_PATH = Path(__file__).with_name("movie_body.schema.json")
# What DuckDB's json_type() names each JSON Schema type (positive integers are UBIGINT).
DUCKDB_JSON_TYPES = {
    "string": ("VARCHAR",),
    "integer": ("BIGINT", "UBIGINT"),
    "number": ("BIGINT", "UBIGINT", "DOUBLE"),
    "boolean": ("BOOLEAN",),
    "null": ("NULL",),
    "array": ("ARRAY",),
    "object": ("OBJECT",),
}
EXAMPLES = 3


@dataclass(frozen=True)
class ContractField:
    """One declared top-level field of the body.

    Attributes:
        name: the JSON key.
        types: its JSON Schema types, e.g. ``("integer", "null")``.
        min_share: share of a day's bodies (0-1) that must carry it with one of ``types``.
        read_by: the silver model(s) that read it, or ``none``.
        schema: its JSON Schema (for ``jsonschema`` validation of an example body).
    """

    name: str
    types: tuple[str, ...]
    min_share: float
    read_by: str
    schema: dict

    @property
    def nullable(self) -> bool:
        return "null" in self.types


@dataclass(frozen=True)
class FieldBreach:
    """A field carried correctly by fewer bodies than its ``min_share``.

    Attributes:
        field: the contract field.
        bodies: bodies in the partition.
        bad: bodies where the field is missing or of another type.
        examples: up to three of those bodies' movie ids, smallest first.
        reason: why the first example fails, in ``jsonschema``'s words (e.g. ``'1000' is
            not of type 'integer'``, or ``missing``).
    """

    field: ContractField
    bodies: int
    bad: int
    examples: list[int]
    reason: str

    @property
    def share(self) -> float:
        """Share of bodies carrying the field with a declared type, 0-1."""
        return 1 - self.bad / self.bodies if self.bodies else 1.0

    def line(self) -> str:
        return (
            f"{self.field.name}: carried as {'/'.join(self.field.types)} by {self.share:.2f} of {self.bodies} bodies, "
            f"contract requires {self.field.min_share:.2f}; e.g. movie ids {', '.join(map(str, self.examples))} "
            f"({self.reason})"
        )


@dataclass(frozen=True)
class ContractReport:
    """A partition measured against the contract.

    Attributes:
        bodies: bodies in the partition.
        breaches: fields below their declared share.
        unknown_fields: keys the contract does not declare, with the bodies carrying each.
    """

    bodies: int
    breaches: list[FieldBreach]
    unknown_fields: dict[str, int]


@cache
def contract_schema() -> dict:
    """The contract's JSON Schema (``tests/unit/test_gates.py`` checks it against the JSON
    Schema meta-schema and validates the sample's real bodies with it; a run does not pay
    for that: importing ``jsonschema`` and checking the schema take about a second).

    Raises:
        ValueError: a property lacks ``x-min-share`` in 0-1 or uses a type without a DuckDB
            ``json_type`` equivalent.
    """
    schema = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    for name, prop in schema["properties"].items():
        types = prop["type"] if isinstance(prop["type"], list) else [prop["type"]]
        share = prop.get("x-min-share")
        if not isinstance(share, (int, float)) or not 0 <= share <= 1 or set(types) - DUCKDB_JSON_TYPES.keys():
            raise ValueError(f"{SCHEMA_PATH.name}: property {name!r} needs x-min-share in 0-1 and JSON types, got {prop}")
    return schema


def contract_fields() -> list[ContractField]:
    """The declared fields, in the file's order."""
    return [
        ContractField(
            name=name,
            types=tuple(prop["type"] if isinstance(prop["type"], list) else [prop["type"]]),
            min_share=float(prop["x-min-share"]),
            read_by=prop.get("x-read-by", "none"),
            schema=prop,
        )
        for name, prop in contract_schema()["properties"].items()
    ]


def _reason(field: ContractField, payload: str) -> str:
    # Imported here: only a breach needs a reason, and the import costs about a second.
    from jsonschema import Draft202012Validator

    body = json.loads(payload)
    if field.name not in body:
        return "missing"
    error = next(Draft202012Validator(field.schema).iter_errors(body[field.name]), None)
    return error.message if error is not None else "valid"


def measure_partition(conn: duckdb.DuckDBPyConnection, table: str, partition_date: str) -> ContractReport:
    """Measure ``table`` (columns ``movie_id``, ``payload`` JSON text, ``partition_date``) for
    ``partition_date`` against the contract, parsing each body once for all fields.

    Only fields below their ``x-min-share`` become breaches; fields with ``x-min-share`` 0
    are known (not reported as unknown) but never breach.
    """
    fields = contract_fields()
    paths = [f'$."{field.name}"' for field in fields]
    bad_flags = [
        f"coalesce(types[{position}] NOT IN ({', '.join(repr(t) for kind in field.types for t in DUCKDB_JSON_TYPES[kind])}), true)"
        for position, field in enumerate(fields, start=1)
    ]
    aggregates = ", ".join(f"count_if({flag}), (list(movie_id ORDER BY movie_id) FILTER (WHERE {flag}))[1:{EXAMPLES}]" for flag in bad_flags)
    row = conn.execute(
        f"""
        WITH typed AS (
            SELECT movie_id, json_type(payload, ?) AS types FROM {table} WHERE partition_date = ?
        )
        SELECT count(*), {aggregates} FROM typed
        """,
        [paths, partition_date],
    ).fetchone()
    bodies = row[0]
    breaches = []
    for position, field in enumerate(fields):
        bad, examples = row[1 + 2 * position], row[2 + 2 * position] or []
        if bodies and 1 - bad / bodies < field.min_share:
            payload = conn.execute(
                f"SELECT payload FROM {table} WHERE partition_date = ? AND movie_id = ? LIMIT 1", [partition_date, examples[0]]
            ).fetchone()[0]
            breaches.append(FieldBreach(field, bodies, bad, examples, _reason(field, payload)))
    known = [field.name for field in fields]
    unknown = dict(
        conn.execute(
            f"""
            SELECT key, count(*) FROM (SELECT unnest(json_keys(payload)) AS key FROM {table} WHERE partition_date = ?)
            WHERE NOT list_contains(?, key) GROUP BY key ORDER BY key
            """,
            [partition_date, known],
        ).fetchall()
    )
    return ContractReport(bodies, breaches, unknown)


def markdown_table() -> str:
    """The contract as a Markdown table (field, JSON types, nullable, min share, read by), for the README."""
    lines = ["| field | JSON type | may be null | min share of bodies | read by (silver) |", "| --- | --- | --- | --- | --- |"]
    for field in contract_fields():
        kinds = "/".join(kind for kind in field.types if kind != "null")
        lines.append(f"| `{field.name}` | {kinds} | {'yes' if field.nullable else 'no'} | {field.min_share:g} | {field.read_by} |")
    return "\n".join(lines)


if __name__ == "__main__":
    print(markdown_table())
