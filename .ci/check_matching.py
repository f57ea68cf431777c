"""Fails when the matching benchmark's F1 falls below the recorded figures.

usage: check_matching.py BASELINE.json FIGURES.json

Both files are lists of {dataset, mode, precision, recall, f1, seconds}, as
`bench_matching --json` writes them. F1 may drop at most 0.02 below the recorded figure of
each data set and mode that the baseline lists.
"""

import json
import sys

F1_TOLERANCE = 0.02

baseline_path, figures_path = sys.argv[1], sys.argv[2]
with open(baseline_path, encoding="utf-8") as handle:
    baseline = {(entry["dataset"], entry["mode"]): entry for entry in json.load(handle)}
with open(figures_path, encoding="utf-8") as handle:
    figures = {(entry["dataset"], entry["mode"]): entry for entry in json.load(handle)}

failures = []
for key, recorded in sorted(baseline.items()):
    name = f"{key[0]} {key[1]}"
    entry = figures.get(key)
    if entry is None:
        failures.append(f"{name}: not in {figures_path} (entries there: {sorted(figures)})")
        continue
    floor = recorded["f1"] - F1_TOLERANCE
    if entry["f1"] < floor:
        failures.append(
            f"{name}: F1 {entry['f1']:.3f} is below {floor:.3f} (recorded {recorded['f1']:.3f})"
        )
    print(f"{name}: F1 {entry['f1']:.3f} (recorded {recorded['f1']:.3f})")

if failures:
    sys.exit("matching benchmark check failed:\n  " + "\n  ".join(failures))
print("matching benchmark ok")
