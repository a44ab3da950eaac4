"""`tre demo`: the whole path on a fresh instance with synthetic data, headless.

Each issue of the plan adds its step here, so the demo always runs everything the kit has.
"""

from __future__ import annotations

import shutil
import time
from enum import StrEnum
from pathlib import Path

from rich.console import Console

from app.schema import init_instance
from tre import audit
from tre.errors import TreError
from tre.folders import make_writable

DEMO_MARKER = ".tre-demo"


class DemoEvent(StrEnum):
    """The audit events the demo records."""

    GENERATE_DATA = "demo_data.generate"
    SDC = "sdc.demo"


def _fresh_folder(directory: Path) -> None:
    """The demo replaces its own folder, and only a folder it made itself."""
    if directory.exists():
        if not (directory / DEMO_MARKER).exists():
            from tre.errors import InstanceError

            raise InstanceError(
                f"{directory} exists and was not made by `tre demo`; nothing was changed "
                "(choose another folder with --dir)"
            )
        # extracts and releases are read-only: make everything writable so it can be removed
        make_writable(directory)
        shutil.rmtree(directory)


def run_demo(directory: Path, people: int, seed: int, console: Console, actor: str) -> Path:
    started = time.perf_counter()
    directory = directory.absolute()
    _fresh_folder(directory)
    home = directory / "instance"
    instance = init_instance(home, actor=actor)
    (directory / DEMO_MARKER).write_text("made by tre demo; replaced by the next run\n")
    console.print(f"[bold]1. Instance[/bold] created in {home}")

    from app.demo.data import generate

    incoming = instance.folder("incoming") / "demo-town"
    town = generate(people, seed, incoming)
    with instance.db.session() as session:
        audit.record(
            session,
            actor,
            DemoEvent.GENERATE_DATA,
            "dataset",
            "demo-town",
            details={"people": people, "seed": seed, "files": len(town.files)},
        )
    console.print(f"[bold]2. Synthetic agency data[/bold]: {town.summary()}")
    console.print(f"   in {incoming}")

    from app.demo import linkage as demo_linkage
    from app.demo import projects as demo_projects
    from app.demo import sdc as demo_sdc

    registered = demo_projects.run(instance, directory / "register", actor)
    console.print(
        f"[bold]3. Projects and people[/bold]: {registered.organisations} organisations, "
        f"{registered.people} people, {registered.datasets} datasets; project "
        f"{registered.project} approved by every controller and now {registered.state}"
    )
    for check in registered.checks:
        console.print("   " + check.replace("\n", "\n   "))
    console.print(f"   transparency register: {registered.register}")

    data = demo_linkage.run(instance, incoming, actor, registered.project)
    console.print(
        f"[bold]4. Safe data[/bold]: {data.rows:,} agency rows ingested, {data.accepted:,} "
        f"accepted, {data.quarantined:,} quarantined with reasons; {data.linkage.records:,} "
        f"person records linked into {data.linkage.people:,} people"
    )
    console.print(
        f"   linkage against the town's ground truth: precision {data.accuracy['precision']:.3f},"
        f" recall {data.accuracy['recall']:.3f}; estimated false-match rate "
        f"{100 * data.linkage.estimated_false_match_rate:.2f} %"
    )
    console.print(f"   linkage-quality report: {data.linkage.report}")
    rows = sum(f["rows"] for f in data.extract.files)
    console.print(
        f"   extract for {registered.project}: {len(data.extract.files)} read-only files, "
        f"{rows:,} rows of approved items with project pseudonyms, in {data.extract.folder}"
    )

    reports = directory / "reports"
    disclosure = demo_sdc.run(incoming, reports, instance.settings.policy)
    with instance.db.session() as session:
        audit.record(
            session,
            actor,
            DemoEvent.SDC,
            "output",
            disclosure.table.name,
            details={
                "cells": disclosure.table_cells,
                "suppressed": disclosure.table_suppressed,
                "recheck_problems": len(disclosure.recheck_problems),
            },
        )
    console.print(
        f"[bold]5. Disclosure control[/bold]: {disclosure.records:,} A&E attendances; "
        f"{disclosure.violations_before:,} violate 5-anonymity on age, sex and LSOA; "
        f"{disclosure.violations_recoded:,} after recoding age into bands, "
        f"{disclosure.violations_after} after suppressing {disclosure.suppressed_values:,} "
        "more values"
    )
    verdict = (
        "passes"
        if not disclosure.recheck_problems
        else "FAILS: " + "; ".join(disclosure.recheck_problems)
    )
    console.print(
        f"   a protected table of {disclosure.table_cells} cells ({disclosure.table_suppressed} "
        f"suppressed) re-checked under the instance's policy: {verdict}"
    )
    console.print(f"   reports in {reports}")

    from notebooks import runner, runs

    console.print(
        f"[bold]6. Analyses[/bold]: the four study notebooks, run by alex.analyst in "
        f"{registered.project}'s scope with papermill"
    )
    results = {}
    for name in runner.studies():
        result = runner.run(instance, name, registered.project, "alex.analyst")
        if result.status != runs.SUCCEEDED:
            raise TreError(f"the demo study {name} failed: {result.error}")
        tables = [o["file"] for o in result.outputs if o["has_evidence"]]
        console.print(f"   {name}: {len(tables)} outputs with evidence; report {result.report()}")
        results[name] = result

    from app.demo import airlock as demo_airlock

    released = demo_airlock.run(instance, registered.project, results["supporting-families"])
    console.print(
        f"[bold]7. Airlock[/bold]: request {released.request} of {released.files} files by "
        f"alex.analyst; automatic checks: {released.outcomes}"
    )
    console.print(f"   flagged for the checkers: {released.flagged}", markup=False)
    console.print(
        "   chris.checker and dana.checker approved every file (votes blinded until both were "
        f"in); released to {released.folder}"
    )
    console.print(f"   release RO-Crate: {released.crate}")

    with instance.db.session() as session:
        verified = audit.verify(session)
    console.print(f"[bold]8. Audit log[/bold]: {verified.message()}")
    console.print(
        f"\nDone in {time.perf_counter() - started:.1f} s. Explore it with:\n"
        f"  export TRE_HOME={home}\n  .venv/bin/tre status\n  .venv/bin/tre audit show"
    )
    return home
