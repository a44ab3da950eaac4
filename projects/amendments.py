"""What an amendment changes, field by field, and whether it widens the project.

    amendment = diff(previous.spec, new.spec, operator_policy)
    amendment.kind            # widening, narrowing or descriptive
    amendment.changes         # each field changed, with its value before and after
    amendment.needs_approval(requested_datasets)   # whose controllers must approve again

A change **widens** the project when it lets more people, more data, more time or more uses in:
people added to the team (or a member given another role), data items or datasets added, a date
item asked to the day, an item's justification rewritten, the start moved earlier or the end,
the retention or the data period later, the purpose, public benefit, category, legal basis or
gateways changed in any way (a clarification that keeps the meaning cannot be told from one that
does not), intended outputs added, onward sharing or commercial use allowed, a disclosure setting
made looser. A field no rule here knows is treated as widening. The opposite changes **narrow**
it; a new title or lay summary, or an output's description, is **descriptive**.

Whose approval a widening needs: a dataset-specific change (its items, their precision or
justification, the dataset added) needs that dataset's controller only; every other widening
(people, dates, purpose, legal basis, uses, outputs, disclosure) touches all the project's data,
so it needs the controllers of every dataset the new version requests.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from enum import StrEnum
from typing import Any

from sdc.errors import SdcError
from sdc.policy import Policy


class AmendmentKind(StrEnum):
    WIDENING = "widening"  # goes back to the controllers concerned; the project waits
    NARROWING = "narrowing"  # takes effect at once
    DESCRIPTIVE = "descriptive"  # only the words the public reads; takes effect at once


@dataclass(frozen=True)
class Change:
    """One field of the project changed: its value BEFORE and AFTER (None: absent). DATASET
    names the one dataset a dataset-specific change concerns (None: the whole project)."""

    field: str
    before: Any
    after: Any
    widens: bool
    narrows: bool = False
    dataset: str | None = None

    @property
    def direction(self) -> str:
        return "widens" if self.widens else "narrows" if self.narrows else "describes"

    def as_dict(self) -> dict[str, Any]:
        return {
            "field": self.field,
            "before": self.before,
            "after": self.after,
            "direction": self.direction,
            **({"dataset": self.dataset} if self.dataset else {}),
        }


@dataclass(frozen=True)
class Amendment:
    changes: tuple[Change, ...]

    @property
    def kind(self) -> AmendmentKind:
        if any(c.widens for c in self.changes):
            return AmendmentKind.WIDENING
        if any(c.narrows for c in self.changes):
            return AmendmentKind.NARROWING
        return AmendmentKind.DESCRIPTIVE

    @property
    def widened(self) -> list[str]:
        return [c.field for c in self.changes if c.widens]

    def needs_approval(self, requested: Iterable[str]) -> list[str]:
        """The datasets (of REQUESTED, the new version's) whose controllers must approve the new
        version again: all of them for a project-wide widening, else those it touches."""
        requested = sorted(set(requested))
        widening = [c for c in self.changes if c.widens]
        if any(c.dataset is None for c in widening):
            return requested
        touched = {c.dataset for c in widening}
        return [d for d in requested if d in touched]

    def details(self, requested: Iterable[str]) -> dict[str, Any]:
        """The amendment as the audit event records it."""
        return {
            "kind": self.kind.value,
            "widened": self.widened,
            "needs_approval": self.needs_approval(requested) if self.widened else [],
            "changes": [c.as_dict() for c in self.changes],
        }


def diff(before: dict[str, Any], after: dict[str, Any], operator_policy: Policy) -> Amendment:
    """The changes from BEFORE to AFTER (two versions' specs, as stored: JSON, ISO dates),
    sorted by field. OPERATOR_POLICY is the base the disclosure settings make stricter."""
    changes: list[Change] = []
    if _members(before) != _members(after):  # the lead is a member of the team too
        changes.append(_sets("team", _members(before), _members(after)))
    for name in sorted((set(before) | set(after)) - {"id", "lead", "team"}):
        old, new = before.get(name), after.get(name)
        if old == new:
            continue
        if name == "disclosure":
            changes.append(_disclosure(old or {}, new or {}, operator_policy))
        else:
            changes.extend(_RULES.get(name, _any_change)(name, old, new))
    return Amendment(tuple(sorted(changes, key=lambda c: c.field)))


# ---------------------------------------------------------------------------------------------
# the rules, one per field of the registration file


def _any_change(name: str, old: Any, new: Any) -> list[Change]:
    return [Change(name, old, new, widens=True)]


def _descriptive(name: str, old: Any, new: Any) -> list[Change]:
    return [Change(name, old, new, widens=False)]


def _earlier_widens(name: str, old: str, new: str) -> list[Change]:
    return [Change(name, old, new, widens=new < old, narrows=new > old)]


def _later_widens(name: str, old: str, new: str) -> list[Change]:
    return [Change(name, old, new, widens=new > old, narrows=new < old)]


def _allowed_widens(name: str, old: bool, new: bool) -> list[Change]:
    return [Change(name, old, new, widens=bool(new) and not old, narrows=bool(old) and not new)]


def _sets(name: str, old: set[str], new: set[str], dataset: str | None = None) -> Change:
    return Change(
        name,
        sorted(old) if old else None,
        sorted(new) if new else None,
        widens=bool(new - old),
        narrows=bool(old - new),
        dataset=dataset,
    )


def _members(spec: dict[str, Any]) -> set[str]:
    lead = {f"{spec['lead']} (lead)"} if spec.get("lead") else set()
    return lead | {f"{m['person']} ({m['role']})" for m in spec.get("team") or []}


def _period(name: str, old: dict, new: dict) -> list[Change]:
    widens = new["start"] < old["start"] or new["end"] > old["end"]
    narrows = new["start"] > old["start"] or new["end"] < old["end"]
    return [Change(name, old, new, widens=widens, narrows=narrows)]


def _outputs(name: str, old: list[dict], new: list[dict]) -> list[Change]:
    def kinds(outputs: list[dict]) -> set[str]:
        return {f"{o['name']} ({o['kind']})" for o in outputs or []}

    if kinds(old) != kinds(new):
        return [_sets(name, kinds(old), kinds(new))]

    def described(outputs: list[dict]) -> list[str]:
        return [f"{o['name']}: {o.get('description', '')}" for o in outputs or []]

    return [Change(name, described(old), described(new), widens=False)]


def _legal_basis(name: str, old: dict, new: dict) -> list[Change]:
    return [
        Change(f"{name}.{key}", old.get(key), new.get(key), widens=True)
        for key in sorted(set(old) | set(new))
        if old.get(key) != new.get(key)
    ]


_PRECISION = {None: 0, "month": 0, "day": 1}  # extracts give the month unless asked


def _data(name: str, old: list[dict], new: list[dict]) -> list[Change]:
    def by_dataset(data: list[dict]) -> dict[str, dict[str, dict]]:
        return {d["dataset"]: {i["item"]: i for i in d["items"]} for d in data or []}

    before, after = by_dataset(old), by_dataset(new)
    changes = []
    for dataset in sorted(set(before) | set(after)):
        old_items, new_items = before.get(dataset, {}), after.get(dataset, {})
        if set(old_items) != set(new_items):
            changes.append(_sets(f"{name}.{dataset}", set(old_items), set(new_items), dataset))
        for item in sorted(set(old_items) & set(new_items)):
            was, now = old_items[item], new_items[item]
            where = f"{name}.{dataset}.{item}"
            if was.get("precision") != now.get("precision"):
                rank_was = _PRECISION.get(was.get("precision"), 2)
                rank_now = _PRECISION.get(now.get("precision"), 2)
                changes.append(
                    Change(
                        f"{where}.precision",
                        was.get("precision"),
                        now.get("precision"),
                        widens=rank_now > rank_was,
                        narrows=rank_now < rank_was,
                        dataset=dataset,
                    )
                )
            if was.get("justification") != now.get("justification"):
                changes.append(
                    Change(
                        f"{where}.justification",
                        was.get("justification"),
                        now.get("justification"),
                        widens=True,
                        dataset=dataset,
                    )
                )
            for key in sorted((set(was) | set(now)) - {"item", "precision", "justification"}):
                if was.get(key) != now.get(key):
                    changes.append(
                        Change(f"{where}.{key}", was.get(key), now.get(key), True, dataset=dataset)
                    )
    return changes


def _disclosure(old: dict, new: dict, operator_policy: Policy) -> Change:
    try:
        was, now = replace(operator_policy, **old), replace(operator_policy, **new)
    except (SdcError, TypeError):  # a setting the policy no longer knows: assume the worst
        return Change("disclosure", old, new, widens=True)
    return Change(
        "disclosure",
        old,
        new,
        widens=bool(was.looser_settings(now)),
        narrows=bool(now.looser_settings(was)),
    )


# every field of the registration file but id, lead, team and disclosure (see diff); a field
# with no rule is treated as widening
_RULES: dict[str, Callable[[str, Any, Any], list[Change]]] = {
    "title": _descriptive,
    "lay_summary": _descriptive,
    "purpose": _any_change,
    "category": _any_change,
    "public_benefit": _any_change,
    "legal_basis": _legal_basis,
    "data": _data,
    "data_period": _period,
    "intended_outputs": _outputs,
    "start": _earlier_widens,
    "end": _later_widens,
    "retention_until": _later_widens,
    "onward_sharing": _allowed_widens,
    "commercial_use": _allowed_widens,
}
