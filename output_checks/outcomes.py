"""What an automatic check says about a file: its outcome and its sentence.

Kept apart from :mod:`output_checks.checks` so that the modules of rules it calls
(:mod:`output_checks.rules`, :mod:`output_checks.microdata`) can make checks without importing
the module that calls them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


class CheckOutcome(StrEnum):
    """What one automatic check says about a file (stored in request_files and its checks)."""

    PASS = "pass"
    FAIL = "fail"
    REVIEW = "review"


@dataclass
class Check:
    name: str
    outcome: CheckOutcome
    explanation: str
    evidence: dict[str, Any] = field(default_factory=dict)
