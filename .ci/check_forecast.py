"""Fails when the forecasting benchmark's quick-mode figures fall below the set floors.

usage: check_forecast.py FIGURES.json

FIGURES.json is the list that `bench_forecast --quick --json` writes, one entry per station:
{station, mae, seasonal_naive_mae, ar_mae, coverage, nominal_coverage, ...}.

Checks:
- every station's MAE is below its seasonal-naive MAE;
- the mean relative improvement over seasonal naive is at least MIN_MEAN_IMPROVEMENT;
- the mean interval coverage is within COVERAGE_TOLERANCE of the nominal coverage.

The floors sit below the quick-mode figures recorded in BENCHMARKS.md for the Beijing data
(mean improvement 0.159, mean coverage 0.789 of a nominal 0.80), so a drop of about a
quarter of the gain fails the check. The full run's goal of a 0.20 improvement is not met
yet (see BENCHMARKS.md), so it is not a floor here.
"""

import json
import sys

MIN_MEAN_IMPROVEMENT = 0.12
COVERAGE_TOLERANCE = 0.05

with open(sys.argv[1], encoding="utf-8") as handle:
    figures = json.load(handle)

failures = []
if not figures:
    failures.append(f"{sys.argv[1]} lists no station")
improvements = []
coverages = []
for entry in figures:
    station = entry["station"]
    improvement = 1.0 - entry["mae"] / entry["seasonal_naive_mae"]
    improvements.append(improvement)
    coverages.append(entry["coverage"])
    if entry["mae"] >= entry["seasonal_naive_mae"]:
        failures.append(
            f"{station}: MAE {entry['mae']:.2f} is not below seasonal naive "
            f"{entry['seasonal_naive_mae']:.2f}"
        )
    print(
        f"{station}: MAE {entry['mae']:.2f}, seasonal naive {entry['seasonal_naive_mae']:.2f}, "
        f"AR {entry['ar_mae']:.2f}, coverage {entry['coverage']:.3f}"
    )

if figures:
    mean_improvement = sum(improvements) / len(improvements)
    mean_coverage = sum(coverages) / len(coverages)
    nominal = figures[0]["nominal_coverage"]
    if mean_improvement < MIN_MEAN_IMPROVEMENT:
        failures.append(
            f"mean improvement over seasonal naive {mean_improvement:.3f} is below "
            f"{MIN_MEAN_IMPROVEMENT}"
        )
    if abs(mean_coverage - nominal) > COVERAGE_TOLERANCE:
        failures.append(
            f"mean coverage {mean_coverage:.3f} is more than {COVERAGE_TOLERANCE} from the "
            f"nominal {nominal}"
        )
    print(f"mean improvement {mean_improvement:.3f}, mean coverage {mean_coverage:.3f}")

if failures:
    sys.exit("forecast benchmark check failed:\n  " + "\n  ".join(failures))
print("forecast benchmark ok")
