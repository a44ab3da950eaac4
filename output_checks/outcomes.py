"""What an automatic check says about a file: its outcome and its sentence.

Kept apart from :mod:`output_checks.checks` so that the modules of rules it calls
(:mod:`output_checks.rules`, :mod:`output_checks.microdata`) can make checks without importing
the module that calls them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from output_checks.enums import CheckOutcome  # defined with the airlock's other vocabularies

__all__ = ["Check", "CheckOutcome"]


@dataclass
class Check:
    name: str
    outcome: CheckOutcome
    explanation: str
    evidence: dict[str, Any] = field(default_factory=dict)
