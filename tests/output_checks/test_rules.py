"""The rules checkers expect, on what a file shows: each attack beside a control that stays
clean. None of them reads a sidecar: the analyst writes those."""

import io
import json
import struct
import zlib

import matplotlib

matplotlib.use("Agg")
from matplotlib.figure import Figure  # noqa: E402

from output_checks import rules  # noqa: E402
from output_checks.checks import check_file  # noqa: E402
from output_checks.outcomes import CheckOutcome  # noqa: E402
from sdc.policy import Policy  # noqa: E402

POLICY = Policy()


def outcomes(checks):
    return {c.name: c.outcome for c in checks}


def rows(text):
    return [line.split(",") for line in text.strip().splitlines()]


# --- proportions ------------------------------------------------------------------------------


def test_class_disclosure_in_shares_fails():
    table = rows("team,share_flagged\nnorth,0.25\nsouth,1.0\neast,0.0\nAll,0.4")
    check = rules.proportions(table, POLICY)[0]
    assert check.outcome == CheckOutcome.FAIL and "class disclosure" in check.explanation
    assert check.evidence["count"] == 2  # south and east; the total row is not a group


def test_percentages_with_shown_denominators_threshold_the_numerator():
    table = rows("team,n,percent\nnorth,783,0.38\nsouth,400,25.0")
    check = rules.proportions(table, POLICY)[0]
    assert check.outcome == CheckOutcome.FAIL and "is 3" in check.explanation
    complement = rows("team,n,percent\nnorth,783,99.62\nsouth,400,25.0")
    assert rules.proportions(complement, POLICY)[0].outcome == CheckOutcome.FAIL
    safe = rows("team,n,percent\nnorth,785,20.4\nsouth,400,25.0")
    assert rules.proportions(safe, POLICY)[0].outcome == CheckOutcome.PASS


def test_shares_without_denominators_go_to_a_checker_and_counts_are_not_shares():
    shares = rows("team,mean_flag\nnorth,0.31\nsouth,0.27")
    assert rules.proportions(shares, POLICY)[0].outcome == CheckOutcome.REVIEW
    counts = rows("team,people\nnorth,30\nsouth,25")
    assert rules.proportions(counts, POLICY) == []


def test_percentages_written_in_a_report_are_read():
    bad = "Of the cohort, 3 of 783 (0.4 %) were referred; 0.4% (n=783) again."
    found = rules.percentages_in_text(bad, POLICY)
    assert found and found[0].outcome == CheckOutcome.FAIL
    assert rules.percentages_in_text("45 % of 900 people were referred.", POLICY) == []
    assert rules.percentages_in_text("Figure 1 of 3 shows demand.", POLICY) == []


# --- individual values ------------------------------------------------------------------------


def test_a_top_ten_list_of_values_fails():
    top = [["rank", "cost"]] + [[str(i), f"{90000 - 7919 * i:.0f}.5"] for i in range(1, 11)]
    assert rules.individual_values(top, POLICY)[0].outcome == CheckOutcome.FAIL
    unlabelled = [["position", "cost"]] + [[str(i), f"{9000 - 79 * i}.25"] for i in range(1, 11)]
    assert rules.individual_values(unlabelled, POLICY)[0].outcome == CheckOutcome.FAIL
    children = [["children", "families"]] + [[str(i), str(200 - 30 * i)] for i in range(1, 6)]
    assert rules.individual_values(children, POLICY) == []


def test_max_or_median_of_two_people_fails():
    describe = rows("statistic,cost\ncount,2\nmedian,1520.5\nmax,2210.0")
    check = rules.individual_values(describe, Policy(extremes_disclosive=False))[0]
    assert check.outcome == CheckOutcome.FAIL and "fewer than 10" in check.explanation
    assert check.evidence["count"] == 2
    many = rows("statistic,cost\ncount,200\nmean,1520.5")
    assert rules.individual_values(many, POLICY) == []
    by_group = rows("team,n,max_cost\nnorth,2,900.5\nsouth,40,1200.0")
    assert rules.individual_values(by_group, Policy(extremes_disclosive=False))[0].evidence[
        "cells"
    ] == [["north", "max_cost", 900.5]]


# --- every failing cell kept ------------------------------------------------------------------


def test_the_count_rules_keep_every_small_cell():
    header = ["row"] + [f"c{j}" for j in range(8)]
    body = [[f"r{i}"] + [("3" if i * 8 + j < 39 else "25") for j in range(8)] for i in range(6)]
    check = rules.count_table([header, *body], POLICY)[0]
    assert check.outcome == CheckOutcome.FAIL
    assert check.explanation.startswith("39 cells below the threshold of 10")
    assert len(check.evidence["cells"]) == 39 and check.evidence["count"] == 39


# --- pictures ---------------------------------------------------------------------------------


def png(chunks=(), trailing=b""):
    figure = Figure(figsize=(2, 2))
    figure.subplots().bar(["a", "b"], [20, 30])
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", metadata={"Software": None})
    data = buffer.getvalue()
    end = data.rindex(b"IEND") - 4
    extra = b""
    for kind, body in chunks:
        extra += struct.pack(">I", len(body)) + kind + body
        extra += struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF)
    return data[:end] + extra + data[end:] + trailing


TABLE = "\n".join(["who,cost"] + [f"p{i:04d},{1000 + 37 * i}.5" for i in range(40)])


def test_a_png_hiding_a_table_in_a_text_chunk_fails(tmp_path):
    for kind, body in (
        (b"tEXt", b"Comment\x00" + TABLE.encode()),
        (b"zTXt", b"Comment\x00\x00" + zlib.compress(TABLE.encode())),
        (b"iTXt", b"Comment\x00\x01\x00en\x00\x00" + zlib.compress(TABLE.encode())),
    ):
        path = tmp_path / "figure.png"
        path.write_bytes(png([(kind, body)]))
        found = [c for c in check_file(path, POLICY, set(), 10**7, 5000, []) if c.name == "picture"]
        assert found and found[0].outcome == CheckOutcome.FAIL, kind
        assert "hidden" in found[0].explanation


def test_metadata_and_trailing_bytes_are_scanned_and_a_clean_png_is_clean(tmp_path):
    exif = b"MM\x00*" + b"\x00" * 8 + b"cohort of 3 people in ward 7"
    assert rules.picture(tmp_path / "x.png", png([(b"eXIf", exif)]), [], POLICY)[0].outcome == (
        CheckOutcome.REVIEW
    )
    trailing = rules.picture(tmp_path / "x.png", png(trailing=TABLE.encode()), [], POLICY)
    assert trailing[0].outcome == CheckOutcome.FAIL and "follow the end" in trailing[0].explanation
    assert rules.picture(tmp_path / "x.png", png(), [], POLICY) == []


def svg(labels):
    figure = Figure(figsize=(3, 2))
    axes = figure.subplots()
    bars = axes.bar(["north", "south"], [120, 85])
    axes.bar_label(bars, labels=labels)
    buffer = io.StringIO()
    figure.savefig(buffer, format="svg")
    return buffer.getvalue().encode()


def test_numbers_in_an_svg_are_compared_with_the_table_behind_it(tmp_path):
    table = tmp_path / "demand.csv"
    table.write_text("area,people\nnorth,120\nsouth,85\n")
    same = rules.picture(tmp_path / "demand.svg", svg(["120", "85"]), [table], POLICY)
    assert same[0].outcome == CheckOutcome.PASS, same[0].explanation
    hidden = rules.picture(
        tmp_path / "demand.svg", svg(["120 (3 aged 90+)", "85"]), [table], POLICY
    )
    assert hidden[0].outcome == CheckOutcome.FAIL and "3" in hidden[0].explanation


def test_a_json_table_with_shares_goes_through_the_same_rules(tmp_path):
    path = tmp_path / "shares.json"
    path.write_text(json.dumps({"team": ["north", "south"], "share": [1.0, 0.4]}))
    found = outcomes(check_file(path, POLICY, set(), 10**7, 5000, []))
    assert found["proportions"] == CheckOutcome.FAIL and found["microdata"] == CheckOutcome.PASS


def test_shares_beside_their_counts_are_not_small_counts(tmp_path):
    path = tmp_path / "shares.csv"
    path.write_text("group,people,share\ntreated,500,0.31\ncomparison,480,0.27\n")
    found = outcomes(check_file(path, POLICY, set(), 10**7, 5000, []))
    assert found["threshold"] == CheckOutcome.PASS and found["proportions"] == CheckOutcome.PASS


def test_small_counts_in_a_markdown_table_fail_like_a_csvs(tmp_path):
    path = tmp_path / "small.md"
    path.write_text("| team | referrals |\n|---|---|\n| north | 3 |\n| south | 45 |\n")
    assert outcomes(check_file(path, POLICY, set(), 10**7, 5000, []))["threshold"] == (
        CheckOutcome.FAIL
    )
    path.write_text("| team | referrals |\n|---|---|\n| north | 35 |\n| south | 45 |\n")
    assert "threshold" not in outcomes(check_file(path, POLICY, set(), 10**7, 5000, []))


def test_a_models_p_values_and_a_survival_curve_are_not_shares():
    model = rows("term,coef,std_err,p_value\nIntercept,1.2,0.1,0.0\nage,0.02,0.01,1.0")
    assert rules.proportions(model, POLICY) == []
    curve = rows("time,at_risk,events,survival\n1,400,20,1.0\n2,380,25,0.93")
    assert rules.proportions(curve, POLICY) == []
    times = [["time", "at_risk", "events", "survival"]] + [
        [str(t), str(400 - 20 * t), "20", f"{1 - 0.05 * t:.3f}"] for t in range(1, 8)
    ]
    assert rules.individual_values(times, POLICY) == []


def test_a_ranking_of_counts_and_a_highest_qualification_table_are_tables():
    reasons = [["rank", "reason", "referrals"]] + [
        [str(i), f"reason {i}", str(200 - 15 * i)] for i in range(1, 11)
    ]
    assert rules.individual_values(reasons, POLICY) == []
    qualification = rows("highest_qualification,people\nnone,120\ndegree,85")
    assert rules.individual_values(qualification, POLICY) == []
