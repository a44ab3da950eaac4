"""sdc.safe.sql in the kernel: a query over the extract, locked down, whose outputs replay."""

import hashlib
import json

import pandas as pd
import pytest

from sdc import Policy, query, safe
from sdc.errors import SdcError


@pytest.fixture
def extract(tmp_path, monkeypatch):
    monkeypatch.delenv("TRE_DISCLOSURE_POLICY", raising=False)
    folder = tmp_path / "data"
    folder.mkdir()
    frame = pd.DataFrame(
        {
            "person": [f"p{i}" for i in range(100)],
            "area": ["north"] * 60 + ["south"] * 40,
            "visits": [1, 2, None, 4] * 25,
        }
    )
    frame.to_parquet(folder / "contacts.parquet", index=False)
    digest = hashlib.sha256((folder / "contacts.parquet").read_bytes()).hexdigest()
    files = [{"file": "contacts.parquet", "dataset": "contacts", "sha256": digest}]
    (folder / "manifest.json").write_text(json.dumps({"files": files}))
    return folder


def test_a_query_reads_the_extracts_datasets_by_name(extract, monkeypatch):
    monkeypatch.setenv("TRE_DATA", str(extract))
    q = safe.sql("SELECT person, area, visits FROM contacts")
    assert len(q.frame) == 100 and "contacts" in query.views(extract, verify=True)
    # a column of integers with NULLs is summed like pandas would (NULLs left out)
    table = q.crosstab("area", values="visits", aggfunc="sum")
    assert table.result.loc["north", "visits"] == pytest.approx(15 * 7)
    spec = table.evidence["replay"]
    assert spec["call"] == "crosstab" and spec["arguments"]["values"] == "visits"
    assert spec["extract_manifest_sha256"] == query.manifest_sha256(extract)
    assert table.evidence["function"] == "sdc.safe.sql(...).crosstab"


def test_a_query_says_what_was_wrong(extract, monkeypatch):
    monkeypatch.delenv("TRE_DATA", raising=False)
    with pytest.raises(SdcError, match="TRE_DATA is not set: safe.sql runs over the project"):
        safe.sql("SELECT 1")
    for text, reason in {
        "": "needs a query",
        "SELECT 1; SELECT 2": "holds 2 statements",
        "CREATE TABLE x AS SELECT 1": "is a CREATE statement",
        "SELECT * FROM nowhere": "can read only the extract's datasets: contacts",
        "SELEC 1": "cannot be parsed",
    }.items():
        with pytest.raises(SdcError, match=reason):
            safe.sql(text, extract=extract)
    q = safe.sql("SELECT person, area FROM contacts", extract=extract)
    with pytest.raises(SdcError, match="the query has no column 'age'; it has person, area"):
        q.crosstab("age")
    with pytest.raises(SdcError, match="hist's bins must be a whole number"):
        q.hist("area", bins=2.5)
    with pytest.raises(SdcError, match="unknown call 'ols'"):
        query.arguments_of("ols", {})
    with pytest.raises(SdcError, match="holds no extract"):
        safe.sql("SELECT 1", extract=extract.parent)


def test_a_query_with_the_person_column_weighs_people_not_records(tmp_path, monkeypatch):
    # one person's three records of 1,000,000 among 1,000 people's records of 1: by records
    # the mean's two largest contributions are 67 % (published); the extract's person column
    # makes them one contribution of 99.97 %, in the kernel and in the airlock's replay alike
    monkeypatch.delenv("TRE_DISCLOSURE_POLICY", raising=False)
    folder = tmp_path / "data"
    folder.mkdir()
    frame = pd.DataFrame(
        {
            "person": ["p0"] * 3 + [f"p{i}" for i in range(1, 1001)],
            "area": ["a"] * 1003,
            "cost": [1e6] * 3 + [1.0] * 1000,
        }
    )
    frame = pd.concat(
        [frame, pd.DataFrame({"person": [f"b{i}" for i in range(50)], "area": "b", "cost": 1.0})]
    )
    frame.to_parquet(folder / "costs.parquet", index=False)
    digest = hashlib.sha256((folder / "costs.parquet").read_bytes()).hexdigest()
    files = [{"file": "costs.parquet", "dataset": "costs", "sha256": digest}]
    (folder / "manifest.json").write_text(json.dumps({"files": files}))
    # by records (no person column) the mean would be published: such a query is refused
    by_record = safe.sql("SELECT area, cost FROM costs", extract=folder)
    with pytest.raises(SdcError, match="does not select the extract's own person column"):
        by_record.crosstab("area", values="cost", aggfunc="mean")
    by_person = safe.sql("SELECT person, area, cost FROM costs", extract=folder)
    table = by_person.crosstab("area", values="cost", aggfunc="mean")
    assert table.result.loc["a"].isna().all()
    assert table.evidence["parameters"]["holding"] == "person"
    arguments = table.evidence["replay"]["arguments"]
    replayed = safe.replayable(by_person.frame, "crosstab", arguments, Policy(), by_person.sql)
    assert replayed.csv() == table.csv()
