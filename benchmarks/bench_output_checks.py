"""False positives and detections of the airlock's automatic checks of one file.

Two corpora, built by code with a fixed seed:

- safe outputs (the tables the four demo studies make with ``sdc.safe``, their pictures, and
  hand-made tables, reports, JSON, HTML and pictures that a checker would release);
- attacks (per-person rows in every text format and under any column name, shares that disclose,
  lists of individual values, extremes of two people, tables hidden in pictures, numbers drawn
  that are not in the table behind a picture).

A safe output is a false positive when the automatic checks *fail* it; an attack is detected when
they fail it ("review" is counted apart: it is what a checker already sees). Baseline, in the same
process: ``output_checks/checks.py`` as it is on ``main`` (loaded from git into a temporary
module), on the same files. Rows split over several requests are measured with
:func:`output_checks.microdata.related` (the baseline has no such check).
"""

from __future__ import annotations

import hashlib
import importlib.util
import io
import json
import struct
import subprocess
import sys
import tempfile
import time
import zlib
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
from common import report

from linkage import extract
from output_checks import checks, microdata
from sdc import safe
from sdc.policy import Policy

SEED = 19
POPULATION = 5_000
AGENCIES = ["council", "NHS", "police", "fire", "schools"]
BANDS = ["0-17", "18-39", "40-64", "65+"]
AREAS = [f"E0100{i:04d}" for i in range(40)]
POLICY = Policy()
Maker = Callable[[Path], list[Path]]  # writes a case's files; returns [checked file, *group]


def baseline_module(reference: str = "main"):
    """``output_checks/checks.py`` at REFERENCE, imported as a module of its own."""
    root = Path(__file__).resolve().parents[1]
    commit = subprocess.run(
        ["git", "rev-parse", "--short", reference], cwd=root, capture_output=True, text=True
    ).stdout.strip()
    source = subprocess.run(
        ["git", "show", f"{reference}:output_checks/checks.py"],
        cwd=root,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    folder = Path(tempfile.mkdtemp())
    path = folder / "baseline_checks.py"
    path.write_text(source, encoding="utf-8")
    spec = importlib.util.spec_from_file_location("baseline_checks", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["baseline_checks"] = module
    spec.loader.exec_module(module)
    return module, commit


# ---------------------------------------------------------------------------------------------
# Writing files


def write(folder: Path, name: str, text: str | bytes) -> Path:
    path = folder / name
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


def csv_text(header: list[str], rows: list[list]) -> str:
    return "\n".join(",".join(str(c) for c in r) for r in [header, *rows]) + "\n"


def figure_bytes(labels: list[str], values: list[float], fmt: str, bar_labels=None) -> bytes:
    import matplotlib

    matplotlib.use("Agg", force=False)
    from matplotlib.figure import Figure

    figure = Figure(figsize=(4, 3))
    axes = figure.subplots()
    bars = axes.bar(labels, values)
    if bar_labels is not None:
        axes.bar_label(bars, labels=bar_labels)
    buffer = io.BytesIO()
    figure.savefig(buffer, format=fmt, metadata={"Software": None} if fmt == "png" else None)
    return buffer.getvalue()


def png_with(chunk: bytes, body: bytes, trailing: bytes = b"") -> bytes:
    data = figure_bytes(["a", "b"], [40, 55], "png")
    end = data.rindex(b"IEND") - 4
    extra = b""
    if chunk:
        extra = struct.pack(">I", len(body)) + chunk + body
        extra += struct.pack(">I", zlib.crc32(chunk + body) & 0xFFFFFFFF)
    return data[:end] + extra + data[end:] + trailing


def round5(value: float) -> int:
    return int(5 * round(value / 5))


# ---------------------------------------------------------------------------------------------
# The town the safe outputs are made from (like the demo's studies)


def town(rng: np.random.Generator) -> pd.DataFrame:
    n = POPULATION
    return pd.DataFrame(
        {
            "agency": rng.choice(AGENCIES, n),
            "age_band": rng.choice(BANDS, n),
            "lsoa_code": rng.choice(AREAS, n),
            "month": rng.choice([f"2025-{m:02d}" for m in range(1, 13)], n),
            "group": rng.choice(["treated", "comparison"], n),
            "outcome": (rng.random(n) < 0.3).astype(int),
            "prior_ae": rng.poisson(1.5, n),
            "cost": rng.lognormal(7, 0.6, n),
            "age": rng.integers(0, 95, n).astype(float),
        }
    )


def safe_corpus(rng: np.random.Generator) -> dict[str, Maker]:
    people = town(rng)
    cases: dict[str, Maker] = {}

    def saved(name: str, make: Callable[[], safe.SafeOutput], picture: str | None = None):
        def maker(folder: Path) -> list[Path]:
            out = make()
            table = out.save(folder / f"{name}.csv")
            if picture is None:
                return [table]
            drawn = (out.plot() if out.kind == "table" else out).save(folder / f"{name}{picture}")
            return [drawn, table]

        return maker

    cases["studies: caseload by agency"] = saved("agency", lambda: safe.crosstab(people.agency))
    cases["studies: agency by age band"] = saved(
        "agency_band", lambda: safe.crosstab(people.age_band, people.agency)
    )
    cases["studies: caseload by neighbourhood"] = saved(
        "by_area", lambda: safe.crosstab(people.lsoa_code, rownames=["lsoa_code"])
    )
    cases["studies: demand by month"] = saved(
        "by_month", lambda: safe.crosstab(people.month, people.agency)
    )
    cases["studies: matched groups"] = saved(
        "matched", lambda: safe.crosstab(people.age_band, people.group)
    )
    cases["studies: outcome by group (counts)"] = saved(
        "outcome", lambda: safe.crosstab(people.group, people.outcome)
    )
    cases["studies: outcome share by group"] = saved(
        "share", lambda: safe.crosstab(people.group, values=people.outcome, aggfunc="mean")
    )
    cases["studies: mean cost by agency"] = saved(
        "cost", lambda: safe.crosstab(people.agency, values=people.cost, aggfunc="mean")
    )
    cases["studies: outcome model"] = saved(
        "model", lambda: safe.logit("outcome ~ prior_ae + age", people)
    )
    cases["studies: describe cost"] = saved("describe", lambda: safe.describe(people[["cost"]]))
    cases["studies: age histogram"] = saved("hist", lambda: safe.hist(people.age, bins=8))
    cases["studies: age histogram picture"] = saved(
        "hist_png", lambda: safe.hist(people.age, bins=8), ".png"
    )
    cases["studies: demand picture (png)"] = saved(
        "demand_png", lambda: safe.crosstab(people.month), ".png"
    )
    cases["studies: demand picture (svg)"] = saved(
        "demand_svg", lambda: safe.crosstab(people.agency), ".svg"
    )
    cases["studies: survival"] = saved(
        "survival",
        lambda: safe.survival(np.round(rng.exponential(20, 900)), rng.random(900) < 0.6),
    )

    # hand-made outputs a checker would release
    def hand(name: str, text: Callable[[], str | bytes], group: Callable[[], dict] | None = None):
        def maker(folder: Path) -> list[Path]:
            others = [write(folder, n, t) for n, t in (group() if group else {}).items()]
            return [write(folder, name, text()), *others]

        return maker

    def counts(rows: list[str], cols: list[str]) -> list[list]:
        return [[r] + [round5(rng.integers(20, 400)) for _ in cols] for r in rows]

    wide = counts(BANDS, AGENCIES)
    cases["hand: agencies as columns (NHS)"] = hand(
        "wide.csv", lambda: csv_text(["age_band", *AGENCIES], wide)
    )
    cases["hand: long format"] = hand(
        "long.csv",
        lambda: csv_text(
            ["area", "sex", "people"],
            [[a, s, round5(rng.integers(20, 300))] for a in AREAS[:10] for s in ("f", "m")],
        ),
    )
    cases["hand: many LSOAs"] = hand(
        "lsoas.csv", lambda: csv_text(["lsoa_code", "people"], counts(AREAS, ["people"]))
    )
    cases["hand: next year's table"] = hand(
        "next_year.csv", lambda: csv_text(["area", "people"], counts(AREAS[:20], ["people"]))
    )
    cases["hand: service codes"] = hand(
        "services.csv",
        lambda: csv_text(
            ["service_id", "referrals"], counts([f"S{i:02d}" for i in range(8)], ["n"])
        ),
    )
    cases["hand: NHS trust column of counts"] = hand(
        "trusts.csv",
        lambda: csv_text(["nhs_trust", "patients"], counts(["north", "south", "east"], ["n"])),
    )
    cases["hand: percentages with denominators"] = hand(
        "percent.csv",
        lambda: csv_text(
            ["team", "n", "percent"],
            [["north", 400, 22.5], ["south", 360, 31.9], ["All", 760, 26.9]],
        ),
    )
    cases["hand: shares with counts"] = hand(
        "shares.csv",
        lambda: csv_text(
            ["group", "people", "share"], [["treated", 500, 0.31], ["comparison", 480, 0.27]]
        ),
    )
    cases["hand: means with n"] = hand(
        "means.csv",
        lambda: csv_text(
            ["agency", "n", "mean_cost"],
            [[a, round5(rng.integers(50, 400)), 1234.5] for a in AGENCIES],
        ),
    )
    cases["hand: histogram table"] = hand(
        "bands.csv",
        lambda: csv_text(
            ["low", "high", "count"],
            [[i * 10, i * 10 + 10, round5(rng.integers(20, 200))] for i in range(9)],
        ),
    )
    cases["hand: JSON table"] = hand(
        "table.json",
        lambda: json.dumps(
            {"agency": AGENCIES, "people": [round5(rng.integers(20, 300)) for _ in AGENCIES]}
        ),
    )
    cases["hand: JSON records of groups"] = hand(
        "groups.json",
        lambda: json.dumps([{"band": b, "people": round5(rng.integers(20, 300))} for b in BANDS]),
    )
    cases["hand: HTML table"] = hand(
        "table.html",
        lambda: (
            "<html><body><table><tr><th>agency</th><th>people</th></tr>"
            + "".join(
                f"<tr><td>{a}</td><td>{round5(rng.integers(20, 300))}</td></tr>" for a in AGENCIES
            )
            + "</table></body></html>"
        ),
    )
    cases["hand: markdown table"] = hand(
        "table.md",
        lambda: (
            "| band | people |\n|---|---|\n"
            + "\n".join(f"| {b} | {round5(rng.integers(20, 300))} |" for b in BANDS)
        ),
    )
    cases["hand: report text"] = hand(
        "report.md",
        lambda: (
            "# Findings\n\nDemand rose by 12 % over 2025; 45 % of 900 people were seen "
            "within a week. Figure 1 of 3 shows demand by month.\n"
        ),
    )
    cases["hand: plain text note"] = hand(
        "note.txt", lambda: "Counts are rounded to 5 and suppressed below 10, as the policy says.\n"
    )
    values = [round5(rng.integers(40, 300)) for _ in AGENCIES]
    table_csv = csv_text(
        ["agency", "people"], [[a, v] for a, v in zip(AGENCIES, values, strict=True)]
    )
    cases["hand: svg chart with its table"] = hand(
        "chart.svg",
        lambda: figure_bytes(AGENCIES, values, "svg", [str(v) for v in values]),
        lambda: {"chart.csv": table_csv},
    )
    cases["hand: png chart with its table"] = hand(
        "chart.png",
        lambda: figure_bytes(AGENCIES, values, "png"),
        lambda: {"chart2.csv": table_csv},
    )
    cases["hand: children per family"] = hand(
        "children.csv",
        lambda: csv_text(["children", "families"], [[i, 300 - 40 * i] for i in range(1, 6)]),
    )
    cases["hand: rates per 1,000"] = hand(
        "rates.csv",
        lambda: csv_text(
            ["area", "people", "rate_per_1000"],
            [[a, 250, round(rng.uniform(5, 60), 1)] for a in AREAS[:6]],
        ),
    )
    cases["hand: highest qualification"] = hand(
        "qualification.csv",
        lambda: csv_text(
            ["highest_qualification", "people"], counts(["none", "gcse", "degree"], ["n"])
        ),
    )
    cases["hand: top ten referral reasons (counts)"] = hand(
        "reasons.csv",
        lambda: csv_text(
            ["rank", "reason", "referrals"],
            [[i, f"reason {i}", 400 - 25 * i] for i in range(1, 11)],
        ),
    )
    cases["hand: survival table with whole times"] = hand(
        "survival.csv",
        lambda: csv_text(
            ["time", "at_risk", "events", "survival"],
            [[t, 400 - 20 * t, 20, round(1 - 0.05 * t, 3)] for t in range(1, 8)],
        ),
    )
    cases["hand: model with a p-value of 0"] = hand(
        "model.csv",
        lambda: csv_text(
            ["term", "coef", "std_err", "p_value"],
            [["Intercept", 1.2, 0.1, 0.0], ["age", 0.02, 0.01, 0.31]],
        ),
    )
    for k in range(4):
        cols = [f"{m}" for m in ("Jan", "Feb", "Mar", "Apr", "May", "Jun")]
        rows = counts(AGENCIES, cols)
        cases[f"hand: monthly table {k + 1}"] = hand(
            f"monthly{k}.csv", lambda rows=rows, cols=cols: csv_text(["agency", *cols], rows)
        )
    return cases


def attack_corpus(rng: np.random.Generator) -> dict[str, Maker]:
    cases: dict[str, Maker] = {}

    def person_rows(n: int, hasher=hashlib.sha256) -> list[list]:
        return [
            [
                hasher(f"pseudonym-{rng.integers(10**9)}".encode()).hexdigest(),
                str(rng.choice(AREAS[:6])),
                int(rng.integers(18, 95)),
                f"{rng.lognormal(7, 0.8):.2f}",
            ]
            for _ in range(n)
        ]

    def attack(name: str, text: Callable[[], str | bytes], group: Callable[[], dict] | None = None):
        def maker(folder: Path) -> list[Path]:
            others = [write(folder, n, t) for n, t in (group() if group else {}).items()]
            return [write(folder, name, text()), *others]

        return maker

    for hasher, label in ((hashlib.sha256, "sha256"), (hashlib.md5, "md5"), (hashlib.sha1, "sha1")):
        rows = person_rows(200, hasher)
        cases[f"rows: {label} of pseudonyms under 'count'"] = attack(
            f"{label}.csv", lambda rows=rows: csv_text(["count", "area", "age", "cost"], rows)
        )
    tokens = [
        [f"{rng.integers(16**12):012x}Z{i}", r[1], r[3]] for i, r in enumerate(person_rows(120))
    ]
    cases["rows: re-coded tokens"] = attack(
        "tokens.csv", lambda: csv_text(["ref", "area", "cost"], tokens)
    )
    records = [[r[1], r[3]] for r in person_rows(150)]
    cases["rows: per-person values under 'count'"] = attack(
        "values.csv", lambda: csv_text(["area", "count"], records)
    )
    many = [[f"band {i}", f"{rng.lognormal(5, 1):.1f}"] for i in range(1500)]
    cases["rows: more rows than groups could fill"] = attack(
        "many.csv", lambda: csv_text(["band", "value"], many)
    )
    numbers = [[int(rng.integers(18, 95)), f"{rng.lognormal(7, 0.8):.2f}"] for _ in range(200)]
    cases["rows: unlabelled numbers"] = attack(
        "numbers.csv", lambda: csv_text(["age", "cost"], numbers)
    )
    rows = person_rows(80)
    cases["rows: JSON records"] = attack(
        "rows.json", lambda: json.dumps([{"k": r[0], "area": r[1], "cost": r[3]} for r in rows])
    )
    cases["rows: JSON columns"] = attack(
        "columns.json",
        lambda: json.dumps({"k": [r[0] for r in rows], "cost": [r[3] for r in rows]}),
    )
    cases["rows: HTML table"] = attack(
        "rows.html",
        lambda: (
            "<html><table><tr><th>ref</th><th>cost</th></tr>"
            + "".join(f"<tr><td>{r[0]}</td><td>{r[3]}</td></tr>" for r in rows)
            + "</table></html>"
        ),
    )
    cases["rows: SVG text"] = attack(
        "rows.svg",
        lambda: (
            '<svg xmlns="http://www.w3.org/2000/svg">'
            + "".join(
                f'<text x="0" y="{12 * i}">{r[0][:40]}</text>'
                f'<text x="300" y="{12 * i}">{r[3]}</text>'
                for i, r in enumerate(rows)
            )
            + "</svg>"
        ),
    )
    cases["rows: markdown table"] = attack(
        "rows.md",
        lambda: "| ref | cost |\n|---|---|\n" + "\n".join(f"| {r[0]} | {r[3]} |" for r in rows),
    )
    cases["rows: tab-separated text"] = attack(
        "rows.txt",
        lambda: "\n".join("\t".join(map(str, r)) for r in [["ref", "area", "age", "cost"], *rows]),
    )
    cases["shares: 100 % and 0 %"] = attack(
        "class.csv",
        lambda: csv_text(
            ["team", "share_referred"], [["north", 0.31], ["south", 1.0], ["east", 0.0]]
        ),
    )
    cases["shares: 3 of 783 as a percentage"] = attack(
        "percent.csv",
        lambda: csv_text(["team", "n", "percent"], [["north", 783, 0.38], ["south", 400, 25.0]]),
    )
    cases["shares: complement of 2"] = attack(
        "complement.csv",
        lambda: csv_text(["team", "people", "share"], [["north", 250, 0.992], ["south", 300, 0.4]]),
    )
    cases["shares: in a report"] = attack(
        "report.md", lambda: "Of the cohort, 3 of 783 (0.4 %) were referred to the panel.\n"
    )
    cases["shares: JSON with 0 %"] = attack(
        "shares.json", lambda: json.dumps({"team": ["a", "b"], "share": [0.0, 0.45]})
    )
    top = [[i, f"{90000 - 6131 * i + rng.uniform(0, 50):.2f}"] for i in range(1, 11)]
    cases["values: top ten"] = attack("top10.csv", lambda: csv_text(["rank", "cost"], top))
    cases["values: ten largest, unlabelled"] = attack(
        "largest.csv", lambda: csv_text(["#", "cost"], top)
    )
    cases["values: max and median of two"] = attack(
        "two.csv",
        lambda: csv_text(
            ["statistic", "cost"], [["count", 2], ["median", 1520.5], ["max", 2210.0]]
        ),
    )
    cases["values: max by team with n"] = attack(
        "max.csv",
        lambda: csv_text(["team", "n", "max_cost"], [["north", 2, 900.5], ["south", 40, 1200.0]]),
    )
    table = csv_text(["who", "cost"], [[r[0], r[3]] for r in person_rows(60)])
    cases["picture: table in a tEXt chunk"] = attack(
        "t.png", lambda: png_with(b"tEXt", b"Comment\x00" + table.encode())
    )
    cases["picture: table in a zTXt chunk"] = attack(
        "z.png", lambda: png_with(b"zTXt", b"Comment\x00\x00" + zlib.compress(table.encode()))
    )
    cases["picture: table in an iTXt chunk"] = attack(
        "i.png",
        lambda: png_with(b"iTXt", b"Comment\x00\x01\x00en\x00\x00" + zlib.compress(table.encode())),
    )
    cases["picture: rows after the image's end"] = attack(
        "end.png", lambda: png_with(b"", b"", trailing=table.encode())
    )
    behind = csv_text(["area", "people"], [["north", 120], ["south", 85]])
    cases["picture: small counts drawn, not in the table"] = attack(
        "drawn.svg",
        lambda: figure_bytes(
            ["north", "south"], [120, 85], "svg", ["120 (3 aged 90+)", "85 (2 in care)"]
        ),
        lambda: {"behind.csv": behind},
    )
    cases["picture: rows as an SVG's labels"] = attack(
        "labels.svg",
        lambda: figure_bytes(
            [r[0][:16] for r in rows[:30]], [float(r[3]) for r in rows[:30]], "svg"
        ),
    )
    cases["rows: one column per person (hashed names in the header)"] = attack(
        "transposed.csv",
        lambda: csv_text(
            ["measure", *[r[0] for r in rows[:20]]], [["cost", *[r[3] for r in rows[:20]]]]
        ),
    )
    cases["rows: pandas 'split' JSON"] = attack(
        "split.json",
        lambda: json.dumps(
            {
                "columns": ["area", "age", "cost"],
                "index": list(range(80)),
                "data": [r[1:] for r in rows],
            }
        ),
    )
    cases["values: describe of three people"] = attack(
        "three.csv",
        lambda: csv_text(
            ["statistic", "cost"], [["count", 3], ["mean", 1400.2], ["min", 310.0], ["max", 2900.0]]
        ),
    )
    cases["table: small counts in a markdown table"] = attack(
        "small.md",
        lambda: (
            "| team | referrals |\n|---|---|\n"
            + "\n".join(f"| team {i} | {i + 2} |" for i in range(6))
        ),
    )
    # two the rules are not expected to catch (kept in the corpus so the rate stays honest):
    # few people with unique, innocent-looking labels, and per-person values rounded like counts
    cases["rows: 40 people labelled case 1 to case 40"] = attack(
        "cases.csv",
        lambda: csv_text(["case", "cost"], [[f"case {i}", r[3]] for i, r in enumerate(rows[:40])]),
    )
    rounded = [[r[1], round5(float(r[3]) / 10) + 10] for r in person_rows(60)]
    cases["rows: per-person values rounded like counts"] = attack(
        "rounded.csv", lambda: csv_text(["area", "people"], rounded)
    )
    small = [[f"team {i}"] + [int(rng.integers(1, 9)) for _ in range(4)] for i in range(6)]
    cases["table: small cells"] = attack(
        "small.csv", lambda: csv_text(["team", "a", "b", "c", "d"], small)
    )
    return cases


def split_attacks(
    rng: np.random.Generator, population: int
) -> list[tuple[list[list[str]], list[tuple[str, bytes]]]]:
    """Per-person rows split over three requests (each piece alone looks like a table of
    means): 36 rows for a population of 150 (more rows together than groups of 10 could
    fill), and 120 rows for the town's population (only their repeated labels give them away)."""
    header = ["area", "age_band", "cost"]
    out = []
    for n in [36] * 5 + [120] * 5:
        rows = [[AREAS[i % 4], BANDS[i % 3], f"{rng.lognormal(7, 1):.2f}"] for i in range(n)]
        pieces = [rows[i::3] for i in range(3)]
        earlier = [
            (f"piece{i}.csv", csv_text(header, p).encode()) for i, p in enumerate(pieces[:2])
        ]
        out.append(([header, *pieces[2]], earlier))
    return out


def period_tables(
    rng: np.random.Generator,
) -> list[tuple[list[list[str]], list[tuple[str, bytes]]]]:
    """The control: the same table of mean costs for three periods (same columns, same labels)."""
    header = ["agency", "age_band", "mean_cost"]
    out = []
    for _ in range(10):
        periods = [
            [[a, b, f"{rng.lognormal(7, 0.2):.2f}"] for a in AGENCIES for b in BANDS]
            for _ in range(3)
        ]
        earlier = [
            (f"period{i}.csv", csv_text(header, p).encode()) for i, p in enumerate(periods[:2])
        ]
        out.append(([header, *periods[2]], earlier))
    return out


def run(cases: dict[str, Maker], module, pseudonyms: set[str]) -> tuple[list[str], float]:
    outcomes, spent = [], 0.0
    with tempfile.TemporaryDirectory() as tmp:
        for i, maker in enumerate(cases.values()):
            folder = Path(tmp) / str(i)
            folder.mkdir()
            path, *group = maker(folder)
            started = time.perf_counter()
            found = module.check_file(path, POLICY, pseudonyms, 16 << 20, 5000, group)
            spent += time.perf_counter() - started
            outcomes.append(str(module.outcome_of(found)))
    return outcomes, spent


def main() -> None:
    baseline, commit = baseline_module()
    pseudonyms = set(extract.pseudonyms(b"k" * 32, pd.Series(range(POPULATION))))
    safe_cases = safe_corpus(np.random.default_rng(SEED))
    attacks = attack_corpus(np.random.default_rng(SEED))
    figures: dict[str, object] = {"safe_outputs": len(safe_cases), "attacks": len(attacks)}
    for label, module in (("baseline", baseline), ("now", checks)):
        safe_outcomes, safe_s = run(safe_cases, module, pseudonyms)
        attack_outcomes, attack_s = run(attacks, module, pseudonyms)
        figures[f"{label}_false_positive_rate"] = round(
            safe_outcomes.count("fail") / len(safe_cases), 3
        )
        figures[f"{label}_safe_review_rate"] = round(
            safe_outcomes.count("review") / len(safe_cases), 3
        )
        figures[f"{label}_detection_rate"] = round(attack_outcomes.count("fail") / len(attacks), 3)
        figures[f"{label}_attack_review_rate"] = round(
            attack_outcomes.count("review") / len(attacks), 3
        )
        figures[f"{label}_ms_per_file"] = round(
            1000 * (safe_s + attack_s) / (len(safe_cases) + len(attacks)), 2
        )
        if label == "now":
            figures["false_positives_now"] = [
                n for n, o in zip(safe_cases, safe_outcomes, strict=True) if o == "fail"
            ]
            figures["missed_now"] = [
                n for n, o in zip(attacks, attack_outcomes, strict=True) if o != "fail"
            ]
        else:
            figures["false_positives_baseline"] = [
                n for n, o in zip(safe_cases, safe_outcomes, strict=True) if o == "fail"
            ]
    rng = np.random.default_rng(SEED)
    split = [
        microdata.related(new, earlier, POLICY, population=150 if len(new) < 20 else POPULATION)
        for new, earlier in split_attacks(rng, POPULATION)
    ]
    periods = [
        microdata.related(new, earlier, POLICY, population=POPULATION)
        for new, earlier in period_tables(rng)
    ]
    figures["split_rows_failed"] = f"{sum(c.outcome == 'fail' for c in split)} of {len(split)}"
    figures["split_rows_review"] = f"{sum(c.outcome == 'review' for c in split)} of {len(split)}"
    figures["period_tables_failed"] = (
        f"{sum(c.outcome == 'fail' for c in periods)} of {len(periods)}"
    )
    figures["baseline"] = f"output_checks/checks.py on main ({commit})"
    base_fp = figures["baseline_false_positive_rate"]
    figures["detection_ratio_now_to_baseline"] = (
        round(figures["now_detection_rate"] / figures["baseline_detection_rate"], 2)  # type: ignore[operator]
        if figures["baseline_detection_rate"]
        else "baseline detected none"
    )
    figures["false_positive_ratio_now_to_baseline"] = (
        round(figures["now_false_positive_rate"] / base_fp, 2) if base_fp else "baseline had none"  # type: ignore[operator]
    )
    report("output_checks", **figures)


if __name__ == "__main__":
    main()
