"""Attacks on the airlock by a careful, ill-intentioned analyst, each against the real airlock
functions (and the real checkers' pages, served by tornado, where the attack goes through them).

Every attack must fail for the attacker and, where the airlock refuses it, leave an audit event.
"""

from __future__ import annotations

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_notebook

from notebooks import runner, runs
from output_checks import airlock
from tests.conftest import STUDIED_TODAY
from tests.output_checks.test_airlock import AUTHOR, P, rel
from tre.errors import Refused
from tre.folders import ProjectFolders

DISCLOSIVE = "# Findings\nThe only family in Ward 7 with a youth offending record is the Smiths.\n"
HARMLESS = "# Findings\nNo numbers here.\n"


def _notebook(folder, name, source):
    nb = new_notebook()
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    nb.cells = [new_code_cell(source)]
    path = folder / name
    nbformat.write(nb, path)
    return path


@pytest.fixture(scope="module")
def notes(studied, tmp_path_factory):
    """A run of the author's that wrote a free-text note (the checkers must read it) and a
    hand-made count table that fails the automatic checks; a run of another analyst's."""
    folder = tmp_path_factory.mktemp("attack")
    mine = _notebook(
        folder,
        "notes.ipynb",
        "from notebooks import workspace as ws\n"
        f"ws.output('findings.md').write_text({DISCLOSIVE!r})\n"
        "ws.output('other.md').write_text('# Another note\\nNo numbers.\\n')\n"
        "ws.output('hand.csv').write_text('area,count\\nnorth,3\\nsouth,120\\n')\n",
    )
    result = runner.run(studied, mine, P, AUTHOR, at=STUDIED_TODAY)
    assert result.status == runs.SUCCEEDED, result.error
    theirs = runner.run(studied, mine, P, "bea.analyst", at=STUDIED_TODAY)
    assert theirs.status == runs.SUCCEEDED, theirs.error
    return {"mine": result, "theirs": theirs, "folder": folder}


# ---------------------------------------------------------------------------------------------
# 5. A symbolic link left in a run's outputs


def test_a_link_left_in_a_runs_outputs_ends_the_run_and_cannot_be_requested(studied, notes):
    path = _notebook(
        notes["folder"],
        "link.ipynb",
        "import os\nfrom notebooks import workspace as ws\n"
        "os.symlink('/etc/passwd', ws.output('passwd.csv'))\n"
        "ws.output('fine.md').write_text('# fine\\n')\n",
    )
    result = runner.run(studied, path, P, AUTHOR, at=STUDIED_TODAY)
    assert result.status == runs.FAILED
    assert "passwd.csv" in result.error and "symbolic link" in result.error
    assert runs.get_run(studied, result.id).status == runs.FAILED
    left = result.files / "passwd.csv"
    assert not left.is_symlink() and not left.exists()
    assert "passwd.csv" not in [o["file"] for o in result.outputs]
    for name in ("passwd.csv", "fine.md"):
        with pytest.raises(Refused) as refused:
            airlock.request(studied, P, AUTHOR, [rel(result, name)], at=STUDIED_TODAY)
        message = str(refused.value)
        assert message.startswith(rel(result, name))
        assert "Traceback" not in message


def test_a_link_placed_in_a_succeeded_runs_folder_is_refused_with_a_sentence(studied, notes):
    run = notes["mine"]
    link = ProjectFolders.of(studied, P).outputs / rel(run, "passwd.csv")
    link.symlink_to("/etc/passwd")
    try:
        with pytest.raises(Refused, match="symbolic link cannot be requested"):
            airlock.request(studied, P, AUTHOR, [rel(run, "passwd.csv")], at=STUDIED_TODAY)
    finally:
        link.unlink()
