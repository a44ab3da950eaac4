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
