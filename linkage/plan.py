"""What the linker compares and how it blocks and trains, chosen from the records themselves.

Comparisons follow the kinds of the columns the records hold (:mod:`linkage.roles`). Blocking
rules come in families, each loosest first: a date of birth alone, then with the surname's
initial, then with its Soundex; a postcode alone, then with a name. The pairs each rule would
make are counted as Splink counts an equi-join rule before its filters (the sum over the rule's
key values of n(n - 1) / 2, one GROUP BY in DuckDB: Splink 5's own count builds the pairs, which
took minutes at a hundred thousand records), and each family takes its loosest rule within the
budget of pairs: on five thousand records a date of birth alone (which finds the pairs whose names
are both mistyped), on millions the tight rules that keep the scoring within minutes (at two
million records, the very rules the kit had fixed before). The training sessions of expectation
maximisation are chosen from counts too: for each comparison, the first session that trains it
within the budget; never on a postcode alone (a household shares it: EM would learn households)
nor on a date of birth alone (a school year shares few dates: the pairs grow with n squared).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

GIVEN_INITIAL, FAMILY_INITIAL = "given_initial", "family_initial"
BIRTH_MONTH = "substr(date_of_birth, 1, 7)"
# the pairs a prediction rule may make: this many per record, and at least MIN_RULE_PAIRS
RULE_PAIRS_PER_RECORD = 1.0
MIN_RULE_PAIRS = 2e5
EM_MIN_PAIRS = 50  # an EM session needs pairs to learn from


@dataclass
class Training:
    deterministic: list  # rules for the prior probability that two records match
    em: list  # blocking rules of the expectation-maximisation sessions
    max_pairs: float = 2e6


@dataclass
class Plan:
    """The comparisons, blocking rules and training for records holding COLUMNS (column ->
    kind); ``choose`` fills ``rules`` and ``em`` from the counts of their pairs."""

    columns: dict[str, str]
    uk_postcodes: bool = True
    rules: list[tuple[str, ...]] = field(default_factory=list)
    em: list[tuple[str, ...]] = field(default_factory=list)
    counts: dict[tuple[str, ...], float] = field(default_factory=dict)

    def has(self, *terms: str) -> bool:
        """Whether the records hold what each of TERMS reads."""
        if not self.uk_postcodes and "postcode_sector" in terms:
            return False
        return all(DERIVED_FROM.get(_column(t), _column(t)) in self.columns for t in terms)

    def families(self) -> list[tuple[bool, list[tuple[str, ...]]]]:
        """The candidate prediction rules, in families of loosest first, each with whether it
        is kept (its tightest rule) when none of its rules is within the budget: those of the
        rules the kit had for millions of records are, the others are left out."""
        families = [
            (True, [(c,)]) for c, k in self.columns.items() if k in ("nhs_number", "identifier")
        ]
        families += [
            (
                True,
                [
                    ("dob_unordered",),
                    ("dob_unordered", FAMILY_INITIAL),
                    ("dob_unordered", "family_soundex"),
                ],
            ),
            (True, [("date_of_birth", GIVEN_INITIAL), ("date_of_birth", "given_name")]),
            (
                True,
                [
                    ("given_name", "family_name"),
                    ("given_name", "family_name", "birth_year"),
                    ("given_name", "family_name", BIRTH_MONTH),
                ],
            ),
            (
                False,
                [
                    ("family_soundex", GIVEN_INITIAL, "birth_year"),
                    ("family_soundex", "given_name", "birth_year"),
                ],
            ),
        ]
        for place, kind in self.columns.items():
            if kind not in ("postcode", "text"):
                continue
            kept = place in ("postcode", "address")
            families.append(
                (kept, [(place,), (place, FAMILY_INITIAL), (place, "given_name", FAMILY_INITIAL)])
            )
            families.append(
                (kept, [(place, GIVEN_INITIAL), (place, "family_soundex", GIVEN_INITIAL)])
            )
        return [(kept, [r for r in family if self.has(*r)]) for kept, family in families]

    def em_candidates(self) -> list[tuple[str, ...]]:
        """Training sessions, in order of preference: on the names (which trains the date of
        birth and the places), then on the date of birth with something else (which trains
        the names); never a postcode or a date of birth alone."""
        places = ["postcode_sector" if self.uk_postcodes else "postcode"]
        places += [c for c, k in self.columns.items() if k == "text"]
        names = [("given_name", "family_name")]
        names += [("given_name", "family_name", p) for p in places]
        names += [("given_name", "family_name", "birth_year")]
        # the date of birth with a place, or with an initial (a column of its own: Splink still
        # trains the name on it)
        dates = [("date_of_birth", p) for p in places] + [
            ("date_of_birth", "sex"),
            ("date_of_birth", FAMILY_INITIAL),
            ("date_of_birth", GIVEN_INITIAL),
        ]
        return [r for r in names + dates if self.has(*r)]

    def choose(
        self, count: Callable[[tuple[str, ...]], float], records: int, em_pairs: float
    ) -> Plan:
        """Each family's loosest rule whose pairs (COUNT of a rule) are within budget, for
        RECORDS records; EM sessions of at most EM_PAIRS pairs where there are such, else the
        smallest."""
        budget = max(MIN_RULE_PAIRS, RULE_PAIRS_PER_RECORD * records)
        self.rules = []
        for kept, family in self.families():
            for rule in family:
                self.counts[rule] = count(rule)
            within = [r for r in family if self.counts[r] <= budget]
            if within or (kept and family):
                self.rules.append(within[0] if within else family[-1])
        # for each comparison, the first session that trains it (Splink learns nothing of a
        # comparison whose columns its session's rule reads) with pairs within the budget
        self.em = []
        untrained = [c for c in self.columns if c != "nhs_number"]
        for rule in self.em_candidates():
            if rule not in self.counts:
                self.counts[rule] = count(rule)
        usable = [r for r in self.em_candidates() if EM_MIN_PAIRS <= self.counts[r] <= em_pairs]
        while untrained:
            trains = [
                r
                for r in self.em_candidates()
                if untrained[0] not in _reads(r) and self.counts[r] >= EM_MIN_PAIRS
            ]
            within = [r for r in trains if r in usable]
            # within the budget, else the one with the fewest pairs (a model left untrained
            # would be worse than a long session)
            chosen = within[:1] or sorted(trains, key=self.counts.__getitem__)[:1]
            if chosen:
                self.em.append(chosen[0])
                untrained = [c for c in untrained if c in _reads(chosen[0])]
            else:
                untrained.pop(0)
        return self

    def settings(self):
        from splink import SettingsCreator

        return SettingsCreator(
            link_type="dedupe_only",
            unique_id_column_name="unique_id",
            comparisons=[self._comparison(c, k) for c, k in self.columns.items()],
            blocking_rules_to_generate_predictions=[sql(r) for r in self.rules],
            retain_intermediate_calculation_columns=False,
            # the scored pairs carry ids and weights only: the records' columns are joined back
            # where needed (the clerical sample), not copied into millions of pairs
            retain_matching_columns=False,
        )

    def training(self, max_pairs: float) -> Training:
        # the prior from the pairs that agree on an NHS number, or on two of the names and
        # the date of birth: a duplicate with one of the three mistyped still counts (with
        # all three required, 10 % duplicates each with one error gave a prior so low that
        # no pair reached the threshold)
        rules = [(c,) for c, k in self.columns.items() if k == "nhs_number"]
        rules += [
            ("given_name", "family_name", "date_of_birth"),
            ("given_name", "date_of_birth"),
            ("family_name", "date_of_birth"),
            ("given_name", "family_name", "birth_year"),
        ]
        deterministic = [sql(r) for r in rules if self.has(*r)]
        return Training(deterministic, [sql(r) for r in self.em], max_pairs)

    def _comparison(self, column: str, kind: str):
        import splink.comparison_library as cl

        if kind == "name" and self.has("given_name", "family_name"):
            return _name_comparison(column)
        if kind == "name":
            return cl.NameComparison(column)
        if kind == "date":
            return cl.DateOfBirthComparison(column, input_is_string=True)
        if kind == "postcode" and self.uk_postcodes:
            return cl.PostcodeComparison(column)
        if kind == "postcode":
            return cl.LevenshteinAtThresholds(column, [1])
        if kind == "text" and column == "address":
            return _address_comparison(column)
        if kind == "text":
            return cl.JaroWinklerAtThresholds(column, [0.95, 0.85])
        if kind == "identifier":
            return cl.DamerauLevenshteinAtThresholds(column, [1])
        return cl.ExactMatch(column)  # sex, an NHS number


def _name_comparison(column: str):
    """Splink's name comparison with a level for the given and family names swapped between
    their fields (a form filled in the wrong order, "SURNAME, Forename" read the other way)."""
    import splink.comparison_level_library as cll
    import splink.comparison_library as cl

    return cl.CustomComparison(
        output_column_name=column,
        comparison_levels=[
            cll.NullLevel(column),
            cll.ExactMatchLevel(column),
            cll.ColumnsReversedLevel("given_name", "family_name"),
            *[cll.JaroWinklerLevel(column, t) for t in (0.92, 0.88, 0.7)],
            cll.ElseLevel(),
        ],
    )


def _address_comparison(column: str):
    """Addresses by similarity, with a level for the same street where the house number differs
    or one side lacks it ("11 anne clark avenue" and "anne clark avenue"): a number at the
    front makes two streets look alike to Jaro-Winkler ("39 antill street", "393 daintree
    crescent") and one street look unlike itself, so the street is compared without it."""
    import splink.comparison_level_library as cll
    import splink.comparison_library as cl

    def street(side: str) -> str:
        return f"regexp_replace({column}_{side}, '^[0-9]+[a-z]?[ ,/-]*', '')"

    return cl.CustomComparison(
        output_column_name=column,
        comparison_levels=[
            cll.NullLevel(column),
            cll.ExactMatchLevel(column),
            *[cll.JaroWinklerLevel(column, t) for t in (0.95, 0.85)],
            cll.CustomLevel(
                f"{street('l')} = {street('r')} and length({street('l')}) > 3",
                label_for_charts="The same street, the number differing or missing",
            ),
            cll.ElseLevel(),
        ],
    )


# the derived columns the normaliser adds, and the column each comes from
DERIVED_FROM = {
    "family_soundex": "family_name",
    "birth_year": "date_of_birth",
    "dob_unordered": "date_of_birth",
    "postcode_sector": "postcode",
    "given_initial": "given_name",
    "family_initial": "family_name",
}


def sql(rule: tuple[str, ...]) -> str:
    """RULE as Splink's SQL: each term (a column or an expression of one) agrees."""

    def side(term: str, which: str) -> str:
        column = _column(term)
        return term.replace(column, f"{which}.{column}", 1)

    return " and ".join(f"{side(t, 'l')} = {side(t, 'r')}" for t in rule)


def _reads(rule: tuple[str, ...]) -> set[str]:
    """The columns the terms of RULE read, as Splink sees them (a session on the initials
    trains the names: they are columns of their own)."""
    return {_column(t) for t in rule}


def _column(term: str) -> str:
    """The column a rule's term reads (``substr(given_name, 1, 1)`` reads given_name)."""
    return term.removeprefix("substr(").split(",")[0]
