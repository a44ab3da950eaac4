"""Normalising identifiers before linkage: names, dates of birth, sex, postcodes, NHS numbers."""

from __future__ import annotations

import unicodedata

import numpy as np
import pandas as pd
import pyarrow as pa

from linkage.validate import nhs_number_valid

# Common English nicknames and short forms, to the full name they stand for (a linkage aid, as
# in ONS practice; an ambiguous form such as "Sam" or "Chris" keeps one reading).
NICKNAMES = {
    "bill": "william",
    "billy": "william",
    "will": "william",
    "willy": "william",
    "bob": "robert",
    "bobby": "robert",
    "rob": "robert",
    "robbie": "robert",
    "dick": "richard",
    "rick": "richard",
    "rich": "richard",
    "richie": "richard",
    "jim": "james",
    "jimmy": "james",
    "jamie": "james",
    "tom": "thomas",
    "tommy": "thomas",
    "joe": "joseph",
    "joey": "joseph",
    "mike": "michael",
    "mick": "michael",
    "micky": "michael",
    "chris": "christopher",
    "kit": "christopher",
    "dan": "daniel",
    "danny": "daniel",
    "matt": "matthew",
    "tony": "anthony",
    "ant": "anthony",
    "andy": "andrew",
    "drew": "andrew",
    "alex": "alexander",
    "sandy": "alexander",
    "ben": "benjamin",
    "benny": "benjamin",
    "sam": "samuel",
    "sammy": "samuel",
    "ed": "edward",
    "eddie": "edward",
    "ted": "edward",
    "fred": "frederick",
    "freddie": "frederick",
    "hal": "henry",
    "jake": "jacob",
    "nate": "nathan",
    "zach": "zachary",
    "steve": "stephen",
    "ken": "kenneth",
    "kenny": "kenneth",
    "ray": "raymond",
    "len": "leonard",
    "lenny": "leonard",
    "wally": "walter",
    "theo": "theodore",
    "bert": "albert",
    "al": "albert",
    "ron": "ronald",
    "ronnie": "ronald",
    "stan": "stanley",
    "pete": "peter",
    "den": "dennis",
    "liz": "elizabeth",
    "beth": "elizabeth",
    "lizzie": "elizabeth",
    "betty": "elizabeth",
    "maggie": "margaret",
    "peggy": "margaret",
    "meg": "margaret",
    "kate": "katherine",
    "kathy": "katherine",
    "katie": "katherine",
    "kath": "kathleen",
    "jenny": "jennifer",
    "jen": "jennifer",
    "becky": "rebecca",
    "becca": "rebecca",
    "vicky": "victoria",
    "tori": "victoria",
    "sammie": "samantha",
    "pat": "patricia",
    "trish": "patricia",
    "debbie": "deborah",
    "deb": "deborah",
    "sue": "susan",
    "susie": "susan",
    "chrissie": "christine",
    "barb": "barbara",
    "babs": "barbara",
    "dot": "dorothy",
    "dottie": "dorothy",
    "jess": "jessica",
    "lottie": "charlotte",
    "bella": "isabella",
    "izzy": "isabella",
    "belle": "isabelle",
    "flo": "florence",
    "florrie": "florence",
    "tilly": "matilda",
    "penny": "penelope",
    "millie": "amelia",
    "nat": "natalie",
    "dani": "danielle",
    "nicky": "nicola",
    "shelly": "michelle",
    "jo": "joanne",
    "val": "valerie",
    "paula": "pauline",
    "liza": "eliza",
    "evie": "evelyn",
}
SOUNDEX = str.maketrans("bfpvcgjkqsxzdtlmnr", "111122222222334556")


def plain(name) -> str | None:
    """Lower case, no accents, letters only (hyphens and spaces kept as single spaces)."""
    if name is None or (isinstance(name, float) and np.isnan(name)) or name == "":
        return None
    text = unicodedata.normalize("NFKD", str(name)).encode("ascii", "ignore").decode().lower()
    text = "".join(c if c.isalpha() else " " for c in text)
    return " ".join(text.split()) or None


def forename(name) -> str | None:
    """The first forename, with a nickname read as the full name."""
    text = plain(name)
    if text is None:
        return None
    first = text.split()[0]
    return NICKNAMES.get(first, first)


# the usual short forms of address words, read as the full word
ADDRESS_WORDS = {
    "st": "street",
    "rd": "road",
    "ave": "avenue",
    "av": "avenue",
    "ln": "lane",
    "dr": "drive",
    "cres": "crescent",
    "cl": "close",
    "ct": "court",
    "pl": "place",
    "gdns": "gardens",
    "sq": "square",
    "tce": "terrace",
    "flt": "flat",
}


def address(value) -> str | None:
    """Lower case, no accents or punctuation, house numbers kept, short forms read in full."""
    if value is None or (isinstance(value, float) and np.isnan(value)) or value == "":
        return None
    text = unicodedata.normalize("NFKD", str(value)).encode("ascii", "ignore").decode().lower()
    words = "".join(c if c.isalnum() else " " for c in text).split()
    return " ".join(ADDRESS_WORDS.get(w, w) for w in words) or None


def soundex(name: str | None) -> str | None:
    if not name:
        return None
    letters = [c for c in name.lower() if c.isalpha()]
    if not letters:
        return None
    digits = "".join(c.translate(SOUNDEX) if c in "bfpvcgjkqsxzdtlmnr" else "0" for c in letters)
    out, last = letters[0].upper(), digits[0]
    for digit, letter in zip(digits[1:], letters[1:], strict=True):
        if digit != "0" and digit != last:
            out += digit
        if letter not in "hw":
            last = digit
    return (out + "000")[:4]


def postcode(value) -> str | None:
    """Upper case with one space before the inward code; None when it is not postcode-shaped."""
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return None
    text = "".join(str(value).upper().split())
    if not 5 <= len(text) <= 7 or not text[-3].isdigit():
        return None
    return f"{text[:-3]} {text[-3:]}"


def sex(value) -> str | None:
    text = str(value).strip().lower() if value is not None else ""
    if text in ("m", "male", "1"):
        return "m"
    if text in ("f", "female", "2"):
        return "f"
    return None


def dates(values: pd.Series, fmt: str | None = None) -> pd.Series:
    """ISO dates (yyyy-mm-dd) or None."""
    parsed = pd.to_datetime(values.replace("", None), format=fmt, errors="coerce")
    return parsed.dt.strftime("%Y-%m-%d").where(parsed.notna(), None)


def nhs_numbers(values: pd.Series) -> pd.Series:
    digits = values.fillna("").astype(str).str.replace(r"\D", "", regex=True)
    valid = nhs_number_valid(pa.array(digits.tolist(), pa.string()))
    return digits.where(valid, None)


def each(function, values) -> np.ndarray:
    """FUNCTION of every value, computed once per distinct value (names, dates and postcodes
    repeat: a million records hold a few thousand forenames); missing values give None."""
    codes, uniques = pd.factorize(pd.Series(values, dtype=object), use_na_sentinel=True)
    mapped = np.empty(len(uniques) + 1, dtype=object)
    mapped[:-1] = [function(v) for v in uniques]
    mapped[-1] = None
    return mapped[codes]


def person_table(frame: pd.DataFrame) -> pd.DataFrame:
    """Normalise the person columns of FRAME (any of given_name, family_name, date_of_birth,
    sex, postcode, address, nhs_number) into the columns the linker compares."""
    out = pd.DataFrame({"record_id": frame["record_id"].astype(str).to_numpy()})

    def column(name):
        return frame[name] if name in frame else pd.Series([None] * len(frame))

    out["given_name"] = each(forename, column("given_name"))
    out["family_name"] = each(plain, column("family_name"))
    if "date_of_birth" in frame:
        codes, uniques = pd.factorize(frame["date_of_birth"].astype(object))
        iso = np.append(dates(pd.Series(uniques, dtype=object)).to_numpy(dtype=object), None)
        out["date_of_birth"] = iso[codes]
    else:
        out["date_of_birth"] = None
    out["sex"] = each(sex, column("sex"))
    out["postcode"] = each(postcode, column("postcode"))
    out["address"] = each(address, column("address"))
    out["nhs_number"] = nhs_numbers(column("nhs_number")).to_numpy()
    out["family_soundex"] = each(soundex, out["family_name"])
    out["birth_year"] = out["date_of_birth"].str[:4] if out["date_of_birth"].notna().any() else None
    out["postcode_sector"] = out["postcode"].str[:-2] if out["postcode"].notna().any() else None
    return out
