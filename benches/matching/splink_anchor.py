"""Deduplicate the person records of the scale benchmark with Splink, as the anchor.

Usage: splink_anchor.py RECORDS.csv OUT.json

The CSV contains the columns the Rust pipeline matches on (record_id, entity_id, first_name,
last_name, date_of_birth, phone, street, city), already standardised the same way. Splink
runs on DuckDB in this process with the same blocking rules and comparisons as the Rust
pipeline: u from random pairs, then EM on two blocking rules (first and last name; date of birth and city), prediction at match
probability 0.5 and connected components at 0.5. The result, written as JSON, is
{seconds, peak_rss_mb, f1}: wall time from reading the CSV to the clusters, peak resident
memory of this process (getrusage), and pairwise F1 of the clusters against entity_id.

Set up with: python3 -m venv VENV && VENV/bin/pip install splink
"""

import json
import logging
import resource
import sys
import time

import duckdb
import splink.comparison_library as cl
from splink import DuckDBAPI, Linker, SettingsCreator, block_on


def pairs_within(counts):
    return sum(n * (n - 1) // 2 for n in counts)


def cluster_f1(connection, clusters_table):
    """Pairwise F1 of clusters against entity_id, from the contingency counts."""
    predicted = pairs_within(
        n for (n,) in connection.execute(
            f"select count(*) from {clusters_table} group by cluster_id").fetchall())
    truth = pairs_within(
        n for (n,) in connection.execute(
            f"select count(*) from {clusters_table} group by entity_id").fetchall())
    common = pairs_within(
        n for (n,) in connection.execute(
            f"select count(*) from {clusters_table} group by cluster_id, entity_id").fetchall())
    precision = common / predicted if predicted else 0.0
    recall = common / truth if truth else 1.0
    if precision + recall == 0:
        return 0.0
    return 2 * precision * recall / (precision + recall)


def main():
    if len(sys.argv) != 3:
        sys.exit("usage: splink_anchor.py RECORDS.csv OUT.json")
    records, out = sys.argv[1], sys.argv[2]
    logging.getLogger("splink").setLevel(logging.WARNING)
    started = time.perf_counter()

    connection = duckdb.connect()
    connection.execute(
        "create table persons as select * from read_csv(?, header = true, all_varchar = true)",
        [records],
    )
    db_api = DuckDBAPI(connection)
    persons = db_api.register("persons")
    settings = SettingsCreator(
        link_type="dedupe_only",
        unique_id_column_name="record_id",
        blocking_rules_to_generate_predictions=[
            block_on("first_name", "last_name"),
            block_on("date_of_birth", "city"),
            block_on("phone"),
        ],
        comparisons=[
            cl.JaroWinklerAtThresholds("first_name", [0.92, 0.8]),
            cl.JaroWinklerAtThresholds("last_name", [0.92, 0.8]),
            cl.LevenshteinAtThresholds("date_of_birth", [1, 2]),
            cl.LevenshteinAtThresholds("phone", [1, 2]),
            cl.JaroWinklerAtThresholds("street", [0.92, 0.8]),
            cl.ExactMatch("city"),
        ],
        retain_intermediate_calculation_columns=False,
        retain_matching_columns=False,
    )
    linker = Linker(persons, settings)
    linker.training.estimate_probability_two_random_records_match(
        [block_on("first_name", "last_name", "date_of_birth")], recall=0.7)
    linker.training.estimate_u_using_random_sampling(max_pairs=1e6, seed=7)
    linker.training.estimate_parameters_using_expectation_maximisation(
        block_on("first_name", "last_name"))
    linker.training.estimate_parameters_using_expectation_maximisation(
        block_on("date_of_birth", "city"))
    predictions = linker.inference.predict(threshold_match_probability=0.5)
    clusters = linker.clustering.cluster_pairwise_predictions_at_threshold(
        predictions, threshold_match_probability=0.5)
    connection.execute(
        "create table scored as select c.cluster_id, p.entity_id from "
        f"{clusters.physical_name} c join persons p on c.record_id = p.record_id")
    seconds = time.perf_counter() - started
    f1 = cluster_f1(connection, "scored")
    peak_rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
    with open(out, "w", encoding="utf-8") as handle:
        json.dump({"seconds": seconds, "peak_rss_mb": peak_rss_mb, "f1": f1}, handle)


if __name__ == "__main__":
    main()
