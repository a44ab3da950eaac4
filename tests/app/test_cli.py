def test_init_status_and_verify_from_the_cli(tmp_path, run_cli, monkeypatch):
    home = tmp_path / "inst"
    code, out, err = run_cli("init", str(home))
    assert code == 0, err
    assert "Created a tre-kit instance" in out
    code, out, err = run_cli("status", home=home)
    assert code == 0, err
    assert "audit events" in out and "sqlite" in out
    code, out, _ = run_cli("audit", "verify", home=home)
    assert code == 0 and "1 events checked" in out
    code, _, err = run_cli("init", str(home))
    assert code == 2 and "already holds a tre-kit instance" in err


def test_commands_without_an_instance_say_how_to_make_one(run_cli, monkeypatch):
    monkeypatch.delenv("TRE_HOME", raising=False)
    code, _, err = run_cli("status")
    assert code == 2
    assert "pass --home DIR or set TRE_HOME" in err and "Traceback" not in err


def test_init_records_the_actor(tmp_path, run_cli):
    home = tmp_path / "inst"
    run_cli("--actor", "ops:alex", "init", str(home))
    code, out, _ = run_cli("audit", "show", "--json", home=home)
    assert '"actor": "ops:alex"' in out


def test_audit_show_limit_shows_the_newest_events_in_time_order(tmp_path, run_cli):
    """`tre audit show --limit 3` once showed the three oldest events."""
    from tre import audit
    from tre.instance import open_instance

    home = tmp_path / "inst"
    run_cli("init", str(home))
    with open_instance(home).db.session() as session:
        for i in range(6):
            audit.record(session, "ops:alex", "thing.change", "thing", i)
    code, out, err = run_cli("audit", "show", "--limit", "3", home=home)
    assert code == 0, err
    assert seqs(out) == [5, 6, 7]
    code, out, _ = run_cli("audit", "show", home=home)
    assert seqs(out) == list(range(1, 8))
    for nonsense in ("0", "-1"):  # once quietly every event
        code, _, err = run_cli("audit", "show", "--limit", nonsense, home=home)
        assert code == 2 and "--limit" in err


def seqs(table: str) -> list[int]:
    """The event numbers of `tre audit show`'s table, top to bottom."""
    return [
        int(line.split()[0])
        for line in table.splitlines()
        if line.split()[:1] != [] and line.split()[0].isdigit()
    ]


def test_audit_show_is_a_readable_table_unless_json(tmp_path, run_cli):
    """`tre audit show` once printed each event's details as raw JSON."""
    import json

    from tre import audit
    from tre.instance import open_instance

    home = tmp_path / "inst"
    run_cli("init", str(home))
    details = {"file": "[bold]tables/ages.csv[/bold]", "rows": 12, "ok": True}
    with open_instance(home).db.session() as session:
        audit.record(
            session, "alex.analyst", "airlock.add_file", "release_request", "req-20261205-273c76",
            project="supporting-families", details=details,
        )  # fmt: skip
    code, out, err = run_cli("audit", "show", home=home)
    assert code == 0, err
    assert "{" not in out and '"' not in out
    for shown in (
        "time (UTC)", "airlock.add_file", "by alex.analyst",
        "release_request:req-20261205-273c76", "in supporting-families",
        "file: [bold]tables/ages.csv[/bold]", "rows: 12", "ok: true",
    ):  # fmt: skip
        assert shown in out, shown
    code, out, _ = run_cli("audit", "show", "--json", home=home)
    assert json.loads(out.splitlines()[-1])["details"] == details
    code, out, _ = run_cli("audit", "show", "--actor", "nobody", home=home)
    assert code == 0 and "no audit events match" in out


def test_outputs_stats_is_a_table_unless_json(tmp_path, run_cli):
    """`tre outputs stats` once printed raw JSON."""
    import json

    from output_checks.cli import stats_table
    from tre.cli_context import console

    home = tmp_path / "inst"
    run_cli("init", str(home))
    code, out, err = run_cli("outputs", "stats", home=home)
    assert code == 0, err
    assert "{" not in out and "requests" in out and "none yet" in out
    code, out, _ = run_cli("outputs", "stats", "--json", home=home)
    assert json.loads(out)["requests"] == 0
    found = {
        "requests": 3,
        "by_state": {"partially_reviewed": 1, "rejected": 2},
        "median_hours_to_first_review": 2.25,
        "median_hours_to_release": None,
        "mean_turns": 1.33,
        "files_decided": 8,
        "checker_disagreement_rate": 0.125,
        "automatic_matched_checkers_rate": 0.75,
        "rejection_reasons": {"dominated mean": 2},
    }
    with console.capture() as captured:
        console.print(stats_table(found))
    text = captured.get()
    for shown in (
        "reviewed by some checkers",
        "2.2 hours",
        "12% of files",
        "75% of files",
        "dominated",
    ):
        assert shown in text, shown


HEAVY = ("pandas", "numpy", "sqlalchemy", "alembic", "duckdb", "pyarrow", "papermill", "splink")


def test_tre_help_imports_nothing_heavy():
    """`tre --help` once took 2-3 s, importing pandas and SQLAlchemy to print a list."""
    import subprocess
    import sys

    probe = (
        "import sys\nfrom app.cli import cli\n"
        "try:\n    cli.main(['--help'])\nexcept SystemExit:\n    pass\n"
        f"print(*[m for m in {HEAVY!r} if m in sys.modules], file=sys.stderr)"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert "demo-data" in done.stdout and done.stderr.strip() == ""


def test_lazy_commands_are_listed_as_their_own_help_says(run_cli, monkeypatch):
    """A lazily registered command's short help in `tre --help` is the command's own."""
    from app import cli

    for name in cli.LAZY:  # not imported yet, whatever ran before
        monkeypatch.delitem(cli.cli.commands, name, raising=False)
    code, lazily, _ = run_cli("--help")
    assert code == 0 and "demo-data" in lazily
    for name in cli.LAZY:  # now imported: listed from the command itself
        cli.cli.get_command(None, name)  # type: ignore[arg-type]
    code, eagerly, _ = run_cli("--help")
    assert lazily == eagerly
