//! Labelled sentences in the presidio-research JSON layout: a list of
//! `{"full_text": ..., "spans": [{"entity_type", "start_position", "end_position"}]}`, with
//! positions counted in Unicode scalar values (Python string indices), end exclusive.

use std::path::Path;

use serde::{Deserialize, Serialize};

/// One labelled span.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GoldSpan {
    pub entity_type: String,
    pub start_position: usize,
    pub end_position: usize,
}

/// One sentence and its labelled spans. Other fields of the file are ignored.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Sentence {
    pub full_text: String,
    #[serde(default)]
    pub spans: Vec<GoldSpan>,
}

/// Reads a labelled set. Errors name the file and what is wrong with it.
pub fn load(path: &Path) -> Result<Vec<Sentence>, String> {
    let bytes =
        std::fs::read(path).map_err(|error| format!("cannot read {}: {error}", path.display()))?;
    let sentences: Vec<Sentence> = serde_json::from_slice(&bytes).map_err(|error| {
        format!(
            "{} is not a JSON list of {{full_text, spans}} objects: {error}",
            path.display()
        )
    })?;
    for (index, sentence) in sentences.iter().enumerate() {
        let chars = sentence.full_text.chars().count();
        for span in &sentence.spans {
            if span.start_position >= span.end_position || span.end_position > chars {
                return Err(format!(
                    "{}: sentence {index} has span {}..{} ({}) outside its {chars} characters",
                    path.display(),
                    span.start_position,
                    span.end_position,
                    span.entity_type
                ));
            }
        }
    }
    Ok(sentences)
}

/// Writes a set in the same layout, so that the anchor reads exactly what we score.
pub fn save(path: &Path, sentences: &[Sentence]) -> Result<(), String> {
    let text = serde_json::to_string(sentences)
        .map_err(|error| format!("cannot encode the generated set: {error}"))?;
    std::fs::write(path, text).map_err(|error| format!("cannot write {}: {error}", path.display()))
}
