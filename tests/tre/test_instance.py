import stat

import pytest

from app.schema import init_instance
from tre.errors import InstanceError
from tre.instance import DATA_FOLDERS, open_instance


def mode(path):
    return stat.S_IMODE(path.stat().st_mode)


def test_init_creates_settings_folders_database_and_key(sqlite_instance):
    home = sqlite_instance.home
    assert (home / "tre.toml").is_file()
    assert (home / "tre.db").is_file()
    for name in DATA_FOLDERS:
        assert mode(home / name) == 0o700, name
    assert mode(home) == 0o700
    key = sqlite_instance.key_path
    assert mode(key) == 0o600
    assert len(sqlite_instance.read_key()) == 32


def test_init_twice_refuses_and_never_overwrites_the_key(sqlite_instance):
    before = sqlite_instance.key_path.read_bytes()
    with pytest.raises(
        InstanceError, match="already holds a tre-kit instance; nothing was changed"
    ):
        init_instance(sqlite_instance.home)
    assert sqlite_instance.key_path.read_bytes() == before


def test_init_refuses_a_folder_with_other_files(tmp_path):
    (tmp_path / "notes.txt").write_text("mine")
    with pytest.raises(InstanceError, match="is not empty"):
        init_instance(tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.txt"]


def test_two_instances_get_different_keys(tmp_path):
    first, second = init_instance(tmp_path / "a"), init_instance(tmp_path / "b")
    assert first.read_key() != second.read_key()


def test_instance_is_found_from_home_or_tre_home(sqlite_instance, monkeypatch):
    monkeypatch.delenv("TRE_HOME", raising=False)
    with pytest.raises(InstanceError, match="pass --home DIR or set TRE_HOME"):
        open_instance()
    monkeypatch.setenv("TRE_HOME", str(sqlite_instance.home))
    assert open_instance().home == sqlite_instance.home
    assert open_instance(sqlite_instance.home).home == sqlite_instance.home


def test_missing_key_is_a_clear_error(sqlite_instance):
    sqlite_instance.key_path.unlink()
    with pytest.raises(InstanceError, match="pseudonymisation key .* is missing"):
        sqlite_instance.read_key()
