"""The airlock's replay process: makes one output again from its replay specification.

Started by :func:`output_checks.replay.verify` as ``python -I -m output_checks.replay_process``
with a time and memory limit, an empty environment but the airlock's policy
(``TRE_DISCLOSURE_POLICY``) and a fresh working folder. It reads one request as JSON on stdin
(the extract's folder, the specification, the memory limit), re-hashes the extract against its
manifest, runs the SQL in a locked-down DuckDB (:func:`sdc.query.connect`), builds the output
with :func:`sdc.safe.replayable` and writes one line of JSON: ``{"ok": true, "csv", "evidence"}``
or the reason it could not. It imports only sdc, so it starts fast.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

from sdc.policy import Policy


def _main() -> None:
    """The replay process: read the request, make each output, print the answers (one line)."""
    from sdc.query import ExtractError, views

    request = json.loads(sys.stdin.read())
    specs = request["specs"]
    extract = Path(request["extract"])
    memory = f"{max(256, int(request['memory_mb']) // 2)}MB"
    policy = Policy.from_env()
    try:
        views(extract, verify=True)  # every file of the extract against its manifest, once
    except ExtractError as exc:
        answers = [{"ok": False, "extract": str(exc)} for _ in specs]
    else:
        frames: dict[str, Any] = {}  # one query's rows, shared by the outputs made from it
        answers = [_one(extract, spec, policy, memory, frames) for spec in specs]
    sys.stdout.write(json.dumps({"answers": answers}) + "\n")


def _one(
    extract: Path, spec: dict[str, Any], policy: Policy, memory: str, frames: dict[str, Any]
) -> dict[str, Any]:
    from sdc.errors import SdcError
    from sdc.query import replay_policy, run
    from sdc.safe import replayable

    try:
        if not isinstance(spec, dict) or spec.get("version") != 1:
            raise SdcError("this is not a replay specification of version 1")
        sql = spec.get("sql")
        if not isinstance(sql, str):
            raise SdcError("the specification's sql is not text")
        if sql not in frames:
            frames.clear()  # keep one query's rows at a time: the memory limit is per process
            frames[sql] = run(extract, sql, memory_limit=memory)
        output = replayable(
            frames[sql],
            str(spec.get("call")),
            spec.get("arguments") or {},
            replay_policy(spec, policy),
            sql,
        )
        evidence = output.evidence | {"replay": spec}
        evidence["function"] = f"sdc.safe.sql(...).{spec.get('call')}"
        return {
            "ok": True,
            "csv": output.csv(),
            "evidence": json.loads(json.dumps(evidence, default=_json_default)),
        }
    except (SdcError, KeyError, TypeError, ValueError, AttributeError) as exc:
        return {"ok": False, "error": str(exc) or type(exc).__name__}
    except MemoryError:
        return {"limit": "the replay ran out of its memory limit; a checker judges the file"}


def _json_default(value: Any) -> Any:
    from sdc.safe import _json_default as plain

    return plain(value)


if __name__ == "__main__":
    os.umask(0o077)
    _main()
