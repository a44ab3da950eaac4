import csv
import json
import zipfile
from datetime import date

import pytest

from app.demo import projects as demo_projects
from projects import agreements, registry
from projects.errors import RegistryError
from projects.register import publish
from projects.spec import parse_project
from tests.projects.conftest import TODAY
from tre.settings import RegistrationSettings


def test_register_lists_projects_past_draft_without_names(active, spec_data, tmp_path):
    draft = dict(spec_data, id="a-draft-project", title="A draft that is not public")
    with active.db.session() as session:
        registry.register_project(session, "sam.lead", parse_project(draft), active.settings.policy)
        paths = publish(session, tmp_path, "Treton TRE", show_names=False, at=TODAY)
    page = paths["html"].read_text()
    data = json.loads(paths["json"].read_text())
    rows = list(csv.DictReader(paths["csv"].open()))
    assert [p["id"] for p in data["projects"]] == ["supporting-families"]
    assert [r["id"] for r in rows] == ["supporting-families"]
    assert "A draft that is not public" not in page
    for _, name, *_ in demo_projects.PEOPLE:
        assert name not in page and name not in paths["json"].read_text()
    entry = data["projects"][0]
    assert entry["status"] == "active" and entry["lead_organisation"] == "Treton Borough Council"
    assert "Treton Police" in entry["controllers"]
    assert any("Children Act 2004 section 10" in g for g in entry["gateways"])
    assert any(d["items"].get("quasi-identifier") for d in entry["datasets"])
    assert '<html lang="en">' in page and '<label for="filter">' in page
    with active.db.session() as session:
        named = publish(session, tmp_path / "named", "Treton TRE", show_names=True, at=TODAY)
    assert "Sam Lead" in named["html"].read_text()


def test_register_escapes_text(active, spec_data, tmp_path):
    data = dict(spec_data, id="escape-test", title="<script>alert(1)</script> study")
    with active.db.session() as session:
        registry.register_project(session, "sam.lead", parse_project(data), active.settings.policy)
        registry.submit(session, "sam.lead", "escape-test", RegistrationSettings())
        page = publish(session, tmp_path, "T", at=TODAY)["html"].read_text()
    assert "<script>alert(1)</script> study" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt; study" in page


def make_docx(path, text):
    body = (
        "<?xml version='1.0' encoding='UTF-8'?><w:document xmlns:w='http://schemas."
        "openxmlformats.org/wordprocessingml/2006/main'><w:body><w:p><w:r><w:t>"
        f"{text}</w:t></w:r></w:p></w:body></w:document>"
    )
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("word/document.xml", body)


def make_pdf(path, text):
    from pypdf import PdfWriter
    from pypdf.generic import DecodedStreamObject, DictionaryObject, NameObject

    writer = PdfWriter()
    page = writer.add_blank_page(300, 200)
    font = DictionaryObject(
        {
            NameObject("/Type"): NameObject("/Font"),
            NameObject("/Subtype"): NameObject("/Type1"),
            NameObject("/BaseFont"): NameObject("/Helvetica"),
        }
    )
    page[NameObject("/Resources")] = DictionaryObject(
        {NameObject("/Font"): DictionaryObject({NameObject("/F1"): writer._add_object(font)})}
    )
    stream = DecodedStreamObject()
    stream.set_data(f"BT /F1 12 Tf 20 100 Td ({text}) Tj ET".encode())
    page[NameObject("/Contents")] = writer._add_object(stream)
    writer.write(path)


def test_agreements_are_searchable_by_text_and_metadata(active, tmp_path):
    md = tmp_path / "isa.md"
    md.write_text("# Information sharing agreement\nEarly help for families; domestic abuse.")
    docx = tmp_path / "police.docx"
    make_docx(docx, "Crime and Disorder Act section 115 disclosure protocol")
    pdf = tmp_path / "health.pdf"
    make_pdf(pdf, "Hospital attendance data for safeguarding partnerships")
    store = tmp_path / "store"
    with active.db.session() as session:
        agreements.add(
            session,
            "op",
            md,
            store,
            "Early help ISA",
            ["Treton Borough Council", "Treton Police"],
            "Early help",
            "UK GDPR 6(1)(e)",
            date(2025, 1, 1),
            date(2027, 12, 31),
            projects=["supporting-families"],
        )
        agreements.add(
            session,
            "op",
            docx,
            store,
            "Police disclosure protocol",
            ["Treton Police", "Treton Borough Council"],
            "Crime reduction",
            "Crime and Disorder Act 1998 s115",
            date(2024, 1, 1),
            date(2025, 12, 31),
        )
        agreements.add(
            session,
            "op",
            pdf,
            store,
            "Health data",
            ["Treton Hospitals NHS Trust", "Treton Borough Council"],
            "Safeguarding",
            "Care Act 2014",
            date(2026, 1, 1),
            status="under review",
        )
        assert [a.title for a in agreements.search(session, "domestic abuse")] == ["Early help ISA"]
        assert [a.title for a in agreements.search(session, "section 115")] == [
            "Police disclosure protocol"
        ]
        assert [a.title for a in agreements.search(session, "hospital attendance")] == [
            "Health data"
        ]
        assert len(agreements.search(session, party="Police")) == 2
        assert [a.title for a in agreements.search(session, status="under review")] == [
            "Health data"
        ]
        assert [a.title for a in agreements.search(session, project="supporting-families")] == [
            "Early help ISA"
        ]
        active_titles = {a.title for a in agreements.search(session, active_on=date(2026, 6, 1))}
        assert active_titles == {"Early help ISA", "Health data"}
        with pytest.raises(RegistryError, match="at least two parties"):
            agreements.add(session, "op", md, store, "x", ["One"], "p", "b", date(2025, 1, 1))
        bad = tmp_path / "bad.pdf"
        bad.write_bytes(b"not a pdf")
        with pytest.raises(RegistryError, match="not a readable PDF"):
            agreements.add(session, "op", bad, store, "x", ["A", "B"], "p", "b", date(2025, 1, 1))
    assert len(list(store.iterdir())) == 3
