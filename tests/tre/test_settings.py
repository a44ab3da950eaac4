import pytest

from tre.errors import SettingsError
from tre.settings import DEFAULT_TOML, parse_settings


def test_default_settings_parse_to_documented_defaults():
    settings = parse_settings(DEFAULT_TOML)
    assert settings.database.url == ""
    assert settings.paths.keys == "keys"
    assert settings.transparency.show_person_names is False
    assert settings.policy.threshold == 10 and settings.policy.rounding_base == 5
    assert settings.hub.profile == "local"


@pytest.mark.parametrize(
    ("toml", "message"),
    [
        (
            '[database]\nurl = "mysql://x"',
            "tre.toml: database.url: must be empty (embedded SQLite)",
        ),
        ('[paths]\nstore = ""', "tre.toml: paths.store: string should have at least 1 character"),
        ("[paths]\nstroe = 'x'", "tre.toml: paths.stroe: unknown setting; remove it or check"),
        (
            '[transparency]\nshow_person_names = "maybe"',
            "tre.toml: transparency.show_person_names: input should be a valid boolean",
        ),
        ("[instance]\nname = 3", "tre.toml: instance.name: input should be a valid string"),
        ("name = ", "tre.toml: not valid TOML"),
        (
            '[hub]\nprofile = "swarm"',
            "tre.toml: hub.profile: input should be 'local', 'docker' or 'k8s'",
        ),
        ("[disclosure]\nthreshold = 0", "tre.toml: disclosure: threshold must be at least 1"),
        ("[disclosure]\ntreshold = 3", "tre.toml: disclosure: unknown setting treshold"),
        ('[disclosure]\nrounding_base = "5"', "tre.toml: disclosure: rounding_base must be a"),
    ],
)
def test_bad_settings_name_the_key_and_the_problem(toml, message):
    with pytest.raises(SettingsError) as raised:
        parse_settings(toml)
    assert str(raised.value).startswith(message)


def test_a_bad_tre_toml_stops_every_command(run_cli, sqlite_instance):
    (sqlite_instance.home / "tre.toml").write_text('[database]\nurl = "oracle://x"\n')
    code, _, err = run_cli("status", home=sqlite_instance.home)
    assert code == 2
    assert "tre.toml: database.url: must be empty" in err
    assert "Traceback" not in err
