"""Fails when the sentence encoder drifts from the numpy reference.

usage: check_encoder.py FIGURES.json

FIGURES.json is the output of `bench_encoder --json`. The check needs at least 100 sentences
and a cosine of at least 0.999 between the Rust and the reference embedding of every one.
"""

import json
import sys

MIN_COSINE = 0.999
MIN_SENTENCES = 100

with open(sys.argv[1], encoding="utf-8") as handle:
    figures = json.load(handle)

failures = []
if figures["sentences"] < MIN_SENTENCES:
    failures.append(f"only {figures['sentences']} sentences were embedded; expected at least {MIN_SENTENCES}")
if figures["min_cosine"] < MIN_COSINE:
    failures.append(f"min cosine {figures['min_cosine']:.6f} is below {MIN_COSINE}")
print(
    f"encoder: {figures['sentences']} sentences, min cosine {figures['min_cosine']:.6f}, "
    f"{figures['sentences_per_second']:.1f} sentences/s "
    f"(numpy reference {figures['reference_sentences_per_second']:.1f})"
)

if failures:
    sys.exit("encoder check failed:\n  " + "\n  ".join(failures))
print("encoder check ok")
