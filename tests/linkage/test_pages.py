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
