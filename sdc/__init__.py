"""sdc: tre-kit's disclosure-control library. Pure functions over pandas; no database, no I/O.

Microdata risk (sdcMicro semantics): freq_counts, individual_risk, global_risk, household_risk,
kanon_violations, ldiversity, suda2, risky_cells.
Anonymisation (each returns a Result with .data and .record): global_recode, group_categories,
top_bottom_code, local_suppression, threshold_suppression, pram, microaggregation, add_noise,
rank_swap; utility measures in sdc.utility; Session to work step by step with undo and a report.
Tables (sdcTable semantics) in sdc.tables; safe outputs for analysts in sdc.safe; every threshold
in sdc.Policy.
"""

from sdc import safe, tables, utility
from sdc._result import Result
from sdc.errors import SdcError
from sdc.perturb import add_noise, microaggregation, pram, rank_swap
from sdc.policy import Policy
from sdc.recode import global_recode, group_categories, top_bottom_code
from sdc.risk import (
    GlobalRisk,
    freq_counts,
    global_risk,
    household_risk,
    individual_risk,
    kanon_violations,
    ldiversity,
    risky_cells,
)
from sdc.session import Session
from sdc.suda import suda2
from sdc.suppress import local_suppression, threshold_suppression

__all__ = [
    "GlobalRisk",
    "Policy",
    "Result",
    "SdcError",
    "Session",
    "add_noise",
    "freq_counts",
    "global_recode",
    "global_risk",
    "group_categories",
    "household_risk",
    "individual_risk",
    "kanon_violations",
    "ldiversity",
    "local_suppression",
    "microaggregation",
    "pram",
    "rank_swap",
    "risky_cells",
    "safe",
    "suda2",
    "tables",
    "threshold_suppression",
    "top_bottom_code",
    "utility",
]
