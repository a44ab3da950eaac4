"""A fictional town ("Treton") of N people in households and LSOAs, and what its agencies send.

Everything is vectorised with numpy and written with pyarrow, so a million people take seconds.
A latent household *need* (heavier in deprived LSOAs) drives every agency's contact rates, so the
same families turn up across services, as they do in life. A few families are planted to meet the
supporting-families criteria for certain. Each agency writes its own format and field names, with
the identifier quality it would really have; the ground truth is written apart, under ``truth/``,
for linkage evaluation only.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from app.demo.data import corrupt
from app.demo.data.names import (
    FEMALE,
    MALE,
    SURNAME_ENDS,
    SURNAME_STARTS,
    SURNAMES,
)
from linkage import nhs
from tre.hashing import file_sha256

GENERATOR_VERSION = "1"
TOWN = "Treton"
PERIOD_START = np.datetime64("2025-04-01")
PERIOD_END = np.datetime64("2026-03-31")  # also the reference date for ages
PERIOD_DAYS = int((PERIOD_END - PERIOD_START).astype(int)) + 1
AREAS = ("TK", "TX", "TZ")  # postcode areas not used in the UK
UNITS = tuple(a + b for a in "ABDEFGHJLN" for b in "PQRSTUWXYZ")  # 100 two-letter units
STREET_KINDS = ("Road", "Street", "Close", "Avenue", "Lane", "Way", "Crescent", "Drive", "Grove")


@dataclass
class Quality:
    """How good an agency's identifiers are: the share of values affected."""

    typo: float = 0.02
    nickname: float = 0.0
    dob_missing: float = 0.01
    dob_swapped: float = 0.01
    postcode_missing: float = 0.02
    postcode_stale: float = 0.3  # after a move, the share of records still on the old address
    nhs_present: float = 0.0
    nhs_mistyped: float = 0.0
    duplicate_ids: float = 0.0  # people given a second local id (duplicate records)


QUALITY = {
    "ae_attendances": Quality(
        typo=0.03,
        nickname=0.04,
        dob_missing=0.005,
        dob_swapped=0.01,
        postcode_missing=0.03,
        nhs_present=0.95,
        nhs_mistyped=0.003,
    ),
    "police_incident_persons": Quality(
        typo=0.06,
        nickname=0.10,
        dob_missing=0.12,
        dob_swapped=0.03,
        postcode_missing=0.2,
        postcode_stale=0.5,
        duplicate_ids=0.05,
    ),
    "fire_home_safety_visits": Quality(
        typo=0.07, nickname=0.12, dob_missing=0.5, dob_swapped=0.02, postcode_missing=0.01
    ),
    "csc_referrals": Quality(
        typo=0.02,
        nickname=0.02,
        dob_missing=0.02,
        dob_swapped=0.01,
        postcode_missing=0.03,
        nhs_present=0.6,
        duplicate_ids=0.03,
    ),
    "asc_clients": Quality(
        typo=0.02,
        nickname=0.03,
        dob_missing=0.01,
        dob_swapped=0.01,
        postcode_missing=0.01,
        nhs_present=0.75,
        duplicate_ids=0.03,
    ),
    "school_pupils": Quality(
        typo=0.01, dob_missing=0.0, dob_swapped=0.005, postcode_missing=0.01, postcode_stale=0.4
    ),
}


@dataclass
class GeneratedTown:
    out: Path
    seed: int
    people: int
    households: int
    lsoas: int
    files: dict[str, dict] = field(default_factory=dict)
    planted_households: int = 0

    def summary(self) -> str:
        rows = sum(
            meta["rows"] for name, meta in self.files.items() if not name.startswith("truth")
        )
        return (
            f"{self.people:,} people in {self.households:,} households across {self.lsoas} LSOAs; "
            f"{len(self.files)} files, {rows:,} agency and lookup rows; "
            f"{self.planted_households} families planted to meet the supporting-families criteria"
        )


# ---------------------------------------------------------------------------------------------
# The town


@dataclass
class Town:
    rng: np.random.Generator
    n: int
    household: np.ndarray  # per person
    rank: np.ndarray  # 0 head, 1 partner or first child, ...
    adult: np.ndarray
    age: np.ndarray
    sex: np.ndarray  # "M" / "F"
    dob: np.ndarray  # datetime64[D]
    given: np.ndarray
    family: np.ndarray
    nhs: np.ndarray
    need: np.ndarray
    # per household
    lsoa: np.ndarray
    postcode: np.ndarray  # index into postcodes
    old_postcode: np.ndarray  # -1 when the household did not move in the period
    move_day: np.ndarray  # day in period of the move
    address: np.ndarray
    postcodes: np.ndarray  # strings
    lsoa_codes: np.ndarray
    lsoa_names: np.ndarray
    deprivation: np.ndarray
    planted: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))


def _zipf_choice(rng: np.random.Generator, options: np.ndarray, size: int, s: float = 0.9):
    weights = 1.0 / np.arange(1, len(options) + 1) ** s
    return options[rng.choice(len(options), size=size, p=weights / weights.sum())]


def _nhs_numbers(rng: np.random.Generator, size: int) -> np.ndarray:
    """Valid mod-11 NHS numbers starting with 9, a range not issued to patients in England."""
    bases = 900_000_000 + rng.choice(100_000_000, size=int(size * 1.12) + 64, replace=False)
    digits = (bases[:, None] // 10 ** np.arange(8, -1, -1)) % 10
    check = nhs.check_digits(digits)
    valid = check != nhs.NO_VALID_NUMBER
    numbers = bases[valid][:size] * 10 + check[valid][:size]
    if len(numbers) < size:  # pragma: no cover - 1.12x candidates always suffice
        raise RuntimeError("not enough NHS numbers drawn")
    return numbers.astype("U10")


def _surname_pool() -> np.ndarray:
    common = list(dict.fromkeys(SURNAMES))
    tail = [a + b for a in SURNAME_STARTS for b in SURNAME_ENDS]
    return np.array(common + tail, dtype=object)


def build_town(people: int, seed: int) -> Town:
    if people < 10:
        raise ValueError("the town needs at least 10 people")
    rng = np.random.default_rng(seed)
    sizes = rng.choice(
        np.arange(1, 7), p=[0.30, 0.34, 0.15, 0.13, 0.05, 0.03], size=int(people / 2.3) + 100
    )
    cum = np.cumsum(sizes)
    households = int(np.searchsorted(cum, people)) + 1
    sizes = sizes[:households].copy()
    sizes[-1] -= int(cum[households - 1] - people)
    household = np.repeat(np.arange(households), sizes)
    start = np.cumsum(sizes) - sizes
    rank = np.arange(people) - start[household]

    has_partner = (rng.random(households) < np.where(sizes == 2, 0.75, 0.7)) & (sizes >= 2)
    partner = (rank == 1) & has_partner[household]
    adult = (rank == 0) | partner
    # the head's age depends on the household: single people skew older, families younger
    head_age = np.where(
        sizes == 1,
        18 + (77 * rng.beta(1.4, 1.1, households)).astype(int),
        np.where(
            has_partner & (sizes == 2),
            20 + rng.integers(0, 70, households),
            20 + rng.integers(0, 36, households),
        ),
    )
    age = np.empty(people, dtype=np.int64)
    head = rank == 0
    age[head] = head_age[household[head]]
    age[partner] = np.clip(head_age[household[partner]] + rng.normal(0, 4, partner.sum()), 18, 99)
    child = ~adult
    max_child = np.clip(head_age[household[child]] - 16, 1, 18)
    age[child] = (rng.random(child.sum()) * max_child).astype(int)

    sex = np.where(rng.random(people) < 0.5, "M", "F").astype(object)
    head_sex = sex[start]
    opposite = np.where(head_sex[household[partner]] == "M", "F", "M")
    sex[partner] = np.where(
        rng.random(partner.sum()) < 0.92, opposite, head_sex[household[partner]]
    )
    days = age * 365 + age // 4 + rng.integers(0, 365, people)
    dob = PERIOD_END - days.astype("timedelta64[D]")

    given = np.empty(people, dtype=object)
    male = sex == "M"
    given[male] = _zipf_choice(rng, np.array(MALE, dtype=object), int(male.sum()), 0.7)
    given[~male] = _zipf_choice(rng, np.array(FEMALE, dtype=object), int((~male).sum()), 0.7)

    # parents do not give two of their children the same name: redraw repeats in a household
    for _ in range(20):
        repeated = pd.DataFrame({"h": household, "g": given}).duplicated(["h", "g"]).to_numpy()
        if not repeated.any():
            break
        male_again = repeated & male
        given[male_again] = _zipf_choice(
            rng, np.array(MALE, dtype=object), int(male_again.sum()), 0.7
        )
        female_again = repeated & ~male
        given[female_again] = _zipf_choice(
            rng, np.array(FEMALE, dtype=object), int(female_again.sum()), 0.7
        )

    pool = _surname_pool()
    household_surname = _zipf_choice(rng, pool, households, 0.75)
    family = household_surname[household].copy()
    own = partner & (rng.random(people) < 0.25)
    family[own] = _zipf_choice(rng, pool, int(own.sum()), 0.75)
    # some children carry the other parent's surname
    partner_name = np.full(households, None, dtype=object)
    partner_name[household[partner]] = family[partner]
    other = child & (rng.random(people) < 0.15)
    alternative = partner_name[household[other]]
    family[other] = np.where(alternative == None, family[other], alternative)  # noqa: E711

    # places: LSOAs of about 1,500 people in blocks of households, postcodes of about 15 households
    lsoas = max(1, round(people / 1500))
    cuts = np.sort(rng.random(lsoas - 1)) * households
    lsoa = np.searchsorted(cuts, np.arange(households), side="right")
    lsoa_start = np.searchsorted(lsoa, np.arange(lsoas))
    local = np.arange(households) - lsoa_start[lsoa]
    per_lsoa = np.bincount(lsoa, minlength=lsoas)
    postcodes_per_lsoa = np.maximum(1, -(-per_lsoa // 15))
    offsets = np.cumsum(postcodes_per_lsoa) - postcodes_per_lsoa
    postcode = offsets[lsoa] + local // 15
    n_postcodes = int(postcodes_per_lsoa.sum())
    idx = np.arange(n_postcodes)
    district = idx // 400
    area = np.array(AREAS, dtype=object)[np.minimum(district // 99, len(AREAS) - 1)]
    postcodes = (
        area
        + (district % 99 + 1).astype(str).astype(object)
        + " "
        + ((idx % 400) // 100 + 1).astype(str).astype(object)
        + np.array(UNITS, dtype=object)[(idx * 37) % 100]
    )
    lsoa_codes = np.array([f"E01{900001 + i:06d}" for i in range(lsoas)], dtype=object)
    lsoa_names = np.array(
        [f"{TOWN} {i // 4 + 1:03d}{'ABCD'[i % 4]}" for i in range(lsoas)], dtype=object
    )
    deprivation = rng.lognormal(0, 0.55, lsoas)
    deprivation /= deprivation.mean()

    streets_per_lsoa = 8
    street_names = np.array(
        [f"{a}{b} {k}" for a in SURNAME_STARTS for b in SURNAME_ENDS[:6] for k in STREET_KINDS[:1]]
        + [f"{a} {k}" for a in SURNAMES[:120] for k in STREET_KINDS[1:]],
        dtype=object,
    )
    street = street_names[(lsoa * streets_per_lsoa + local % streets_per_lsoa) % len(street_names)]
    number = (local // streets_per_lsoa + 1).astype(str).astype(object)
    address = number + " " + street

    moved = rng.random(households) < 0.08
    old_postcode = np.where(moved, rng.integers(0, n_postcodes, households), -1)
    move_day = rng.integers(0, PERIOD_DAYS, households)

    household_need = rng.gamma(0.6, deprivation[lsoa] / 0.6)
    need = household_need[household] * rng.gamma(3.0, 1 / 3.0, people)

    return Town(
        rng=rng,
        n=people,
        household=household,
        rank=rank,
        adult=adult,
        age=age,
        sex=sex,
        dob=dob,
        given=given,
        family=family,
        nhs=_nhs_numbers(rng, people),
        need=need,
        lsoa=lsoa,
        postcode=postcode,
        old_postcode=old_postcode,
        move_day=move_day,
        address=address,
        postcodes=postcodes,
        lsoa_codes=lsoa_codes,
        lsoa_names=lsoa_names,
        deprivation=deprivation,
    )


def plant_families(town: Town) -> np.ndarray:
    """Households with a school-age child and an adult that will meet 2+ criteria for certain."""
    child_school = (town.age >= 5) & (town.age <= 15)
    households = np.unique(town.household[child_school])
    two_adults = np.bincount(town.household[town.adult], minlength=len(town.lsoa)) >= 2
    households = households[two_adults[households]]
    count = max(3, len(households) // 300)
    chosen = town.rng.choice(households, size=min(count, len(households)), replace=False)
    town.planted = np.sort(chosen)
    return town.planted


# ---------------------------------------------------------------------------------------------
# Events and identifiers


def _events(rng: np.random.Generator, rate: np.ndarray, eligible: np.ndarray):
    """People index and day-in-period for each event of a Poisson process with these rates."""
    who = np.flatnonzero(eligible)
    counts = rng.poisson(rate[who])
    person = np.repeat(who, counts)
    day = rng.integers(0, PERIOD_DAYS, len(person))
    return person, day


def _with(person: np.ndarray, day: np.ndarray, extra_person: np.ndarray, rng: np.random.Generator):
    extra_day = rng.integers(0, PERIOD_DAYS // 2, len(extra_person))
    return np.concatenate([person, extra_person]), np.concatenate([day, extra_day])


def _dates(day: np.ndarray) -> np.ndarray:
    return PERIOD_START + day.astype("timedelta64[D]")


def _fmt(dates: np.ndarray, pattern: str) -> pa.Array:
    """Format datetime64 values with strftime; missing dates become empty fields."""
    array = pa.array(dates.astype("datetime64[s]"), type=pa.timestamp("s"))
    return pc.strftime(array, format=pattern)


def _text(values: np.ndarray) -> pa.Array:
    return pa.array(values.astype(object), type=pa.string())


def _ids(prefix: str, numbers: np.ndarray, width: int = 7) -> np.ndarray:
    if not len(numbers):
        return np.array([], dtype=object)
    return np.char.add(prefix, np.char.zfill(numbers.astype(str), width)).astype(object)


@dataclass
class Identifiers:
    given: np.ndarray
    family: np.ndarray
    dob: np.ndarray
    sex: np.ndarray
    postcode: np.ndarray
    address: np.ndarray
    nhs: np.ndarray


def identifiers(
    town: Town, person: np.ndarray, day: np.ndarray, quality: Quality, rng: np.random.Generator
) -> Identifiers:
    """The identifiers an agency records for these people at these dates, with its quality."""
    household = town.household[person]
    moved = town.old_postcode[household] >= 0
    before = day < town.move_day[household]
    stale = moved & (before | (rng.random(len(person)) < quality.postcode_stale))
    postcode_index = np.where(stale, town.old_postcode[household], town.postcode[household])
    postcode = corrupt.blank(rng, town.postcodes[postcode_index], quality.postcode_missing)
    address = np.where(stale, np.array(None), town.address[household]).astype(object)
    given = corrupt.nicknames(rng, town.given[person], quality.nickname)
    given = corrupt.typos(rng, given, quality.typo)
    family = corrupt.typos(rng, town.family[person], quality.typo)
    dob = corrupt.swap_day_month(rng, town.dob[person], quality.dob_swapped)
    dob = corrupt.blank(rng, dob, quality.dob_missing)
    nhs = np.where(rng.random(len(person)) < quality.nhs_present, town.nhs[person], np.array(None))
    nhs = corrupt.break_check_digit(rng, nhs, quality.nhs_mistyped)
    return Identifiers(given, family, dob, town.sex[person], postcode, address, nhs)


def local_ids(
    rng: np.random.Generator,
    person: np.ndarray,
    n: int,
    prefix: str,
    duplicate_rate: float,
    width: int = 7,
) -> np.ndarray:
    """An agency's own person reference; some people hold two (duplicate records)."""
    numbers = rng.permutation(n * 2)[:n] + 10 ** (width - 1)
    second = rng.permutation(n * 2)[n:] + 10 ** (width - 1)
    has_second = rng.random(n) < duplicate_rate
    use_second = has_second[person] & (rng.random(len(person)) < 0.5)
    chosen = np.where(use_second, second[person], numbers[person])
    return _ids(prefix, chosen, width)


# ---------------------------------------------------------------------------------------------
# The agencies


def _planted_people(town: Town, which: Callable[[np.ndarray], np.ndarray]) -> np.ndarray:
    members = np.flatnonzero(np.isin(town.household, town.planted))
    return members[which(members)]


def _one_per_household(town: Town, members: np.ndarray) -> np.ndarray:
    _, first = np.unique(town.household[members], return_index=True)
    return members[first]


def ae_attendances(town: Town, rng: np.random.Generator) -> dict[str, pa.Table]:
    age_factor = np.where(town.age < 5, 1.6, np.where(town.age > 75, 1.8, 1.0))
    person, day = _events(rng, 0.32 * age_factor * town.need**0.8, np.ones(town.n, bool))
    planted = _one_per_household(town, _planted_people(town, lambda m: town.adult[m]))
    person, day = _with(person, day, planted, rng)
    n = len(person)
    ids = identifiers(town, person, day, QUALITY["ae_attendances"], rng)
    record = _ids("AE", rng.permutation(n) + 1, 8)
    arrival = _dates(day).astype("datetime64[m]") + rng.integers(0, 1440, n).astype(
        "timedelta64[m]"
    )
    complaint = rng.choice(
        [
            "injury",
            "assault",
            "self-harm",
            "alcohol",
            "respiratory",
            "cardiac",
            "abdominal pain",
            "mental health",
            "other",
        ],
        size=n,
        p=[0.3, 0.04, 0.02, 0.04, 0.14, 0.08, 0.1, 0.04, 0.24],
    )
    complaint[len(person) - len(planted) :] = "assault"
    sex_code = np.where(ids.sex == "M", "1", "2").astype(object)
    sex_code[rng.random(n) < 0.005] = "9"
    table = pa.table(
        {
            "attendance_id": _text(record),
            "nhs_number": _text(ids.nhs),
            "forename": _text(ids.given),
            "surname": _text(ids.family),
            "date_of_birth": _fmt(ids.dob, "%Y-%m-%d"),
            "sex": _text(sex_code),
            "postcode": _text(ids.postcode),
            "arrival_datetime": _fmt(arrival, "%Y-%m-%dT%H:%M"),
            "arrival_mode": _text(np.where(rng.random(n) < 0.22, "ambulance", "walk-in")),
            "chief_complaint": _text(complaint),
            "disposal": _text(
                rng.choice(
                    ["discharged", "admitted", "referred", "left"],
                    size=n,
                    p=[0.62, 0.25, 0.1, 0.03],
                )
            ),
        }
    )
    return {"ae_attendances": (table, record, person)}


def police_incidents(town: Town, rng: np.random.Generator) -> dict:
    eligible = town.age >= 10
    youth = np.where((town.age >= 14) & (town.age <= 30), 1.8, 1.0)
    person, day = _events(rng, 0.07 * youth * town.need**1.2, eligible)
    kinds = rng.choice(
        [
            "anti-social behaviour",
            "violence",
            "theft",
            "burglary",
            "criminal damage",
            "public order",
            "missing person",
            "concern for welfare",
        ],
        size=len(person),
        p=[0.32, 0.18, 0.14, 0.06, 0.1, 0.08, 0.04, 0.08],
    )
    roles = rng.choice(
        ["victim", "suspect", "witness", "reporting person"],
        size=len(person),
        p=[0.4, 0.3, 0.15, 0.15],
    )
    incident = np.arange(len(person))
    # domestic abuse: a victim and a suspect from the same household, one incident between them
    adults = np.flatnonzero(town.adult)
    couples = np.flatnonzero(np.bincount(town.household[adults], minlength=len(town.lsoa)) >= 2)
    heads = np.searchsorted(town.household, couples)
    head_rate = 0.012 * town.need[heads] ** 1.3
    da_counts = rng.poisson(head_rate)
    da_counts[np.isin(couples, town.planted)] += 1
    da_head = np.repeat(heads, da_counts)
    da_partner = da_head + 1
    da_day = rng.integers(0, PERIOD_DAYS, len(da_head))
    victim_is_head = rng.random(len(da_head)) < 0.3
    da_victim = np.where(victim_is_head, da_head, da_partner)
    da_suspect = np.where(victim_is_head, da_partner, da_head)
    da_incident = len(person) + np.arange(len(da_head))
    person = np.concatenate([person, da_victim, da_suspect])
    day = np.concatenate([day, da_day, da_day])
    incident = np.concatenate([incident, da_incident, da_incident])
    kinds = np.concatenate([kinds, np.full(2 * len(da_head), "domestic abuse", dtype=object)])
    roles = np.concatenate(
        [
            roles,
            np.full(len(da_head), "victim", dtype=object),
            np.full(len(da_head), "suspect", dtype=object),
        ]
    )
    n = len(person)
    ids = identifiers(town, person, day, QUALITY["police_incident_persons"], rng)
    incident_refs = np.char.add(
        np.where(day < 275, "INC-2025-", "INC-2026-").astype(str),
        np.char.zfill((rng.permutation(incident.max() + 1)[incident] + 1).astype(str), 7),
    ).astype(object)
    nominal = local_ids(rng, person, town.n, "N", QUALITY["police_incident_persons"].duplicate_ids)
    record = _ids("PIP", rng.permutation(n) + 1, 8)
    occurred = _dates(day).astype("datetime64[m]") + rng.integers(0, 1440, n).astype(
        "timedelta64[m]"
    )
    surname = np.array([s.upper() if isinstance(s, str) else s for s in ids.family], dtype=object)
    name = surname.astype(str).astype(object) + ", " + ids.given.astype(str).astype(object)
    sex = ids.sex.copy()
    sex[rng.random(n) < 0.02] = "U"
    table = pa.table(
        {
            "involvement_ref": _text(record),
            "incident_ref": _text(incident_refs),
            "occurred_at": _fmt(occurred, "%d/%m/%Y %H:%M"),
            "incident_type": _text(kinds),
            "domestic_abuse_flag": _text(np.where(kinds == "domestic abuse", "Y", "N")),
            "role": _text(roles),
            "nominal_id": _text(nominal),
            "person_name": _text(name),
            "birth_date": _fmt(ids.dob, "%d/%m/%Y"),
            "gender": _text(sex),
            "home_postcode": _text(ids.postcode),
            "incident_lsoa": _text(town.lsoa_codes[town.lsoa[town.household[person]]]),
        }
    )
    return {"police_incident_persons": (table, record, person)}


def fire_data(town: Town, rng: np.random.Generator) -> dict:
    households = len(town.lsoa)
    heads = np.searchsorted(town.household, np.arange(households))
    head_need = town.need[heads]
    older = town.age[heads] >= 65
    visit_rate = np.clip(0.02 + 0.04 * older + 0.03 * (head_need > 2), 0, 1)
    visited = rng.random(households) < visit_rate
    visit_household = np.flatnonzero(visited)
    visit_day = rng.integers(0, PERIOD_DAYS // 2, len(visit_household))
    occupier = heads[visit_household]
    n = len(occupier)
    ids = identifiers(town, occupier, visit_day, QUALITY["fire_home_safety_visits"], rng)
    visit_ref = _ids("HFSV", rng.permutation(n) + 1, 6)
    visit_table = pa.table(
        {
            "visit_ref": _text(visit_ref),
            "visit_date": _fmt(_dates(visit_day), "%d-%m-%Y"),
            "occupier_name": _text(
                ids.given.astype(str).astype(object) + " " + ids.family.astype(str).astype(object)
            ),
            "occupier_dob": _fmt(ids.dob, "%d-%m-%Y"),
            "address_line_1": _text(town.address[visit_household]),
            "postcode": _text(ids.postcode),
            "risk_level": _text(
                np.where(
                    head_need[visit_household] > 2,
                    "high",
                    np.where(older[visit_household], "medium", "low"),
                )
            ),
            "smoke_alarms_fitted": pa.array(rng.integers(0, 4, n)),
            "referred_by": _text(
                rng.choice(
                    ["self", "adult social care", "partner agency", "crew"],
                    size=n,
                    p=[0.3, 0.3, 0.2, 0.2],
                )
            ),
        }
    )
    # incidents at addresses: dwelling fires less likely after a visit
    fire_rate = 0.004 * (1 + head_need) * np.where(visited, 0.55, 1.0)
    other_rate = 0.006 * (1 + 0.5 * head_need)
    fires = rng.poisson(fire_rate)
    other = rng.poisson(other_rate)
    if fires.sum() + other.sum() == 0:  # a very small town: an agency's file is never empty
        other[rng.integers(households)] = 1
    at = np.concatenate(
        [np.repeat(np.arange(households), fires), np.repeat(np.arange(households), other)]
    )
    kind = np.concatenate(
        [
            np.full(fires.sum(), "dwelling fire", dtype=object),
            rng.choice(
                ["false alarm", "special service", "outdoor fire"],
                size=other.sum(),
                p=[0.6, 0.25, 0.15],
            ).astype(object),
        ]
    )
    day = rng.integers(0, PERIOD_DAYS, len(at))
    m = len(at)
    incident_table = pa.table(
        {
            "incident_number": _text(_ids("FRS", rng.permutation(m) + 1, 6)),
            "call_datetime": _fmt(
                _dates(day).astype("datetime64[m]")
                + rng.integers(0, 1440, m).astype("timedelta64[m]"),
                "%Y-%m-%d %H:%M",
            ),
            "incident_type": _text(kind),
            "address_line_1": _text(town.address[at]),
            "postcode": _text(corrupt.blank(rng, town.postcodes[town.postcode[at]], 0.02)),
            "lsoa_code": _text(town.lsoa_codes[town.lsoa[at]]),
            "casualties": pa.array(np.where(kind == "dwelling fire", rng.poisson(0.15, m), 0)),
        }
    )
    return {
        "fire_home_safety_visits": (visit_table, visit_ref, occupier),
        "fire_incidents": (incident_table, None, None),
    }


def childrens_social_care(town: Town, rng: np.random.Generator) -> dict:
    children = town.age < 18
    person, day = _events(rng, 0.035 * town.need**1.5, children)
    planted = _one_per_household(town, _planted_people(town, lambda m: town.age[m] < 18))
    person, day = _with(person, day, planted, rng)
    n = len(person)
    quality = QUALITY["csc_referrals"]
    ids = identifiers(town, person, day, quality, rng)
    child_id = local_ids(rng, person, town.n, "C", quality.duplicate_ids, 6)
    referral_id = _ids("REF", rng.permutation(n) + 1, 7)
    source = rng.choice(
        ["police", "school", "health", "self or family", "other"],
        size=n,
        p=[0.3, 0.2, 0.15, 0.1, 0.25],
    )
    assessed = rng.random(n) < np.clip(0.4 + 0.1 * town.need[person], 0, 0.95)
    gender = np.where(ids.sex == "M", "Male", "Female").astype(object)
    referrals = pa.table(
        {
            "referral_id": _text(referral_id),
            "child_id": _text(child_id),
            "first_name": _text(ids.given),
            "last_name": _text(ids.family),
            "dob": _fmt(ids.dob, "%d/%m/%Y"),
            "gender": _text(gender),
            "nhs_no": _text(ids.nhs),
            "postcode": _text(ids.postcode),
            "referral_date": _fmt(_dates(day), "%d/%m/%Y"),
            "referral_source": _text(source),
            "outcome": _text(np.where(assessed, "assessment", "no further action")),
        }
    )
    a = np.flatnonzero(assessed)
    factors_list = [
        "domestic abuse",
        "parental mental health",
        "substance misuse",
        "neglect",
        "child mental health",
        "going missing",
        "exploitation",
    ]
    factor_draw = rng.random((len(a), len(factors_list))) < np.array(
        [0.35, 0.3, 0.2, 0.25, 0.15, 0.05, 0.04]
    )
    factors = np.array(
        [
            ";".join(f for f, keep in zip(factors_list, row, strict=True) if keep)
            for row in factor_draw
        ],
        dtype=object,
    )
    start = np.minimum(day[a] + rng.integers(1, 10, len(a)), PERIOD_DAYS - 1)
    completed = start + rng.integers(5, 45, len(a))
    assessments = pa.table(
        {
            "assessment_id": _text(_ids("ASM", rng.permutation(len(a)) + 1, 7)),
            "referral_id": _text(referral_id[a]),
            "child_id": _text(child_id[a]),
            "start_date": _fmt(_dates(start), "%d/%m/%Y"),
            "completed_date": _fmt(
                np.where(completed < PERIOD_DAYS, _dates(completed), np.datetime64("NaT")),
                "%d/%m/%Y",
            ),
            "factors": _text(factors),
        }
    )
    plan = a[rng.random(len(a)) < np.clip(0.08 * town.need[person[a]], 0, 0.6)]
    plan_start = np.minimum(day[plan] + rng.integers(10, 60, len(plan)), PERIOD_DAYS - 1)
    plan_end = plan_start + rng.integers(60, 500, len(plan))
    plans = pa.table(
        {
            "cp_plan_id": _text(_ids("CPP", rng.permutation(len(plan)) + 1, 6)),
            "child_id": _text(child_id[plan]),
            "plan_start": _fmt(_dates(plan_start), "%d/%m/%Y"),
            "plan_end": _fmt(
                np.where(plan_end < PERIOD_DAYS, _dates(plan_end), np.datetime64("NaT")), "%d/%m/%Y"
            ),
            "category": _text(
                rng.choice(
                    ["neglect", "emotional abuse", "physical abuse", "sexual abuse", "multiple"],
                    size=len(plan),
                    p=[0.5, 0.35, 0.08, 0.04, 0.03],
                )
            ),
        }
    )
    return {
        "csc_referrals": (referrals, referral_id, person),
        "csc_assessments": (assessments, None, None),
        "csc_cp_plans": (plans, None, None),
    }


def adult_social_care(town: Town, rng: np.random.Generator) -> dict:
    age_factor = np.where(town.age >= 85, 8.0, np.where(town.age >= 65, 2.5, 0.6))
    clients = np.flatnonzero(
        town.adult & (rng.random(town.n) < np.clip(0.01 * age_factor * town.need**0.7, 0, 0.9))
    )
    services = 1 + rng.poisson(0.4, len(clients))
    person = np.repeat(clients, services)
    day = rng.integers(0, PERIOD_DAYS, len(person))
    n = len(person)
    quality = QUALITY["asc_clients"]
    ids = identifiers(town, person, day, quality, rng)
    client_ref = local_ids(rng, person, town.n, "ASC", quality.duplicate_ids, 6)
    record = _ids("ASV", rng.permutation(n) + 1, 7)
    title = np.where(ids.sex == "M", "Mr", np.where(rng.random(n) < 0.5, "Mrs", "Ms"))
    table = pa.table(
        {
            "service_record": _text(record),
            "client_ref": _text(client_ref),
            "title": _text(title),
            "first_name": _text(ids.given),
            "last_name": _text(ids.family),
            "date_of_birth": _fmt(ids.dob, "%Y%m%d"),
            "nhs_number": _text(ids.nhs),
            "gender": _text(ids.sex),
            "address": _text(ids.address),
            "postcode": _text(ids.postcode),
            "primary_support_reason": _text(
                rng.choice(
                    [
                        "physical support",
                        "memory and cognition",
                        "mental health",
                        "learning disability",
                        "sensory support",
                        "social support",
                    ],
                    size=n,
                    p=[0.5, 0.15, 0.12, 0.1, 0.05, 0.08],
                )
            ),
            "service_type": _text(
                rng.choice(
                    [
                        "home care",
                        "day care",
                        "residential",
                        "direct payment",
                        "equipment",
                        "reablement",
                    ],
                    size=n,
                )
            ),
            "start_date": _fmt(_dates(day), "%Y%m%d"),
        }
    )
    return {"asc_clients": (table, record, person)}


def schools(town: Town, rng: np.random.Generator) -> dict:
    pupils = np.flatnonzero((town.age >= 4) & (town.age <= 16))
    terms = np.array(["2025 summer", "2025 autumn", "2026 spring"], dtype=object)
    term_days = np.array([0, 160, 280])
    person = np.repeat(pupils, 3)
    term = np.tile(np.arange(3), len(pupils))
    day = term_days[term]
    n = len(person)
    ids = identifiers(town, person, day, QUALITY["school_pupils"], rng)
    upn = np.char.add("T9", np.char.zfill(rng.permutation(town.n)[person].astype(str), 11))
    schools_count = max(2, len(town.lsoa_codes) // 3)
    school = (town.lsoa[town.household[person]] // 3) % schools_count
    urn = (900100 + school).astype(str)
    possible = np.array([110, 140, 120])[term]
    absence_rate = np.clip(0.04 * town.need[person] ** 1.1, 0, 0.8)
    planted_pupil = np.isin(town.household[person], town.planted)
    absence_rate = np.where(planted_pupil, np.maximum(absence_rate, 0.2), absence_rate)
    missed = rng.binomial(possible, absence_rate)
    record = _ids("SAT", rng.permutation(n) + 1, 8)
    attendance = pa.table(
        {
            "attendance_record": _text(record),
            "upn": _text(upn),
            "legal_forename": _text(ids.given),
            "legal_surname": _text(ids.family),
            "dob": _fmt(ids.dob, "%Y-%m-%d"),
            "gender": _text(ids.sex),
            "postcode": _text(ids.postcode),
            "school_urn": _text(urn),
            "term": _text(terms[term]),
            "sessions_possible": pa.array(possible),
            "sessions_missed": pa.array(missed),
        }
    )
    # exclusions (suspensions and permanent) for pupils, more with need; planted pupils get one
    excluded, ex_day = _events(rng, 0.01 * town.need**1.6, np.isin(np.arange(town.n), pupils))
    planted = _one_per_household(
        town, _planted_people(town, lambda m: (town.age[m] >= 5) & (town.age[m] <= 15))
    )
    excluded, ex_day = _with(excluded, ex_day, planted, rng)
    pupil_upn = dict(zip(person[::3].tolist(), upn[::3].tolist(), strict=True))
    e = len(excluded)
    exclusions = pa.table(
        {
            "exclusion_id": _text(_ids("EXC", rng.permutation(max(e, 1))[:e] + 1, 6)),
            "upn": _text(np.array([pupil_upn[p] for p in excluded.tolist()], dtype=object)),
            "school_urn": _text(
                (900100 + (town.lsoa[town.household[excluded]] // 3) % schools_count).astype(str)
            ),
            "start_date": _fmt(_dates(ex_day), "%Y-%m-%d"),
            "category": _text(np.where(rng.random(e) < 0.03, "permanent", "suspension")),
            "sessions": pa.array(rng.integers(1, 11, e)),
            "reason": _text(
                rng.choice(
                    [
                        "persistent disruptive behaviour",
                        "physical assault",
                        "verbal abuse",
                        "drug and alcohol related",
                        "other",
                    ],
                    size=e,
                    p=[0.45, 0.2, 0.15, 0.05, 0.15],
                )
            ),
        }
    )
    return {
        "school_attendance": (attendance, record, person),
        "school_exclusions": (exclusions, None, None),
    }


AGENCIES = (
    ae_attendances,
    police_incidents,
    fire_data,
    childrens_social_care,
    adult_social_care,
    schools,
)


# ---------------------------------------------------------------------------------------------
# Writing


def _write(table: pa.Table, path: Path) -> dict:
    path.parent.mkdir(parents=True, exist_ok=True)
    pacsv.write_csv(table, path)
    return {"rows": table.num_rows, "columns": table.column_names, "sha256": file_sha256(path)}


def lookups(town: Town) -> dict[str, pa.Table]:
    # postcodes are numbered LSOA by LSOA (an LSOA with no household still has one)
    per_lsoa = np.bincount(town.lsoa, minlength=len(town.lsoa_codes))
    postcode_lsoa = np.repeat(np.arange(len(town.lsoa_codes)), np.maximum(1, -(-per_lsoa // 15)))
    population = np.bincount(town.lsoa[town.household], minlength=len(town.lsoa_codes))
    return {
        "postcode_lsoa": pa.table(
            {
                "postcode": _text(town.postcodes),
                "lsoa_code": _text(town.lsoa_codes[postcode_lsoa]),
            }
        ),
        "lsoa_population": pa.table(
            {
                "lsoa_code": _text(town.lsoa_codes),
                "lsoa_name": _text(town.lsoa_names),
                "population": pa.array(population),
                "deprivation_index": pa.array(np.round(town.deprivation, 3)),
            }
        ),
    }


def generate(people: int, seed: int, out: Path) -> GeneratedTown:
    """Generate the town and write every file to OUT; deterministic for (people, seed)."""
    out = Path(out)
    town = build_town(people, seed)
    plant_families(town)
    result = GeneratedTown(
        out,
        seed,
        people,
        len(town.lsoa),
        len(town.lsoa_codes),
        planted_households=len(town.planted),
    )
    truth_parts = []
    for maker in AGENCIES:
        # each agency draws from its own stream, so changing one leaves the others as they were
        rng = np.random.default_rng([seed, AGENCIES.index(maker) + 1])
        for name, (table, record, person) in maker(town, rng).items():
            order = rng.permutation(table.num_rows)  # extracts are not in person order
            table = table.take(order)
            if record is not None:
                record, person = record[order], person[order]
            result.files[name] = _write(table, out / f"{name}.csv")
            if record is not None:
                truth_parts.append((name, record, person))
    for name, table in lookups(town).items():
        result.files[name] = _write(table, out / f"{name}.csv")

    truth = pa.table(
        {
            "dataset": pa.array(
                np.concatenate([np.full(len(r), n, dtype=object) for n, r, _ in truth_parts]),
                type=pa.string(),
            ),
            "record_id": pa.array(np.concatenate([r for _, r, _ in truth_parts]), type=pa.string()),
            "person_id": pa.array(np.concatenate([p for _, _, p in truth_parts]) + 1),
        }
    )
    result.files["truth/records"] = _write(truth, out / "truth" / "records.csv")
    people_table = pa.table(
        {
            "person_id": pa.array(np.arange(1, town.n + 1)),
            "household_id": pa.array(town.household + 1),
            "given_name": _text(town.given),
            "family_name": _text(town.family),
            "date_of_birth": _fmt(town.dob, "%Y-%m-%d"),
            "sex": _text(town.sex),
            "nhs_number": _text(town.nhs),
            "postcode": _text(town.postcodes[town.postcode[town.household]]),
            "lsoa_code": _text(town.lsoa_codes[town.lsoa[town.household]]),
            "age": pa.array(town.age),
        }
    )
    result.files["truth/people"] = _write(people_table, out / "truth" / "people.csv")
    planted = pa.table({"household_id": pa.array(town.planted + 1)})
    result.files["truth/planted_families"] = _write(planted, out / "truth" / "planted_families.csv")
    manifest = {
        "generator": f"tre-kit demo-data {GENERATOR_VERSION}",
        "town": TOWN,
        "seed": seed,
        "people": people,
        "households": result.households,
        "lsoas": result.lsoas,
        "period": [str(PERIOD_START), str(PERIOD_END)],
        "files": result.files,
        "note": "Synthetic data about fictional people. truth/ is for linkage evaluation only.",
    }
    (out / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    return result
