"""Probabilistic record linkage of a home (left) and a destination (right) file with Splink.

`link(left, right)` derives the compared columns (`features`), builds the Splink model of a
profile (`settings`), trains it when the files are large enough to learn from (u by random
sampling, m by expectation maximisation, Fellegi–Sunter), scores the blocked pairs, drops
the pairs the profile's guard refuses (twins) and keeps, for each right record, its most
probable left record. The backend is DuckDB, or Spark for national scale: the same model.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

import pandas as pd
import pyarrow as pa
from splink import DuckDBAPI, Linker, SettingsCreator

from shouhu.linkage import features, settings
from shouhu.linkage.settings import Profile

Backend = Literal["duckdb", "spark"]
DEFAULT_THRESHOLD = 0.9
# Below this many records on a side the priors of `settings` are used as they are: EM on a
# handful of pairs learns nothing reliable.
MIN_RECORDS_TO_TRAIN = 2_000

FEATURES: dict[str, Callable[[pd.DataFrame], pd.DataFrame]] = {
    "chinese": features.chinese_features,
    "plain": lambda records: records.rename(columns={"record_id": "unique_id"}),
    "western": features.western_features,
    "western-no-id": features.western_features,
}


@dataclass(frozen=True)
class Options:
    threshold: float = DEFAULT_THRESHOLD
    backend: Backend = "duckdb"
    train: bool | None = None  # None: when both sides have MIN_RECORDS_TO_TRAIN records
    seed: int = 14
    spark: Any = None  # a SparkSession for the spark backend (one is made if None)
    # Pairs (left_id, right_id) a reviewer confirmed: the m probabilities are estimated from
    # them as well when there are at least MIN_LABELS (`linkage.matching` feeds them back).
    labels: tuple[tuple[str, str], ...] = ()
    evidence: bool = False  # `link` also returns each pair's comparison levels (gamma_*)


MIN_LABELS = 20


def link(
    left: pd.DataFrame,
    right: pd.DataFrame,
    *,
    profile: Profile | None = None,
    options: Options | None = None,
) -> pd.DataFrame:
    """Links as `left_id, right_id, match_probability`, each right_id at most once."""
    profile = profile or settings.chinese()
    options = options or Options()
    linker = _trained(left, right, profile, options)
    scored = linker.inference.predict(
        threshold_match_probability=options.threshold, warning_mode="never"
    )
    sql = _links_sql(scored.physical_name, profile, evidence=options.evidence)
    links = linker.misc.query_sql(sql, "pandas")  # type: ignore[no-untyped-call]
    scored.drop_table_from_database_and_remove_from_cache()
    if options.evidence:
        gammas = [c for c in links.columns if c.startswith("gamma_")]
        links = links[["left_id", "right_id", "match_probability", *gammas]]
    return links.sort_values(["left_id", "right_id"]).reset_index(drop=True)


def compare(
    left: pd.DataFrame,
    right: pd.DataFrame,
    *,
    profile: Profile | None = None,
    options: Options | None = None,
) -> pd.DataFrame:
    """Every blocked pair with its match probability and comparison levels (`gamma_*`:
    -1 missing, 0 different, higher is closer), before the guard and the one-per-right
    rule: what a reviewer (or a test) reads to see why a pair scored as it did."""
    profile = profile or settings.chinese()
    options = options or Options()
    linker = _trained(left, right, profile, options)
    scored = linker.inference.predict(warning_mode="never")
    frame = scored.as_pandas_dataframe()  # type: ignore[no-untyped-call]
    scored.drop_table_from_database_and_remove_from_cache()
    left_first = frame["source_dataset_l"] == "a_left"
    frame["left_id"] = frame["unique_id_l"].where(left_first, frame["unique_id_r"])
    frame["right_id"] = frame["unique_id_r"].where(left_first, frame["unique_id_l"])
    gammas = [c for c in frame.columns if c.startswith("gamma_")]
    return frame[["left_id", "right_id", "match_weight", "match_probability", *gammas]]


def _trained(left: pd.DataFrame, right: pd.DataFrame, profile: Profile, options: Options) -> Linker:
    derive = FEATURES[profile.name]
    left_table, right_table = derive(left), derive(right)
    linker = _linker(profile, left_table, right_table, options)
    train = options.train
    if train is None:
        train = min(len(left_table), len(right_table)) >= MIN_RECORDS_TO_TRAIN
    if train:
        _train(linker, profile, options)
    if len(options.labels) >= MIN_LABELS:
        _learn_from_labels(linker, options.labels)
    return linker


def _learn_from_labels(linker: Linker, labels: tuple[tuple[str, str], ...]) -> None:
    """The m probabilities from the pairs reviewers confirmed (Splink's pairwise labels)."""
    table = pd.DataFrame(
        {
            "source_dataset_l": "a_left",
            "unique_id_l": [left for left, _ in labels],
            "source_dataset_r": "b_right",
            "unique_id_r": [right for _, right in labels],
        }
    )
    registered = linker.table_management.register_table(table, "shouhu_labels", overwrite=True)
    linker.training.estimate_m_from_pairwise_labels(registered)  # type: ignore[no-untyped-call]


def _links_sql(table: str, profile: Profile, *, evidence: bool = False) -> str:
    """The pairs the guard allows, and for each right record its most probable left one
    (ties: the smaller left_id). Plain SQL, for DuckDB and Spark alike. With `evidence`,
    every column of the scored pairs comes along (the comparison levels among them)."""
    allowed = f"not ({profile.guard})" if profile.guard else "true"
    left = "case when source_dataset_l = 'a_left' then unique_id_l else unique_id_r end"
    right = "case when source_dataset_l = 'a_left' then unique_id_r else unique_id_l end"
    columns = "*" if evidence else "left_id, right_id, match_probability"
    scored = (
        f"*, {left} as left_id, {right} as right_id"
        if evidence
        else (f"{left} as left_id, {right} as right_id, match_probability")
    )
    # The table name and conditions come from this package and Splink, never from input.
    return f"""
        select {columns} from (
            select {columns}, row_number() over (
                partition by right_id order by match_probability desc, left_id
            ) as rank
            from (select {scored} from {table} where {allowed}) as pairs
        ) as ranked
        where rank = 1
    """  # noqa: S608


def _linker(profile: Profile, left: pd.DataFrame, right: pd.DataFrame, options: Options) -> Linker:
    creator = SettingsCreator(
        link_type="link_only",
        comparisons=profile.comparisons,  # type: ignore[arg-type]
        blocking_rules_to_generate_predictions=profile.blocking,  # type: ignore[arg-type]
        retain_matching_columns=True,
        retain_intermediate_calculation_columns=False,
        probability_two_random_records_match=1 / max(len(left), len(right), 10),
    )
    db_api = _db_api(options)
    tables = [
        db_api.register(_table(left, options), dataset_display_name="a_left"),
        db_api.register(_table(right, options), dataset_display_name="b_right"),
    ]
    return Linker(tables, creator, log_level=logging.WARNING)


def _db_api(options: Options) -> Any:
    if options.backend == "duckdb":
        return DuckDBAPI()
    from splink import SparkAPI

    return SparkAPI(  # type: ignore[no-untyped-call]
        spark_session=options.spark or _spark_session()
    )


def _spark_session() -> Any:
    import tempfile

    from pyspark.sql import SparkSession
    from splink.backends.spark import similarity_jar_location

    spark = (
        SparkSession.builder.master("local[2]")
        .config("spark.jars", similarity_jar_location())  # Splink's string distances
        .appName("shouhu-linkage")
        .config("spark.sql.shuffle.partitions", "8")
        .config("spark.driver.memory", "6g")
        .getOrCreate()
    )
    # Splink breaks long lineages with checkpoints.
    spark.sparkContext.setCheckpointDir(tempfile.mkdtemp(prefix="shouhu-spark-"))
    return spark


def _table(frame: pd.DataFrame, options: Options) -> Any:
    if options.backend == "spark":
        spark = options.spark or _spark_session()
        return spark.createDataFrame(frame.astype(object).where(frame.notna(), None))
    return pa.Table.from_pandas(frame, preserve_index=False)


def _train(linker: Linker, profile: Profile, options: Options) -> None:
    training = linker.training
    training.estimate_probability_two_random_records_match(profile.deterministic, recall=0.9)  # type: ignore[arg-type]
    training.estimate_u_using_random_sampling(max_pairs=3e6, seed=options.seed)
    for rule in profile.training:
        training.estimate_parameters_using_expectation_maximisation(
            rule, estimate_without_term_frequencies=True, max_pairs=2e6
        )
