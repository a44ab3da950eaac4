import numpy as np
import pandas as pd

from notebooks import workspace as ws


def test_age_bands_are_in_age_order_and_totals_last():
    """Age bands once sorted as text: "5-11" after "45-54"."""
    labels = pd.Index(["0-4", "12-17", "45-54", "5-11", "85+", "All", "18-24"], name="age_band")
    ordered = ws.in_natural_order(labels)
    assert list(ordered) == ["0-4", "5-11", "12-17", "18-24", "45-54", "85+", "All"]
    assert ordered.name == "age_band"
    words = pd.Index(["police", "A&E", "All"])
    assert ws.in_natural_order(words) is words  # labels that are not bands keep their order


def test_counts_show_as_integers_and_suppressed_cells_are_named():
    """Counts once printed as `230.0`."""
    frame = pd.DataFrame(
        {"visited": [230.0, np.nan, 1235.0], "mean cost": [12.345, 3.0, 7.5]},
        index=pd.Index(["45-54", "5-11", "All"], name="age_band"),
    )
    html = ws.show(frame).data
    assert "230.0" not in html and ">230<" in html and ">1,235<" in html
    assert ">suppressed<" in html and ">12.35<" in html
    assert html.index("5-11") < html.index("45-54") < html.index("All")
