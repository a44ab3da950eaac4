import json

import numpy as np
import pandas as pd
import pytest

import sdc
from sdc import Policy, SdcError, safe


@pytest.fixture(scope="module")
def people():
    rng = np.random.default_rng(5)
    n = 4000
    frame = pd.DataFrame(
        {
            "area": rng.choice(list("ABCD"), n, p=[0.3, 0.3, 0.3, 0.1]),
            "sex": rng.choice(["F", "M"], n),
            "age": rng.integers(18, 90, n),
            "cost": rng.lognormal(5, 1, n),
        }
    )
    frame.loc[:4, "area"] = "E"  # a rare area: every cell of it is unsafe
    frame.loc[10, "cost"] = 5e6  # a dominant contributor in its cell
    frame["y"] = 2 * frame.age + rng.normal(0, 5, n)
    frame["event"] = (rng.random(n) < 0.3).astype(int)
    return frame


def test_crosstab_publishes_pandas_values_where_safe(people, monkeypatch):
    monkeypatch.setenv("TRE_DISCLOSURE_POLICY", json.dumps({"rounding_base": 1}))
    out = safe.crosstab(people.area, people.sex)
    plain = pd.crosstab(people.area, people.sex, margins=True)
    published = out.result.loc[plain.index, plain.columns]
    shown = published.notna()
    np.testing.assert_array_equal(published[shown].to_numpy(), plain[shown].to_numpy())
    assert published.loc["E"].drop("All").isna().all()
    assert published.loc["All", "All"] == len(people)  # totals are never recomputed
    assert out.suppressed >= 3 and out.evidence["summary"]["primary_unsafe"] >= 2


def test_a_count_table_with_gaps_is_published_as_integers(people):
    out = safe.crosstab(people.area, people.sex)
    assert out.result.isna().any().any()  # suppressed gaps make the columns float
    rows = [line.split(",") for line in out.csv().splitlines()[1:]]
    cells = [cell for row in rows for cell in row[1:]]
    assert "" in cells and all(cell == "" or cell.isdigit() for cell in cells)
    means = safe.crosstab(people.area, people.sex, values=people.cost, aggfunc="mean")
    assert any("." in cell for line in means.csv().splitlines()[1:] for cell in line.split(","))


def test_crosstab_of_means_suppresses_dominated_cells(people):
    out = safe.crosstab(people.area, people.sex, people.cost, aggfunc="mean")
    dominated = [
        c for c in out.evidence["cells"] if any(r.startswith("dominance") for r in c["reasons"])
    ]
    assert dominated and all(c["published"] is None for c in dominated)
    with pytest.raises(SdcError, match="values needs an aggfunc"):
        safe.crosstab(people.area, people.sex, people.cost)


def test_saved_output_verifies_and_a_changed_file_does_not(people, tmp_path):
    out = safe.crosstab(people.area, people.sex)
    path = out.save(tmp_path / "by_area.csv")
    evidence = safe.read_evidence(path)
    assert evidence["output"]["sha256"] and evidence["function"] == "sdc.safe.crosstab"
    assert safe.verify_output(path, evidence) == []
    assert safe.recheck(evidence, Policy()) == []
    text = path.read_text().splitlines()
    text[-2] = text[-2].rsplit(",", 3)[0] + ",3,3,6"  # the rare area's row, filled in
    path.write_text("\n".join(text) + "\n")
    problems = safe.verify_output(path, evidence)
    assert any("has changed" in p for p in problems)
    assert any("but the evidence says" in p for p in problems)


def test_pivot_table(people):
    out = safe.pivot_table(people, values="cost", index="area", columns="sex", aggfunc="sum")
    expected = pd.pivot_table(
        people, values="cost", index="area", columns="sex", aggfunc="sum", margins=True
    )
    published = out.result.notna()
    assert published.to_numpy().sum() >= 2
    assert out.result[published].fillna(0).to_numpy() == pytest.approx(
        expected.where(published, 0).to_numpy()
    )
    assert out.result.loc["E"].drop("All").isna().all()
    # the 5e6 record dominates area C's row and the F column too: each of them must be able to
    # move by its dominance level (100/90 of its two largest, less its total), more than any
    # ordinary cell holds, so the pattern reaches far (the price of protection levels)
    level = next(c for c in out.evidence["cells"] if c["dims"] == {"area": "C", "sex": "F"})
    low, high = level["interval"]
    assert low <= level["required"][0] and high >= level["required"][1]


def test_describe_hides_single_values(people):
    out = safe.describe(people[["age", "cost"]])
    assert out.result.loc[["min", "max", "50%"], "age"].isna().all()
    assert out.result.loc["mean", "age"] == pytest.approx(people.age.mean())
    small = safe.describe(people.age.iloc[:5])
    assert small.result["age"].isna().all()
    assert safe.recheck(out.evidence, Policy()) == []
    loose = safe.describe(people[["age"]], policy=Policy(extremes_disclosive=True))
    assert safe.recheck(loose.evidence, Policy(threshold=10_000))


def test_regressions_need_residual_degrees_of_freedom(people):
    fitted = safe.ols("y ~ age + C(sex)", people)
    assert fitted.evidence["df_resid"] == len(people) - 3
    assert fitted.result.loc["age", "coef"] == pytest.approx(2.0, abs=0.01)
    few = safe.ols("y ~ age", people.iloc[:11])
    assert few.result.isna().all().all()
    assert "residual degrees of freedom 9" in few.evidence["blocked"][0]
    people = people.assign(rare=(people.area == "E").astype(int))
    with_rare = safe.ols("y ~ age + rare", people)
    assert with_rare.result.loc["rare"].isna().all()
    assert with_rare.result.loc["age"].notna().all()
    logit = safe.logit("event ~ age", people)
    assert logit.evidence["model"] == "logit" and logit.result.notna().all().all()
    probit = safe.probit("event ~ age", people.iloc[:30].assign(event=[1] * 3 + [0] * 27))
    assert any("3 events" in b for b in probit.evidence["blocked"])
    with pytest.raises(SdcError, match="could not be fitted"):
        safe.ols("y ~ nonexistent", people)


def test_histogram_bars_are_counts_and_edges_hide_the_extremes(people, tmp_path):
    out = safe.hist(people.age, bins=8)
    assert out.result.low.iloc[0] < people.age.min() and out.result.high.iloc[-1] > people.age.max()
    assert out.result["count"].dropna().mod(5).eq(0).all()
    path = out.save(tmp_path / "age.png")
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    evidence = safe.read_evidence(path)
    assert safe.verify_output(path, evidence) == [] and safe.recheck(evidence, Policy()) == []
    sparse = safe.hist(pd.Series([1.0] * 50 + [99.0] * 3), bins=5)
    assert sparse.result["count"].isna().any()
    with pytest.raises(SdcError, match="as .csv or .png/.svg"):
        out.save(tmp_path / "age.xlsx")


def test_survival_reports_only_times_with_enough_events(people):
    rng = np.random.default_rng(2)
    out = safe.survival(rng.exponential(10, 800).round(), rng.random(800) < 0.7)
    rows = out.evidence["rows"]
    assert rows and all(r["events"] >= 10 and r["at_risk"] >= 10 for r in rows)
    assert out.result.survival.is_monotonic_decreasing
    assert safe.recheck(out.evidence, Policy()) == []


def test_an_analyst_cannot_loosen_the_operators_policy(people, monkeypatch):
    monkeypatch.setenv("TRE_DISCLOSURE_POLICY", json.dumps({"threshold": 20}))
    with pytest.raises(SdcError, match="looser than the operator's"):
        safe.crosstab(people.area, people.sex, policy=Policy(threshold=10))
    out = safe.crosstab(people.area, people.sex)
    assert out.evidence["policy"]["threshold"] == 20


def test_session_steps_undo_and_report(testdata2, tmp_path):
    keys = ["urbrur", "roof", "walls", "water", "electcon", "relat", "sex"]
    session = sdc.Session(
        testdata2,
        keys=keys,
        numeric=["expend", "income", "savings"],
        weight="sampling_weight",
        household="ori_hid",
    )
    assert session.initial_risk["violating 2-anonymity"] > 0
    session.apply(sdc.local_suppression, k=2)
    assert session.risk()["violating 2-anonymity"] == 0
    session.apply(sdc.add_noise, noise=0.1, seed=3)
    assert session.steps[-1].utility_after["IL1s"] > 0
    undone = session.undo()
    assert undone.method == "add_noise" and len(session.steps) == 1
    page = session.report(tmp_path / "report.html")
    assert "Step 1: local_suppression" in page and "<script" not in page
    assert (tmp_path / "report.html").read_text() == page
    with pytest.raises(SdcError, match="no step to undo"):
        session.undo()
        session.undo()


def test_crosstab_names_twice_and_functions_for_aggfunc_get_answers_not_tracebacks():
    frame = pd.DataFrame({"area": list("ab") * 20, "v": np.arange(40.0)})
    # a dimension given twice (pandas allows it): the second is renamed, not an IndexError
    out = safe.crosstab(frame.area, frame.area.str.upper())
    assert out.result.columns.name == "area_2" and out.result.loc["All", "All"] == 40
    with pytest.raises(SdcError, match="not the function mean: pass aggfunc='mean'"):
        safe.crosstab(frame.area, values=frame.v, aggfunc=np.mean)
    with pytest.raises(SdcError, match="values needs an aggfunc: one of count, size, sum, mean"):
        safe.crosstab(frame.area, values=frame.v)
    with pytest.raises(SdcError, match="is not numeric"):
        safe.crosstab(frame.area, values=frame.area, aggfunc="sum")
