"""Stand-ins for dbt's Jinja globals, so sqlfluff's Jinja templater renders every model without a
database (`.sqlfluff` points `library_path` here; a package's names become Jinja globals). They
return SQL of the right shape, not dbt's exact SQL: only the models' own SQL is linted."""

from pathlib import Path
from types import SimpleNamespace

import yaml

_VARS = yaml.safe_load((Path(__file__).resolve().parents[1] / "dbt_project.yml").read_text(encoding="utf-8"))["vars"]


def var(name, default=None):
    """The project's vars from dbt_project.yml, with their types (models do arithmetic on them)."""
    return _VARS.get(name, default)


dbt = SimpleNamespace(
    dateadd=lambda datepart, interval, from_date_or_timestamp: f"({from_date_or_timestamp} + interval ({interval}) {datepart})",
    datediff=lambda first_date, second_date, datepart: f"date_diff('{datepart}', {first_date}, {second_date})",
    date_trunc=lambda datepart, date: f"date_trunc('{datepart}', {date})",
    generate_series=lambda upper_bound: f"select unnest(range(1, {upper_bound} + 1)) as generated_number",
)

adapter = SimpleNamespace(
    dispatch=lambda name, macro_namespace=None: lambda *args: f"{name}({', '.join(str(a) for a in args)})")


class _Relation:
    @staticmethod
    def create(database=None, schema=None, identifier=None, **_):
        return ".".join(part for part in (schema, identifier) if part)


api = SimpleNamespace(Relation=_Relation)
