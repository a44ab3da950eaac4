def test_the_demo_runs_end_to_end_and_replaces_only_its_own_folder(tmp_path, run_cli):
    target = tmp_path / "demo"
    code, out, err = run_cli("demo", "--dir", str(target), "--people", "400")
    assert code == 0, err
    assert "audit log intact" in out
    assert "re-checked under the instance's policy: passes" in " ".join(out.split())
    assert (target / "reports" / "anonymisation-report.html").is_file()
    assert (target / "reports" / "attendances-by-lsoa-and-complaint.csv.evidence.json").is_file()
    assert (target / "instance" / "tre.toml").is_file()
    code, out, err = run_cli("demo", "--dir", str(target), "--people", "400")
    assert code == 0, err  # a second run replaces the demo's own folder
    foreign = tmp_path / "mine"
    foreign.mkdir()
    (foreign / "thesis.tex").write_text("keep me")
    code, _, err = run_cli("demo", "--dir", str(foreign))
    assert code == 2 and "was not made by `tre demo`" in err
    assert (foreign / "thesis.tex").read_text() == "keep me"
