"""An anonymisation session: the original and current data, every step, undo, and a report.

    session = sdc.Session(df, keys=[...], numeric=[...], weight="w")
    session.apply(sdc.global_recode, "age", [0, 15, 30, 45, 60, 120])
    session.apply(sdc.local_suppression, k=3)     # keys default to the session's
    session.undo()
    session.report("report.html")

After each step the session recomputes risk (k-anonymity violations, expected
re-identifications, the riskiest record) and utility (IL1s and eigen for numeric variables, the
total variation of each key's tabulation), so the report shows what each step bought and cost.
"""

from __future__ import annotations

import inspect
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Any

import jinja2
import pandas as pd

from sdc import risk, utility
from sdc._checks import check_frame
from sdc._result import Result
from sdc.errors import SdcError


@dataclass
class Step:
    method: str
    record: dict[str, Any]
    risk_before: dict[str, float]
    risk_after: dict[str, float]
    utility_after: dict[str, float]
    at: str


class Session:
    def __init__(
        self,
        df: pd.DataFrame,
        keys: Sequence[str],
        numeric: Sequence[str] = (),
        weight: str | None = None,
        household: str | None = None,
        strata: str | None = None,
        sensitive: Sequence[str] = (),
        k_values: Sequence[int] = (2, 3, 5),
    ):
        self.keys = list(keys)
        self.numeric = list(numeric)
        self.weight = weight
        self.household = household
        self.strata = strata
        self.sensitive = list(sensitive)
        self.k_values = list(k_values)
        columns = (
            self.keys
            + self.numeric
            + self.sensitive
            + [c for c in (weight, household, strata) if c]
        )
        check_frame(df, columns)
        self.original = df.copy()
        self._history: list[tuple[pd.DataFrame, Step]] = []
        self.current = df.copy()
        self.initial_risk = self.risk()

    # ----------------------------------------------------------------------------------

    def risk(self, data: pd.DataFrame | None = None) -> dict[str, float]:
        data = self.current if data is None else data
        measures: dict[str, float] = {}
        for k in self.k_values:
            measures[f"violating {k}-anonymity"] = risk.kanon_violations(data, self.keys, k)
        individual = risk.individual_risk(data, self.keys, self.weight)
        measures["expected re-identifications"] = float(individual.sum())
        measures["highest individual risk"] = float(individual.max())
        if self.household:
            measures["highest household risk"] = float(
                risk.household_risk(data, self.keys, self.household, self.weight).max()
            )
        for column in self.sensitive:
            measures[f"records with 1-diversity in {column}"] = int(
                (risk.ldiversity(data, self.keys, column) < 2).sum()
            )
        return measures

    def utility(self, data: pd.DataFrame | None = None) -> dict[str, float]:
        data = self.current if data is None else data
        measures: dict[str, float] = {}
        if self.numeric:
            measures["IL1s"] = utility.il1s(self.original, data, self.numeric)
            if len(self.numeric) > 1:
                measures["eigen"] = utility.eigen(self.original, data, self.numeric)
        tabulations = utility.compare_tabulations(self.original, data, self.keys)
        for key, part in tabulations.groupby("key", sort=False):
            measures[f"tabulation change in {key}"] = float(part.total_variation.iloc[0])
        measures["missing key values"] = int(data[self.keys].isna().sum().sum())
        return measures

    @property
    def steps(self) -> list[Step]:
        return [step for _, step in self._history]

    def apply(self, method: Callable[..., Result], *args, **kwargs) -> Result:
        """Run an anonymisation METHOD on the current data; the session's keys, numeric
        columns, weight and strata fill in the arguments the method takes and was not given."""
        parameters = inspect.signature(method).parameters
        defaults = {
            "keys": self.keys,
            "columns": self.numeric,
            "weight": self.weight,
            "strata": self.strata,
        }
        names = list(parameters)[1 : 1 + len(args)]
        for name, value in defaults.items():
            if name in parameters and name not in kwargs and name not in names and value:
                kwargs[name] = value
        result = method(self.current, *args, **kwargs)
        if not isinstance(result, Result):
            raise SdcError(f"{getattr(method, '__name__', method)} is not an anonymisation method")
        before = self.risk()
        step = Step(
            method=result.record.get("method", getattr(method, "__name__", "method")),
            record=result.record,
            risk_before=before,
            risk_after=self.risk(result.data),
            utility_after=self.utility(result.data),
            at=datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S UTC"),
        )
        self._history.append((self.current, step))
        self.current = result.data
        return result

    def undo(self) -> Step:
        if not self._history:
            raise SdcError("there is no step to undo")
        previous, step = self._history.pop()
        self.current = previous
        return step

    # ----------------------------------------------------------------------------------

    def report(self, path: str | Path | None = None) -> str:
        """An HTML page of every step: what, parameters, seed, risk and utility before/after."""
        page = (
            _pages()
            .get_template("session_report.html")
            .render(
                records=len(self.original),
                keys=self.keys,
                steps=self.steps,
                initial=self.initial_risk,
                final=self.risk(),
            )
        )
        if path is not None:
            Path(path).write_text(page, encoding="utf-8")
        return page


def _json(record: dict[str, Any]) -> str:
    return json.dumps(record, indent=1, default=str)


@cache
def _pages() -> jinja2.Environment:
    """sdc's templates. sdc sits below tre and cannot use tre.templating: the same kind of
    environment, escaping every value."""
    pages = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(Path(__file__).parent / "templates")),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
    )
    pages.filters.update(number=_fmt, json=_json)
    return pages


def _fmt(value: float) -> str:
    if isinstance(value, float) and not value.is_integer():
        return f"{value:.4g}"
    return f"{int(value):,}"
