"""The agreed dataset schemas have one parser (projects.spec); the register of data assets and
the data dictionary (linkage.dictionary) both read them through it, with the same sentences."""

import json

import pytest

from linkage import dictionary
from projects.errors import RegistryError
from projects.spec import load_schema


def good() -> dict:
    return {
        "x-dataset": {"id": "visits", "title": "Visits", "controller": "TRETON-FIRE"},
        "fields": [
            {
                "name": "visit_ref",
                "type": "string",
                "x-role": "other",
                "x-concept": "Event.id",
                "constraints": {"required": True, "unique": True},
            },
            {
                "name": "visit_date",
                "type": "date",
                "format": "%d/%m/%Y",
                "x-role": "quasi_identifier",
                "x-concept": "Event.date",
            },
            {
                "name": "alarms",
                "type": "integer",
                "x-role": "other",
                "x-concept": "Service.alarms",
                "constraints": {"minimum": 0, "enum": ["0", "1", "2"]},
            },
        ],
        "missingValues": [""],
    }


def both_refuse(tmp_path, schema: dict) -> str:
    path = tmp_path / "visits.json"
    path.write_text(json.dumps(schema), encoding="utf-8")
    with pytest.raises(RegistryError) as registry:
        load_schema(path)
    with pytest.raises(dictionary.DictionaryError) as in_dictionary:
        dictionary.load(path)
    assert str(registry.value) == str(in_dictionary.value)
    return str(registry.value)


def test_every_agreed_schema_reads_the_same_in_the_register_and_the_dictionary():
    for path in sorted(dictionary.SCHEMAS.glob("*.json")):
        parsed, view = load_schema(path), dictionary.load(path)
        assert view.id == parsed.dataset["id"]
        assert [(f.name, f.role, f.type) for f in view.fields] == [
            (f.name, f.role, f.type) for f in parsed.fields
        ]


def test_the_dictionary_view_of_a_schema(tmp_path):
    path = tmp_path / "visits.json"
    path.write_text(json.dumps(good()), encoding="utf-8")
    view = dictionary.load(path)
    assert view.primary_key == "visit_ref" and view.version == "1"
    ref, when, alarms = view.fields
    assert ref.required and ref.unique and ref.enum is None
    assert when.format == "%d/%m/%Y" and when.concept == "Event.date"
    assert alarms.minimum == 0 and alarms.enum == ("0", "1", "2")


@pytest.mark.parametrize(
    "change, sentence",
    [
        (
            lambda s: s["fields"][0].update({"x-role": "secret"}),
            "field 'visit_ref': x-role must be one of direct_identifier, quasi_identifier, "
            "sensitive, other",
        ),
        (
            lambda s: s["fields"][2].update({"type": "boolean"}),
            "field 'alarms': type must be one of string, integer, number, date, datetime",
        ),
        (lambda s: s["fields"][0].pop("x-concept"), "field 'visit_ref': x-concept is required"),
        (
            lambda s: s["fields"][0].update({"x-concept": "Thing.id"}),
            "field 'visit_ref': x-concept must start with one of Person, Household",
        ),
        (
            lambda s: s["fields"][1].pop("format"),
            "field 'visit_date': a date needs its format, such as %d/%m/%Y",
        ),
        (lambda s: s["x-dataset"].pop("controller"), "x-dataset: needs controller"),
        (lambda s: s.update({"fields": []}), "fields: list should have at least 1 item"),
    ],
)
def test_a_bad_schema_is_refused_with_the_same_sentence_by_both(tmp_path, change, sentence):
    schema = good()
    change(schema)
    message = both_refuse(tmp_path, schema)
    assert message.startswith(f"{tmp_path / 'visits.json'}: {sentence}")


def test_every_problem_is_reported_at_once(tmp_path):
    schema = good()
    schema["fields"][0]["x-role"] = "secret"
    schema["fields"][1].pop("format")
    assert len(both_refuse(tmp_path, schema).splitlines()) == 2


def test_a_file_that_is_not_json_is_refused_by_both(tmp_path):
    path = tmp_path / "visits.json"
    path.write_text("{not json", encoding="utf-8")
    with pytest.raises(dictionary.DictionaryError, match="not valid YAML/JSON"):
        dictionary.load(path)
    with pytest.raises(RegistryError, match="not valid YAML/JSON"):
        load_schema(path)
