import json


def test_registry_from_the_cli(tmp_path, run_cli):
    home = tmp_path / "inst"
    assert run_cli("init", str(home))[0] == 0
    steps = [
        ("org", "add", "TC", "Treton Council", "--type", "council"),
        ("org", "add", "TP", "Treton Police", "--type", "police"),
        (
            "person",
            "add",
            "lead",
            "--name",
            "L",
            "--email",
            "l@x.example",
            "--org",
            "TC",
            "--role",
            "project_lead",
        ),
        (
            "person",
            "add",
            "an",
            "--name",
            "A",
            "--email",
            "a@x.example",
            "--org",
            "TC",
            "--role",
            "analyst",
        ),
        (
            "person",
            "accredit",
            "an",
            "--scheme",
            "TAR",
            "--reference",
            "1",
            "--expires",
            "2030-01-01",
        ),
    ]
    for step in steps:
        code, out, err = run_cli(*step, home=home)
        assert code == 0, (step, err)
    code, out, err = run_cli("org", "add", "TC", "Again", "--type", "council", home=home)
    assert code == 1 and "already exists" in err
    code, out, _ = run_cli("person", "list", home=home)
    assert "lead" in out and "project_lead" in out
    code, out, _ = run_cli("gateway", "list", home=home)
    assert "children-act-2004-s10" in out
    code, out, err = run_cli("policy", "check", "an", "run_analysis", "nothing", home=home)
    assert code == 3 and "there is no project 'nothing'" in out
    code, out, err = run_cli("status", home=home)
    assert "organisations" in out and "2" in out


def test_project_commands_on_the_demo_registry(active, run_cli, tmp_path):
    home = active.home
    code, out, _ = run_cli("project", "list", home=home)
    assert code == 0 and "supporting-families" in out
    code, out, _ = run_cli("project", "show", "supporting-families", "--json", home=home)
    info = json.loads(out)
    assert info["state"] == "active" and info["version"] == 1
    code, out, _ = run_cli(
        "policy",
        "check",
        "alex.analyst",
        "run_analysis",
        "supporting-families",
        "--at",
        "2026-06-01",
        home=home,
    )
    assert code == 0 and out.startswith("allowed")
    code, out, _ = run_cli(
        "policy",
        "check",
        "eve.outsider",
        "run_analysis",
        "supporting-families",
        "--at",
        "2026-06-01",
        home=home,
    )
    assert code == 3 and "not a member" in out
    code, out, err = run_cli(
        "--actor", "alex.analyst", "project", "submit", "supporting-families", home=home
    )
    assert code == 3 and "only the project's lead (sam.lead) can submit" in err
    code, out, _ = run_cli("project", "terms", "supporting-families", home=home)
    assert "Terms of use for project supporting-families" in out
    code, out, err = run_cli("register", "publish", str(tmp_path / "reg"), home=home)
    assert code == 0 and (tmp_path / "reg" / "index.html").is_file()
    bad = tmp_path / "bad.yaml"
    bad.write_text("id: Bad Id\n")
    code, _, err = run_cli("project", "register", str(bad), home=home)
    assert code == 1 and "id: must be 1-30 characters" in err and "title: field required" in err


def test_the_cli_refuses_what_the_web_refuses(active, run_cli, tmp_path, spec_data):
    """The registry asks the policy engine for each action, whichever front calls it."""
    import yaml

    home = active.home
    spec_data["id"] = "someone-elses"
    path = tmp_path / "someone-elses.yaml"
    path.write_text(yaml.safe_dump(spec_data))
    # an analyst registers a project naming someone else as its lead
    code, _, err = run_cli("--actor", "alex.analyst", "project", "register", str(path), home=home)
    assert code == 3
    assert "alex.analyst does not have the project_lead role" in err
    assert "the registration names sam.lead as the lead" in err
    # a project wholly in the past, as the web's registration pages refuse it
    past = dict(spec_data, id="long-ago", start="2020-01-01", end="2020-12-31")
    path = tmp_path / "long-ago.yaml"
    path.write_text(yaml.safe_dump(past))
    code, _, err = run_cli("--actor", "sam.lead", "project", "register", str(path), home=home)
    assert code != 0 and "the end date must be today or later" in err, err
    code, out, _ = run_cli("project", "list", home=home)
    assert "long-ago" not in out
    # a registered person without the operator role administers nothing
    for command in (
        ("org", "add", "X", "X Council", "--type", "council"),
        (
            "person",
            "add",
            "mallory",
            "--name",
            "M",
            "--email",
            "m@x.example",
            "--org",
            "TRETON-FIRE",
            "--role",
            "operator",
        ),
        (
            "person",
            "accredit",
            "alex.analyst",
            "--scheme",
            "S",
            "--reference",
            "R",
            "--expires",
            "2031-01-01",
        ),
        ("person", "suspend", "bea.analyst"),
        ("gateway", "add", "made-up", "--name", "Made up", "--kind", "statutory gateway"),
    ):
        code, _, err = run_cli("--actor", "sam.lead", *command, home=home)
        assert code == 3 and "sam.lead does not have the operator role" in err, (command, err)
    code, out, _ = run_cli("person", "list", home=home)
    assert "mallory" not in out and "suspended" not in out
    # the registry's own operator may
    code, _, err = run_cli(
        "--actor", "ops.operator", *("org", "add", "X", "X", "--type", "other"), home=home
    )
    assert code == 0, err
