import stat

import pytest

from tre.folders import ProjectFolders, make_read_only, publish
from tre.instance import Instance
from tre.settings import DEFAULT_TOML, parse_settings


def test_a_projects_folders_follow_the_instances_paths(tmp_path):
    text = DEFAULT_TOML.replace('projects = "projects"', 'projects = "/srv/projects"').replace(
        'releases = "releases"', 'releases = "out/releases"'
    )
    instance = Instance(tmp_path, parse_settings(text))
    folders = ProjectFolders.of(instance, "p1")
    assert folders.project == "p1"
    assert folders.data == tmp_path / "/srv/projects/p1/data"
    assert folders.outputs.as_posix() == "/srv/projects/p1/outputs"
    assert folders.workspace.as_posix() == "/srv/projects/p1/workspace"
    assert folders.releases == tmp_path / "out" / "releases" / "p1"
    # naming the folders makes none of them
    assert not any(tmp_path.iterdir())


def contents(folder):
    return sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*"))


def test_publish_renames_the_staging_folder_into_place(tmp_path):
    target = tmp_path / "area" / "r1"
    with publish(target) as staged:
        assert staged.folder.parent == target.parent and staged.folder.name.startswith(".")
        assert not target.exists()
        (staged.folder / "a.csv").write_text("a\n")
    assert contents(tmp_path / "area") == ["r1", "r1/a.csv"]


def test_publish_leaves_nothing_when_the_block_fails_or_is_interrupted(tmp_path):
    target = tmp_path / "r1"
    for failure in (ValueError("bad"), KeyboardInterrupt()):
        with pytest.raises(type(failure)):
            with publish(target, read_only=True) as staged:
                (staged.folder / "a.csv").write_text("a\n")
                make_read_only(staged.folder)
                raise failure
    assert contents(tmp_path) == []


def test_publish_read_only_and_replace(tmp_path):
    target = tmp_path / "data"
    with publish(target, read_only=True) as staged:
        (staged.folder / "old.parquet").write_text("1")
    assert stat.S_IMODE(target.stat().st_mode) == 0o550
    assert stat.S_IMODE((target / "old.parquet").stat().st_mode) == 0o440
    with pytest.raises(FileExistsError, match="already exists; it was not replaced"):
        with publish(target) as staged:
            (staged.folder / "new.parquet").write_text("2")
    with publish(target, read_only=True, replace=True) as staged:
        (staged.folder / "new.parquet").write_text("2")
    # the old folder is gone whole, staging and all
    assert contents(tmp_path) == ["data", "data/new.parquet"]


def test_a_discarded_publication_publishes_nothing(tmp_path):
    with publish(tmp_path / "quarantine") as staged:
        (staged.folder / "rows.csv").write_text("row\n")
        staged.discard()
    assert contents(tmp_path) == []


def test_a_resumable_publication_removes_what_a_killed_attempt_left(tmp_path):
    target = tmp_path / "req-1"
    left = tmp_path / ".req-1.staging"
    left.mkdir()
    (left / "half.csv").write_text("a")
    make_read_only(left)
    with publish(target, resumable=True) as staged:
        assert staged.folder == left and not any(left.iterdir())
        (staged.folder / "whole.csv").write_text("a\nb\n")
    assert contents(tmp_path) == ["req-1", "req-1/whole.csv"]
