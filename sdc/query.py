"""The database side of replayable outputs: a locked-down DuckDB over the project's extract.

``sdc.safe.sql("SELECT ... FROM ae_attendances ...")`` runs a query over the project's read-only
extract (each Parquet file of the folder ``TRE_DATA`` points at is a view named by its dataset,
as ``notebooks.workspace.data`` names them) and returns a ``Query`` whose ``crosstab``,
``describe`` and ``hist`` make the protected output with the ordinary ``sdc.safe`` function and
record in its evidence a *replay specification* (:func:`specification`): the SQL, the call and
its arguments, and the sha-256 of the extract's manifest.

Why: everything a workspace writes, evidence files included, is written by the analyst's code
and could be forged. The airlock (``output_checks.replay``) does not believe an evidence file: it
runs the specification again itself, against the extract it hashed, under its own policy, and
compares what it built with the requested file. The same functions make the output in the
kernel and in the airlock (``sdc.safe.replayable``), so an honest output is rebuilt exactly.

The database is locked down the same way on both sides (:func:`connect`): views over the
extract's files only, one thread (deterministic sums), no other file, no writing, no attaching,
no extensions; a query is one ``SELECT``.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from sdc.errors import SdcError
from sdc.policy import Policy

if TYPE_CHECKING:
    import duckdb


MANIFEST = "manifest.json"
REPLAY_VERSION = 1
DATA_VARIABLE = "TRE_DATA"
# the calls a replay specification may name, and the arguments each takes (name: default)
CALLS: dict[str, dict[str, Any]] = {
    "crosstab": {"rows": None, "cols": [], "values": None, "aggfunc": "count", "margins": True},
    "describe": {"columns": None},
    "hist": {"column": None, "bins": 10, "range": None, "title": None},
}


class ExtractError(SdcError):
    """The extract is missing, or a file of it does not match its manifest."""


def _sha256(path: Path) -> str:
    with open(path, "rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()


def manifest_sha256(extract: Path) -> str:
    """The sha-256 of the extract's manifest (which lists every file's sha-256)."""
    manifest = extract / MANIFEST
    if not manifest.is_file():
        raise ExtractError(
            f"{extract} holds no extract ({MANIFEST} is missing); the operator makes it with "
            "`tre data extract`"
        )
    return _sha256(manifest)


def views(extract: Path, verify: bool) -> dict[str, Path]:
    """The extract's Parquet files by view name (the file's stem, its dataset's name). With
    VERIFY, each file is re-hashed against the manifest first (the airlock's side)."""
    manifest_sha256(extract)
    listed = json.loads((extract / MANIFEST).read_text(encoding="utf-8"))
    found: dict[str, Path] = {}
    for entry in listed["files"]:
        name = str(entry["file"])
        path = extract / name
        if Path(name).name != name or not name.endswith(".parquet"):
            raise ExtractError(f"the extract's manifest lists {name!r}, not a Parquet file")
        if verify and (not path.is_file() or _sha256(path) != entry["sha256"]):
            raise ExtractError(
                f"the extract's file {name} does not match its manifest; the operator must cut "
                "the extract again"
            )
        found[Path(name).stem] = path.resolve()
    return found


def _identifier(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def connect(
    extract: Path, verify: bool = False, memory_limit: str = "2GB"
) -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB database whose only tables are views over the extract's files,
    then locked: external access off (only the extract's own files stay readable), extensions
    neither installed nor loaded, the configuration frozen, one thread."""
    import duckdb

    files = views(extract, verify)
    connection = duckdb.connect(":memory:", config={"threads": 1})
    for name, path in files.items():
        connection.execute(
            f"CREATE VIEW {_identifier(name)} AS SELECT * FROM read_parquet({_literal(str(path))})"
        )
    allowed = ", ".join(_literal(str(p)) for p in files.values())
    for setting in (
        "SET threads = 1",
        f"SET memory_limit = {_literal(memory_limit)}",
        "SET autoinstall_known_extensions = false",
        "SET autoload_known_extensions = false",
        "SET allow_community_extensions = false",
        f"SET allowed_paths = [{allowed}]",
        "SET enable_external_access = false",
        "SET lock_configuration = true",
    ):
        connection.execute(setting)
    return connection


def check_sql(sql: str) -> None:
    """A query is exactly one SELECT (or WITH ... SELECT, FROM ..., VALUES) statement."""
    import duckdb

    if not isinstance(sql, str) or not sql.strip():
        raise SdcError("safe.sql needs a query: one SELECT statement over the extract's datasets")
    try:
        statements = duckdb.extract_statements(sql)
    except duckdb.Error as exc:
        raise SdcError(f"the query cannot be parsed: {exc}") from None
    if len(statements) != 1:
        raise SdcError(f"the query holds {len(statements)} statements; give exactly one SELECT")
    if statements[0].type != duckdb.StatementType.SELECT:
        raise SdcError(
            f"the query is a {statements[0].type.name} statement; safe.sql runs only a SELECT "
            "over the extract's datasets"
        )


PERSON = "person"


def people_unverified(sql: str) -> str | None:
    """Why the ``person`` column of SQL's rows may not be each row's own person, or None when
    it is: the airlock counts people by it (holdings), so a query must not be able to split one
    person's records among made-up people or attach a record to someone else. Verified, in
    DuckDB's parse tree: every row source is an extract dataset, a CTE or subquery verified in
    turn, a UNION of such, or a join on ``person`` alone; ``person`` is selected as the plain
    column; a grouped query groups by ``person``; no window function or subquery in the
    expressions (they read other rows)."""
    import duckdb

    check_sql(sql)
    connection = duckdb.connect(":memory:")
    try:
        row = connection.execute("SELECT json_serialize_sql(?)", [sql]).fetchone()
        tree = json.loads(row[0] if row else '{"error": true}')
    finally:
        connection.close()
    if tree.get("error"):
        return f"the query could not be read: {tree.get('error_message', 'unknown error')}"
    return _node_unverified(tree["statements"][0]["node"], {})


def _is_person(expression: dict[str, Any]) -> bool:
    return (
        expression.get("class") == "COLUMN_REF"
        and expression.get("column_names", [None])[-1] == PERSON
    )


def _reads_other_rows(expression: Any) -> bool:
    if isinstance(expression, dict):
        if expression.get("class") in ("WINDOW", "SUBQUERY"):
            return True
        return any(_reads_other_rows(value) for value in expression.values())
    if isinstance(expression, list):
        return any(_reads_other_rows(value) for value in expression)
    return False


def _node_unverified(node: dict[str, Any], ctes: dict[str, Any]) -> str | None:
    ctes = dict(ctes)
    for entry in node.get("cte_map", {}).get("map", []):
        ctes[entry["key"]] = (entry["value"]["query"]["node"], dict(ctes))
    if node.get("type") == "SET_OPERATION_NODE":
        if node.get("setop_type") != "UNION":
            return f"a {node.get('setop_type')} of queries is not verified; use UNION ALL"
        return _node_unverified(node["left"], ctes) or _node_unverified(node["right"], ctes)
    if node.get("type") != "SELECT_NODE":
        return f"a {node.get('type')} is not verified"
    chosen = node.get("select_list", [])
    if not any(_is_person(e) and e.get("alias") in ("", PERSON) for e in chosen):
        return "the query does not select the extract's own person column"
    if any(e.get("alias") == PERSON and not _is_person(e) for e in chosen):
        return "the query names something else person"
    groups = node.get("group_expressions", [])
    if groups and not any(_is_person(e) for e in groups):
        return "a grouped query must group by person (each row is then one person's)"
    if len(node.get("group_sets", [])) > 1:
        return "grouping sets, ROLLUP and CUBE are not verified"
    expressions = [chosen, node.get("where_clause"), node.get("having"), node.get("qualify")]
    expressions += [groups, node.get("modifiers")]
    if _reads_other_rows(expressions):
        return "a window function or a subquery in the expressions reads other people's rows"
    return _source_unverified(node.get("from_table"), ctes)


def _source_unverified(source: dict[str, Any] | None, ctes: dict[str, Any]) -> str | None:
    kind = (source or {}).get("type")
    if kind == "BASE_TABLE":
        name = source["table_name"]  # type: ignore[index]
        if name in ctes and not source.get("schema_name"):  # type: ignore[union-attr]
            node, scope = ctes[name]
            return _node_unverified(node, scope)
        return None  # an extract dataset: its person column is the person of each record
    if kind == "SUBQUERY":
        return _node_unverified(source["subquery"]["node"], ctes)  # type: ignore[index]
    if kind == "JOIN":
        assert source is not None
        condition = source.get("condition") or {}
        on_person = source.get("using_columns") == [PERSON] or (
            condition.get("type") == "COMPARE_EQUAL"
            and _is_person(condition.get("left", {}))
            and _is_person(condition.get("right", {}))
            and condition["left"]["column_names"] != condition["right"]["column_names"]
        )
        if not on_person or source.get("join_type") not in ("INNER", "LEFT", "RIGHT"):
            return (
                "a join must be on person alone (USING (person)): another join can give "
                "a record someone else's row"
            )
        return _source_unverified(source["left"], ctes) or _source_unverified(source["right"], ctes)
    return f"rows from a {kind or 'query without FROM'} are not verified"


def run(extract: Path, sql: str, verify: bool = False, memory_limit: str = "2GB") -> pd.DataFrame:
    """The rows of SQL over the extract, in a locked-down database."""
    import duckdb

    check_sql(sql)
    connection = connect(extract, verify, memory_limit)
    try:
        return connection.sql(sql).df()
    except duckdb.OutOfMemoryException as exc:
        raise MemoryError(
            f"the query needs more than the memory limit of {memory_limit}: {exc}"
        ) from None
    except duckdb.Error as exc:
        names = ", ".join(sorted(views(extract, False)))
        raise SdcError(
            f"the query failed: {exc} (the query can read only the extract's datasets: {names})"
        ) from None
    finally:
        connection.close()


def arguments_of(call: str, given: dict[str, Any]) -> dict[str, Any]:
    """CALL's arguments, complete and checked (what a replay specification records)."""
    if call not in CALLS:
        raise SdcError(f"unknown call {call!r}; a replay runs one of {', '.join(CALLS)}")
    if not isinstance(given, dict):
        raise SdcError("the call's arguments must be a mapping")
    unknown = sorted(set(given) - set(CALLS[call]))
    if unknown:
        raise SdcError(f"{call} takes no argument {', '.join(unknown)}")
    arguments = CALLS[call] | given

    def names(value: Any, what: str, empty: bool) -> list[str]:
        value = [value] if isinstance(value, str) else value
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise SdcError(f"{call}'s {what} must be a column name or a list of them")
        if not value and not empty:
            raise SdcError(f"{call} needs {what}")
        return list(value)

    if call == "crosstab":
        arguments["rows"] = names(arguments["rows"], "rows", empty=False)
        arguments["cols"] = names(arguments["cols"] or [], "cols", empty=True)
        if arguments["values"] is not None and not isinstance(arguments["values"], str):
            raise SdcError("crosstab's values must be a column name")
        if not isinstance(arguments["aggfunc"], str):
            raise SdcError("crosstab's aggfunc must be a name (count, sum, mean...)")
        if not isinstance(arguments["margins"], bool):
            raise SdcError("crosstab's margins must be true or false")
    elif call == "describe":
        if arguments["columns"] is not None:
            arguments["columns"] = names(arguments["columns"], "columns", empty=False)
    else:
        if not isinstance(arguments["column"], str):
            raise SdcError("hist needs one column name")
        if isinstance(arguments["bins"], bool) or not isinstance(arguments["bins"], int):
            raise SdcError("hist's bins must be a whole number")
        if arguments["range"] is not None:
            bounds = list(arguments["range"])
            if len(bounds) != 2 or not all(isinstance(b, (int, float)) for b in bounds):
                raise SdcError("hist's range is two numbers, low and high")
            arguments["range"] = [float(b) for b in bounds]
        if arguments["title"] is not None and not isinstance(arguments["title"], str):
            raise SdcError("hist's title must be text")
    return arguments


def specification(
    sql: str,
    call: str,
    arguments: dict[str, Any],
    manifest: str,
    policy: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """What the airlock needs to make the output again itself. POLICY, when the analyst asked
    for a stricter one than the workspace's: the airlock uses it only if it is at least as
    strict as its own (see :func:`replay_policy`)."""
    spec = {
        "version": REPLAY_VERSION,
        "sql": sql,
        "call": call,
        "arguments": arguments_of(call, arguments),
        "extract_manifest_sha256": manifest,
    }
    if policy is not None:
        spec["policy"] = policy
    return spec


def replay_policy(spec: dict[str, Any], airlock: Policy) -> Policy:
    """The policy a replay builds under: the specification's own when it is at least as strict
    as the airlock's in every setting (an analyst may be more careful), else the airlock's."""
    asked = spec.get("policy")
    if not isinstance(asked, dict):
        return airlock
    try:
        candidate = Policy.from_mapping(asked)
    except SdcError:
        return airlock
    return candidate if not airlock.looser_settings(candidate) else airlock
