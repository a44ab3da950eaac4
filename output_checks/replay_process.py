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
    """The replay process: read the request, make the output, print the answer (one line)."""
    from sdc.errors import SdcError
    from sdc.query import ExtractError, run
    from sdc.safe import replayable

    request = json.loads(sys.stdin.read())
    spec = request["spec"]
    memory = f"{max(256, int(request['memory_mb']) // 2)}MB"
    policy = Policy.from_env()
    try:
        if spec.get("version") != 1:
            raise SdcError(f"unknown replay specification version {spec.get('version')!r}")
        frame = run(Path(request["extract"]), spec.get("sql"), verify=True, memory_limit=memory)
        output = replayable(frame, str(spec.get("call")), spec.get("arguments") or {}, policy)
        evidence = output.evidence | {"replay": spec}
        evidence["function"] = f"sdc.safe.sql(...).{spec.get('call')}"
        answer: dict[str, Any] = {
            "ok": True,
            "csv": output.csv(),
            "evidence": json.loads(json.dumps(evidence, default=_json_default)),
        }
    except ExtractError as exc:
        answer = {"ok": False, "extract": str(exc)}
    except (SdcError, KeyError, TypeError, ValueError, AttributeError) as exc:
        answer = {"ok": False, "error": str(exc) or type(exc).__name__}
    except MemoryError:
        answer = {"limit": "the replay ran out of its memory limit; a checker judges the file"}
    sys.stdout.write(json.dumps(answer) + "\n")


def _json_default(value: Any) -> Any:
    from sdc.safe import _json_default as plain

    return plain(value)


if __name__ == "__main__":
    os.umask(0o077)
    _main()
