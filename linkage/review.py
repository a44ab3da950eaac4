"""Precision from people's judgement: the clerical-review sample of a linkage run, labelled by
the operator's reviewers and read back (``tre linkage review FILE``).

`tre data link` writes ``clerical-review.csv``: pairs drawn at random from every band of match
weight, on both sides of the threshold, with both records' identifiers and an empty
``decision`` column. Reviewers write ``match``, ``non-match`` or ``unsure`` in it (or leave it
empty for a pair they did not look at). Reading it back, each band's share of true matches is
estimated from its labelled pairs (``unsure`` ones left out) with a Wilson 95 % interval, and the
precision of the accepted links is the bands' shares weighted by how many accepted pairs each
band holds, with the Wilson interval of that share at Kish's effective sample size of the
weighted bands (1 / sum of weight squared / judged pairs: a band that holds most of the links
but few judged pairs widens it as it should). Bands and their pair counts come from the run's
own record (``run.json``), never from the file, which only contributes the labels: a row the run
did not sample is refused.

The result goes into the run's linkage-quality report (its clerical-review section is replaced),
the run's folder (``review.json``) and the audit log.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import asdict, dataclass
from pathlib import Path

import pandas as pd

from linkage import TEMPLATES
from linkage.events import LinkageEvent
from linkage.linker import REVIEW_BAND
from linkage.readers import IngestError, read_agency_file
from tre import audit
from tre.errors import TreError
from tre.instance import Instance
from tre.templating import render

DECISIONS = ("match", "non-match", "unsure")
KEYS = ("source_l", "record_id_l", "source_r", "record_id_r")
START, END = "<!-- clerical-review -->", "<!-- /clerical-review -->"
Z = 1.959964  # a 95 % interval
SHOWN_ERRORS = 10


class ReviewError(TreError):
    """The labelled sample cannot be read back; nothing was recorded."""


def design(strata: pd.DataFrame, sample: pd.DataFrame) -> dict:
    """What a review of SAMPLE (the clerical-review rows) is weighed against: the pairs in
    every band and side of the threshold (STRATA: band, accepted, pairs) and each sampled
    pair's band, side and match probability, keyed by its records."""
    return {
        "band_width": REVIEW_BAND,
        "strata": [
            [float(band), bool(accepted), int(pairs)]
            for band, accepted, pairs in strata[["band", "accepted", "pairs"]].itertuples(
                index=False
            )
        ],
        "sample": [
            [*(str(row[k]) for k in KEYS), float(row["band"]), bool(row["accepted"]), p]
            for row, p in zip(
                sample.to_dict("records"), sample.match_probability.round(6), strict=True
            )
        ],
    }


def wilson(successes: int, trials: int, z: float = Z) -> tuple[float, float]:
    """The Wilson score interval of a proportion (0 to 1 when there are no trials)."""
    return wilson_share(successes / trials if trials else 0.0, trials, z)


def wilson_share(share: float, trials: float, z: float = Z) -> tuple[float, float]:
    """The Wilson score interval of SHARE observed in TRIALS (an effective number, which
    need not be whole)."""
    if trials <= 0:
        return 0.0, 1.0
    centre = share + z * z / (2 * trials)
    spread = z * math.sqrt(share * (1 - share) / trials + z * z / (4 * trials * trials))
    scale = 1 + z * z / trials
    return max(0.0, (centre - spread) / scale), min(1.0, (centre + spread) / scale)


@dataclass
class Band:
    low: float  # match weight from low to low + band width
    accepted: bool  # the side of the threshold
    pairs: int  # scored pairs in the band and side
    model: float | None  # the model's mean match probability of the band's sampled pairs
    matches: int = 0
    non_matches: int = 0
    unsure: int = 0

    @property
    def judged(self) -> int:
        return self.matches + self.non_matches

    @property
    def share(self) -> float | None:
        return self.matches / self.judged if self.judged else None

    @property
    def interval(self) -> tuple[float, float]:
        return wilson(self.matches, self.judged)


@dataclass
class Review:
    run: str
    bands: list[Band]
    labelled: int  # rows with a decision (unsure included)
    unreviewed: int  # rows left empty
    precision: float | None  # of the accepted links, from the labels
    interval: tuple[float, float] | None
    coverage: float  # share of the accepted pairs in bands with a judged pair
    report: Path

    def summary(self) -> str:
        if self.precision is None or self.interval is None:
            return (
                f"run {self.run}: {self.labelled} pairs labelled; none of the accepted links' "
                "bands has a pair judged match or non-match, so their precision is not estimated"
            )
        low, high = self.interval
        return (
            f"run {self.run}: precision of accepted links {100 * self.precision:.1f} % "
            f"(95 % interval {100 * low:.1f} to {100 * high:.1f} %) from {self.labelled} "
            f"labelled pairs, covering {100 * self.coverage:.0f} % of the accepted pairs"
        )


def _runs(instance: Instance) -> dict[str, Path]:
    folder = instance.folder("identifiers") / "_linkage"
    return {p.name: p for p in folder.iterdir() if p.is_dir()} if folder.exists() else {}


def read_labels(path: Path, instance: Instance) -> tuple[str, pd.DataFrame, dict]:
    """The run, the labelled rows (KEYS and decision) and the run's review design, from the
    labelled sample at PATH; every fault is named with its spreadsheet row."""
    path = Path(path)
    if path.suffix.lower() not in (".csv", ".xlsx"):
        raise ReviewError(f"{path.name}: give the labelled clerical-review.csv (or .xlsx)")
    try:
        frame = read_agency_file(path)
    except IngestError as exc:
        raise ReviewError(str(exc).replace("nothing was written", "nothing was recorded")) from None
    frame.columns = [str(c).strip() for c in frame.columns]
    missing = [c for c in ("run", "decision", *KEYS) if c not in frame]
    if missing:
        raise ReviewError(
            f"{path.name} has no column {', '.join(missing)}: label the clerical-review.csv "
            "that `tre data link` wrote, writing match, non-match or unsure in its decision "
            "column, and keep its other columns"
        )
    runs = {str(r).strip() for r in frame.run}
    known = _runs(instance)
    if len(runs) != 1:
        raise ReviewError(
            f"{path.name} mixes the samples of runs {', '.join(sorted(runs))}; review one "
            "run's clerical-review.csv at a time"
        )
    run = runs.pop()
    if run not in known or not (known[run] / "run.json").exists():
        raise ReviewError(
            f"{path.name} is the sample of run {run!r}, which this instance has no record of; "
            "review a sample `tre data link` wrote here "
            f"(runs: {', '.join(sorted(known)) or 'none'})"
        )
    about = json.loads((known[run] / "run.json").read_text(encoding="utf-8"))
    if "review" not in about:
        raise ReviewError(f"run {run} was made before samples could be reviewed; link again")
    sampled = {tuple(entry[:4]) for entry in about["review"]["sample"]}
    decisions = frame.decision.astype(str).str.strip().str.lower()
    errors = []
    seen: set[tuple[str, ...]] = set()
    for i, (decision, key) in enumerate(
        zip(decisions, frame[list(KEYS)].astype(str).itertuples(index=False), strict=True)
    ):
        row = i + 2  # the header is row 1, as a spreadsheet counts
        key = tuple(key)
        if decision and decision not in DECISIONS:
            shown = re.sub(r"\s+", " ", frame.decision.iloc[i])[:40]
            errors.append(
                f"row {row}: decision {shown!r} is not one of match, non-match, unsure; "
                "write one of them (or leave it empty for a pair not reviewed)"
            )
        if key not in sampled:
            errors.append(
                f"row {row}: the pair {key[0]} {key[1]} / {key[2]} {key[3]} is not in run "
                f"{run}'s sample; label the rows as written, without adding or editing their "
                "records"
            )
        elif key in seen:
            errors.append(f"row {row}: the pair {key[0]} {key[1]} / {key[2]} {key[3]} repeats")
        seen.add(key)
    if errors:
        more = f" (and {len(errors) - SHOWN_ERRORS} more)" if len(errors) > SHOWN_ERRORS else ""
        raise ReviewError(
            f"{path.name}: " + "; ".join(errors[:SHOWN_ERRORS]) + more + "; nothing was recorded"
        )
    if not decisions.astype(bool).any():
        raise ReviewError(
            f"{path.name}: no pair is labelled yet; write match, non-match or unsure in the "
            "decision column of the pairs you reviewed"
        )
    labels = frame[list(KEYS)].astype(str).assign(decision=decisions.to_numpy())
    return run, labels, about["review"]


def estimate(labels: pd.DataFrame, design: dict, run: str, report: Path) -> Review:
    """Each band's share of true matches from LABELS, and the precision of the accepted links
    weighted by the pairs in each band (DESIGN, the run's record)."""
    bands = {
        (band, accepted): Band(band, accepted, pairs, None)
        for band, accepted, pairs in design["strata"]
    }
    probabilities: dict[tuple[float, bool], list[float]] = {}
    where = {}
    for *key, band, accepted, probability in design["sample"]:
        where[tuple(key)] = (band, accepted)
        probabilities.setdefault((band, accepted), []).append(probability)
    for stratum, found in probabilities.items():
        bands[stratum].model = sum(found) / len(found)
    for *key, decision in labels.itertuples(index=False):
        if not decision:
            continue
        band = bands[where[tuple(key)]]
        if decision == "match":
            band.matches += 1
        elif decision == "non-match":
            band.non_matches += 1
        else:
            band.unsure += 1
    accepted = [b for b in bands.values() if b.accepted]
    judged = [b for b in accepted if b.judged]
    total = sum(b.pairs for b in accepted)
    covered = sum(b.pairs for b in judged)
    precision = interval = None
    if covered:
        precision = sum(b.pairs * (b.share or 0.0) for b in judged) / covered
        # Kish's effective sample size of the weighted bands: as many judged pairs as one
        # simple random sample with the same variance would need (all of them when every band
        # is weighted by its share of the judged pairs, fewer the more unequal the weights)
        effective = 1 / sum((b.pairs / covered) ** 2 / b.judged for b in judged)
        interval = wilson_share(precision, effective)
    labelled = int(labels.decision.astype(bool).sum())
    return Review(
        run,
        sorted(bands.values(), key=lambda b: (b.low, b.accepted)),
        labelled,
        len(labels) - labelled,
        precision,
        interval,
        covered / total if total else 0.0,
        report,
    )


def section(review: Review | None) -> str:
    """The report's clerical-review section (between START and END), before or after review."""
    rows = []
    for band in review.bands if review else []:
        low, high = band.interval
        rows.append(
            {
                "weights": f"{band.low:g} to {band.low + REVIEW_BAND:g}",
                "side": "accepted" if band.accepted else "not accepted",
                "pairs": f"{band.pairs:,}",
                "model": "—" if band.model is None else f"{100 * band.model:.1f} %",
                "matches": band.matches,
                "non_matches": band.non_matches,
                "unsure": band.unsure,
                "share": "—"
                if band.share is None
                else f"{100 * band.share:.1f} % ({100 * low:.1f} to {100 * high:.1f} %)",
            }
        )
    return render(
        TEMPLATES,
        "linkage_review.html",
        review=review,
        rows=rows,
        start=START,
        end=END,
        precision=None
        if review is None or review.precision is None or review.interval is None
        else {
            "value": f"{100 * review.precision:.1f}",
            "low": f"{100 * review.interval[0]:.1f}",
            "high": f"{100 * review.interval[1]:.1f}",
            "coverage": f"{100 * review.coverage:.0f}",
        },
    ).strip()


def record(instance: Instance, path: Path, actor: str) -> Review:
    """Read the labelled sample at PATH, estimate precision, and write it into the run's
    report, its folder and the audit log."""
    run, labels, plan = read_labels(path, instance)
    report = instance.folder("reports") / f"linkage-{run}.html"
    result = estimate(labels, plan, run, report)
    page = report.read_text(encoding="utf-8") if report.exists() else ""
    if START not in page or END not in page:
        raise ReviewError(
            f"the report of run {run} ({report.name}) is missing or has no clerical-review "
            "section; nothing was recorded"
        )
    head, rest = page.split(START, 1)
    report.write_text(head + section(result) + rest.split(END, 1)[1], encoding="utf-8")
    details = {
        "run": run,
        "labelled": result.labelled,
        "unreviewed": result.unreviewed,
        "precision": None if result.precision is None else round(result.precision, 5),
        "interval": None if result.interval is None else [round(v, 5) for v in result.interval],
        "coverage": round(result.coverage, 5),
    }
    bands = [asdict(b) for b in result.bands]
    (_runs(instance)[run] / "review.json").write_text(
        json.dumps({**details, "file": Path(path).name, "bands": bands}, indent=1),
        encoding="utf-8",
    )
    with instance.db.session() as session:
        audit.record(session, actor, LinkageEvent.REVIEW, "spine", run, details=details)
    return result
