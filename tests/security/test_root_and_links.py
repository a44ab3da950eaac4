"""Root acting in folders the analyst controls (their workspace) must never follow the analyst's
links: not to read (a web Run of a workspace notebook), not to write (the study templates copied
at each start), not to re-own (the workspace given to the analyst's account)."""

import os
import shutil
import subprocess
import sys
import threading
import time

import pytest

from hub import spawn
from notebooks import runner
from notebooks.runner import RunError
from tre import sandbox

FLIP = r"""
import os, sys
top = sys.argv[1]
while True:
    for target in ("real", "fifo"):
        tmp = os.path.join(top, "tmp-" + target)
        try:
            os.symlink(target, tmp)
            os.rename(tmp, os.path.join(top, "d"))
        except FileExistsError:
            os.unlink(tmp)
"""

P = "supporting-families"
USER = "alex.analyst"


@pytest.fixture
def space(studied):
    folder = studied.home / "projects" / P / "workspace" / USER
    folder.mkdir(parents=True, exist_ok=True)
    planted = [folder / "leak.ipynb", folder / "sub", folder / "studies"]
    yield folder
    for path in planted:
        if path.is_symlink() or path.is_file():
            path.unlink()
        elif path.is_dir():
            shutil.rmtree(path)


def test_a_web_run_never_reads_through_a_link_in_the_workspace(studied, space):
    key = studied.home / "keys" / "pseudonymisation.key"
    (space / "leak.ipynb").symlink_to(key)
    (space / "sub").symlink_to(studied.home / "keys")
    assert "workspace/leak.ipynb" not in runner.runnable(studied, P, USER)
    secret = key.read_text().strip()[:12]
    for name in ("workspace/leak.ipynb", "workspace/sub/pseudonymisation.key"):
        with pytest.raises(RunError) as refused:
            with runner.trusted_copy(studied, P, USER, name):
                pass
        assert "cannot be run" in str(refused.value) and secret not in str(refused.value)


def test_the_study_templates_are_never_written_through_a_link(space, tmp_path):
    target = tmp_path / "written-by-root"
    (space / "studies").mkdir()
    (space / "studies" / "does_it_work.ipynb").symlink_to(target)  # dangling: a new file
    spawn._copy_studies(space)
    assert not target.exists() and (space / "studies" / "does_it_work.ipynb").is_symlink()
    assert (space / "studies" / "repeat_callers.ipynb").is_file()
    shutil.rmtree(space / "studies")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (space / "studies").symlink_to(elsewhere)  # the folder itself a link
    spawn._copy_studies(space)
    assert list(elsewhere.iterdir()) == []


def test_giving_the_workspace_to_its_person_never_reowns_what_a_link_points_at(space, tmp_path):
    victim = tmp_path / "roots-file"
    victim.write_text("root's")
    os.chown(victim, 0, 0)
    (space / "leak.ipynb").symlink_to(victim)
    sandbox.give(space, USER)
    assert victim.stat().st_uid == 0
    assert space.stat().st_uid == sandbox.ensure_account(USER).pw_uid


def test_a_folder_swapped_for_a_link_while_the_workspace_is_given_never_reowns_its_target(
    space, tmp_path
):
    # the person's process swaps a folder of their workspace for a link to a folder of root's,
    # over and over, while root re-owns the workspace: root must never re-own what is behind it
    outside = tmp_path / "roots-folder"
    outside.mkdir()
    victims = [outside / f"victim-{i}" for i in range(50)]
    for victim in victims:
        victim.write_text("root's")
        os.chown(victim, 0, 0)
    real, swapped = space / "sub", space / "sub.link"
    real.mkdir()
    for victim in victims:
        (real / victim.name).write_text("theirs")
    swapped.symlink_to(outside)
    stop = threading.Event()

    def swap() -> None:
        while not stop.is_set():
            os.rename(swapped, space / "sub.tmp")
            os.rename(real, swapped)
            os.rename(space / "sub.tmp", real)

    swapper = threading.Thread(target=swap)
    swapper.start()
    try:
        for _ in range(300):
            sandbox.give(space, USER)
    finally:
        stop.set()
        swapper.join()
    assert [v.name for v in victims if v.stat().st_uid != 0] == []
    for leftover in (real, swapped, space / "sub.tmp"):
        if leftover.is_symlink():
            leftover.unlink()
        elif leftover.is_dir():
            shutil.rmtree(leftover)


def test_a_folder_turned_into_a_link_to_a_fifo_mid_walk_never_blocks_root(tmp_path):
    """A link listed as a folder, turned into a link to a FIFO before root enters it: an open
    that follows it, or waits on it, would block root (and the hub's spawn) for ever."""
    top = tmp_path / "workspace"
    top.mkdir()
    (top / "real").mkdir()
    os.mkfifo(top / "fifo")
    for i in range(2000):  # the folder's entries are re-owned between listing and entering
        (top / f"f{i}").write_text("x")
    os.symlink("real", top / "d")
    flipper = subprocess.Popen([sys.executable, "-c", FLIP, str(top)])
    hung = False
    try:
        for _ in range(30):
            walk = threading.Thread(
                target=sandbox._chown_tree, args=(top, 65534, 65534), daemon=True
            )
            walk.start()
            walk.join(timeout=5)
            if walk.is_alive():
                hung = True
                break
    finally:
        flipper.kill()
        flipper.wait()
        if hung:  # let the blocked open() go (a writer appears), so the test run ends
            fd = os.open(top / "fifo", os.O_WRONLY | os.O_NONBLOCK)
            time.sleep(0.5)
            os.close(fd)
    assert not hung, "root's walk blocked opening a FIFO it had listed as a folder"
