//! Scores the token tagger on labelled sentences in a JSON file.
//!
//! ```text
//! cargo run -p governance-llm --example eval_tagger -- [--model DIR] [--show-errors] FILE...
//! ```
//!
//! Each FILE is a JSON list of `{"full_text": ..., "spans": [{"entity_type": ...,
//! "start_position": ..., "end_position": ...}]}`, with positions counted in characters.
//! Gold spans of the types PERSON, STREET_ADDRESS, GPE and ORGANIZATION are scored; spans of
//! other types are ignored. Scoring is span-level and type-agnostic: a predicted span matches
//! a gold span when their intersection over union is at least 0.5, pairs are matched one to
//! one, greedily by descending overlap, and every unmatched prediction is a false positive.
//! The model folder defaults to `governance-llm/models/tagger`.
//!
//! With `--show-errors`, each prediction is printed on a line of its own as `OK` (matched) or
//! `FP` (unmatched), with its record number, label, mean tag probability and text. Each
//! missed gold span is printed as `FN` with its record number, type and text.

#![expect(
    clippy::print_stdout,
    clippy::print_stderr,
    reason = "an example program reports to its terminal"
)]

use std::collections::BTreeMap;
use std::ops::Range;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use governance_llm::Tagger;
use serde::Deserialize;

const USAGE: &str = "usage: eval_tagger [--model DIR] [--show-errors] FILE...";

/// Gold entity types the tagger is responsible for.
const SCORED_TYPES: [&str; 4] = ["PERSON", "STREET_ADDRESS", "GPE", "ORGANIZATION"];

#[derive(Deserialize)]
struct Record {
    full_text: String,
    spans: Vec<GoldSpan>,
}

#[derive(Deserialize)]
struct GoldSpan {
    entity_type: String,
    start_position: usize,
    end_position: usize,
}

fn main() -> ExitCode {
    let mut model = PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/models/tagger"));
    let mut files = Vec::new();
    let mut show_errors = false;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--help" | "-h" => {
                println!("{USAGE}");
                return ExitCode::SUCCESS;
            }
            "--show-errors" => show_errors = true,
            "--model" => match args.next() {
                Some(dir) => model = PathBuf::from(dir),
                None => {
                    eprintln!("--model needs a folder\n{USAGE}");
                    return ExitCode::FAILURE;
                }
            },
            _ => files.push(PathBuf::from(arg)),
        }
    }
    if files.is_empty() {
        eprintln!("no input file given\n{USAGE}");
        return ExitCode::FAILURE;
    }
    let tagger = match Tagger::load(&model) {
        Ok(tagger) => tagger,
        Err(error) => {
            eprintln!("error: {error}");
            return ExitCode::FAILURE;
        }
    };
    for file in files {
        if let Err(message) = score_file(&tagger, &file, show_errors) {
            eprintln!("error: {}: {message}", file.display());
            return ExitCode::FAILURE;
        }
    }
    ExitCode::SUCCESS
}

fn score_file(tagger: &Tagger, file: &PathBuf, show_errors: bool) -> Result<(), String> {
    let text = std::fs::read_to_string(file).map_err(|error| format!("cannot read: {error}"))?;
    let records: Vec<Record> =
        serde_json::from_str(&text).map_err(|error| format!("invalid JSON: {error}"))?;
    let texts: Vec<&str> = records
        .iter()
        .map(|record| record.full_text.as_str())
        .collect();

    let started = Instant::now();
    let predicted = tagger.tag_batch(&texts);
    let seconds = started.elapsed().as_secs_f64();

    let (mut matched, mut predicted_total, mut gold_total) = (0usize, 0usize, 0usize);
    let mut per_type: BTreeMap<String, (usize, usize)> = BTreeMap::new();
    for (index, (record, spans)) in records.iter().zip(&predicted).enumerate() {
        let mut gold = Vec::new();
        for span in &record.spans {
            if !SCORED_TYPES.contains(&span.entity_type.as_str()) {
                continue;
            }
            let range = byte_range(&record.full_text, span.start_position..span.end_position)
                .ok_or_else(|| {
                    format!(
                        "record {index}: span {}..{} lies outside its text of {} characters",
                        span.start_position,
                        span.end_position,
                        record.full_text.chars().count()
                    )
                })?;
            gold.push((range, span.entity_type.as_str()));
        }
        let predictions: Vec<Range<usize>> = spans.iter().map(|span| span.range()).collect();
        let pairs = match_one_to_one(&predictions, &gold);
        if show_errors {
            let text = &record.full_text;
            for (position, span) in spans.iter().enumerate() {
                let verdict = if pairs.iter().any(|&(p, _)| p == position) {
                    "OK"
                } else {
                    "FP"
                };
                println!(
                    "{verdict} {index} {} {:.2} {:?}",
                    span.label.as_str(),
                    span.score,
                    &text[span.range()]
                );
            }
            for (position, (range, kind)) in gold.iter().enumerate() {
                if !pairs.iter().any(|&(_, g)| g == position) {
                    println!("FN {index} {kind} {:?}", &text[range.clone()]);
                }
            }
        }
        matched += pairs.len();
        predicted_total += predictions.len();
        gold_total += gold.len();
        for (position, (_, kind)) in gold.iter().enumerate() {
            let entry = per_type.entry((*kind).to_string()).or_default();
            entry.1 += 1;
            if pairs.iter().any(|&(_, gold_index)| gold_index == position) {
                entry.0 += 1;
            }
        }
    }

    let precision = ratio(matched, predicted_total);
    let recall = ratio(matched, gold_total);
    let f2 = if precision + recall == 0.0 {
        0.0
    } else {
        5.0 * precision * recall / (4.0 * precision + recall)
    };
    println!("{}: {} sentences", file.display(), records.len());
    println!(
        "  type-agnostic, IoU >= 0.5: precision {precision:.3} recall {recall:.3} F2 {f2:.3} \
         ({matched} matched, {predicted_total} predicted, {gold_total} gold)"
    );
    for (kind, (found, total)) in &per_type {
        println!(
            "  recall {kind:<15} {:.3} ({found} of {total})",
            ratio(*found, *total)
        );
    }
    println!(
        "  {:.0} sentences/s ({seconds:.2} s, one thread of this build)",
        records.len() as f64 / seconds.max(1e-9)
    );
    Ok(())
}

/// Converts a character range to a byte range of `text`; `None` when it lies outside.
fn byte_range(text: &str, characters: Range<usize>) -> Option<Range<usize>> {
    let mut offsets = text
        .char_indices()
        .map(|(offset, _)| offset)
        .chain([text.len()]);
    let start = offsets.clone().nth(characters.start)?;
    let end = offsets.nth(characters.end)?;
    (start <= end).then_some(start..end)
}

/// Returns (prediction, gold) index pairs with IoU at least 0.5, matched one to one, greedily
/// by descending IoU.
fn match_one_to_one(
    predicted: &[Range<usize>],
    gold: &[(Range<usize>, &str)],
) -> Vec<(usize, usize)> {
    let mut candidates = Vec::new();
    for (p, prediction) in predicted.iter().enumerate() {
        for (g, (truth, _)) in gold.iter().enumerate() {
            let overlap = iou(prediction, truth);
            if overlap >= 0.5 {
                candidates.push((overlap, p, g));
            }
        }
    }
    candidates.sort_by(|left, right| right.0.total_cmp(&left.0));
    let mut used_predicted = vec![false; predicted.len()];
    let mut used_gold = vec![false; gold.len()];
    let mut pairs = Vec::new();
    for (_, p, g) in candidates {
        if !used_predicted[p] && !used_gold[g] {
            used_predicted[p] = true;
            used_gold[g] = true;
            pairs.push((p, g));
        }
    }
    pairs
}

fn iou(left: &Range<usize>, right: &Range<usize>) -> f64 {
    let intersection = left
        .end
        .min(right.end)
        .saturating_sub(left.start.max(right.start));
    let union = left.end.max(right.end) - left.start.min(right.start);
    if union == 0 {
        0.0
    } else {
        intersection as f64 / union as f64
    }
}

fn ratio(part: usize, whole: usize) -> f64 {
    if whole == 0 {
        0.0
    } else {
        part as f64 / whole as f64
    }
}
