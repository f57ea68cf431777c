//! Command-line options of the closed-loop example.

use std::path::PathBuf;

pub const USAGE: &str = "\
usage: closed_loop [--input DIR] [--out DIR] [--scale N] [--seed N] [--days N]
                   [--labels FILE] [--label-sample N] [--tagger DIR | --no-tagger]

Runs the governance chain in two rounds with feedback between them.

  --input DIR         folder of hourly air-quality CSV files in the Beijing layout
                      (default: the embedded synthetic city)
  --out DIR           output folder (default: out)
  --scale N           synthetic city scale factor, stations = 6 * N (default: 1)
  --seed N            synthetic city seed (default: 42)
  --days N            synthetic city length in days (default: 60)
  --labels FILE       JSON Lines of feedback labels for real data, one
                      governance::Feedback per line
  --label-sample N    flagged cells labelled from ground truth between rounds
                      (synthetic city only; default: 200)
  --tagger DIR        token tagger weights that find names and addresses in the
                      service tickets (default: the project's trained weights in
                      governance-llm/models/tagger, when present)
  --no-tagger         scan the tickets with the pattern recognizers only";

/// Parsed options.
#[derive(Debug, Clone)]
pub struct Options {
    pub input: Option<PathBuf>,
    pub out: PathBuf,
    pub scale: u32,
    pub seed: u64,
    pub days: u32,
    pub labels: Option<PathBuf>,
    pub label_sample: usize,
    /// Token tagger weights; `None` turns the tagger off.
    pub tagger: Option<PathBuf>,
}

/// The project's trained tagger weights.
const DEFAULT_TAGGER: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/governance-llm/models/tagger");

fn value<T: std::str::FromStr>(flag: &str, raw: Option<String>) -> Result<T, String> {
    let raw = raw.ok_or_else(|| format!("option {flag} needs a value\n\n{USAGE}"))?;
    raw.parse()
        .map_err(|_| format!("invalid value {raw:?} for {flag}\n\n{USAGE}"))
}

/// Parses `std::env::args`; `Ok(None)` means help was requested.
pub fn parse(mut args: impl Iterator<Item = String>) -> Result<Option<Options>, String> {
    let mut options = Options {
        input: None,
        out: PathBuf::from("out"),
        scale: 1,
        seed: 42,
        days: 60,
        labels: None,
        label_sample: 200,
        tagger: Some(PathBuf::from(DEFAULT_TAGGER)).filter(|dir| dir.exists()),
    };
    while let Some(flag) = args.next() {
        match flag.as_str() {
            "--input" => options.input = Some(value(&flag, args.next())?),
            "--out" => options.out = value(&flag, args.next())?,
            "--scale" => options.scale = value(&flag, args.next())?,
            "--seed" => options.seed = value(&flag, args.next())?,
            "--days" => options.days = value(&flag, args.next())?,
            "--labels" => options.labels = Some(value(&flag, args.next())?),
            "--label-sample" => options.label_sample = value(&flag, args.next())?,
            "--tagger" => options.tagger = Some(value(&flag, args.next())?),
            "--no-tagger" => options.tagger = None,
            "--help" | "-h" => return Ok(None),
            other => return Err(format!("unknown option {other:?}\n\n{USAGE}")),
        }
    }
    if options.scale == 0 {
        return Err(format!("--scale must be at least 1\n\n{USAGE}"));
    }
    Ok(Some(options))
}
