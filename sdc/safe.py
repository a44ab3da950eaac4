"""Safe outputs for analysts: the pandas or statsmodels call a person would write, protected.

``sql(...)`` runs a query over the project's extract and makes outputs the airlock can replay
(:mod:`sdc.query`): the only kind whose evidence the airlock verifies and can pass by itself.
Each function returns a :class:`SafeOutput`: ``.result`` is the protected output (suppressed
cells are missing, counts rounded as the policy says, totals never recomputed), ``.evidence``
is a JSON-able record of the policy and of every cell's evidence, and ``.save(path)`` writes
the output file with its evidence beside it (``PATH.evidence.json``) for the checkers (the
airlock treats it as the analyst's claim: see ``docs/airlock-trust.md``).

The policy is the operator's (:meth:`Policy.from_env`, set in the workspace) unless a stricter
one is passed.
"""

from __future__ import annotations

import hashlib
import io
import json
import math
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sdc import query, tables
from sdc.combinations import related_columns
from sdc.errors import SdcError
from sdc.policy import EVIDENCE_SUFFIX, Policy
from sdc.tables.build import AGGFUNCS
from sdc.tables.rounding import redact_then_round, round_to_base
from sdc.tables.rules import (
    cell_reasons,
    mean_note,
    nearly_constant,
    on_a_lattice,
    proportion_reasons,
    published_values,
    sum_rounding,
)

SDC_VERSION = "1"


def _file_sha256(path: Path) -> str:
    """The SHA-256 of a whole file, read in blocks (the stdlib's ``hashlib.file_digest``, as
    ``tre.hashing`` computes it: sdc sits below tre and cannot import it)."""
    with open(path, "rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()


def _policy(policy: Policy | None) -> Policy:
    operator = Policy.from_env()
    if policy is None:
        return operator
    looser = operator.looser_settings(policy)
    if looser:
        raise SdcError(
            "the policy given is looser than the operator's: "
            + "; ".join(looser)
            + " (a project may only make the policy stricter)"
        )
    return policy


# the evidence's notes of why published values differ from the plain statistic
NOTED = ("counted", "nearly_constant", "lattice", "mean", "survival")


@dataclass
class SafeOutput:
    kind: str
    result: pd.DataFrame
    evidence: dict[str, Any]
    figure: Any = field(default=None, repr=False)

    def __repr__(self) -> str:
        summary = self.evidence.get("summary", {})
        notes = "".join(f"\nnote: {note}" for note in self.notes())
        return f"<SafeOutput {self.kind} {summary}>{notes}\n{self.result!r}"

    def notes(self) -> list[str]:
        """Why published values differ from the plain statistic (rounded sums, means over
        rounded counts, a sum read as a count), in sentences."""
        return [self.evidence[k]["note"] for k in NOTED if (self.evidence.get(k) or {}).get("note")]

    def _repr_html_(self) -> str:
        return self.result.to_html(na_rep="suppressed")

    @property
    def suppressed(self) -> int:
        return int(self.evidence.get("summary", {}).get("suppressed", 0))

    def save(self, path: str | Path) -> Path:
        """Write the output (CSV for tables, PNG or SVG for figures) and its evidence sidecar."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        suffix = path.suffix.lower()
        if self.figure is not None and suffix in (".png", ".svg"):
            self.figure.savefig(
                path,
                format=suffix[1:],
                bbox_inches="tight",
                metadata={"Software": None} if suffix == ".png" else None,
            )
        elif suffix == ".csv":
            path.write_text(self.csv(), encoding="utf-8")
        else:
            raise SdcError(
                f"save {self.kind} outputs as .csv"
                + (" or .png/.svg" if self.figure else "")
                + f", not {suffix or 'a file without an extension'}"
            )
        evidence = dict(self.evidence)
        evidence["output"] = {
            "file": path.name,
            "format": suffix[1:],
            "sha256": _file_sha256(path),
        }
        if suffix == ".csv":
            evidence["output"]["content"] = "published"
        sidecar = path.with_name(path.name + EVIDENCE_SUFFIX)
        sidecar.write_text(
            json.dumps(evidence, indent=1, default=_json_default) + "\n", encoding="utf-8"
        )
        self.evidence = evidence
        return path

    def csv(self) -> str:
        """The published CSV; a column of whole numbers (counts, with gaps where cells are
        suppressed) is written as integers, `230` rather than `230.0`."""
        table = self.result
        if isinstance(table, pd.DataFrame):
            whole = [column for column, values in table.items() if _whole_numbers(values)]
            if whole:
                table = table.astype(dict.fromkeys(whole, "Int64"))
        elif isinstance(table, pd.Series) and _whole_numbers(table):
            table = table.astype("Int64")
        return table.to_csv(na_rep="")

    def plot(
        self,
        kind: str = "bar",
        per: pd.Series | None = None,
        title: str | None = None,
        ylabel: str | None = None,
    ) -> SafeOutput:
        """Draw a protected table (without its margins) as a bar, line or heatmap figure, so
        that ``.save("x.png")`` writes the picture with the table's evidence. PER (indexed like
        the table's rows, e.g. residents / 1,000) turns published values into rates; suppressed
        cells stay gaps (hatched in a heatmap). The picture shows only published values."""
        if self.kind != "table":
            raise SdcError(f"plot draws tables; a {self.kind} has its own figure")
        if kind not in ("bar", "barh", "line", "heatmap"):
            raise SdcError(f"plot kind {kind!r}: choose bar, barh, line or heatmap")
        import matplotlib

        matplotlib.use("Agg", force=False)
        from matplotlib.figure import Figure

        table = self.result
        if self.evidence.get("margins"):
            table = table.drop(index="All", errors="ignore").drop(columns="All", errors="ignore")
        if per is not None:
            per = pd.Series(per)
            missing = [str(i) for i in table.index if i not in per.index]
            if missing:
                raise SdcError(f"per has no value for {', '.join(missing[:5])}")
            table = table.div(per.reindex(table.index).astype(float), axis=0)
        figure = Figure(figsize=(7, max(3.5, 0.28 * len(table)) if kind != "line" else 3.5))
        axes = figure.subplots()
        if kind == "heatmap":
            values = table.to_numpy(dtype=float)
            image = axes.imshow(np.ma.masked_invalid(values), aspect="auto", cmap="viridis")
            for i, j in zip(*np.where(np.isnan(values)), strict=True):
                axes.add_patch(
                    matplotlib.patches.Rectangle(
                        (j - 0.5, i - 0.5), 1, 1, fill=False, hatch="///", edgecolor="grey"
                    )
                )
            axes.set_xticks(range(table.shape[1]), [str(c) for c in table.columns], rotation=30)
            axes.set_yticks(range(table.shape[0]), [str(i) for i in table.index])
            figure.colorbar(image, ax=axes, label=ylabel or "")
        else:
            table.plot(kind=kind, ax=axes, legend=table.shape[1] > 1)
            if ylabel:
                (axes.set_xlabel if kind == "barh" else axes.set_ylabel)(ylabel)
        if title:
            axes.set_title(title)
        figure.tight_layout()
        self.figure = figure
        self.evidence["figure"] = {
            "kind": kind,
            "scaled_by": None if per is None else str(per.name or "per"),
            "note": "drawn from the published (protected) values only; gaps are suppressed",
        }
        return self


def _json_default(value):
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, float) and math.isnan(value):
        return None
    return str(value)


def _header(function: str, policy: Policy, parameters: dict[str, Any]) -> dict[str, Any]:
    return {
        "sdc_version": SDC_VERSION,
        "function": f"sdc.safe.{function}",
        "parameters": parameters,
        "created": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "policy": policy.to_dict(),
    }


# ---------------------------------------------------------------------------------------------
# Tables


def _as_frame(parts, names, prefix) -> tuple[pd.DataFrame, list[str]]:
    if isinstance(parts, (pd.Series, np.ndarray, list)) and not (
        isinstance(parts, list) and parts and isinstance(parts[0], (pd.Series, np.ndarray, list))
    ):
        parts = [parts]
    columns, labels = {}, []
    for i, part in enumerate(parts):
        name = (names[i] if names else None) or getattr(part, "name", None) or f"{prefix}_{i}"
        name = str(name)
        if name in columns:
            name = f"{name}_{i}"
        columns[name] = (
            pd.Series(part).reset_index(drop=True)
            if not isinstance(part, pd.Series)
            else part.reset_index(drop=True)
        )
        labels.append(name)
    return pd.DataFrame(columns), labels


def _distinct_values(frame: pd.DataFrame, values: str | None) -> set[float] | None:
    """The distinct values of the VALUES column when it is a constant ({c}) or a 0/1 flag
    ({0, 1}); None for anything else. Two vectorised passes (min/max, then a test of 0/1),
    never a sort, so that a table of a million rows costs what it did."""
    if values is None or values not in frame or not pd.api.types.is_numeric_dtype(frame[values]):
        return None
    present = frame[values].to_numpy(dtype=float)
    present = present[~np.isnan(present)]
    if not len(present):
        return None
    low, high = float(present.min()), float(present.max())
    if low == high:
        return {low}
    if low == 0.0 and high == 1.0 and bool(np.all((present == 0.0) | (present == 1.0))):
        return {0.0, 1.0}
    return None


# the column of each record's person in a project's extract (its per-project pseudonym, made
# by linkage.extract): where a table's data has it, contributions are summed per person
HOLDING_COLUMN = "person"


def _table_output(
    function, frame, rows, cols, values, aggfunc, margins, policy, holding=None, unsafe=None
):
    distinct = _distinct_values(frame, values)
    table = tables.build(
        frame, rows, cols or None, values, aggfunc, margins, policy.max_table_cells, holding
    )
    counted = None
    if aggfunc == "sum" and distinct and (len(distinct) == 1 or distinct == {0.0, 1.0}):
        # a sum of a constant (or of a 0/1 flag) is a count: rounded and thresholded as one
        constant = 1.0 if len(distinct) == 2 else float(next(iter(distinct)))
        if constant != 0:
            counted = {
                "constant": constant,
                "note": f"a sum of {'a 0/1 flag' if len(distinct) == 2 else 'a constant'} is "
                f"{'the count of ones' if len(distinct) == 2 else f'{constant:g} × a count'}: "
                "rounded and thresholded as a count",
            }
            cells = table.cells.copy()
            cells["count"] = cells["sum"] / constant
            cells["value"] = cells["count"]
            cells.loc[cells["count"] == 0, ["min", "max"]] = np.nan
            table = tables.Table(
                table.rows,
                table.cols,
                table.values,
                "count",
                cells,
                table.margins,
                table.dropped,
                table.categories,
                table.holding,
            )
    elif aggfunc == "mean" and distinct and distinct <= {0.0, 1.0}:
        # a mean of a 0/1 flag is a proportion: its numerator is the sum of the flag
        table.cells["ones"] = table.cells["sum"]
    protected = tables.protect(table, policy, unsafe)
    parameters = {
        "rows": rows,
        "cols": cols,
        "values": values,
        "aggfunc": aggfunc,
        "margins": margins,
        "holding": holding,
        "unsafe": protected.manual,
    }
    evidence = _header(function, policy, parameters) | protected.evidence()
    evidence["summary"]["suppressed"] = protected.suppressed
    result = protected.wide()
    if counted is not None:
        evidence["counted"] = counted
        if counted["constant"] != 1.0:
            result = result * counted["constant"]
            for cell in evidence["cells"]:
                if cell["published"] is not None:
                    cell["published"] *= counted["constant"]
    return SafeOutput("table", result, evidence)


def crosstab(
    index,
    columns=None,
    values=None,
    aggfunc: str | None = None,
    margins: bool = True,
    rownames: Sequence[str] | None = None,
    colnames: Sequence[str] | None = None,
    policy: Policy | None = None,
    holding=None,
    unsafe: Sequence[Any] | None = None,
) -> SafeOutput:
    """``pandas.crosstab`` with disclosure control: counts by default, or AGGFUNC of VALUES.

    HOLDING is each record's person (an id or pseudonym, aligned with INDEX): give it whenever
    a person can have several records, so that the rules weigh each person's total, not each
    record. UNSAFE marks cells sensitive by hand (see :func:`sdc.tables.protect`).

    Counts are rounded, and so that no other statistic gives a count back, a mean, std or var
    may differ a little from pandas' (a mean over a small cell's rounded count is off by up to
    2/(n - 2) of itself): ``out.notes()``, and the output's repr, say how."""
    policy = _policy(policy)
    rows_frame, rows = _as_frame(index, rownames, "row")
    parts = [rows_frame]
    cols: list[str] = []
    if columns is not None:
        cols_frame, cols = _as_frame(columns, colnames, "col")
        cols = [_unused(name, rows) for name in cols]  # (pandas allows a name twice)
        cols_frame.columns = cols
        parts.append(cols_frame)
    value_name = holding_name = None
    if holding is not None:
        holding_name = "holding"  # never a dimension's name: those come from the analyst
        while holding_name in rows + cols:
            holding_name = "_" + holding_name
        parts.append(pd.DataFrame({holding_name: pd.Series(holding).reset_index(drop=True)}))
    if values is not None:
        value_name = _unused(str(getattr(values, "name", None) or "values"), rows + cols)
        parts.append(pd.DataFrame({value_name: pd.Series(values).reset_index(drop=True)}))
        if aggfunc is None:
            raise SdcError(f"values needs an aggfunc: one of {', '.join(AGGFUNCS)}")
    lengths = {len(p) for p in parts}
    if len(lengths) != 1:
        raise SdcError("index, columns and values must have the same length")
    frame = pd.concat(parts, axis=1)
    aggfunc = aggfunc or "count"
    return _table_output(
        "crosstab", frame, rows, cols, value_name, aggfunc, margins, policy, holding_name, unsafe
    )


def _unused(name: str, taken: list[str]) -> str:
    """NAME, or NAME_2, NAME_3...: the first that TAKEN does not hold."""
    found, k = name, 1
    while found in taken:
        k += 1
        found = f"{name}_{k}"
    return found


def pivot_table(
    data: pd.DataFrame,
    values: str | None = None,
    index: str | Sequence[str] | None = None,
    columns: str | Sequence[str] | None = None,
    aggfunc: str = "mean",
    margins: bool = True,
    policy: Policy | None = None,
    holding: str | None = None,
    unsafe: Sequence[Any] | None = None,
) -> SafeOutput:
    """``pandas.pivot_table`` with disclosure control (one values column, one aggfunc).

    HOLDING names the column of each record's person; by default the extract's ``person``
    column where DATA has it. UNSAFE marks cells sensitive by hand."""
    policy = _policy(policy)
    if index is None:
        raise SdcError("pivot_table needs an index")
    if values is None and aggfunc not in ("count", "size"):
        raise SdcError(f"aggfunc {aggfunc!r} needs a values column")
    rows = [index] if isinstance(index, str) else list(index)
    cols = [] if columns is None else ([columns] if isinstance(columns, str) else list(columns))
    if holding is None:
        holding = _default_holding(data, rows + cols + [values])
    return _table_output(
        "pivot_table", data, rows, cols, values, aggfunc, margins, policy, holding, unsafe
    )


def _default_holding(frame: pd.DataFrame, used: list[Any]) -> str | None:
    """The extract's person column, where FRAME has it and the table does not use it."""
    if HOLDING_COLUMN in frame.columns and HOLDING_COLUMN not in used:
        return HOLDING_COLUMN
    return None


# ---------------------------------------------------------------------------------------------
# Summary statistics


def _column_evidence(values: np.ndarray) -> dict[str, Any]:
    present = values[~np.isnan(values)]
    ordered = np.sort(present)[::-1]
    return {
        "count": int(len(present)),
        "sum": float(present.sum()),
        "top1": float(ordered[0]) if len(ordered) else None,
        "top2": float(ordered[1]) if len(ordered) > 1 else None,
        "negatives": int((present < 0).sum()),
        "min": float(present.min()) if len(present) else None,
        "max": float(present.max()) if len(present) else None,
        "missing": int(np.isnan(values).sum()),
        "binary": bool(len(present)) and bool(np.isin(present, (0.0, 1.0)).all()),
    }


STATISTICS = ("count", "mean", "std", "min", "25%", "50%", "75%", "max")


def _describe_rules(evidence: dict[str, Any], policy: Policy) -> dict[str, list[str]]:
    """Reasons per statistic of one column (empty: publish)."""
    base = {
        k: (np.nan if evidence.get(k) is None else evidence[k])
        for k in ("count", "sum", "top1", "top2", "negatives")
    }
    count_reasons, _ = cell_reasons(base | {"value": base["count"]}, "frequency", "count", policy)
    mean_reasons, _ = cell_reasons(base | {"value": np.nan}, "magnitude", "mean", policy)
    if evidence.get("binary"):
        mean_reasons = mean_reasons + proportion_reasons(base["sum"], base["count"], "mean", policy)
    reasons = {"count": count_reasons, "mean": mean_reasons, "std": mean_reasons}
    for stat in ("min", "25%", "50%", "75%", "max"):
        own = list(count_reasons)
        if policy.extremes_disclosive:
            own.append(f"{stat}: a single person's value")
        reasons[stat] = own
    return reasons


def _related_means(frame: pd.DataFrame) -> dict[Any, str]:
    """The columns of FRAME whose means describe withholds, and why: those that, with others of
    it, combine into one non-zero constant for every record (cost + 1 beside cost: the two
    means, each the sum over the rounded count, differ by the exact count over it). Only
    columns with values in the same records are compared (a mean's count is its column's)."""
    found = {}
    present = frame.notna()
    alike: dict[bytes, list[Any]] = {}
    for column in frame.columns:
        alike.setdefault(present[column].to_numpy().tobytes(), []).append(column)
    for columns in alike.values():
        part = frame.loc[present[columns[0]], columns]
        values = part.to_numpy(dtype=float)
        if len(columns) < 2 or not len(part) or not np.isfinite(values).all():
            continue
        for k, others in related_columns(values).items():
            found[columns[k]] = (
                f"mean: a combination of {columns[k]} with "
                f"{', '.join(str(columns[o]) for o in others)} is the same for every record, "
                "so their means together give the exact count back"
            )
    return found


def _published_statistic(
    values: pd.Series, aggfunc: str, policy: Policy
) -> tuple[float, str | None]:
    """The mean (or std) of VALUES as a table's one cell publishes it
    (:func:`sdc.tables.rules.published_values`), and the note that says how: never in full
    precision where that would give the count that describe publishes rounded."""
    frame = pd.DataFrame({"all": 0, "values": values.to_numpy(dtype=float)})
    table = tables.build(frame, "all", None, "values", aggfunc, False, policy.max_table_cells)
    cells = on_a_lattice(nearly_constant(table.cells, aggfunc, policy), aggfunc, policy)
    value = float(published_values(cells, table.kind, aggfunc, policy)[0])
    if aggfunc != "mean":
        return value, None
    return value, mean_note(
        policy.rounding_base, sum_rounding(cells, aggfunc, policy.rounding_base)
    )


def describe(data: pd.DataFrame | pd.Series, policy: Policy | None = None) -> SafeOutput:
    """``DataFrame.describe()`` for numeric columns, with each statistic checked: the count is
    rounded, and the mean and std are published so that they do not give it back
    (``out.notes()`` says how)."""
    policy = _policy(policy)
    frame = data.to_frame() if isinstance(data, pd.Series) else data
    numeric = [
        c
        for c in frame.columns
        if pd.api.types.is_numeric_dtype(frame[c]) and not pd.api.types.is_bool_dtype(frame[c])
    ]
    if not numeric:
        raise SdcError("describe needs at least one numeric column")
    plain = frame[numeric].describe()
    result = plain.copy()
    columns = {}
    suppressed = 0
    notes: list[str] = []
    related = _related_means(frame[numeric])
    for column in numeric:
        evidence = _column_evidence(frame[column].to_numpy(dtype=float))
        reasons = _describe_rules(evidence, policy)
        if column in related:
            reasons["mean"] = reasons["mean"] + [related[column]]
        published = {}
        for stat in STATISTICS:
            value = float(plain.loc[stat, column])
            if stat == "count":
                value = float(
                    redact_then_round(
                        np.array([value]), policy.redact_at_most, policy.rounding_base
                    )[0]
                )
            elif stat in ("mean", "std"):
                value, note = _published_statistic(frame[column], stat, policy)
                notes += [note] if note and note not in notes else []
            if reasons[stat]:
                value = np.nan
                suppressed += 1
            result.loc[stat, column] = value
            published[stat] = None if np.isnan(value) else value
        columns[str(column)] = {
            "evidence": evidence,
            "values": {s: float(plain.loc[s, column]) for s in STATISTICS},
            "reasons": reasons,
            "published": published,
        }
    evidence = _header("describe", policy, {"columns": [str(c) for c in numeric]}) | {
        "kind": "describe",
        "columns": columns,
        "summary": {"statistics": len(numeric) * len(STATISTICS), "suppressed": suppressed},
    }
    if notes:
        evidence["mean"] = {"note": "; ".join(notes)}
    return SafeOutput("describe", result, evidence)


# ---------------------------------------------------------------------------------------------
# Regression


def _regression(
    kind: str, formula: str, data: pd.DataFrame, policy: Policy | None, **fit_options
) -> SafeOutput:
    import statsmodels.formula.api as smf

    policy = _policy(policy)
    maker = {"ols": smf.ols, "logit": smf.logit, "probit": smf.probit}[kind]
    try:
        model = maker(formula, data)
        fitted = model.fit(disp=0, **fit_options) if kind != "ols" else model.fit(**fit_options)
    except Exception as exc:  # statsmodels/patsy raise many types for a bad formula or data
        raise SdcError(f"the {kind} model could not be fitted: {exc}") from None
    exog = pd.DataFrame(model.exog, columns=model.exog_names)
    df_resid = float(fitted.df_resid)
    blocked = []
    if df_resid < policy.min_residual_df:
        blocked.append(
            f"residual degrees of freedom {df_resid:g} are fewer than the minimum of "
            f"{policy.min_residual_df}"
        )
    endog = np.asarray(model.endog, dtype=float)
    if kind in ("logit", "probit"):
        for outcome, label in ((1.0, "events"), (0.0, "non-events")):
            n = int((endog == outcome).sum())
            if n < policy.threshold:
                blocked.append(f"{n} {label}, fewer than the minimum of {policy.threshold}")
    confidence = fitted.conf_int()
    table = pd.DataFrame(
        {
            "coef": fitted.params,
            "std_err": fitted.bse,
            "statistic": fitted.tvalues,
            "p_value": fitted.pvalues,
            "ci_low": confidence[0],
            "ci_high": confidence[1],
        }
    )
    terms = {}
    for term in table.index:
        column = exog[term].to_numpy()
        binary = set(np.unique(column)) <= {0.0, 1.0}
        reasons = []
        ones: int | None = None
        zeros: int | None = None
        support: int | None = None
        if binary and term != "Intercept":
            ones, zeros = int((column == 1).sum()), int((column == 0).sum())
            if min(ones, zeros) < policy.threshold:
                reasons.append(
                    f"indicator {term} is 1 for {ones} and 0 for {zeros} records: a group "
                    f"smaller than {policy.threshold}"
                )
        if term != "Intercept":
            support, common = _support(column)
            if support < policy.threshold and not reasons:
                reasons.append(
                    f"only {support} records differ from {term}'s most common value "
                    f"({common:g}): its coefficient rests on fewer than {policy.threshold} "
                    "people (a dummy however scaled)"
                )
        terms[term] = {
            "binary": bool(binary),
            "ones": ones,
            "zeros": zeros,
            "support": support,
            "reasons": reasons,
        }
    blocked += _reference_levels(model, exog, policy)
    blocked += _categorical_means(model, exog, endog, kind, policy)
    result = table.copy()
    for term, info in terms.items():
        if info["reasons"] or blocked:
            result.loc[term] = np.nan
    suppressed = int(result["coef"].isna().sum())
    evidence = _header(kind, policy, {"formula": formula}) | {
        "kind": "regression",
        "model": kind,
        "nobs": int(fitted.nobs),
        "df_model": float(fitted.df_model),
        "df_resid": df_resid,
        "blocked": blocked,
        "terms": terms,
        "coefficients": {
            term: {k: float(v) for k, v in row.items()} for term, row in table.iterrows()
        },
        "summary": {"terms": len(table), "suppressed": suppressed},
    }
    return SafeOutput("regression", result, evidence)


def _support(column: np.ndarray) -> tuple[int, float]:
    """How many records differ from the column's most common value, and that value: the
    people a coefficient rests on (a dummy's ones, whatever it is scaled or shifted by)."""
    values, counts = np.unique(column, return_counts=True)
    common = float(values[np.argmax(counts)])
    return int(len(column) - counts.max()), common


def _categorical_terms(model) -> list[tuple[str, slice]]:
    """The model's terms made only of categorical factors, with their columns."""
    data = getattr(model, "data", None)
    # statsmodels 0.15 keeps patsy's DesignInfo as model_spec; earlier ones as design_info
    info = getattr(data, "model_spec", None) or getattr(data, "design_info", None)
    if info is None or not hasattr(info, "factor_infos"):
        return []
    found = []
    for term in info.terms:
        factors = term.factors
        if factors and all(info.factor_infos[f].type == "categorical" for f in factors):
            found.append((term.name(), info.term_slices[term]))
    return found


def _reference_levels(model, exog: pd.DataFrame, policy: Policy) -> list[str]:
    """Each categorical's reference level (the records where all its dummies are 0) is a group
    too: the intercept is its mean."""
    blocked: list[str] = []
    if "Intercept" not in exog.columns:
        return blocked
    for name, columns in _categorical_terms(model):
        if ":" in name:
            continue
        reference = int((exog.iloc[:, columns].to_numpy() == 0).all(axis=1).sum())
        if reference < policy.threshold:
            blocked.append(
                f"the reference level of {name} covers {reference} records, fewer than "
                f"{policy.threshold} (the intercept is their mean)"
            )
    return blocked


def _categorical_means(
    model, exog: pd.DataFrame, endog: np.ndarray, kind: str, policy: Policy
) -> list[str]:
    """A model of categoricals only publishes the mean outcome of each combination of levels
    (intercept plus coefficients): checked as that table of means, dominance included."""
    terms = [c for c in exog.columns if c != "Intercept"]
    categorical = {c for _, columns in _categorical_terms(model) for c in exog.columns[columns]}
    if not terms or not set(terms) <= categorical:
        return []
    groups, group_of = np.unique(exog[terms].to_numpy(), axis=0, return_inverse=True)
    group_of = np.asarray(group_of).ravel()
    binary = kind != "ols" or bool(np.isin(endog, (0.0, 1.0)).all())
    problems = []
    for g, levels in enumerate(groups):
        values = np.sort(endog[group_of == g])[::-1]
        cell = {
            "count": float(len(values)),
            "sum": float(values.sum()),
            "top1": float(values[0]),
            "top2": float(values[1]) if len(values) > 1 else np.nan,
            "negatives": int((values < 0).sum()),
            "ones": float(values.sum()) if binary else None,
        }
        reasons, _ = cell_reasons(cell, "magnitude", "mean", policy)
        if reasons:
            where = [t for t, on in zip(terms, levels, strict=True) if on] or ["the reference"]
            problems.append(
                "a model of categoricals only publishes each group's mean; the group "
                f"{' & '.join(where)} fails: " + "; ".join(reasons)
            )
    return problems[:10]


def ols(formula: str, data: pd.DataFrame, policy: Policy | None = None, **options) -> SafeOutput:
    """Ordinary least squares (statsmodels formula), published only with enough residual df."""
    return _regression("ols", formula, data, policy, **options)


def logit(formula: str, data: pd.DataFrame, policy: Policy | None = None, **options) -> SafeOutput:
    """Logistic regression (statsmodels formula) with residual-df and event-count checks."""
    return _regression("logit", formula, data, policy, **options)


def probit(formula: str, data: pd.DataFrame, policy: Policy | None = None, **options) -> SafeOutput:
    """Probit regression (statsmodels formula) with residual-df and event-count checks."""
    return _regression("probit", formula, data, policy, **options)


# ---------------------------------------------------------------------------------------------
# Histograms and survival


def _nice_range(low: float, high: float, bins: int) -> tuple[float, float]:
    """Edges that do not reveal the minimum or maximum: outward to a round step."""
    span = high - low or abs(high) or 1.0
    raw = span / bins
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw)
    start = math.floor(low / step) * step
    stop = max(math.ceil(high / step) * step, start + step * bins)
    if stop == high:
        stop += step
    if start == low:
        start -= step
    return start, stop


def hist(
    values,
    bins: int = 10,
    range: tuple[float, float] | None = None,  # noqa: A002
    title: str | None = None,
    policy: Policy | None = None,
) -> SafeOutput:
    """A histogram whose every bar is a protected count. Without RANGE the edges are rounded
    outwards so they do not reveal the extremes. ``.figure`` is a matplotlib figure."""
    policy = _policy(policy)
    series = pd.Series(values).astype(float)
    present = series.dropna().to_numpy()
    if not len(present):
        raise SdcError("hist needs at least one value")
    low, high = float(present.min()), float(present.max())
    if range is None:
        range = _nice_range(low, high, bins)
    else:
        given = np.histogram_bin_edges(present, bins=bins, range=range)
        if (
            np.isclose(given, low, rtol=1e-12, atol=0).any()
            or np.isclose(given, high, rtol=1e-12, atol=0).any()
        ):
            # the analyst's range puts an edge on the data's minimum or maximum (the range
            # numpy would choose): widened to round edges that cover both
            range = _nice_range(min(low, float(range[0])), max(high, float(range[1])), bins)
    counts, edges = np.histogram(present, bins=bins, range=range)
    bars = []
    published = redact_then_round(counts.astype(float), policy.redact_at_most, policy.rounding_base)
    for i, count in enumerate(counts):
        reasons, _ = cell_reasons(
            {"count": float(count), "value": float(count)}, "frequency", "count", policy
        )
        if reasons:
            published[i] = np.nan
        bars.append(
            {
                "low": float(edges[i]),
                "high": float(edges[i + 1]),
                "count": int(count),
                "reasons": reasons,
                "published": None if np.isnan(published[i]) else float(published[i]),
            }
        )
    outside = int(((present < edges[0]) | (present > edges[-1])).sum())
    result = pd.DataFrame({"low": edges[:-1], "high": edges[1:], "count": published})
    name = str(getattr(values, "name", None) or "value")
    evidence = _header("hist", policy, {"bins": bins, "range": list(range), "name": name}) | {
        "kind": "histogram",
        "bars": bars,
        "outside_range": outside,
        "summary": {"bars": len(bars), "suppressed": int(np.isnan(published).sum())},
    }
    return SafeOutput("histogram", result, evidence, _histogram_figure(result, name, title))


def _histogram_figure(result: pd.DataFrame, name: str, title: str | None):
    import matplotlib

    matplotlib.use("Agg", force=False)
    from matplotlib.figure import Figure

    figure = Figure(figsize=(6, 3.5))
    axes = figure.subplots()
    widths = result.high - result.low
    shown = result["count"].fillna(0)
    axes.bar(result.low, shown, width=widths, align="edge", color="#1f6f8b", edgecolor="white")
    for low, width, count in zip(result.low, widths, result["count"], strict=True):
        if np.isnan(count):
            axes.text(low + width / 2, 0, "×", ha="center", va="bottom", color="#b03a2e")
    axes.set_xlabel(name)
    axes.set_ylabel("records (rounded)")
    axes.set_title(title or f"Distribution of {name} (× = suppressed)")
    figure.tight_layout()
    return figure


def survival(time, event, policy: Policy | None = None) -> SafeOutput:
    """A Kaplan-Meier table reported only at times where at least ``threshold`` events have
    happened since the last reported time, while at least ``threshold`` people are at risk.

    Every published number comes from rounded cumulative counts, as OpenSAFELY's Kaplan-Meier
    does: the number of people, and at each reported time the events and the censored so far
    and the people who left before it, each rounded. ``at_risk`` is the people less those who
    left before the time, ``events`` and ``censored`` the differences of the rounded running
    totals, and the survival multiplies, at each reported interval, 1 - events / the people at
    risk at the interval's start. Rounded row by row instead, the rows' residues together gave
    the exact count; in full precision, the survival's denominators did."""
    policy = _policy(policy)
    frame = _survival_frame(time, event)
    grouped = frame.groupby("time").agg(events=("event", "sum"), leaving=("event", "size"))
    at_risk = grouped.leaving[::-1].cumsum()[::-1]
    rows, since_events, since_censored = [], 0.0, 0.0
    for t in grouped.index:
        since_events += grouped.events[t]
        since_censored += grouped.leaving[t] - grouped.events[t]
        risk = float(at_risk[t])
        if risk < policy.threshold:
            break
        if since_events >= policy.threshold:  # (the rules read the exact counts)
            rows.append(
                {
                    "time": float(t),
                    "at_risk": risk,
                    "events": since_events,
                    "censored": since_censored,
                }
            )
            since_events = since_censored = 0.0
    base = policy.rounding_base

    def rounded(value: float) -> float:
        return float(round_to_base(np.array([value]), base)[0])

    people = rounded(float(len(frame)))
    events = grouped.events.cumsum()
    censored = (grouped.leaving - grouped.events).cumsum()
    left_before = grouped.leaving.cumsum() - grouped.leaving
    survival_so_far, previous = 1.0, {"events": 0.0, "censored": 0.0}
    for row in rows:
        t = row["time"]
        so_far = {"events": rounded(float(events[t])), "censored": rounded(float(censored[t]))}
        start = people - previous["events"] - previous["censored"]
        published = {
            "time": t,
            "at_risk": people - rounded(float(left_before[t])),
            "events": so_far["events"] - previous["events"],
            "censored": so_far["censored"] - previous["censored"],
        }
        survival_so_far *= 1 - published["events"] / start
        row |= {"interval_at_risk": start, "survival": survival_so_far, "published": published}
        previous = so_far
    columns = ["time", "at_risk", "events", "censored", "survival"]
    result = pd.DataFrame(
        [r["published"] | {"survival": r["survival"]} for r in rows], columns=columns
    )
    evidence = _header("survival", policy, {}) | {
        "kind": "survival",
        "rows": rows,
        "records": int(len(frame)),
        "summary": {"reported_times": len(rows), "event_times": int(len(grouped)), "suppressed": 0},
        "survival": {
            "note": "every number comes from rounded cumulative counts (the people, and the "
            f"events, censored and leavers so far, each rounded to {base}): the survival "
            "multiplies, at each reported interval, 1 - events / at risk at the interval's "
            "start, so that neither its rows nor its steps give an exact count"
        },
    }
    if not rows:
        evidence["survival"]["note"] += (
            f"; no time is reported: none has {policy.threshold} events since the last while "
            f"{policy.threshold} people are at risk"
        )
    return SafeOutput("survival", result, evidence)


def _survival_frame(time, event) -> pd.DataFrame:
    """TIME and EVENT as numbers, rows with either missing dropped; a sentence where they are
    not two equally long columns of numbers, events 1 or 0."""
    time, event = pd.Series(time).reset_index(drop=True), pd.Series(event).reset_index(drop=True)
    if len(time) != len(event):
        raise SdcError(
            f"time and event must have one value per person: {len(time)} times and "
            f"{len(event)} events were given"
        )
    if not len(time):
        raise SdcError("survival needs at least one person with a time and an event")
    columns = {}
    for name, values in (("time", time), ("event", event)):
        if pd.api.types.is_bool_dtype(values):
            values = values.astype(float)
        if not pd.api.types.is_numeric_dtype(values):
            raise SdcError(
                f"{name} must be numbers ({values.dtype} given): "
                + (
                    "give times as durations, e.g. (end - start).dt.days"
                    if name == "time"
                    else "give events as 1 (event) or 0 (censored)"
                )
            )
        columns[name] = values.astype(float)
    frame = pd.DataFrame(columns).dropna()
    if frame.empty:
        raise SdcError("survival needs at least one person with a time and an event")
    if not set(frame.event.unique()) <= {0.0, 1.0}:
        raise SdcError("event must be 1 (event) or 0 (censored)")
    return frame


# ---------------------------------------------------------------------------------------------
# Replayable outputs: a query over the extract, then one of the calls above (see sdc.query)


def _query_column(frame: pd.DataFrame, name: str) -> pd.Series:
    if name not in frame.columns:
        raise SdcError(
            f"the query has no column {name!r}; it has {', '.join(map(str, frame.columns))}"
        )
    return frame[name]


def _query_numbers(series: pd.Series) -> pd.Series:
    """Numbers as float64 (DuckDB gives nullable integers where a column has NULLs)."""
    if pd.api.types.is_bool_dtype(series) or not pd.api.types.is_numeric_dtype(series):
        return series
    return series.astype("float64")


def replayable(
    frame: pd.DataFrame, call: str, arguments: dict[str, Any], policy: Policy, sql: str
) -> SafeOutput:
    """The protected output CALL(ARGUMENTS) of a query SQL's rows FRAME, under POLICY: the one
    function that makes it, in the kernel (:class:`Query`) and in the airlock's replay alike.
    Its rules count people, not records: the query must select the extract's own person column
    (verified in its parse tree), and describe and hist need one row per person."""
    arguments = query.arguments_of(call, arguments)
    unverified = query.people_unverified(sql)
    if unverified:
        raise SdcError(
            f"{unverified}. The disclosure rules count people: select the extract's person "
            "column as it is (SELECT person, ... FROM dataset; a join only USING (person); "
            "GROUP BY person for one row per person)"
        )
    if call in ("describe", "hist") and frame[HOLDING_COLUMN].duplicated().any():
        raise SdcError(
            f"{call} of a query counts rows, and some person has more than one row: give one "
            "row per person (GROUP BY person)"
        )
    if call == "crosstab":
        rows, cols, values = arguments["rows"], arguments["cols"], arguments["values"]
        used = rows + cols + ([values] if values else [])
        for name in used:
            _query_column(frame, name)
        if len(set(used)) != len(used):
            raise SdcError("crosstab's rows, cols and values must be different columns")
        holding = _default_holding(frame, used)
        data = frame[used + ([holding] if holding else [])].copy()
        if values:
            data[values] = _query_numbers(data[values])
        output = _table_output(
            "crosstab",
            data,
            rows,
            cols,
            values,
            arguments["aggfunc"],
            arguments["margins"],
            _policy(policy),
            holding,
        )
    elif call == "describe":
        columns = arguments["columns"] or list(frame.columns)
        data = pd.DataFrame({c: _query_numbers(_query_column(frame, c)) for c in columns})
        output = describe(data, policy=policy)
    else:
        series = _query_numbers(_query_column(frame, arguments["column"]))
        bounds = arguments["range"]
        output = hist(
            series.rename(arguments["column"]),
            bins=arguments["bins"],
            range=None if bounds is None else (bounds[0], bounds[1]),
            title=arguments["title"],
            policy=policy,
        )
    return output


class Query:
    """The rows of one SQL query over the project's extract; its methods make protected
    outputs that the airlock can replay. ``.frame`` is the rows themselves (a pandas frame)."""

    def __init__(self, text: str, extract: Path, policy: Policy | None = None) -> None:
        self.sql = text
        self.extract = extract
        self.policy = policy
        self.manifest_sha256 = query.manifest_sha256(extract)
        self.frame = query.run(extract, text)

    def __repr__(self) -> str:
        return f"<Query {len(self.frame):,} rows: {', '.join(map(str, self.frame.columns))}>"

    def _output(self, call: str, arguments: dict[str, Any]) -> SafeOutput:
        policy = _policy(self.policy)
        asked = None if self.policy is None else policy.to_dict()  # a stricter one, recorded
        spec = query.specification(self.sql, call, arguments, self.manifest_sha256, asked)
        output = replayable(self.frame, call, spec["arguments"], policy, self.sql)
        output.evidence["function"] = f"sdc.safe.sql(...).{call}"
        output.evidence["replay"] = spec
        return output

    def crosstab(
        self,
        rows: str | list[str],
        cols: str | list[str] | None = None,
        values: str | None = None,
        aggfunc: str = "count",
        margins: bool = True,
    ) -> SafeOutput:
        """A protected table of the query's columns: counts of records by ROWS (and COLS), or
        AGGFUNC (sum, mean, median, ...) of VALUES."""
        arguments = {
            "rows": rows,
            "cols": cols or [],
            "values": values,
            "aggfunc": aggfunc,
            "margins": margins,
        }
        return self._output("crosstab", arguments)

    def describe(self, columns: str | list[str] | None = None) -> SafeOutput:
        """``describe()`` of the query's numeric COLUMNS (all of them by default), checked."""
        return self._output("describe", {"columns": columns})

    def hist(
        self,
        column: str,
        bins: int = 10,
        range: tuple[float, float] | None = None,  # noqa: A002
        title: str | None = None,
    ) -> SafeOutput:
        """A histogram of COLUMN whose every bar is a protected count."""
        return self._output(
            "hist",
            {
                "column": column,
                "bins": bins,
                "range": None if range is None else list(range),
                "title": title,
            },
        )


def sql(text: str, policy: Policy | None = None, extract: str | Path | None = None) -> Query:
    """Run TEXT (one SELECT over the extract's datasets, each a view named by its dataset)
    and return a :class:`Query` whose ``crosstab``, ``describe`` and ``hist`` make outputs the
    airlock verifies by replaying them. EXTRACT defaults to the workspace's (``TRE_DATA``)."""
    if extract is None:
        folder = os.environ.get(query.DATA_VARIABLE)
        if not folder:
            raise SdcError(
                f"{query.DATA_VARIABLE} is not set: safe.sql runs over the project's extract, "
                "in the project's workspace or a `tre run`"
            )
        extract = folder
    return Query(text, Path(extract), policy)


# ---------------------------------------------------------------------------------------------
# Re-checking (the airlock's side)


def recheck(evidence: dict[str, Any], policy: Policy) -> list[str]:
    """Re-run POLICY on an output's evidence; the problems as sentences (empty: it passes)."""
    kind = evidence.get("kind")
    if kind == "table":
        constant = float((evidence.get("counted") or {}).get("constant") or 1.0)
        if constant != 1.0:
            evidence = evidence | {
                "cells": [
                    c | {"published": None if c["published"] is None else c["published"] / constant}
                    for c in evidence["cells"]
                ]
            }
        return tables.recheck(evidence, policy)
    problems = []
    if kind == "describe":
        for column, info in evidence["columns"].items():
            reasons = _describe_rules(info["evidence"], policy)
            for stat, value in info["published"].items():
                if value is not None and reasons[stat]:
                    problems.append(
                        f"{column} {stat} is published but fails: " + "; ".join(reasons[stat])
                    )
    elif kind == "regression":
        published = any(c for c in evidence["coefficients"])
        if evidence["df_resid"] < policy.min_residual_df and published and not evidence["blocked"]:
            problems.append(f"residual df {evidence['df_resid']:g} below {policy.min_residual_df}")
        for term, info in evidence["terms"].items():
            if info["binary"] and info["ones"] is not None and term != "Intercept":
                if min(info["ones"], info["zeros"]) < policy.threshold and not info["reasons"]:
                    problems.append(f"indicator {term} covers fewer than {policy.threshold}")
            support = info.get("support")
            if term != "Intercept" and support is None and not evidence["blocked"]:
                problems.append(f"term {term} has no record of its support")
            elif support is not None and support < policy.threshold and not info["reasons"]:
                problems.append(f"term {term} rests on {support} records")
    elif kind == "histogram":
        for bar in evidence["bars"]:
            if bar["published"] is None:
                continue
            bar_reasons, _ = cell_reasons(
                {"count": bar["count"], "value": bar["count"]}, "frequency", "count", policy
            )
            if bar_reasons:
                problems.append(
                    f"bar [{bar['low']:g}, {bar['high']:g}) is published but fails: "
                    + "; ".join(bar_reasons)
                )
    elif kind == "survival":
        for row in evidence["rows"]:
            if row["events"] < policy.threshold or row["at_risk"] < policy.threshold:
                problems.append(f"survival at time {row['time']:g} rests on too few people")
    else:
        problems.append(f"unknown evidence kind {kind!r}")
    return problems


def read_evidence(path: str | Path) -> dict[str, Any]:
    sidecar = Path(str(path) + EVIDENCE_SUFFIX)
    try:
        return json.loads(sidecar.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise SdcError(f"{Path(path).name} has no evidence file beside it") from None
    except json.JSONDecodeError as exc:
        raise SdcError(f"{sidecar.name} is not valid JSON: {exc}") from None


def verify_output(path: str | Path, evidence: dict[str, Any]) -> list[str]:
    """Does the file at PATH match its evidence? (hash, and for tables the published cells)"""
    path = Path(path)
    problems = []
    output = evidence.get("output") or {}
    if output.get("sha256") != _file_sha256(path):
        problems.append(f"{path.name} has changed since its evidence was written")
    if evidence.get("kind") == "table" and path.suffix.lower() == ".csv":
        problems += _verify_table_csv(path, evidence)
    return problems


def _verify_table_csv(path: Path, evidence: dict[str, Any]) -> list[str]:
    rows, cols = evidence["rows"], evidence["cols"]
    expected = {}
    for cell in evidence["cells"]:
        key = tuple(str(cell["dims"][d]) for d in rows + cols)
        expected[key] = cell["published"]
    try:
        header = list(range(len(cols))) if cols else 0
        frame = pd.read_csv(
            io.StringIO(path.read_text(encoding="utf-8")),
            index_col=list(range(len(rows))),
            header=header,
        )
    except Exception as exc:  # pandas raises several parser errors
        return [f"{path.name} cannot be read as the table its evidence describes: {exc}"]
    problems = []
    stacked = frame.stack(list(range(len(cols))), future_stack=True) if cols else frame.iloc[:, 0]
    for key, value in stacked.items():
        key = tuple(str(k) for k in (key if isinstance(key, tuple) else (key,)))
        if key not in expected:
            problems.append(f"{path.name} has a cell {key} that is not in its evidence")
            continue
        published = expected[key]
        if (published is None) != pd.isna(value) or (
            published is not None and not np.isclose(float(value), published)
        ):
            problems.append(f"{path.name} cell {key} is {value} but the evidence says {published}")
    return problems


def _whole_numbers(values: pd.Series) -> bool:
    """A float column whose every value is a whole number that a float holds exactly."""
    if not pd.api.types.is_float_dtype(values):
        return False
    present = values.dropna()
    return bool(len(present)) and bool(((present % 1 == 0) & (present.abs() < 2**53)).all())
