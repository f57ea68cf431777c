"""Fails when the PII benchmark's figures fall below the recorded ones.

usage: check_pii.py FIGURES.json BASELINE.json

F2 may drop at most 0.03 below the recorded figure of each set the baseline names. On sets
whose baseline gives `min_validated`, the precision and recall of validated identifiers must
reach it.
"""

import json
import sys

F2_TOLERANCE = 0.03

figures_path, baseline_path = sys.argv[1], sys.argv[2]
with open(figures_path, encoding="utf-8") as handle:
    figures = {entry["file"]: entry for entry in json.load(handle)}
with open(baseline_path, encoding="utf-8") as handle:
    baseline = json.load(handle)

failures = []
for name, recorded in baseline.items():
    entry = figures.get(name)
    if entry is None:
        failures.append(f"{name}: not in {figures_path} (sets there: {sorted(figures)})")
        continue
    floor = recorded["f2"] - F2_TOLERANCE
    if entry["f2"] < floor:
        failures.append(f"{name}: F2 {entry['f2']:.3f} is below {floor:.3f} (recorded {recorded['f2']:.3f})")
    minimum = recorded.get("min_validated")
    if minimum is not None:
        for key in ("validated_precision", "validated_recall"):
            if entry[key] < minimum:
                failures.append(f"{name}: {key} {entry[key]:.3f} is below {minimum}")
    print(f"{name}: F2 {entry['f2']:.3f} (recorded {recorded['f2']:.3f})")

if failures:
    sys.exit("PII benchmark check failed:\n  " + "\n  ".join(failures))
print("PII benchmark ok")
