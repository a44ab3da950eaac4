"""The charts Splink draws to judge a model (its ``match_weights_chart`` and
``m_u_parameters_chart``), drawn from the saved model's parameters with matplotlib, as images in
data URIs: Splink's own are Vega-Lite specifications that need its script from the internet to
show, and a linkage report must open offline in the trusted linkage step.

* match weights: for each comparison level, log2(m / u), the evidence an agreement at that level
  adds (positive, blue) or takes away (negative, red), with the prior (the match weight of two
  records drawn at random) at the top;
* m and u: for each level, the share of true matches (m) and of non-matches (u) at that level.
"""

from __future__ import annotations

import base64
import io
import math
from dataclasses import dataclass

AGREE, DISAGREE, PRIOR = "#2b6cb0", "#c53030", "#4a5568"
WEIGHT_AXIS = 25.0  # the match-weight axis stops here: a weight of 2^25 settles any pair


@dataclass(frozen=True)
class Level:
    comparison: str
    label: str
    m: float | None
    u: float | None

    @property
    def weight(self) -> float | None:
        if not self.m or not self.u:  # untrained, or never seen: no weight to draw
            return None
        return math.log2(self.m / self.u)


def levels(model: dict) -> list[Level]:
    """Every non-null comparison level of MODEL (Splink's saved settings) with its m and u."""
    found = []
    for comparison in model.get("comparisons", []):
        name = str(comparison.get("output_column_name") or comparison.get("comparison_description"))
        for level in comparison.get("comparison_levels", []):
            if level.get("is_null_level"):
                continue
            label = str(level.get("label_for_charts") or level.get("sql_condition", "?"))
            found.append(Level(name, label, level.get("m_probability"), level.get("u_probability")))
    return found


def prior_weight(model: dict) -> float | None:
    prior = model.get("probability_two_random_records_match")
    if not prior or not 0 < prior < 1:
        return None
    return math.log2(prior / (1 - prior))


def _figure(rows: int, panels: int = 1):
    import matplotlib

    matplotlib.use("Agg", force=False)
    from matplotlib.figure import Figure

    figure = Figure(figsize=(4.6 * panels + 2.6, 0.9 + 0.24 * rows), layout="constrained")
    return figure, figure.subplots(1, panels, sharey=True, squeeze=False)[0]


def _uri(figure) -> str:
    """FIGURE as a PNG data URI: an image that shows anywhere, with no file beside the page."""
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=110, metadata={"Software": None})
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def _labels(axes, rows: list[Level]) -> None:
    axes.set_yticks(range(len(rows)), [f"{r.comparison}: {r.label}" for r in rows], fontsize=7)
    axes.invert_yaxis()
    # a line between comparisons, as Splink's chart separates them
    for i in range(1, len(rows)):
        if rows[i].comparison != rows[i - 1].comparison:
            axes.axhline(i - 0.5, color="#cbd5e0", linewidth=0.8)


def match_weights_chart(model: dict) -> str | None:
    """The match weight of each comparison level (and the prior), as a data URI; None for a
    model without trained levels."""
    prior = prior_weight(model)
    rows = [level for level in levels(model) if level.weight is not None]
    if not rows:
        return None
    if prior is not None:
        rows.insert(0, Level("prior", "two records at random", None, None))
    weights = [prior if r.comparison == "prior" else r.weight for r in rows]
    figure, (axes,) = _figure(len(rows))
    colours = [
        PRIOR if r.comparison == "prior" else AGREE if (w or 0) >= 0 else DISAGREE
        for r, w in zip(rows, weights, strict=True)
    ]
    # a level that all but rules a pair out (a different NHS number, -100) would squeeze every
    # other bar to nothing: the axis stops at WEIGHT_AXIS and such a bar has its value written
    shown = [max(-WEIGHT_AXIS, min(WEIGHT_AXIS, w or 0.0)) for w in weights]
    axes.barh(range(len(rows)), shown, color=colours)
    for i, (w, s) in enumerate(zip(weights, shown, strict=True)):
        if w is not None and w != s:
            axes.text(
                s,
                i,
                f" {w:.0f} ",
                va="center",
                ha="left" if w < 0 else "right",
                fontsize=7,
                color="white",
            )
    axes.set_xlim(min(0.0, *shown) - 1, max(0.0, *shown) + 1)
    axes.axvline(0, color="black", linewidth=0.8)
    _labels(axes, rows)
    axes.set_xlabel("match weight: log2(m / u)", fontsize=8)
    axes.set_title("Match weights by comparison level", fontsize=9)
    axes.tick_params(axis="x", labelsize=7)
    return _uri(figure)


def m_u_parameters_chart(model: dict) -> str | None:
    """Each comparison level's m (share of matches) and u (share of non-matches) probability,
    side by side, as a data URI; None for a model without trained levels."""
    rows = [level for level in levels(model) if level.m is not None or level.u is not None]
    if not rows:
        return None
    figure, (left, right) = _figure(len(rows), panels=2)
    for axes, values, colour, title in (
        (left, [r.m or 0.0 for r in rows], AGREE, "m: share of true matches"),
        (right, [r.u or 0.0 for r in rows], DISAGREE, "u: share of non-matches"),
    ):
        axes.barh(range(len(rows)), values, color=colour)
        axes.set_xlim(0, 1)
        axes.set_title(title, fontsize=9)
        axes.tick_params(axis="x", labelsize=7)
    _labels(left, rows)
    return _uri(figure)
