"""sdc: tre-kit's disclosure-control library. Pure functions over pandas; no database, no I/O.

Microdata risk (sdcMicro semantics): freq_counts, individual_risk, global_risk, household_risk,
kanon_violations, ldiversity, suda2, risky_cells.
Anonymisation (each returns a Result with .data and .record): global_recode, group_categories,
top_bottom_code, local_suppression, threshold_suppression, pram, microaggregation, add_noise,
rank_swap; utility measures in sdc.utility; Session to work step by step with undo and a report.
Tables (sdcTable semantics) in sdc.tables; safe outputs for analysts in sdc.safe; every threshold
in sdc.Policy.
"""

import importlib
from typing import Any

from sdc.errors import SdcError
from sdc.policy import Policy

# names are loaded on first use, so that `import sdc.errors` or the CLI stays light
_WHERE = {
    "Result": "sdc._result",
    "Session": "sdc.session",
    "GlobalRisk": "sdc.risk",
    "freq_counts": "sdc.risk",
    "global_risk": "sdc.risk",
    "household_risk": "sdc.risk",
    "individual_risk": "sdc.risk",
    "kanon_violations": "sdc.risk",
    "ldiversity": "sdc.risk",
    "risky_cells": "sdc.risk",
    "suda2": "sdc.suda",
    "global_recode": "sdc.recode",
    "group_categories": "sdc.recode",
    "top_bottom_code": "sdc.recode",
    "local_suppression": "sdc.suppress",
    "threshold_suppression": "sdc.suppress",
    "add_noise": "sdc.perturb",
    "microaggregation": "sdc.perturb",
    "pram": "sdc.perturb",
    "rank_swap": "sdc.perturb",
}
_MODULES = ("safe", "tables", "utility", "perturb", "risk", "recode", "suppress", "session")


def __getattr__(name: str) -> Any:
    if name in _WHERE:
        return getattr(importlib.import_module(_WHERE[name]), name)
    if name in _MODULES:
        return importlib.import_module(f"sdc.{name}")
    raise AttributeError(f"module 'sdc' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(__all__)


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
