"""The disclosure policy: every threshold of output checking, in one place.

Defaults are ACRO's (the SACRO project's ``default.yaml``): a minimum of 10 records per cell,
(2, 90 %) dominance, the p % rule with p = 10, zeros disclosive, regressions need 10 residual
degrees of freedom. The operator's settings set the policy; an analyst (or a project) may only
make it stricter (:meth:`Policy.stricter`), never looser.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import asdict, dataclass, fields, replace
from typing import Any

from sdc.errors import SdcError

ENVIRONMENT_VARIABLE = "TRE_DISCLOSURE_POLICY"
# an output's evidence sits beside it as OUTPUT + this suffix (see sdc.safe)
EVIDENCE_SUFFIX = ".evidence.json"

# how each setting orders strictness: +1 larger is stricter, -1 smaller is stricter,
# True: True is stricter; None: not an ordering (must stay as set by the operator)
_STRICTER = {
    "threshold": +1,
    "zeros_disclosive": True,
    "dominance_n": +1,
    "dominance_k": -1,
    "p_percent": +1,
    "pq_p": +1,
    "pq_q": -1,
    "min_residual_df": +1,
    "extremes_disclosive": True,
    "rounding_base": +1,
    "redact_at_most": +1,
    "suppress": True,
    "secondary": None,
    "max_table_cells": -1,
    "protection_level": +1,
}


_NUMBER = (int, float)
_TYPES: dict[str, type | tuple[type, ...]] = {
    "threshold": int,
    "zeros_disclosive": bool,
    "dominance_n": int,
    "dominance_k": _NUMBER,
    "p_percent": _NUMBER,
    "pq_p": _NUMBER,
    "pq_q": _NUMBER,
    "min_residual_df": int,
    "extremes_disclosive": bool,
    "rounding_base": int,
    "redact_at_most": int,
    "suppress": bool,
    "secondary": str,
    "max_table_cells": int,
    "protection_level": _NUMBER,
}
_TYPE_NAMES = {int: "a whole number", bool: "true or false", _NUMBER: "a number", str: "text"}
_OPTIONAL = {"pq_p", "pq_q", "redact_at_most"}


@dataclass(frozen=True)
class Policy:
    """Every threshold the checks apply. ``Policy()`` is ACRO's defaults."""

    threshold: int = 10
    """Minimum number of records (unweighted) behind every published cell or statistic."""
    zeros_disclosive: bool = True
    """A zero count reveals that nobody has the attributes: treat as disclosive (ACRO, UK LLC)."""
    dominance_n: int = 2
    dominance_k: float = 90.0
    """(n, k) dominance: a cell fails when its n largest contributions make k % or more of it."""
    p_percent: float = 10.0
    """p % rule: a cell fails when total - x1 - x2 < p % of x1 (the runner-up could estimate x1
    to within p %)."""
    pq_p: float | None = None
    pq_q: float | None = None
    """pq rule (sdcTable): fails when total - x1 - x2 < (p/q)·x1; off unless both are set."""
    min_residual_df: int = 10
    """Regression outputs need at least this many residual degrees of freedom."""
    extremes_disclosive: bool = True
    """Minimum, maximum, percentiles and the median are one person's value: never published
    (ESSnet and OpenSAFELY advice; ACRO passes them once n >= threshold)."""
    rounding_base: int = 5
    """Counts published as multiples of this (0 or 1: no rounding)."""
    redact_at_most: int | None = None
    """OpenSAFELY style: counts at most this are redacted before rounding (e.g. 7)."""
    suppress: bool = True
    """Unsafe cells are suppressed (with secondary suppression) rather than only flagged."""
    secondary: str = "heuristic"
    """Secondary suppression: heuristic, optimal (small tables) or none."""
    max_table_cells: int = 100_000
    """Tables larger than this are refused as microdata in disguise."""
    protection_level: float = 1.0
    """The least a suppressed unsafe cell of a frequency table must be protected by, in counts,
    up and down: an attacker's interval must reach value + level and value - level (or zero).
    Magnitude tables take their levels from the p %, pq and dominance rules (see docs/sdc.md)."""

    def __post_init__(self) -> None:
        problems = []
        for item in fields(self):
            value = getattr(self, item.name)
            expected = _TYPES[item.name]
            if value is None and item.name in _OPTIONAL:
                continue
            if isinstance(value, bool) != (expected is bool) or not isinstance(value, expected):
                problems.append(f"{item.name} must be {_TYPE_NAMES[expected]}, not {value!r}")
        if problems:
            raise SdcError("disclosure policy: " + "; ".join(problems))
        if self.threshold < 1:
            problems.append("threshold must be at least 1")
        if self.dominance_n not in (1, 2):
            problems.append("dominance_n must be 1 or 2 (cell evidence keeps the two largest)")
        if not 0 < self.dominance_k <= 100:
            problems.append("dominance_k is a percentage in (0, 100]")
        if not 0 <= self.p_percent <= 100:
            problems.append("p_percent is a percentage in [0, 100]")
        if (self.pq_p is None) != (self.pq_q is None):
            problems.append("pq_p and pq_q are set together or not at all")
        if (
            self.pq_p is not None
            and self.pq_q is not None
            and (self.pq_p <= 0 or self.pq_q <= 0 or self.pq_p > self.pq_q)
        ):
            problems.append("the pq rule needs 0 < p <= q")
        if self.min_residual_df < 0:
            problems.append("min_residual_df must be 0 or more")
        if self.rounding_base < 0:
            problems.append("rounding_base must be 0 or more")
        if self.redact_at_most is not None and self.redact_at_most < 0:
            problems.append("redact_at_most must be 0 or more")
        if self.protection_level < 0:
            problems.append("protection_level must be 0 or more")
        if self.secondary not in ("heuristic", "optimal", "none"):
            problems.append("secondary must be heuristic, optimal or none")
        if problems:
            raise SdcError("disclosure policy: " + "; ".join(problems))

    # --- construction -------------------------------------------------------------------

    @classmethod
    def from_mapping(cls, values: Mapping[str, Any]) -> Policy:
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(values) - known)
        if unknown:
            raise SdcError(
                f"disclosure policy: unknown setting {', '.join(unknown)}; "
                f"known settings are {', '.join(sorted(known))}"
            )
        try:
            return cls(**dict(values))
        except TypeError as exc:  # pragma: no cover - dataclass argument errors
            raise SdcError(f"disclosure policy: {exc}") from None

    @classmethod
    def from_env(cls, variable: str = ENVIRONMENT_VARIABLE) -> Policy:
        """The policy the operator put in the environment (the workspace's), else the defaults."""
        text = os.environ.get(variable)
        if not text:
            return cls()
        try:
            return cls.from_mapping(json.loads(text))
        except json.JSONDecodeError as exc:
            raise SdcError(f"{variable} is not valid JSON: {exc}") from None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), sort_keys=True)

    # --- strictness ---------------------------------------------------------------------

    def looser_settings(self, other: Policy) -> list[str]:
        """The settings in which OTHER is looser than this policy, as sentences."""
        looser = []
        for name, order in _STRICTER.items():
            mine, theirs = getattr(self, name), getattr(other, name)
            if mine == theirs:
                continue
            if order is None:
                looser.append(f"{name} cannot be changed from {mine!r}")
            elif order is True:
                if mine and not theirs:
                    looser.append(f"{name} cannot be turned off")
            elif mine is None or theirs is None:
                if theirs is None:
                    looser.append(f"{name} cannot be removed (it is {mine!r})")
            elif (theirs - mine) * order < 0:
                looser.append(f"{name} {theirs!r} is looser than the operator's {mine!r}")
        return looser

    def is_at_least_as_strict_as(self, other: Policy) -> bool:
        return not other.looser_settings(self)

    def stricter(self, **changes: Any) -> Policy:
        """A copy with CHANGES, each of which must make the policy stricter (or keep it)."""
        candidate = replace(self, **changes)
        looser = self.looser_settings(candidate)
        if looser:
            raise SdcError(
                "a policy can only be made stricter than the operator's: " + "; ".join(looser)
            )
        return candidate
