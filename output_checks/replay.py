"""The airlock verifies an output by making it again itself: the trust boundary.

Everything in a workspace, evidence files included, is written by the analyst's code: an
evidence file (``FILE.evidence.json``) is a *claim*. An output made with ``sdc.safe.sql(...)``
carries a replay specification (the SQL, the call and its arguments, the extract manifest's
sha-256); :func:`verify` re-runs it against the project's read-only extract (each file re-hashed
against the manifest first), in a separate process with a time and memory limit and with DuckDB
locked down (:func:`sdc.query.connect`), builds the protected output under the airlock's policy
(the operator's, made stricter by the project) and compares it cell by cell with the requested
file. Only a match passes ("verified by replay"), and then the evidence is the airlock's own.
Anything else is *review, evidence not verified*, with the reason, or *fail* when the file
differs from what its specification makes. See ``docs/airlock-trust.md``.

The replay process itself is :mod:`output_checks.replay_process` (JSON in on stdin, JSON out).
Where the airlock runs as root with bubblewrap (as the hub's sandbox profile does), that process
runs in a sandbox of its own (:func:`replay_command`): as the unprivileged account
``tre_airlock`` with only the project's group, without a network, seeing only the kit's software
and the project's extract (read-only at ``/tre/data``); DuckDB's lockdown is then its second wall,
not its only one.
"""

from __future__ import annotations

import csv
import io
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from output_checks.checks import Check, CheckOutcome
from sdc.policy import ENVIRONMENT_VARIABLE, EVIDENCE_SUFFIX, Policy

TIME_LIMIT_S = 120
MEMORY_LIMIT_MB = 4096
SHOWN_DIFFERENCES = 5
ERROR_CHARACTERS = 400  # of a replay's error, in the check (it may quote the data)
NOT_VERIFIED = "evidence not verified"
# where the airlock's own evidence is kept in the evidence check's record (see trusted_evidence)
AIRLOCK_EVIDENCE = "airlock_evidence"
# the replay's own system account (a person's account is tre-<username>, never with "_")
REPLAY_ACCOUNT = "tre_airlock"


def _claims(sidecar: dict[str, Any]) -> dict[str, Any]:
    """What the analyst's evidence file says of itself, for checkers, labelled as a claim."""
    summary = sidecar.get("summary")
    summary = summary if isinstance(summary, dict) else {}
    return {
        "analyst_claims": {
            "note": "written by the analyst's code: unverified",
            "function": str(sidecar.get("function", ""))[:200],
            "kind": str(sidecar.get("kind", ""))[:50],
            "summary": {  # a few numbers at most: the file is the analyst's, and may be large
                str(k)[:50]: v
                for k, v in list(summary.items())[:20]
                if isinstance(v, (int, float)) and not isinstance(v, bool)
            },
        }
    }


def _unverified(reason: str, sidecar: dict[str, Any] | None) -> Check:
    return Check(
        "evidence",
        CheckOutcome.REVIEW,
        f"{NOT_VERIFIED}: {reason}",
        _claims(sidecar) if isinstance(sidecar, dict) else {},
    )


def _failed(explanation: str, sidecar: dict[str, Any] | None, **more: Any) -> Check:
    record = _claims(sidecar) if isinstance(sidecar, dict) else {}
    return Check("evidence", CheckOutcome.FAIL, explanation, record | more)


def verify(
    copy_path: Path,
    sidecar: dict | None,
    extract: Path | None,
    policy: Policy,
    time_limit_s: float = TIME_LIMIT_S,
    memory_limit_mb: int = MEMORY_LIMIT_MB,
    project: str | None = None,
) -> tuple[Check, dict | None]:
    """The evidence check of the airlock's copy of a requested file, and the airlock's own
    evidence of it when the replay verified it (None otherwise).

    SIDECAR is the file's evidence as the analyst's code wrote it (None when there is none):
    only its replay specification is used, and only as a recipe; EXTRACT is the project's
    extract folder (None when there is none); POLICY the airlock's; PROJECT, when given, the
    project whose group may read the extract (the replay then runs in its sandbox, see
    :func:`replay_command`)."""
    return verify_all(
        [(copy_path, sidecar)], extract, policy, time_limit_s, memory_limit_mb, project
    )[0]


def verify_all(
    files: list[tuple[Path, dict | None]],
    extract: Path | None,
    policy: Policy,
    time_limit_s: float = TIME_LIMIT_S,
    memory_limit_mb: int = MEMORY_LIMIT_MB,
    project: str | None = None,
) -> list[tuple[Check, dict | None]]:
    """:func:`verify` of every (copy, sidecar) of FILES, with one replay process for all of
    them (its start-up and the extract's hashing are paid once; the time limit is per file)."""
    current: str | Exception | None = None
    if extract is not None:
        from sdc.query import ExtractError, manifest_sha256

        try:
            current = manifest_sha256(extract)
        except ExtractError as exc:
            current = exc
    results: list[tuple[Check, dict | None] | None] = []
    specs: list[dict[str, Any]] = []
    for copy_path, sidecar in files:
        early = _before_replay(copy_path, sidecar, extract, current)
        results.append(None if early is None else (early, None))
        if early is None:
            specs.append(sidecar["replay"])  # type: ignore[index]
    if specs and extract is not None and isinstance(current, str):  # (always so when specs)
        answers = iter(
            _replay(extract, specs, policy, time_limit_s * len(specs), memory_limit_mb, project)
        )
        for k, (copy_path, sidecar) in enumerate(files):
            if results[k] is None and sidecar is not None:
                results[k] = _judge(copy_path, sidecar, next(answers), policy, current)
    return [r for r in results if r is not None]


def _before_replay(
    copy_path: Path, sidecar: dict | None, extract: Path | None, current: str | Exception | None
) -> Check | None:
    """Why FILE cannot be replayed (the check to give), or None when it can."""
    name = copy_path.name
    if sidecar is None:
        return _unverified(
            f"{name} has no evidence file, so the airlock knows nothing of how it was made; "
            "make it with sdc.safe.sql(...) for a verified check, or a checker judges it",
            None,
        )
    if not isinstance(sidecar, dict) or "replay" not in sidecar:
        return _unverified(
            f"{name}'s evidence file was written in the analyst's kernel without a replay "
            "specification (it was not made with sdc.safe.sql(...)), so the airlock cannot make "
            "the output again to check it; what the evidence file says is the analyst's claim",
            sidecar if isinstance(sidecar, dict) else None,
        )
    spec = sidecar["replay"]
    if copy_path.suffix.lower() != ".csv":
        return _unverified(
            f"{name} is a {copy_path.suffix or 'file'} and only a CSV table can be compared "
            "cell by cell with its replay; save the output as .csv (a picture goes beside its "
            "table for the checkers)",
            sidecar,
        )
    if extract is None:
        return _unverified("the project has no extract to replay the output against", sidecar)
    if isinstance(current, Exception):
        return _unverified(str(current), sidecar)
    if not isinstance(spec, dict):
        return _failed(f"{name}'s replay specification is not a specification", sidecar)
    if spec.get("extract_manifest_sha256") != current:
        return _unverified(
            f"{name} was made from another extract than the project's current one (its "
            "manifest's sha-256 differs): run the notebook again and request the new output",
            sidecar,
        )
    return None


def _judge(
    copy_path: Path, sidecar: dict, answer: dict[str, Any], policy: Policy, current: str
) -> tuple[Check, dict | None]:
    """The evidence check of FILE from the replay's ANSWER: the file compared cell by cell."""
    name = copy_path.name
    spec = sidecar["replay"]
    if answer.get("limit"):
        return _unverified(str(answer["limit"]), sidecar), None
    if answer.get("extract"):
        return _failed(
            f"the airlock cannot replay {name}: {answer['extract']} (tell the operator)", sidecar
        ), None
    if not answer.get("ok"):
        error = str(answer.get("error", "the replay failed"))[:ERROR_CHARACTERS]
        return _failed(
            f"the airlock could not make {name} again from its replay specification: {error}. "
            "An output that its own recipe cannot make is not what it claims to be",
            sidecar,
        ), None
    try:
        requested = copy_path.read_bytes().decode("utf-8")
    except UnicodeDecodeError:
        return _failed(f"{name} is not UTF-8 text, so it is not the table replayed", sidecar), None
    differences = compare(requested, answer["csv"])
    if differences:
        shown = "; ".join(differences[:SHOWN_DIFFERENCES])
        more = len(differences) - SHOWN_DIFFERENCES
        return _failed(
            f"{name} is not the table its replay specification makes under the airlock's policy "
            f"({len(differences)} difference{'s' if len(differences) != 1 else ''}: {shown}"
            + (f"; and {more} more" if more > 0 else "")
            + ")",
            sidecar,
            differences=differences[:100],
        ), None
    from sdc.safe import recheck

    evidence = answer["evidence"]
    evidence["output"] = {"file": name, "format": "csv", "content": "published"}
    evidence["verified"] = {
        "by": "replay",
        "extract_manifest_sha256": current,
        "airlock_policy": policy.to_dict(),  # built under it, or a stricter one the analyst asked
    }
    problems = recheck(evidence, policy)
    if problems:  # the airlock's own output under its own policy: a defect of sdc, not of the file
        return _failed(
            f"replayed, but the airlock's own evidence fails its policy: {'; '.join(problems[:5])}",
            sidecar,
        ), None
    summary = evidence.get("summary", {})
    described = ", ".join(f"{k} {v}" for k, v in summary.items())
    return Check(
        "evidence",
        CheckOutcome.PASS,
        f"verified by replay: the airlock ran {name}'s query against the project's hashed "
        f"extract itself, made the {spec.get('call')} under its own policy and got exactly this "
        f"file ({described})",
        {
            "verified_by": "replay",
            "kind": evidence.get("kind"),
            "summary": summary,
            AIRLOCK_EVIDENCE: evidence,
        },
    ), evidence


def read_sidecar(path: Path) -> dict[str, Any] | None:
    """The evidence file beside PATH as the analyst's code wrote it (None when there is none;
    an unreadable one is an empty claim)."""
    sidecar = path.with_name(path.name + EVIDENCE_SUFFIX)
    if not sidecar.is_file():
        return None
    try:
        found = json.loads(sidecar.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        return {}
    return found if isinstance(found, dict) else {}


def trusted_evidence(checks: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The airlock's own evidence of a file, from its stored checks (None: not verified)."""
    for check in checks:
        if check.get("name") == "evidence" and check.get("outcome") == "pass":
            found = (check.get("evidence") or {}).get(AIRLOCK_EVIDENCE)
            if isinstance(found, dict):
                return found
    return None


# ---------------------------------------------------------------------------------------------
# Comparison


def _cells(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text)))


def compare(requested: str, replayed: str) -> list[str]:
    """How the requested CSV differs from the replayed one, as sentences (empty: the same).
    The file must be the replay's CSV character for character: labels, shape, every number
    written as the replay writes it (a number written another way, with more digits, spaces or
    an exponent, is a channel for what the replay did not make), an empty cell (a suppressed
    one) only where the replay has one."""
    if requested == replayed:
        return []
    try:
        mine, theirs = _cells(replayed), _cells(requested)
    except csv.Error as exc:
        return [f"the file cannot be read as the replay's CSV ({exc})"]
    differences = []
    if len(theirs) != len(mine):
        differences.append(f"{len(theirs)} lines where the replay has {len(mine)}")
    header = mine[0] if mine else []
    for i, (expected, found) in enumerate(zip(mine, theirs, strict=False)):
        if len(found) != len(expected):
            differences.append(
                f"line {i + 1} has {len(found)} fields where the replay has {len(expected)}"
            )
            continue
        for j, (want, got) in enumerate(zip(expected, found, strict=True)):
            if want == got:
                continue
            where = f"{expected[0] or 'header'} / {header[j] if j < len(header) else j}"
            shown = want or "empty (suppressed)"
            differences.append(
                f"cell {where} is {got[:40] or 'empty'} where the replay has {shown[:40]}"
            )
    if not differences:
        differences.append(
            "the file's characters differ from the replay's CSV (quoting, spacing, line ends or "
            "trailing content): save the output with .save() and request it unchanged"
        )
    return differences


# ---------------------------------------------------------------------------------------------
# The replay process


def _limits(memory_limit_mb: int, time_limit_s: float) -> Any:
    def apply() -> None:
        memory = memory_limit_mb * 1024 * 1024
        resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
        seconds = int(time_limit_s) + 5
        resource.setrlimit(resource.RLIMIT_CPU, (seconds, seconds))
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))

    return apply


def replay_command(argv: list[str], extract: Path, project: str | None) -> tuple[list[str], str]:
    """ARGV as the airlock runs it, and where it sees the extract. Run by root with bubblewrap
    and a PROJECT: in a sandbox, as :data:`REPLAY_ACCOUNT` with only the project's group (the
    one that may read its extract), without a network or capabilities, seeing the kit's
    software and the extract read-only at ``/tre/data`` and nothing else of the machine's
    folders but /usr and /etc. Otherwise (a kit run by an unprivileged account, e.g. on a
    laptop) as it is, with the extract where it is: DuckDB's lockdown is then the only wall."""
    if project is None or os.geteuid() != 0 or shutil.which("bwrap") is None:
        return argv, str(extract)
    from tre import sandbox

    _ensure_replay_account()
    sandbox.share_read_only(extract, project)
    box = sandbox.Sandbox(
        account=REPLAY_ACCOUNT,
        mounts=(sandbox.Mount(extract, sandbox.DATA),),
        group=sandbox.group_name(project),
        workdir="/tmp",
    )
    command = box.command(argv)
    return [command[0], "--unshare-net", *command[1:]], sandbox.DATA


def _ensure_replay_account() -> None:
    import pwd

    try:
        pwd.getpwnam(REPLAY_ACCOUNT)
    except KeyError:
        subprocess.run(
            ["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin"]
            + ["--user-group", REPLAY_ACCOUNT],
            check=True,
            capture_output=True,
        )


def _replay(
    extract: Path,
    specs: list[dict[str, Any]],
    policy: Policy,
    time_limit_s: float,
    memory_limit_mb: int,
    project: str | None = None,
) -> list[dict[str, Any]]:
    """Run the replay process on SPECS; its answer for each ({"ok": True, "csv", "evidence"}
    or the reason), in order."""
    argv, seen = replay_command(
        [sys.executable, "-I", "-m", "output_checks.replay_process"], extract, project
    )
    request = json.dumps({"extract": seen, "specs": specs, "memory_mb": memory_limit_mb})

    def everyone(answer: dict[str, Any]) -> list[dict[str, Any]]:
        return [answer] * len(specs)

    with tempfile.TemporaryDirectory(prefix="tre-replay-") as work:
        inside = work if argv[0] == sys.executable else "/tmp"
        environment = {
            "PATH": "/usr/bin:/bin",
            "LANG": "C.UTF-8",
            "HOME": inside,
            "MPLCONFIGDIR": inside,
            "OMP_NUM_THREADS": "1",
            "OPENBLAS_NUM_THREADS": "1",
            ENVIRONMENT_VARIABLE: policy.to_json(),
        }
        try:
            done = subprocess.run(
                argv,
                input=request,
                capture_output=True,
                text=True,
                cwd=work,
                env=environment,
                timeout=time_limit_s,
                preexec_fn=_limits(memory_limit_mb, time_limit_s),
                start_new_session=True,
            )
        except subprocess.TimeoutExpired:
            return everyone(
                {"limit": f"the replay took longer than the airlock's limit of {time_limit_s:g} s"}
            )
    try:
        lines = done.stdout.strip().splitlines()
        answers = json.loads(lines[-1]).get("answers") if lines else None
    except (json.JSONDecodeError, AttributeError):
        answers = None
    if not isinstance(answers, list) or len(answers) != len(specs):
        if done.returncode < 0 or "MemoryError" in done.stderr or "Out of Memory" in done.stderr:
            return everyone(
                {
                    "limit": "the replay stopped (signal or memory limit of "
                    f"{memory_limit_mb:,} MB); a checker judges the file"
                }
            )
        last = (done.stderr.strip().splitlines() or ["no answer"])[-1][:300]
        return everyone({"ok": False, "error": f"the replay process failed ({last})"})
    return answers
