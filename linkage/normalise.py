"""Normalising identifiers before linkage: names, dates of birth, sex, postcodes, NHS numbers."""

from __future__ import annotations

import re
import unicodedata

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from linkage.nhs import valid_numbers

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
    """A UK postcode in upper case with one space before the inward code; None when it is not
    shaped like one."""
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return None
    text = "".join(str(value).upper().split())
    if not 5 <= len(text) <= 7 or not text[-3].isdigit() or not text[0].isalpha():
        return None
    return f"{text[:-3]} {text[-3:]}"


def any_postcode(value) -> str | None:
    """A postcode of any country (Australia's 2612, Germany's 10115, Canada's K1A 0B1): its
    letters and digits in upper case; None when it holds no digit."""
    text = identifier(value)
    return text if text and any(c.isdigit() for c in text) else None


def identifier(value) -> str | None:
    """An identifier's letters and digits, in upper case (spaces, dashes and dots dropped)."""
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return None
    text = "".join(c for c in unicodedata.normalize("NFKC", str(value)).upper() if c.isalnum())
    return text or None


def postcodes(values) -> pd.Series:
    """The postcodes of one source: as UK postcodes where most of them are shaped like one (the
    few others, mistyped, are left out as before), else as any country's (the text)."""
    uk = each(postcode, values)
    given = int(pd.Series(values).notna().sum()) if len(values) else 0
    if given and uk.notna().sum() < given / 2:
        return each(any_postcode, values)
    return uk


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


def unordered_date(iso: str) -> str:
    """An ISO date with its day and month in either order (year|lower|higher): a date written
    day-first where month-first was meant agrees with the true one."""
    year, month, day = iso.split("-")
    return f"{year}|{min(month, day)}|{max(month, day)}"


def _distinct(values) -> tuple[list, pa.Array]:
    """The distinct values of VALUES (missing ones left out) and, for each value, the index of
    its distinct value (null where missing). Arrow text is encoded by Arrow itself."""
    arrow = isinstance(values, pd.Series) and isinstance(values.dtype, pd.ArrowDtype)
    codes, uniques = pd.factorize(
        values if arrow else pd.Series(values, dtype=object), use_na_sentinel=True
    )
    return list(uniques), pa.array(codes, mask=codes < 0)


def text(array: pa.Array) -> pd.Series:
    """ARRAY as a column of Arrow text (a few bytes a value, not a Python object each)."""
    return pd.Series(pd.arrays.ArrowExtensionArray(array))


def compact(frame: pd.DataFrame) -> pd.DataFrame:
    """FRAME with its text columns held by Arrow: a few bytes a value instead of a Python
    object each (a quarter of the memory for millions of records); missing values are <NA>."""
    objects = [c for c in frame.columns if frame[c].dtype == object]
    return frame.astype({c: pd.ArrowDtype(pa.string()) for c in objects})


def each(function, values) -> pd.Series:
    """FUNCTION of every value, computed once per distinct value (names, dates and postcodes
    repeat: a million records hold a few thousand forenames), as Arrow text; missing values
    stay missing."""
    uniques, indices = _distinct(values)
    return text(pa.array([function(v) for v in uniques], pa.string()).take(indices))


def nhs_numbers(values) -> pd.Series:
    """The digits of each NHS number, or missing where its check digit is wrong."""
    digits = each(lambda v: re.sub(r"\D", "", str(v)), values)
    array = pa.array(digits)
    return text(pc.if_else(pa.array(valid_numbers(array)), array, None))


NORMALISE = {"text": address, "identifier": identifier}


def person_table(frame: pd.DataFrame, kinds: dict[str, str] | None = None) -> pd.DataFrame:
    """Normalise the person columns of FRAME (any of given_name, family_name, date_of_birth,
    sex, postcode, address, place_of_birth, nhs_number, and the columns of KINDS: column ->
    kind, text or identifier, of the other identifiers a partnership adds) into the columns
    the linker compares, held as Arrow text (missing values are <NA>)."""
    missing = text(pa.nulls(len(frame), pa.string()))

    def column(name):
        return frame[name] if name in frame else missing

    ids = frame["record_id"]
    if ids.dtype != pd.ArrowDtype(pa.string()):
        ids = text(pa.array(ids.astype(str).to_numpy(dtype=object), pa.string()))
    out = pd.DataFrame({"record_id": ids.reset_index(drop=True)})
    out["given_name"] = each(forename, column("given_name"))
    out["family_name"] = each(plain, column("family_name"))
    out["date_of_birth"] = _iso_dates(column("date_of_birth"))
    out["sex"] = each(sex, column("sex"))
    out["postcode"] = postcodes(column("postcode"))
    out["address"] = each(address, column("address"))
    out["nhs_number"] = nhs_numbers(column("nhs_number"))
    if "place_of_birth" in frame:
        out["place_of_birth"] = each(address, frame["place_of_birth"])
    for name, kind in (kinds or {}).items():
        if name in frame:
            out[name] = each(NORMALISE[kind], frame[name])
    out["family_soundex"] = each(soundex, out["family_name"])
    for name in ("given", "family"):  # blocking keys, which Splink does not take for the names
        out[f"{name}_initial"] = text(pc.utf8_slice_codeunits(pa.array(out[f"{name}_name"]), 0, 1))
    out["birth_year"] = text(pc.utf8_slice_codeunits(pa.array(out.date_of_birth), 0, 4))
    out["dob_unordered"] = each(unordered_date, out["date_of_birth"])
    # a UK postcode's sector (its outward code and the inward code's digit); none for others
    uk = pc.match_substring(pa.array(out.postcode), " ")
    sector = pc.utf8_slice_codeunits(pa.array(out.postcode), 0, -2)
    out["postcode_sector"] = text(pc.if_else(uk, sector, pa.scalar(None, pa.string())))
    return out


def _iso_dates(values) -> pd.Series:
    """Dates of birth as ISO text, each distinct value parsed once."""
    uniques, indices = _distinct(values)
    iso = dates(pd.Series(uniques, dtype=object)) if uniques else pd.Series([], dtype=object)
    return text(pa.array(iso.tolist(), pa.string()).take(indices))
