"""Tables built from microdata with sdcTable-style protection.

``build`` computes the cells and their evidence; ``protect`` applies a Policy's primary rules,
secondary suppression and rounding; ``audit`` gives suppressed cells' feasible intervals;
``recheck`` re-runs a policy on stored evidence (what the airlock does).
"""

from sdc.tables.build import TOTAL, Table, build
from sdc.tables.linked import protect_linked
from sdc.tables.protect import Protected, protect, recheck
from sdc.tables.rounding import redact_then_round, round_to_base
from sdc.tables.rules import primary
from sdc.tables.secondary import relations


def audit(protected: Protected) -> dict:
    """Each suppressed cell's feasible interval {cell position: (low, high)}."""
    return protected.intervals


__all__ = [
    "TOTAL",
    "Protected",
    "Table",
    "audit",
    "build",
    "primary",
    "protect",
    "protect_linked",
    "recheck",
    "redact_then_round",
    "relations",
    "round_to_base",
]
