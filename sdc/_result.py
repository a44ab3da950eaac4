"""What an anonymisation method returns: the new data and a record of what it did."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pandas as pd


@dataclass
class Result:
    """``data``: the anonymised copy (the input is never changed); ``record``: the method, its
    parameters and seed, and counts of what changed, JSON-able for reports and audit."""

    data: pd.DataFrame
    record: dict[str, Any]
    suppressed: int = 0
    extras: dict[str, Any] = field(default_factory=dict)

    def __getattr__(self, name: str) -> Any:
        extras = self.__dict__.get("extras", {})
        if name in extras:
            return extras[name]
        raise AttributeError(name)
