from pathlib import PurePosixPath

from notebooks import runs
from notebooks.models import Run


def a_run(status, outputs):
    return Run(id="run-1", status=status, outputs=outputs)


def test_a_runs_files_are_named_relative_to_the_outputs_folder():
    path = runs.output_path("run-1", "table.csv")
    assert path == "run-1/data/table.csv"
    assert runs.run_of_output(PurePosixPath(path)) == "run-1"
    assert runs.run_of_output(PurePosixPath("run-1/data/sub/t.csv")) == "run-1"
    for not_of_a_run in ("run-1/table.csv", "table.csv", "run-1/bag-info.txt", "run-1/x/t.csv"):
        assert runs.run_of_output(PurePosixPath(not_of_a_run)) is None, not_of_a_run


def test_a_runs_records_are_not_its_reports():
    for name in ("run.json", "notebook.ipynb", "source.ipynb", "error.txt"):
        assert runs.is_record(name)
    for name in (runs.REPORT, runs.REPORT_NO_CODE, "table.csv"):
        assert not runs.is_record(name)


def test_only_a_succeeded_runs_outputs_and_report_without_code_may_be_requested():
    outputs = [
        {"file": "t.csv", "evidence_of": None, "has_evidence": True},
        {"file": "t.csv.evidence.json", "evidence_of": "t.csv", "has_evidence": False},
        {"file": "note.md", "evidence_of": None, "has_evidence": False},
    ]
    files = runs.requestable_files(a_run(runs.SUCCEEDED, outputs))
    assert [(f.path, f.file, f.has_evidence) for f in files] == [
        ("run-1/data/t.csv", "t.csv", True),
        ("run-1/data/note.md", "note.md", False),
        ("run-1/data/report-no-code.html", "report-no-code.html", False),
    ]
    assert runs.requestable_files(a_run(runs.FAILED, outputs)) == []
