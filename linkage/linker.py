"""Record linkage: which records, across agencies and within each, are the same person.

``link(frames)`` takes person tables (``record_id`` and any identifiers: given and family names,
date of birth, sex, postcodes and addresses of any country, place of birth, NHS number, and any
other identifier with its concept from the data dictionary; :mod:`linkage.roles`), normalises
them, links deterministically on NHS number where both records have a valid one, and
probabilistically with Splink (Fellegi-Sunter, on DuckDB, or on Spark for scale-out), comparing
each identifier the records hold by its kind, with blocking rules and training sessions chosen
from counts of the pairs they make (:mod:`linkage.plan`). Pairs at or above ``threshold`` and
NHS-number matches are clustered (connected components) into people. The result has one row per
record: source, record_id, person_id and the match probability that joined it to its person.
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
from scipy.sparse import coo_array
from scipy.sparse.csgraph import connected_components

from linkage import roles
from linkage.normalise import compact, person_table, text
from linkage.plan import Plan, Training
from linkage.sources import split_name
from tre.errors import TreError

MEMORY_LIMIT = os.environ.get("TRE_LINKAGE_MEMORY", "3GB")
ENGINES = ("duckdb", "spark")
REVIEW_FLOOR = 0.2  # pairs scored down to this probability are reviewed, not linked
REVIEW_SAMPLE = 50  # borderline pairs in the clerical-review sample
CHUNK_RECORDS = int(os.environ.get("TRE_LINKAGE_CHUNK", "8000000"))
TRAIN_RECORDS = int(os.environ.get("TRE_LINKAGE_TRAIN", "2000000"))  # trained on a sample beyond
COUNT_SAMPLE = 500_000  # records the pairs of blocking rules are counted on, at most
MIN_HELD = 20  # records that hold an identifier for it to be compared
EM_PAIRS = 1e6  # an EM session of the training records is chosen with at most this many pairs


class LinkageError(TreError):
    """Linkage cannot run on this input."""


@dataclass
class Linked:
    records: pd.DataFrame  # source, record_id, cluster, match_probability
    pairs: pd.DataFrame  # the scored pairs (unique ids and probability) at or above threshold
    model: dict  # the trained Splink model (settings with m and u)
    combined: pd.DataFrame  # the normalised records, with their unique_id
    # of the pairs scored down to REVIEW_FLOOR (both sides of the threshold): how many there are
    # per unit of match weight (weight, pairs), and those nearest the threshold for clerical
    # review (unique ids, probability and weight); both computed where Splink runs
    weights: pd.DataFrame
    borderline: pd.DataFrame
    seconds: dict[str, float]  # per phase, for the benchmarks
    # what Splink (and the training) warned about, once each with how often: for the linkage
    # report, never the operator's console
    notes: list[str] = field(default_factory=list)

    def save_model(self, path: Path) -> None:
        Path(path).write_text(json.dumps(self.model, indent=1), encoding="utf-8")


def _combined(
    frames: Mapping[str, pd.DataFrame], concepts: Mapping[str, str] | None = None
) -> tuple[pd.DataFrame, dict[str, str]]:
    """The normalised records of every source, with their unique_id, and the kind of each
    column they hold (roles.KINDS). CONCEPTS gives the concept of each column not named after
    one (``{"passport": "Person.passport_number"}``)."""
    concepts = dict(concepts or {})
    for name, concept in concepts.items():
        try:
            roles.kind(concept)
        except roles.RoleError as exc:
            raise LinkageError(f"column {name}: {exc}") from None
    parts = []
    for source, frame in frames.items():
        if "record_id" not in frame:
            raise LinkageError(f"{source}: a person table needs a record_id column")
        unknown = [c for c in frame.columns if c not in roles.STANDARD and c not in concepts]
        unknown = [c for c in unknown if c != "record_id"]
        if unknown:
            raise LinkageError(
                f"{source}: unknown columns {', '.join(unknown)}; person tables have record_id "
                f"and any of {', '.join(roles.STANDARD)}, and other identifiers given with "
                "their concept (concepts={column: 'Person.passport_number', ...})"
            )
        if frame["record_id"].duplicated().any():
            raise LinkageError(f"{source}: record_id repeats; each record needs its own id")
        # each column under its concept's column, so that two sources' fields of one concept
        # are compared whatever each calls them; a whole name is split into its parts
        for name in [c for c, k in concepts.items() if k == "Person.name" and c in frame]:
            given, family = split_name(frame[name])
            frame = frame.drop(columns=[name]).assign(given_name=given, family_name=family)
        named = frame.rename(columns={c: roles.column(k) for c, k in concepts.items()})
        if named.columns.duplicated().any():
            raise LinkageError(f"{source}: two columns have one concept; give each its own")
        extras = {roles.column(k): roles.kind(k) for k in concepts.values() if k != "Person.name"}
        extras = {c: k for c, k in extras.items() if c not in roles.STANDARD}
        table = person_table(named, extras)
        table.insert(0, "source", text(pa.repeat(pa.scalar(source), len(table))))
        parts.append(table)
    if not parts:
        raise LinkageError("no person tables to link")
    combined = pd.concat(parts, ignore_index=True)
    combined.insert(0, "unique_id", np.arange(len(combined)))
    kinds = {c: roles.STANDARD[c][1] for c in roles.STANDARD if c in combined}
    for k in set(concepts.values()) - {"Person.name"}:
        kinds.setdefault(roles.column(k), roles.kind(k))
    # only what enough records hold is compared: Splink cannot train a comparison of a handful
    # (NHS numbers still link deterministically, however few)
    kinds = {
        c: k for c, k in kinds.items() if c in combined and combined[c].notna().sum() >= MIN_HELD
    }
    return compact(combined), kinds


def _plain(frame: pd.DataFrame) -> pd.DataFrame:
    """FRAME with Arrow text as Python objects (None where missing), for engines that need it."""
    out = frame.copy()
    for c in out.columns:
        if isinstance(out[c].dtype, pd.ArrowDtype):
            values = out[c].astype(object)
            out[c] = values.where(values.notna(), None)
    return out


def link(
    frames: Mapping[str, pd.DataFrame],
    threshold: float = 0.9,
    concepts: Mapping[str, str] | None = None,
) -> pd.DataFrame:
    """Link the person tables of FRAMES (source name -> table with record_id and any of
    given_name, family_name, date_of_birth, sex, postcode, address, place_of_birth,
    nhs_number), across them and within each: one source is deduplicated. CONCEPTS gives the
    data dictionary's concept of any other column (``{"ssn": "Person.social_security_number",
    "suburb": "Place.suburb", "full_name": "Person.name"}``), which decides how it is compared
    (:mod:`linkage.roles`).

    Returns one row per record: source, record_id, person_id, match_probability."""
    linked = link_records(frames, threshold, concepts=concepts)
    records = linked.records
    records["person_id"] = stable_ids(records, None).to_numpy()
    return records[["source", "record_id", "person_id", "match_probability"]]


def link_records(
    frames: Mapping[str, pd.DataFrame],
    threshold: float = 0.9,
    model: dict | None = None,
    train: bool = True,
    max_pairs: float = 2e6,
    engine: str = "duckdb",
    concepts: Mapping[str, str] | None = None,
) -> Linked:
    """The linkage itself: clusters, scored pairs and the model (see the module's docstring).
    The comparisons follow the columns the records hold, and the blocking rules and training
    sessions are chosen from counts of their pairs (:mod:`linkage.plan`); MODEL, a saved
    model, is used instead (trained again if TRAIN). ENGINE is where Splink runs: DuckDB in
    this process, or Spark (the optional extra)."""
    started = time.perf_counter()
    combined, kinds = _combined(frames, concepts)
    normalised = time.perf_counter() - started
    postcodes = combined.postcode.dropna()
    uk = len(postcodes) == 0 or combined.postcode_sector.notna().sum() >= len(postcodes) / 2
    plan = Plan(kinds, uk_postcodes=bool(uk))
    training = Training([], [], max_pairs) if model is None or train else None
    linked = run_splink(combined, model or plan, training, threshold, engine)
    linked.seconds = {"normalise": round(normalised, 1), **linked.seconds}
    return linked


def _duckdb():
    import duckdb
    from splink import DuckDBAPI

    # bound DuckDB's memory (it spills to disk beyond it) instead of its default of 80 % of RAM
    connection = duckdb.connect()
    connection.execute(f"SET memory_limit = '{MEMORY_LIMIT}'")
    connection.execute(f"SET temp_directory = '{tempfile.gettempdir()}/tre-duckdb-spill'")
    # the order of rows never matters here, and keeping it stops DuckDB spilling some operators
    connection.execute("SET preserve_insertion_order = false")
    return DuckDBAPI(connection)


def check_engine(engine: str) -> None:
    """Refuse, before any work, an engine that is unknown or cannot run here."""
    if engine not in ENGINES:
        raise LinkageError(f"unknown linkage engine {engine!r}; use one of {', '.join(ENGINES)}")
    if engine != "spark":
        return
    try:
        import pyspark  # noqa: F401
        import pyspark.sql  # noqa: F401
    except ImportError:
        raise LinkageError(
            "the Spark engine needs pyspark: install the kit's spark extra "
            "(pip install 'tre-kit[spark]') and Java 17 or later, or use --engine duckdb"
        ) from None
    import shutil

    if not (os.environ.get("JAVA_HOME") or shutil.which("java")):
        raise LinkageError("the Spark engine needs Java 17 or later (java is not on the PATH)")


def _spark():
    """Splink's Spark backend on a local Spark (``TRE_SPARK_MASTER`` names a cluster instead),
    with Splink's similarity functions registered from the jar it ships."""
    from pyspark.sql import SparkSession
    from splink import SparkAPI
    from splink.backends.spark import similarity_jar_location

    spill = Path(tempfile.gettempdir()) / "tre-spark"
    memory = MEMORY_LIMIT.lower().removesuffix("b")  # Java's form: 4g, not 4GB
    session = (
        SparkSession.builder.master(os.environ.get("TRE_SPARK_MASTER", "local[*]"))
        .appName("tre-linkage")
        .config("spark.jars", similarity_jar_location())
        .config("spark.driver.memory", os.environ.get("TRE_SPARK_MEMORY", memory))
        .config("spark.sql.shuffle.partitions", os.environ.get("TRE_SPARK_PARTITIONS", "8"))
        .config("spark.local.dir", str(spill))
        .config("spark.ui.enabled", "false")
        .getOrCreate()
    )
    session.sparkContext.setLogLevel("ERROR")
    session.sparkContext.setCheckpointDir(str(spill / "checkpoints"))
    return SparkAPI(spark_session=session)


NOTED_LOGGERS = ("splink", __name__)


@contextmanager
def library_notes() -> Iterator[list[str]]:
    """Collect the warnings Splink and the training log (``not observed in dataset, unable to
    train m value``, twenty blocks of them in `make demo`) instead of printing them: they are
    about the model, so they belong in the linkage report, not among the console's tidy steps.
    Yields the list, filled when the block ends: each distinct message once, with its count."""
    seen: Counter[str] = Counter()

    class Collect(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            seen[" ".join(record.getMessage().split())] += 1

    handler = Collect(logging.WARNING)
    loggers = [logging.getLogger(name) for name in NOTED_LOGGERS]
    # Splink's Linker adds a handler printing to stderr when its logger has none: ours is there
    # first, and one a previous Linker added is set aside meanwhile
    before = [(one.propagate, one.level, list(one.handlers)) for one in loggers]
    for one in loggers:
        one.handlers = [handler]
        one.propagate = False
        one.setLevel(logging.WARNING)
    notes: list[str] = []
    try:
        yield notes
    finally:
        for one, (propagate, level, handlers) in zip(loggers, before, strict=True):
            one.handlers = handlers
            one.propagate, one.level = propagate, level
        notes.extend(f"{m} ({n} times)" if n > 1 else m for m, n in sorted(seen.items()))


def run_splink(
    combined: pd.DataFrame,
    settings,
    training: Training | None,
    threshold: float,
    engine: str = "duckdb",
) -> Linked:
    """Train (when TRAINING is given), predict pairs at THRESHOLD and cluster them, with Splink
    on ENGINE (duckdb or spark: the same settings, blocking rules and training either way)."""

    check_engine(engine)
    with library_notes() as notes:
        linked = _run_splink(combined, settings, training, threshold, engine)
    linked.notes = notes
    return linked


def _pair_counter(people: pd.DataFrame) -> Callable[[tuple[str, ...]], float]:
    """How many pairs a blocking rule (its terms, see ``plan.sql``) makes among PEOPLE: the sum
    over its key values (each term present) of n(n - 1) / 2, by DuckDB; beyond COUNT_SAMPLE
    records, on a random sample of that many, scaled up by the ratio of the pairs."""
    n = len(people)
    if n > COUNT_SAMPLE:
        people = people.iloc[np.sort(np.random.default_rng(2).choice(n, COUNT_SAMPLE, False))]
    scale = n * (n - 1) / max(1, len(people) * (len(people) - 1))
    connection = _duckdb().duckdb_con
    connection.register("counted", pa.Table.from_pandas(people, preserve_index=False))

    def count(rule: tuple[str, ...]) -> float:
        present = " and ".join(f"({term}) is not null" for term in rule)
        found = connection.execute(
            f"select sum(n * (n - 1) / 2) from (select count(*) as n from counted "
            f"where {present} group by {', '.join(rule)})"
        ).fetchone()
        return float(found[0] or 0) * scale if found else 0.0

    return count


def _run_splink(combined, settings, training, threshold, engine) -> Linked:
    from splink import Linker

    api = _spark() if engine == "spark" else _duckdb()
    people = combined.drop(columns=["record_id", "source"])
    if engine == "duckdb":
        people = pa.Table.from_pandas(people, preserve_index=False)
    else:  # Spark is given Python objects
        people = _plain(people)

    def register(records, name: str):
        if engine != "duckdb":
            return api.register(records, dataset_display_name=name)
        # copied once into DuckDB's own storage: every blocking rule scans both sides of its
        # join, and a scan of Arrow converts the text again each time (blocking six million
        # records took 65 s from Arrow, 47 s from DuckDB's table)
        api.duckdb_con.register(f"{name}_arrow", records)
        api.duckdb_con.execute(f"create table {name} as select * from {name}_arrow")
        api.duckdb_con.unregister(f"{name}_arrow")
        return api.register(name, dataset_display_name=name)

    clock = [time.perf_counter()]
    seconds = {}

    def lap(phase: str) -> None:
        clock.append(time.perf_counter())
        seconds[phase] = round(clock[-1] - clock[-2], 1)

    plan = settings if isinstance(settings, Plan) else None
    if plan is not None:  # chosen from counts of the pairs, then fixed
        # the EM sessions run on the training sample: their budget is of its pairs
        sampled = min(1.0, TRAIN_RECORDS / len(people)) ** 2
        counter = _pair_counter(combined.drop(columns=["record_id", "source"]))
        plan.choose(counter, len(people), EM_PAIRS / sampled)
        settings = plan.settings()
        if training is not None:
            training = plan.training(training.max_pairs)
        lap("plan")
    table = register(people, "people")
    linker = Linker(table, settings, log_level=logging.WARNING)
    if training is not None and len(people) > TRAIN_RECORDS:
        # the model's parameters (the prior, m and u) do not depend on how many records there
        # are: train on a random sample of them, then score every pair with that model
        rows = np.sort(np.random.default_rng(1).choice(len(people), TRAIN_RECORDS, replace=False))
        sample = people.take(rows) if isinstance(people, pa.Table) else people.iloc[rows]
        trainer = Linker(
            register(sample, "training_sample"),
            settings,
            log_level=logging.WARNING,
        )
        _train(trainer, training)
        linker = Linker(table, trainer.misc.save_model_to_json(), log_level=logging.WARNING)
    elif training is not None:
        _train(linker, training)
    lap("train")
    # beyond CHUNK_RECORDS records, DuckDB scores the pairs in parts, so that the blocked pairs
    # of millions of records need not be held at once (it ran out of memory at six million)
    chunks = max(1, -(-len(combined) // CHUNK_RECORDS)) if engine == "duckdb" else 1
    scored = linker.inference.predict(
        threshold_match_probability=min(threshold, REVIEW_FLOOR),
        num_chunks_left=chunks,
        num_chunks_right=1,
    )
    lap("predict")

    def query(sql: str) -> pd.DataFrame:  # on the engine: only what is needed comes back
        return linker.misc.query_sql(sql.format(t=scored.physical_name), output_type="pandas")

    cut = float(threshold)
    pairs = query(
        f"select unique_id_l, unique_id_r, match_probability from {{t}} "
        f"where match_probability >= {cut!r}"
    )
    weights = query("select floor(match_weight) as weight, count(*) as pairs from {t} group by 1")
    borderline = query(
        "select unique_id_l, unique_id_r, match_probability, match_weight from {t} "
        f"order by abs(match_probability - {cut!r}) limit {REVIEW_SAMPLE}"
    )
    lap("query")
    records = _cluster(combined, pairs)
    lap("cluster")
    return Linked(
        records,
        pairs,
        linker.misc.save_model_to_json(),
        combined,
        weights.sort_values("weight").reset_index(drop=True),
        borderline,
        seconds,
    )


def _train(linker, training: Training) -> None:
    """Splink's training: the prior from deterministic rules, u by random sampling, m by EM.
    A session whose blocking rule finds no pairs in these data (a source without postcodes,
    say) is skipped, and the comparisons it would have trained keep Splink's defaults or what
    the other sessions learnt."""
    from splink.internals.exceptions import EMTrainingException, SplinkException

    try:
        linker.training.estimate_probability_two_random_records_match(
            training.deterministic, recall=0.8
        )
    except SplinkException as exc:  # no deterministic pair at all: keep Splink's prior
        logging.getLogger(__name__).warning("prior not estimated: %s", str(exc)[:200])
    linker.training.estimate_u_using_random_sampling(max_pairs=training.max_pairs, seed=1)
    for rule in training.em:
        try:
            linker.training.estimate_parameters_using_expectation_maximisation(
                rule, fix_probability_two_random_records_match=True
            )
        except (EMTrainingException, ValueError) as exc:  # no pairs, or an m underflowed to 0
            logging.getLogger(__name__).warning("EM session skipped: %s", str(exc)[:200])


def _cluster(combined: pd.DataFrame, pairs: pd.DataFrame) -> pd.DataFrame:
    n = len(combined)
    # deterministic: records that share a valid NHS number are the same person (each record is
    # joined to the next one with its number)
    ids = combined.unique_id.to_numpy()  # 0 to n - 1, the records' positions
    codes = pd.factorize(combined.nhs_number, use_na_sentinel=True)[0]
    numbered = np.flatnonzero(codes >= 0)
    order = numbered[np.argsort(codes[numbered], kind="stable")]
    same = codes[order[1:]] == codes[order[:-1]]
    left = np.concatenate([pairs.unique_id_l.to_numpy(), ids[order[:-1][same]]])
    right = np.concatenate([pairs.unique_id_r.to_numpy(), ids[order[1:][same]]])
    graph = coo_array((np.ones(len(left), dtype=bool), (left, right)), shape=(n, n))
    _, component = connected_components(graph, directed=False)
    best = np.zeros(n)
    if len(pairs):
        probability = pairs.match_probability.to_numpy()
        np.maximum.at(best, pairs.unique_id_l.to_numpy(), probability)
        np.maximum.at(best, pairs.unique_id_r.to_numpy(), probability)
    shared = numbered[np.bincount(codes[numbered])[codes[numbered]] > 1]
    best[ids[shared]] = 1.0
    return pd.DataFrame(
        {
            "source": combined.source.to_numpy(),
            "record_id": combined.record_id.to_numpy(),
            "cluster": component,
            "match_probability": best,
        }
    )


def stable_ids(clusters: pd.DataFrame, previous: pd.DataFrame | None) -> pd.Series:
    """Person ids for CLUSTERS that keep the ids of PREVIOUS (source, record_id, person_id):
    each cluster takes the id most of its known records had (largest clusters choose first);
    the others get new ids above every id used before."""
    if previous is None or previous.empty:
        return pd.Series(
            clusters.cluster.rank(method="dense").astype(int).to_numpy(), index=clusters.index
        )
    known = clusters.merge(previous, on=["source", "record_id"], how="left")
    votes = (
        known.dropna(subset=["person_id"])
        .groupby(["cluster", "person_id"])
        .size()
        .reset_index(name="votes")
        .sort_values(["votes", "cluster"], ascending=[False, True])
    )
    chosen: dict[int, int] = {}
    taken: set[int] = set()
    for cluster, person, _ in votes.itertuples(index=False):
        if cluster in chosen or person in taken:
            continue
        chosen[int(cluster)] = int(person)
        taken.add(int(person))
    next_id = int(previous.person_id.max()) + 1
    for cluster in sorted(set(clusters.cluster) - set(chosen)):
        chosen[int(cluster)] = next_id
        next_id += 1
    return clusters.cluster.map(chosen)


def evaluate(records: pd.DataFrame, truth: pd.DataFrame) -> dict[str, float]:
    """Pairwise precision and recall of cross-source links against TRUTH
    (source, record_id, true_person). Pairs are counted, not listed: a group of n records with
    c_s from each source holds (n^2 - sum of c_s^2) / 2 cross-source pairs."""
    merged = records.merge(truth, on=["source", "record_id"])

    def pairs(keys: list[str]) -> int:
        sizes = merged.groupby(keys, sort=False).size().to_numpy(dtype=np.int64)
        within = merged.groupby([*keys, "source"], sort=False).size().to_numpy(dtype=np.int64)
        return int(((sizes**2).sum() - (within**2).sum()) // 2)

    predicted, actual = pairs(["person_id"]), pairs(["true_person"])
    true_positive = pairs(["person_id", "true_person"])
    return {
        "precision": true_positive / predicted if predicted else 1.0,
        "recall": true_positive / actual if actual else 1.0,
        "predicted_pairs": predicted,
        "true_pairs": actual,
    }
