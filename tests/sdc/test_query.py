"""sdc.safe.sql in the kernel: a query over the extract, locked down, whose outputs replay."""

import hashlib
import json

import pandas as pd
import pytest

from sdc import query, safe
from sdc.errors import SdcError


@pytest.fixture
def extract(tmp_path, monkeypatch):
    monkeypatch.delenv("TRE_DISCLOSURE_POLICY", raising=False)
    folder = tmp_path / "data"
    folder.mkdir()
    frame = pd.DataFrame(
        {
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
    q = safe.sql("SELECT area, visits FROM contacts")
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
    q = safe.sql("SELECT area FROM contacts", extract=extract)
    with pytest.raises(SdcError, match="the query has no column 'age'; it has area"):
        q.crosstab("age")
    with pytest.raises(SdcError, match="hist's bins must be a whole number"):
        q.hist("area", bins=2.5)
    with pytest.raises(SdcError, match="unknown call 'ols'"):
        query.arguments_of("ols", {})
    with pytest.raises(SdcError, match="holds no extract"):
        safe.sql("SELECT 1", extract=extract.parent)
