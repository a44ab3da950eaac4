from app.docs import MACHINES, REGENERATE, STATES_FILE, states_markdown


def test_docs_states_md_is_what_the_command_writes_now():
    expected = states_markdown()
    written = STATES_FILE.read_text(encoding="utf-8") if STATES_FILE.exists() else ""
    assert written == expected, (
        f"{STATES_FILE} is out of date with the state tables: run `{REGENERATE}` "
        "and commit the file"
    )


def test_the_document_draws_every_rule_of_every_machine():
    text = states_markdown()
    assert "do not edit" in text and f"`{REGENERATE}`" in text
    for heading, module, machine in MACHINES:
        assert f"## {heading}" in text and f"`{module}`" in text
        assert machine.diagram() in text
        for rule in machine.rules:
            assert f"{rule.source} --> {rule.target}: {rule.action} ({rule.by})" in text


def test_tre_docs_states_writes_the_file(tmp_path, run_cli):
    out = tmp_path / "states.md"
    code, printed, err = run_cli("docs", "states", "--out", str(out))
    assert code == 0, err
    assert str(out) in printed
    assert out.read_text(encoding="utf-8") == states_markdown()
