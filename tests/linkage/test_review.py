"""The clerical-review sample read back: precision from labelled pairs, band by band."""

import json
from collections import Counter

import pandas as pd
import pytest

from linkage import linker, spine
from linkage.linker import REVIEW_ACCEPTED, REVIEW_PER_BAND
from linkage.review import (
    END,
    START,
    ReviewError,
    design,
    estimate,
    read_labels,
    record,
    wilson,
    wilson_share,
)
from tests.linkage.conftest import AGES_ON
from tests.linkage.test_link import ingest_all
from tre import audit


def test_wilson_interval_matches_the_formula_at_its_edges():
    low, high = wilson(10, 10)
    assert high == pytest.approx(1.0) and low == pytest.approx(10 / (10 + 1.959964**2), abs=1e-6)
    assert wilson(0, 10)[0] == 0.0 and wilson(0, 10)[1] == pytest.approx(0.2775, abs=1e-4)
    assert wilson(5, 10) == pytest.approx((0.2366, 0.7634), abs=1e-4)
    assert wilson(0, 0) == (0.0, 1.0)


def _sample(bands: dict[tuple[float, bool], int]) -> pd.DataFrame:
    """A clerical sample with PER pairs in each (band, accepted)."""
    rows = []
    for (band, accepted), per in bands.items():
        for i in range(per):
            rows.append(
                {
                    "source_l": "a",
                    "record_id_l": f"{band}-{accepted}-{i}",
                    "source_r": "b",
                    "record_id_r": f"{band}-{accepted}-{i}",
                    "band": band,
                    "accepted": accepted,
                    "match_probability": 0.99 if accepted else 0.5,
                }
            )
    return pd.DataFrame(rows)


def test_precision_is_the_bands_shares_weighted_by_their_pairs(tmp_path):
    sample = _sample({(4.0, True): 10, (10.0, True): 10, (0.0, False): 10})
    strata = pd.DataFrame(
        {"band": [0.0, 4.0, 10.0], "accepted": [False, True, True], "pairs": [50, 100, 900]}
    )
    labels = sample[["source_l", "record_id_l", "source_r", "record_id_r"]].assign(decision="")
    labels.loc[sample.band == 10.0, "decision"] = "match"
    labels.loc[sample.band == 4.0, "decision"] = ["match"] * 5 + ["non-match"] * 4 + ["unsure"]
    labels.loc[sample.band == 0.0, "decision"] = "non-match"
    result = estimate(labels, design(strata, sample), "r", tmp_path / "r.html")
    assert result.precision == pytest.approx((900 * 1.0 + 100 * 5 / 9) / 1000)
    # Kish's effective sample size: 1 / (0.9^2 / 10 + 0.1^2 / 9), about 12.2 judged pairs
    effective = 1 / (0.9**2 / 10 + 0.1**2 / 9)
    assert result.interval == pytest.approx(wilson_share(result.precision, effective))
    # wider than if the 19 judged pairs were one simple random sample
    assert result.interval[0] < wilson_share(result.precision, 19)[0]
    assert result.coverage == 1.0 and result.labelled == 30 and result.unreviewed == 0
    four = next(b for b in result.bands if b.low == 4.0)
    assert (four.matches, four.non_matches, four.unsure) == (5, 4, 1)


@pytest.fixture
def reviewed_run(sqlite_instance):
    """An instance with one linkage run's record, sample and report, as `tre data link` leaves
    them (built small, without linking)."""
    run = "20260401-120000"
    sample = _sample({(4.0, True): 3, (0.0, False): 3}).assign(run=run, decision="")
    strata = pd.DataFrame({"band": [0.0, 4.0], "accepted": [False, True], "pairs": [30, 300]})
    folder = sqlite_instance.folder("identifiers") / "_linkage" / run
    folder.mkdir(parents=True)
    (folder / "run.json").write_text(json.dumps({"review": design(strata, sample)}))
    sample.to_csv(folder / "clerical-review.csv", index=False)
    report = sqlite_instance.folder("reports") / f"linkage-{run}.html"
    report.parent.mkdir(parents=True, exist_ok=True)
    report.write_text(f"<html><body><h1>x</h1>{START}pending{END}<p>after</p></body></html>")
    return sqlite_instance, folder / "clerical-review.csv", sample


def _refused(instance, path) -> str:
    with pytest.raises(ReviewError) as caught:
        read_labels(path, instance)
    return str(caught.value)


def test_a_decision_that_is_not_one_of_the_three_is_named_with_its_row(reviewed_run, tmp_path):
    instance, _, sample = reviewed_run
    sample.loc[1, "decision"] = "yes"
    path = tmp_path / "labelled.csv"
    sample.to_csv(path, index=False)
    message = _refused(instance, path)
    assert "row 3: decision 'yes' is not one of match, non-match, unsure" in message
    assert "write one of them" in message and "nothing was recorded" in message


def test_an_unlabelled_sample_and_a_missing_column_are_refused(reviewed_run, tmp_path):
    instance, written, sample = reviewed_run
    assert "no pair is labelled yet" in _refused(instance, written)
    path = tmp_path / "labelled.csv"
    sample.drop(columns=["decision"]).to_csv(path, index=False)
    assert "has no column decision" in _refused(instance, path)


def test_rows_the_run_did_not_sample_are_refused(reviewed_run, tmp_path):
    instance, _, sample = reviewed_run
    sample["decision"] = "match"
    sample.loc[2, "record_id_r"] = "someone else"
    path = tmp_path / "labelled.csv"
    sample.to_csv(path, index=False)
    message = _refused(instance, path)
    assert "row 4: the pair a 4.0-True-2 / b someone else is not in run" in message
    sample.loc[2, "record_id_r"] = sample.loc[1, "record_id_r"]
    sample.loc[2, "record_id_l"] = sample.loc[1, "record_id_l"]
    sample.to_csv(path, index=False)
    assert "row 4: the pair a 4.0-True-1 / b 4.0-True-1 repeats" in _refused(instance, path)


@pytest.mark.parametrize("run", ["../../reports", "20260401-120000/../..", "nope"])
def test_a_run_the_instance_does_not_hold_is_refused_not_followed(reviewed_run, tmp_path, run):
    instance, _, sample = reviewed_run
    path = tmp_path / "labelled.csv"
    sample.assign(run=run, decision="match").to_csv(path, index=False)
    assert "which this instance has no record of" in _refused(instance, path)


def test_excel_csv_with_a_byte_order_mark_is_read(reviewed_run, tmp_path):
    instance, _, sample = reviewed_run
    path = tmp_path / "labelled.csv"
    text = sample.assign(decision=" Match ").to_csv(index=False, lineterminator="\r\n")
    path.write_bytes("\ufeff".encode() + text.encode())
    run, labels, _ = read_labels(path, instance)
    assert run == "20260401-120000" and set(labels.decision) == {"match"}


def test_review_writes_the_report_the_run_folder_and_the_audit_log(reviewed_run, tmp_path):
    instance, _, sample = reviewed_run
    sample["decision"] = ["match", "match", "non-match", "non-match", "non-match", ""]
    path = tmp_path / "labelled.csv"
    sample.to_csv(path, index=False)
    result = record(instance, path, "ops")
    # the accepted band: match, match, non-match; the other side's labels do not count
    assert result.precision == pytest.approx(2 / 3) and result.unreviewed == 1
    page = result.report.read_text()
    assert "pending" not in page and "<p>after</p>" in page and page.count(START) == 1
    assert "Precision of the accepted links: <strong>66.7 %</strong>" in page
    kept = json.loads(
        (
            result.report.parent.parent / "identifiers/_linkage/20260401-120000/review.json"
        ).read_text()
    )
    assert kept["labelled"] == 5
    with instance.db.session() as session:
        events = [e for e in audit.events(session) if e.action == "data.review"]
    assert events and '"precision":0.66667' in events[-1].details
    # reviewed again (more labels), the section is replaced, not added
    sample["decision"] = ["match", "match", "match", "non-match", "non-match", "non-match"]
    sample.to_csv(path, index=False)
    again = record(instance, path, "ops").report.read_text()
    assert again.count(START) == again.count(END) == 1 and "<strong>100.0 %</strong>" in again


def test_precision_from_the_towns_truth_brackets_the_true_precision(
    registered, town, run_cli, monkeypatch
):
    """Label the sample of a real run from the synthetic town's truth: the estimate's interval
    holds the true precision of the accepted pairs."""
    ingest_all(registered, town)
    seen = []

    def spy(*args, **options):
        seen.append(spine_link_records(*args, **options))
        return seen[-1]

    spine_link_records = spine.link_records
    monkeypatch.setattr(spine, "link_records", spy)
    # few pairs kept before the draw, as at millions of records, where most are not
    monkeypatch.setattr(linker, "DRAW_MARGIN", 3)
    result = spine.run(registered, "ops", ages_on=AGES_ON)
    truth = pd.read_csv(town / "truth" / "records.csv", dtype=str)
    person = dict(
        zip(zip(truth.dataset, truth.record_id, strict=True), truth.person_id, strict=True)
    )
    sample = pd.read_csv(result.model.parent / "clerical-review.csv", dtype=str)
    same = [
        person[(a, b)] == person[(c, d)]
        for a, b, c, d in sample[["source_l", "record_id_l", "source_r", "record_id_r"]].itertuples(
            index=False
        )
    ]
    sample["decision"] = ["match" if s else "non-match" for s in same]
    labelled = result.model.parent / "labelled.csv"
    sample.to_csv(labelled, index=False)
    code, out, err = run_cli("--home", str(registered.home), "linkage", "review", str(labelled))
    assert code == 0, err
    assert "precision of accepted links" in out
    review = json.loads((result.model.parent / "review.json").read_text())
    # the truth of every accepted pair
    combined = seen[0].combined
    ids = dict(
        zip(combined.unique_id, zip(combined.source, combined.record_id, strict=True), strict=True)
    )
    pairs = seen[0].pairs
    true = [
        person[ids[left]] == person[ids[right]]
        for left, right in zip(pairs.unique_id_l, pairs.unique_id_r, strict=True)
    ]
    precision = sum(true) / len(true)
    low, high = review["interval"]
    # every band drew its pairs all the same
    about = json.loads((result.model.parent / "run.json").read_text())["review"]
    drawn = Counter((band, accepted) for *_, band, accepted, _ in about["sample"])
    for band, accepted, pairs in about["strata"]:
        assert drawn[(band, accepted)] >= min(pairs, REVIEW_PER_BAND)
    assert sum(n for (_, accepted), n in drawn.items() if accepted) >= REVIEW_ACCEPTED
    assert low <= precision <= high and review["coverage"] == 1.0
    assert "Precision of the accepted links" in result.report.read_text()


def test_tre_linkage_review_names_what_to_write_and_exits_non_zero(reviewed_run, run_cli, tmp_path):
    instance, written, _ = reviewed_run
    code, out, err = run_cli("--home", str(instance.home), "linkage", "review", str(written))
    assert code != 0 and "no pair is labelled yet" in out + err
    assert "write match, non-match or unsure" in out + err
