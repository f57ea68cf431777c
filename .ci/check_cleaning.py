"""Fails when the cleaning benchmark's figures fall below the recorded ones.

usage: check_cleaning.py FIGURES.json BASELINE.json

FIGURES.json is what `bench_cleaning --json` writes. Detection F1 and end-to-end correction
F1 may each drop at most 0.05 below the figure the baseline records for a data set.
"""

import json
import sys

F1_TOLERANCE = 0.05

figures_path, baseline_path = sys.argv[1], sys.argv[2]
with open(figures_path, encoding="utf-8") as handle:
    figures = {entry["dataset"]: entry for entry in json.load(handle)}
with open(baseline_path, encoding="utf-8") as handle:
    baseline = json.load(handle)

failures = []
for name, recorded in baseline.items():
    entry = figures.get(name)
    if entry is None:
        failures.append(f"{name}: not in {figures_path} (sets there: {sorted(figures)})")
        continue
    for task in ("detection", "correction"):
        floor = recorded[task] - F1_TOLERANCE
        measured = entry[task]["f1"]
        if measured < floor:
            failures.append(
                f"{name}: {task} F1 {measured:.3f} is below {floor:.3f} (recorded {recorded[task]:.3f})"
            )
        print(f"{name}: {task} F1 {measured:.3f} (recorded {recorded[task]:.3f})")

if failures:
    sys.exit("cleaning benchmark check failed:\n  " + "\n  ".join(failures))
print("cleaning benchmark ok")
