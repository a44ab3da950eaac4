"""What each identifier of the agreed schemas is to the linkage, by its core concept.

The data dictionary gives every field a role (``x-role``) and a concept (``x-concept``); the
linkage compares and blocks on the direct and quasi-identifiers of a Person or a Place, each by
its kind:

* ``given_name``, ``family_name`` (or ``Person.name``, split): names, with nicknames read as full
  names and the surname's Soundex;
* ``date_of_birth``: a date, also with its day and month in either order;
* ``sex``: agreement;
* ``postcode``: a UK postcode with sector and district levels, any other as text;
* ``address``, ``place_of_birth`` and any other Place: text, by similarity;
* ``nhs_number``: agreement where the check digit is right (and linked on deterministically);
* any other Person identifier a partnership adds (a social security number, a passport number):
  an identifier, agreeing exactly or within one typing error.

Some Person and Place fields are not compared: an agency's own record key (``Person.local_id``:
each agency numbers its own records, so two agencies' keys can agree by chance), a title, and
an area (``Place.lsoa``: a thousand and more people, and in some schemas the area of an event,
not of the person).
"""

from __future__ import annotations

KINDS = ("name", "date", "sex", "postcode", "text", "nhs_number", "identifier")
# the columns the linker knows by name, with their concept and kind
STANDARD = {
    "given_name": ("Person.given_name", "name"),
    "family_name": ("Person.family_name", "name"),
    "date_of_birth": ("Person.date_of_birth", "date"),
    "sex": ("Person.sex", "sex"),
    "postcode": ("Place.postcode", "postcode"),
    "address": ("Place.address", "text"),
    "place_of_birth": ("Person.place_of_birth", "text"),
    "nhs_number": ("Person.nhs_number", "nhs_number"),
}
CONCEPT_COLUMNS = {concept: column for column, (concept, _) in STANDARD.items()}
NOT_COMPARED = ("Person.local_id", "Person.title", "Place.lsoa")
IDENTIFYING_ROLES = ("direct_identifier", "quasi_identifier")
CLASSES = ("Person", "Place")


class RoleError(ValueError):
    """A concept the linkage cannot compare."""


def column(concept: str) -> str:
    """The linker's column for CONCEPT: its own name for the standard ones, else the concept
    itself in lower case (``Person.passport_number`` is ``person_passport_number``), so that
    two agencies' fields of one concept are compared with each other whatever they are called."""
    return CONCEPT_COLUMNS.get(concept) or concept.lower().replace(".", "_")


def kind(concept: str) -> str:
    """How the linker compares CONCEPT (one of KINDS); RoleError if it is not compared."""
    if concept in CONCEPT_COLUMNS:
        return STANDARD[CONCEPT_COLUMNS[concept]][1]
    if concept == "Person.name":  # split into the given and family names
        return "name"
    group = concept.split(".")[0]
    if concept in NOT_COMPARED or group not in CLASSES or "." not in concept:
        raise RoleError(
            f"{concept!r} is not compared by the linkage: it compares Person and Place "
            f"identifiers other than {', '.join(NOT_COMPARED)}"
        )
    return "identifier" if group == "Person" else "text"


def compared(concept: str, role: str) -> bool:
    """Whether a schema's field of CONCEPT and ROLE is given to the linkage."""
    if role not in IDENTIFYING_ROLES or concept == "Person.name":
        return False
    try:
        kind(concept)
    except RoleError:
        return False
    return True
