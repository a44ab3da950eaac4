"""The pages linkage and sdc write are Jinja2 templates: every text is escaped."""

from dataclasses import replace
from datetime import date
from pathlib import Path

import pandas as pd

import sdc
from linkage import dictionary, spine
from linkage.ingest import FieldQuality, IngestResult, quality_report
from tests.linkage.test_link import _two_records_linked

HOSTILE = "<script>alert(1)</script>"


def test_the_dictionary_page_escapes_the_schemas_text():
    schema = dictionary.get("ae_attendances")
    hostile = replace(schema, description=HOSTILE)
    page = dictionary.render_html({"ae_attendances": hostile})
    assert HOSTILE not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "NHS number with a valid check digit" in page


def test_the_data_quality_report_escapes_the_file_name():
    schema = dictionary.get("ae_attendances")
    quality = {f.name: FieldQuality(present=9, invalid=1) for f in schema.fields}
    result = IngestResult(
        "1", "ae", HOSTILE, "0" * 64, 10, 9, 1, Path("s"), Path("i"), None, Path("r"), quality
    )
    page = quality_report(result, schema)
    assert HOSTILE not in page and "&lt;script&gt;" in page
    assert "<td>90.0 %</td><td>88.9 %</td>" in page.replace("\n", "")


def test_the_linkage_report_escapes_source_names():
    linked, records, described = _two_records_linked()
    records = records.assign(source=["a", HOSTILE])
    described = described.assign(source=["a", HOSTILE])
    page = spine.quality_report(
        linked, records, described, ["a", HOSTILE], 0.0, "run", ages_on=date(2026, 3, 31)
    )
    assert HOSTILE not in page and "&lt;script&gt;" in page


def test_the_anonymisation_report_escapes_variable_names():
    frame = pd.DataFrame({HOSTILE: ["a", "b", "a"], "sex": ["F", "M", "F"]})
    page = sdc.Session(frame, keys=[HOSTILE, "sex"]).report()
    assert HOSTILE not in page and "&lt;script&gt;" in page


def test_the_models_charts_are_images_drawn_from_its_parameters():
    import base64
    import math

    from linkage import charts

    level = {"sql_condition": "l.sex = r.sex", "label_for_charts": "exact"}
    model = {
        "probability_two_random_records_match": 0.001,
        "comparisons": [
            {
                "output_column_name": "sex",
                "comparison_levels": [
                    {"sql_condition": "l.sex is null", "is_null_level": True},
                    level | {"m_probability": 0.98, "u_probability": 0.5},
                    {"sql_condition": "else", "label_for_charts": "else"}
                    | {"m_probability": 0.02, "u_probability": 0.5},
                ],
            }
        ],
    }
    found = charts.levels(model)
    assert [(x.label, round(x.weight or 0, 3)) for x in found] == [
        ("exact", round(math.log2(0.98 / 0.5), 3)),
        ("else", round(math.log2(0.02 / 0.5), 3)),
    ]
    assert charts.prior_weight(model) == math.log2(0.001 / 0.999)
    for uri in (charts.match_weights_chart(model), charts.m_u_parameters_chart(model)):
        assert uri is not None and uri.startswith("data:image/png;base64,")
        assert base64.b64decode(uri.split(",", 1)[1])[:8] == b"\x89PNG\r\n\x1a\n"
    # a model not yet trained has nothing to chart
    untrained = {"comparisons": [{"output_column_name": "sex", "comparison_levels": [level]}]}
    assert charts.match_weights_chart(untrained) is None
    assert charts.m_u_parameters_chart(untrained) is None
