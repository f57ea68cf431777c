"""Fails unless a closed-loop summary.json exists, every stage keeps its row count and the
audit log verified."""

import json
import sys

path = sys.argv[1]
try:
    with open(path, encoding="utf-8") as handle:
        summary = json.load(handle)
except OSError as error:
    sys.exit(f"summary missing: {path}: {error}")

failures = []
if summary.get("audit_verified") is not True:
    failures.append("audit_verified is not true")
stages = summary.get("stages") or []
if not stages:
    failures.append("no stages in summary")
for stage in stages:
    accounted = stage["rows_out"] + stage["rows_quarantined"] + stage["rows_merged"]
    if stage["rows_in"] != accounted:
        failures.append(
            f"stage {stage['name']}: {stage['rows_in']} in != {accounted} out+quarantined+merged"
        )
if failures:
    sys.exit("summary check failed:\n  " + "\n  ".join(failures))
print(f"summary ok: {len(stages)} stages, audit verified, {summary.get('rows_delivered')} rows delivered")
