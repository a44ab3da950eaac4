"""Purpose quality: the flags a registration raises when it reads like a fishing expedition.

    flags(session, spec, settings.registration) -> [Flag("open_ended_purpose", "purpose", "...")]

A flag is a warning in plain words, with the field it is about. The lead sees the flags when a
project is saved, the data controllers beside their decision, and the CLI prints them; those
the operator lists in tre.toml (``[registration] block_submission``) stop the submission until
the lead mends them (:func:`check_submittable`). The checks read the registration as it is
stored (a project version's spec), so that every page shows the same flags.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy.orm import Session

from projects.errors import RegistryError
from projects.models import Dataset
from tre.settings import RegistrationSettings


@dataclass(frozen=True)
class Flag:
    kind: str  # one of tre.settings.QUALITY_FLAGS
    field: str  # the registration's field it is about (dotted, as the validation names them)
    message: str


# a purpose that leaves its questions open: what it will find is not said
OPEN_ENDED = re.compile(
    r"\b(?:explor\w*|fishing|data[- ]mining|trawl\w*|see what\b|whatever\b|"
    r"any (?:interesting|useful|other|possible)\b|interesting (?:patterns|findings|insights)|"
    r"(?:find|discover|identify|look for) (?:any )?(?:patterns|insights|trends|correlations)\b|"
    r"decide (?:the|our|on the)? ?(?:questions|analys[ie]s|research questions) "
    r"(?:later|afterwards)|"
    r"questions (?:will be|to be) (?:decided|agreed|defined) later|"
    r"(?:all|every\w*) (?:of )?(?:the )?(?:linked |available )?data\b|"
    r"general (?:research|analysis|purposes))",
    re.IGNORECASE,
)
# a justification that says nothing about why the purpose needs the item
GENERIC = re.compile(
    r"^\W*(?:it )?(?:might|may|could|would|will)(?: also)? be (?:useful|helpful|interesting|"
    r"relevant|needed)\b|^\W*(?:useful|helpful|interesting|relevant|needed|required|necessary|"
    r"for analysis|for the analysis|for research|for completeness|just in case|in case|"
    r"nice to have|see purpose|as above|tbc|tbd|n/?a)\W*$|\bjust in case\b|\bnice to have\b|"
    r"\bfor completeness\b",
    re.IGNORECASE,
)
# output names that do not say what will be produced
UNNAMED_OUTPUTS = re.compile(
    r"^\W*(?:results?|outputs?|tables?|figures?|charts?|analys[ie]s|findings|report|"
    r"various|tbc|tbd|to be (?:decided|confirmed)|as needed|n/?a)\W*$",
    re.IGNORECASE,
)
# the fewest items a justification covers within one dataset before it is "copied"
REPEATED_WITHIN_A_DATASET = 3
# a dataset smaller than this may be asked for whole without a flag
WHOLE_DATASET_MINIMUM = 4


def flags(session: Session, spec: dict[str, Any], settings: RegistrationSettings) -> list[Flag]:
    """Every flag SPEC (a registration as stored, ``ProjectSpec.model_dump(mode="json")``)
    raises, in the order of its fields."""
    found: list[Flag] = []
    purpose = " ".join(str(spec.get("purpose", "")).split())
    open_ended = sorted({m.group(0).lower() for m in OPEN_ENDED.finditer(purpose)})
    if open_ended:
        found.append(
            Flag(
                "open_ended_purpose",
                "purpose",
                "the purpose is open-ended (" + ", ".join(f"“{w}”" for w in open_ended) + "): "
                "say which questions the data will answer; access is granted for a stated "
                "purpose, not to explore",
            )
        )
    for i, requested in enumerate(spec.get("data", [])):
        found.extend(_item_flags(session, i, requested))
    found.extend(_repeated(spec.get("data", [])))
    outputs = spec.get("intended_outputs", [])
    vague = [o["name"] for o in outputs if UNNAMED_OUTPUTS.match(o.get("name", ""))]
    if not outputs or vague:
        found.append(
            Flag(
                "outputs_not_named",
                "intended_outputs",
                "the intended outputs are not named"
                + (f" ({', '.join(f'“{v}”' for v in vague)})" if vague else "")
                + ": name each table, figure or model the project will produce",
            )
        )
    found.extend(_period_flags(spec, settings))
    return found


def _item_flags(session: Session, i: int, requested: dict[str, Any]) -> list[Flag]:
    out = []
    dataset_id = requested.get("dataset", "")
    items = requested.get("items", [])
    generic = [
        it["item"] for it in items if GENERIC.search(" ".join(it.get("justification", "").split()))
    ]
    if generic:
        out.append(
            Flag(
                "justification_generic",
                f"data.{i}.items",
                f"{dataset_id}: the justification of {_listed(generic)} does not say why the "
                "purpose needs the item (“might be useful” is not a reason): say what each "
                "item is used for",
            )
        )
    found = session.get(Dataset, dataset_id)
    if found is not None:
        requestable = {d.name for d in found.items if d.classification != "direct_identifier"}
        asked = {it["item"] for it in items}
        if len(requestable) >= WHOLE_DATASET_MINIMUM and requestable <= asked:
            out.append(
                Flag(
                    "every_item_requested",
                    f"data.{i}",
                    f"{dataset_id}: every one of its {len(requestable)} items is asked for: "
                    "ask only for the items the purpose needs",
                )
            )
    return out


def _repeated(data: list[dict[str, Any]]) -> list[Flag]:
    """One justification copied over many items: over REPEATED_WITHIN_A_DATASET items of one
    dataset, or over a third or more of the items of the whole registration (a few items of
    different datasets that are the same thing, such as each agency's date of contact, may
    share one)."""
    by_text: dict[str, list[tuple[str, str]]] = defaultdict(list)
    for requested in data:
        for it in requested.get("items", []):
            text = " ".join(it.get("justification", "").lower().split())
            by_text[text].append((requested.get("dataset", ""), it["item"]))
    total = sum(len(names) for names in by_text.values())
    out = []
    for text, names in by_text.items():
        per_dataset = max(sum(1 for d, _ in names if d == one) for one, _ in names)
        if len(names) >= REPEATED_WITHIN_A_DATASET and (
            per_dataset >= REPEATED_WITHIN_A_DATASET or 3 * len(names) >= total
        ):
            out.append(
                Flag(
                    "justification_repeated",
                    "data",
                    f"{len(names)} items share one justification (“{text}”): "
                    f"{_listed([f'{d}.{n}' for d, n in names])}; justify each item for what the "
                    "purpose uses it for",
                )
            )
    return out


def _listed(names: list[str], shown: int = 6) -> str:
    if len(names) <= shown:
        return ", ".join(names)
    return f"{', '.join(names[:shown])} and {len(names) - shown} more"


def _years(start: str | date, end: str | date) -> float:
    return (date.fromisoformat(str(end)) - date.fromisoformat(str(start))).days / 365.25


def _period_flags(spec: dict[str, Any], settings: RegistrationSettings) -> list[Flag]:
    out: list[Flag] = []
    try:
        project = _years(spec["start"], spec["end"])
        period = _years(spec["data_period"]["start"], spec["data_period"]["end"])
        retention = _years(spec["end"], spec["retention_until"])
    except (KeyError, TypeError, ValueError):  # an invalid registration: validation says why
        return out
    if project > settings.max_project_years:
        out.append(
            Flag(
                "period_out_of_line",
                "end",
                f"the project runs {project:.1f} years, longer than the "
                f"{settings.max_project_years:g} this environment expects: shorten it, or "
                "explain in the purpose why it needs so long",
            )
        )
    if period > settings.max_data_period_years:
        out.append(
            Flag(
                "period_out_of_line",
                "data_period",
                f"the data period covers {period:.1f} years, more than the "
                f"{settings.max_data_period_years:g} this environment expects: ask only for "
                "the years the purpose needs",
            )
        )
    if retention > settings.max_retention_years:
        out.append(
            Flag(
                "retention_out_of_line",
                "retention_until",
                f"outputs are kept {retention:.1f} years after the project ends, more than "
                f"the {settings.max_retention_years:g} this environment expects: shorten the "
                "retention",
            )
        )
    return out


def check_submittable(
    session: Session, project_id: str, spec: dict[str, Any], settings: RegistrationSettings
) -> list[Flag]:
    """The flags of SPEC; RegistryError (every blocking flag, in words) when the operator's
    settings say any of them stops the submission."""
    raised = flags(session, spec, settings)
    blocking = [f for f in raised if f.kind in settings.block_submission]
    if blocking:
        raise RegistryError(
            f"project {project_id} cannot be submitted until these are mended "
            "(the operator's [registration] settings; nothing was changed):\n  - "
            + "\n  - ".join(f"{f.field}: {f.message}" for f in blocking)
        )
    return raised
