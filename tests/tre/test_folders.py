from tre.folders import ProjectFolders
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
