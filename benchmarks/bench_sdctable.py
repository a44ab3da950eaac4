"""sdc.tables against R's sdcTable on the same tables: suppressed cells, time, memory, and an
attacker-LP audit of every pattern (both tools' patterns audited the same way).

Cases: the 40 x 30 x 5 count table of bench_sdc_large.py (seed 1, 26 unsafe cells); a smaller
table of the same kind (12 x 8 x 3) where sdcTable's exact methods finish; and sdcTable's own
datasets, read from the installed package at run time (nothing of sdcTable is in this
repository): ``microdata1`` (region x gender), ``microdata2`` (region x gender x ecoNew and x
ecoOld, each flat and with its hierarchy: ecoNew's C and D over Ca..Dc, ecoOld's A and B over
Aa..Bb) and, when the directory of sdcTable's source tree is given in SDCTABLE_SOURCE, its
vignette's ``microdat.rds`` (V1 x V2 x V3, flat and with V1's B over Ba, Bb, Bc). Every table is
given to sdcTable as its finest cells with their counts (``makeProblem(freqVarInd=...)``),
primary suppression ``type = "freq"`` with ``maxN`` = the kit's threshold - 1 (its rule is
count <= maxN, the kit's count < threshold), and protected by ``protectTable`` with each method
in a fresh Rscript (best of REPEAT in that process; peak RSS of the Rscript process from
``wait4``). The kit gets the same records with ``Policy(threshold=maxN + 1,
zeros_disclosive=False, rounding_base=1)`` (``protect``, or ``protect_linked`` of the coarse
and fine tables with the hierarchy), with the heuristic and with ``secondary="optimal"``.

The audit: every cell of the sdcTable problem (hierarchy levels included), each parent the sum
of its children along each dimension, the suppressed cells unknowns of at least zero, the rest
published exactly: ``sdc.tables.secondary.audit``'s attacker programmes give each suppressed
cell's interval; "points" counts cells recomputed exactly, "short" the unsafe cells whose
interval does not reach their count +/- 1 (the kit's default protection level).

Needs R and sdcTable (see benchmarks/README.md for the install steps); without them it says so
and exits 0. Usage: bench_sdctable.py [repeat [case-name prefix]] (repeat default 3; OPT and
HITAS run once, OPT with a time limit of 1 minute); R_LIBS as for R.
"""

from __future__ import annotations

import itertools
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).parent))
import bench_sdc_large  # noqa: E402
from common import report  # noqa: E402

from sdc import Policy, tables  # noqa: E402
from sdc.tables import TOTAL, secondary  # noqa: E402

HERE = Path(__file__).parent
R_SCRIPT = HERE / "bench_sdctable.R"
ROOT = "Tot"  # sdcTable's grand total in these cases
INSTALL = """sdcTable is not installed here, so nothing was compared. To measure:
  apt-get install r-base-core r-base-dev libglpk-dev cmake r-cran-rcpp r-cran-data.table \\
    r-cran-knitr r-cran-rlang r-cran-stringr r-cran-slam r-cran-progressr r-cran-matrix \\
    r-cran-mass r-cran-checkmate r-cran-cli r-cran-jsonlite r-cran-shiny r-cran-shinyjs \\
    r-cran-shinythemes r-cran-htmlwidgets
  then R CMD INSTALL -l /opt/rlib, in this order, the sources of shinyTree, sdcHierarchies,
  SSBtools, highs and sdcTable 0.34.0 (benchmarks/README.md gives the versions), and run
  R_LIBS=/opt/rlib .venv/bin/python benchmarks/bench_sdctable.py"""


def r_ready() -> str | None:
    """Why sdcTable cannot be run, or None."""
    if shutil.which("Rscript") is None:
        return "Rscript is not on PATH"
    probe = subprocess.run(
        ["Rscript", "-e", 'quit(status = !requireNamespace("sdcTable", quietly = TRUE))'],
        capture_output=True,
    )
    return None if probe.returncode == 0 else "R cannot load sdcTable (R_LIBS?)"


# --- the cases ----------------------------------------------------------------------------


def hierarchy_of(codes, parents: dict[str, str] | None = None) -> dict[str, str]:
    """{code: parent} for a dimension: PARENTS where given, else under the grand total."""
    parents = dict(parents or {})
    for code in codes:
        parents.setdefault(str(code), ROOT)
    for parent in set(parents.values()) - {ROOT}:
        parents.setdefault(parent, ROOT)
    return parents


def case(name, records: pd.DataFrame, dims, max_n, parents=None, methods=(), exact=True):
    """A case: the records (one row each, string codes at the finest level), the dimensions'
    hierarchies, sdcTable's maxN and the sdcTable methods to run."""
    parents = parents or {}
    records = records[list(dims)].astype(str)
    return {
        "name": name,
        "records": records,
        "dims": {d: hierarchy_of(sorted(records[d].unique()), parents.get(d)) for d in dims},
        "max_n": max_n,
        "methods": list(methods),
        "exact": exact,
    }


def synthetic(shape, unsafe: int, seed: int) -> pd.DataFrame:
    """Records of a count table like bench_sdc_large's (about 40 a cell, UNSAFE cells of 2-9)."""
    rng = np.random.default_rng(seed)
    counts = np.maximum(rng.poisson(40, shape), 10)
    rare = rng.choice(counts.size, unsafe, replace=False)
    counts.flat[rare] = rng.integers(2, 10, unsafe)
    index = np.indices(counts.shape).reshape(3, -1)
    repeat = counts.reshape(-1)
    return pd.DataFrame({d: np.repeat(index[k], repeat) for k, d in enumerate("abc")})


def cases(exported: Path) -> list[dict]:
    heuristics = ["SIMPLEHEURISTIC", "SIMPLEHEURISTIC_OLD", "GAUSS"]
    exact = ["OPT", "HITAS"]
    out = [
        case("large 40x30x5", bench_sdc_large.data(), "abc", 9, methods=heuristics, exact=False),
        case(
            "synthetic 12x8x3",
            synthetic((12, 8, 3), 12, 5),
            "abc",
            9,
            None,
            heuristics + exact,
            exact=False,
        ),  # the kit's exact mode: 831 s here
    ]
    one = pd.read_csv(exported / "microdata1.csv")
    out.append(
        case("microdata1 region x gender", one, ["region", "gender"], 3, None, heuristics + exact)
    )
    two = pd.read_csv(exported / "microdata2.csv")
    eco = {
        "ecoNew": {c: c[0] for c in ("Ca", "Cb", "Cc", "Da", "Db", "Dc")},
        "ecoOld": {c: c[0] for c in ("Aa", "Ab", "Ba", "Bb")},
    }
    for var in ("ecoNew", "ecoOld"):
        dims = ["region", "gender", var]
        out.append(case(f"microdata2 {'x'.join(dims)}", two, dims, 3, None, heuristics + exact))
        out.append(
            case(
                f"microdata2 {'x'.join(dims)}, {var} hierarchy",
                two,
                dims,
                3,
                {var: eco[var]},
                heuristics + exact,
            )
        )
    if (exported / "vignette.csv").exists():
        vignette = pd.read_csv(exported / "vignette.csv")
        dims = ["V1", "V2", "V3"]
        out.append(case("vignette V1xV2xV3", vignette, dims, 10, None, heuristics + exact))
        b = {c: "B" for c in ("Ba", "Bb", "Bc")}
        out.append(
            case(
                "vignette V1xV2xV3, V1 hierarchy", vignette, dims, 10, {"V1": b}, heuristics + exact
            )
        )
    return out


# --- the audit, on sdcTable's cell set --------------------------------------------------------


def children_of(parents: dict[str, str]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for child, parent in parents.items():
        out.setdefault(parent, []).append(child)
    return out


def relations(cells: pd.DataFrame, spec: dict) -> list[tuple[int, list[int]]]:
    """Every parent = the sum of its children, along each dimension, the others fixed."""
    dims = list(spec["dims"])
    where = {tuple(key): k for k, key in enumerate(cells[dims].itertuples(index=False))}
    out = []
    for d, parents in spec["dims"].items():
        kids = children_of(parents)
        for key, k in where.items():
            code = key[dims.index(d)]
            if code not in kids:
                continue
            members = []
            for child in kids[code]:
                other = list(key)
                other[dims.index(d)] = child
                members.append(where[tuple(other)])
            out.append((k, members))
    return out


def audit(cells: pd.DataFrame, suppressed: np.ndarray, spec: dict) -> dict:
    values = cells.freq.to_numpy(float)
    intervals = secondary.audit(values, suppressed, relations(cells, spec), lower_bound=0.0)
    unsafe = (cells.sdcStatus == "u").to_numpy()
    short = [
        i
        for i, (low, high) in intervals.items()
        if unsafe[i] and (high - low <= 0 or low > max(values[i] - 1, 0) or high < values[i] + 1)
    ]
    return {"points": len(secondary.exposed(intervals)), "short": len(short)}


# --- the runs -------------------------------------------------------------------------------


def run_r(args: list[str], timeout: float) -> int:
    """Run Rscript with ARGS, its peak RSS in MiB (or raise with its stderr)."""
    with tempfile.TemporaryFile() as err:
        child = subprocess.Popen(["Rscript", str(R_SCRIPT), *args], stderr=err)
        started = time.monotonic()
        while True:
            pid, status, usage = os.wait4(child.pid, os.WNOHANG)
            if pid:
                break
            if time.monotonic() - started > timeout:
                child.kill()
                _, status, usage = os.wait4(child.pid, 0)
                raise TimeoutError(f"over {timeout:.0f} s")
            time.sleep(0.05)
        if status:
            err.seek(0)
            lines = err.read().decode(errors="replace").strip().splitlines()
            raise RuntimeError(lines[-1] if lines else f"Rscript ended with status {status}")
    return usage.ru_maxrss // 1024


def write_case(spec: dict, directory: Path) -> None:
    directory.mkdir(parents=True)
    dims = list(spec["dims"])
    counts = spec["records"].value_counts().rename("freq")
    leaves = [sorted(c for c in p if c not in set(p.values())) for p in spec["dims"].values()]
    grid = pd.MultiIndex.from_tuples(list(itertools.product(*leaves)), names=dims)
    counts.reindex(grid, fill_value=0).reset_index().to_csv(directory / "data.csv", index=False)
    (directory / "case.json").write_text(json.dumps({"dims": spec["dims"], "maxN": spec["max_n"]}))


def sdctable(spec: dict, directory: Path, method: str, repeat: int) -> dict:
    try:
        once = method in ("OPT", "HITAS")  # exact: once, within OPT's time limit
        rss = run_r(["run", str(directory), method, str(1 if once else repeat)], timeout=600)
    except (TimeoutError, RuntimeError) as problem:
        return {"error": str(problem)}
    figures = json.loads((directory / f"{method}.json").read_text())
    cells = pd.read_csv(directory / f"{method}.csv", dtype=str)
    cells["freq"] = cells.freq.astype(float)
    hidden = cells.sdcStatus.isin(["u", "x"]).to_numpy()
    return {
        "cells": cells,
        "unsafe": int((cells.sdcStatus == "u").sum()),
        "suppressed": int(hidden.sum()),
        "s": round(figures["seconds"], 3),
        "peak_mib": rss,
        "heap_mib": round(figures["heap_peak_mib"], 1),
        **audit(cells, hidden, spec),
    }


def kit(spec: dict, optimal: bool, repeat: int) -> dict:
    """The kit's pattern, keyed like sdcTable's cells: {key: suppressed}, with its figures."""
    dims = list(spec["dims"])
    records = spec["records"]
    policy = Policy(
        threshold=spec["max_n"] + 1,
        zeros_disclosive=False,
        rounding_base=1,
        secondary="optimal" if optimal else "heuristic",
    )
    parents = {  # the whole hierarchy of each dimension that has levels
        d: {c: TOTAL if p == ROOT else p for c, p in h.items()}
        for d, h in spec["dims"].items()
        if any(p != ROOT for p in h.values())
    }

    def protect():
        if not parents:
            return [tables.protect(tables.build(records, dims[:1], dims[1:]), policy)]
        coarse = records.copy()
        for d, up in parents.items():
            coarse[d] = coarse[d].map(lambda c, up=up: c if up[c] == TOTAL else up[c])
        built = [tables.build(t, dims[:1], dims[1:]) for t in (coarse, records)]
        return tables.protect_linked(built, policy, hierarchies=parents)

    best, result = float("inf"), []
    for _ in range(repeat):
        started = time.perf_counter()
        result = protect()
        best = min(best, time.perf_counter() - started)
    pattern: dict[tuple, bool] = {}
    unsafe: set[tuple] = set()
    for protected in result:
        for row in protected.cells.itertuples(index=False):
            key = tuple(ROOT if getattr(row, d) == TOTAL else str(getattr(row, d)) for d in dims)
            pattern[key] = pattern.get(key, False) or bool(pd.isna(row.published))
            if row.status == "u":
                unsafe.add(key)
    return {"pattern": pattern, "unsafe_keys": unsafe, "s": round(best, 3)}


def compare(spec: dict, directory: Path, repeat: int) -> dict:
    out: dict = {"case": spec["name"], "maxN": spec["max_n"]}
    reference = None
    for method in spec["methods"]:
        got = sdctable(spec, directory, method, repeat)
        if "error" in got:
            out[method] = {"error": got["error"]}
            continue
        reference = got["cells"] if reference is None else reference
        out[method] = {k: v for k, v in got.items() if k != "cells"}
    if reference is None:
        return out
    dims = list(spec["dims"])
    keys = [tuple(k) for k in reference[dims].itertuples(index=False)]
    out["cells"] = len(keys)
    for label, optimal in (("sdc heuristic", False), ("sdc optimal", True)):
        if optimal and not spec["exact"]:
            continue
        got = kit(spec, optimal, 1 if spec["name"].startswith("large") else repeat)
        hidden = np.array([got["pattern"][k] for k in keys])
        out[label] = {
            "unsafe": len(got["unsafe_keys"]),
            "unsafe_agree": got["unsafe_keys"]
            == {k for k, s in zip(keys, reference.sdcStatus, strict=True) if s == "u"},
            "suppressed": int(hidden.sum()),
            "s": got["s"],
            **audit(reference, hidden, spec),
        }
    return out


def large_kit(repeat: int) -> dict:
    """bench_sdc_large's harness (a forked child per run, its peak RSS): best of REPEAT."""
    return min((bench_sdc_large.run(True) for _ in range(repeat)), key=lambda f: f["s"])


def main() -> None:
    repeat = int(sys.argv[1]) if len(sys.argv) > 1 else 3
    only = sys.argv[2] if len(sys.argv) > 2 else ""
    missing = r_ready()
    if missing:
        print(f"{missing}.\n{INSTALL}")
        return
    with tempfile.TemporaryDirectory(prefix="bench_sdctable_") as scratch:
        work = Path(scratch)
        source = os.environ.get("SDCTABLE_SOURCE")
        vignettes = [str(Path(source) / "vignettes")] if source else []
        version = subprocess.run(
            ["Rscript", str(R_SCRIPT), "export", scratch, *vignettes],
            check=True,
            capture_output=True,
            text=True,
        ).stdout.strip()
        results = []
        for k, spec in enumerate(c for c in cases(work) if c["name"].startswith(only)):
            write_case(spec, work / f"case{k}")
            result = compare(spec, work / f"case{k}", repeat)
            results.append(result)
            print(json.dumps(result))
    figures: dict = {"sdctable": version, "cases": results}
    large = results[0]
    simple = large.get("SIMPLEHEURISTIC", {})
    if large["case"].startswith("large") and "s" in simple:
        ours = large_kit(repeat)
        figures["large_sdc_child"] = ours
        pairs = {"time": "s", "memory": "peak_mib", "suppressed": "suppressed"}
        figures |= {f"large_{k}_ratio": round(ours[f] / simple[f], 3) for k, f in pairs.items()}
    report("sdctable", **figures)


if __name__ == "__main__":
    main()
