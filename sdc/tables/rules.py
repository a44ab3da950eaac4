"""Primary disclosure rules for table cells, from a Policy, with a sentence for every failure.

Status codes follow sdcTable: ``u`` primary unsafe, ``x`` secondary suppression, ``s`` safe,
``z`` must not be suppressed (a structural zero when zeros are not disclosive). A cell may also
need ``review`` (negative contributions, where dominance rules do not apply).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from sdc.policy import Policy

EXTREMES = ("min", "max", "median")


def cell_reasons(cell: dict, kind: str, aggfunc: str, policy: Policy) -> tuple[list[str], bool]:
    """Why one cell is unsafe under POLICY (an empty list: safe), and whether it needs review."""
    reasons: list[str] = []
    count = cell["count"]
    if count == 0:
        if policy.zeros_disclosive:
            reasons.append("zero: an empty cell reveals that nobody in the group has it")
        return reasons, False
    if count < policy.threshold:
        reasons.append(
            f"threshold: {int(count)} record{'s' if count != 1 else ''}, "
            f"fewer than the minimum of {policy.threshold}"
        )
    review = False
    if kind == "magnitude":
        negatives = cell.get("negatives") or 0
        total, top1, top2 = cell["sum"], cell["top1"], cell["top2"]
        top2 = 0.0 if top2 is None or np.isnan(top2) else top2
        if negatives > 0:
            review = True
        elif total > 0:
            largest = top1 + (top2 if policy.dominance_n == 2 else 0.0)
            share = 100.0 * largest / total
            if share >= policy.dominance_k:
                reasons.append(
                    f"dominance: the {policy.dominance_n} largest contributions make "
                    f"{share:.0f} % of the cell (limit {policy.dominance_k:g} %)"
                )
            rest = total - top1 - top2
            if rest < policy.p_percent / 100.0 * top1:
                reasons.append(
                    f"p% rule: the others' share ({rest:.4g}) would let the second-largest "
                    f"contributor estimate the largest to within {policy.p_percent:g} %"
                )
            if (
                policy.pq_p is not None
                and policy.pq_q is not None  # set together (Policy checks it)
                and rest < policy.pq_p / policy.pq_q * top1
            ):
                reasons.append(f"pq rule (p={policy.pq_p:g}, q={policy.pq_q:g}) fails")
    reasons += proportion_reasons(cell.get("ones"), count, aggfunc, policy)
    if aggfunc in EXTREMES and policy.extremes_disclosive:
        reasons.append(f"{aggfunc}: the value is one person's own value")
    if aggfunc == "mode":
        shared = cell.get("mode_count")
        shared = 0 if shared is None or np.isnan(shared) else int(shared)
        if shared < policy.threshold:
            reasons.append(
                f"mode: the value is shared by {shared} record(s), fewer than the "
                f"minimum of {policy.threshold}"
            )
    return reasons, review


def proportion_reasons(ones, count: float, aggfunc: str, policy: Policy) -> list[str]:
    """A mean of a 0/1 flag is a proportion, ONES of COUNT: class disclosure when it is 0 % or
    100 % (it tells something about every member of the group), and the numerator and its
    complement must each reach the threshold (3 of 783 is three people)."""
    if aggfunc not in ("mean", "std", "var") or ones is None or np.isnan(ones) or count <= 0:
        return []
    rest = count - ones
    if ones == 0 or rest == 0:
        return [
            f"class disclosure: {'all' if rest == 0 else 'none'} of the {int(count)} records "
            f"have the flag (a share of {'100' if rest == 0 else '0'} %)"
        ]
    if min(ones, rest) < policy.threshold:
        return [
            f"proportion: {int(ones)} of {int(count)} records have the flag and {int(rest)} do "
            f"not; both must be at least {policy.threshold}"
        ]
    return []


def primary(cells: pd.DataFrame, kind: str, aggfunc: str, policy: Policy) -> pd.DataFrame:
    """Add ``status``, ``reasons`` and ``review`` to CELLS (a copy)."""
    out = cells.copy()
    statuses, all_reasons, reviews = [], [], []
    for cell in out.to_dict("records"):
        reasons, review = cell_reasons(cell, kind, aggfunc, policy)
        if reasons:
            status = "u"
        elif cell["count"] == 0:
            status = "z"
        else:
            status = "s"
        statuses.append(status)
        all_reasons.append(reasons)
        reviews.append(review)
    out["status"] = statuses
    out["reasons"] = all_reasons
    out["review"] = reviews
    return out
