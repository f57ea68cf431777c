//! Column-name normalisation and similarity.
//!
//! Names are split into lowercase tokens at separators, at camel-case humps and where the
//! script changes between ASCII and other characters (`温度_max`). The compact form joins
//! the tokens, so `PM2.5`, `pm2_5` and `pm25` compare equal. Drift detection compares token
//! sets by their overlap coefficient (the shared share of the smaller set), because one
//! export's names often extend the other's. Schema matching uses their Jaccard index, so a
//! short alias does not match every longer name that contains it. Tokens that differ only by
//! a plural `s` count as equal. Character similarity is the normalised
//! Levenshtein similarity of the compact forms (from `strsim`).

/// Splits a name into lowercase tokens.
pub(crate) fn tokens(name: &str) -> Vec<String> {
    let mut tokens = Vec::new();
    let mut current = String::new();
    let mut previous: Option<char> = None;
    for c in name.chars() {
        if !c.is_alphanumeric() {
            flush(&mut tokens, &mut current);
            previous = None;
            continue;
        }
        if let Some(before) = previous {
            let camel_hump = before.is_lowercase() && c.is_uppercase();
            // CJK characters have no case; each run of them stays one token.
            let script_change = before.is_ascii() != c.is_ascii();
            if camel_hump || script_change {
                flush(&mut tokens, &mut current);
            }
        }
        current.extend(c.to_lowercase());
        previous = Some(c);
    }
    flush(&mut tokens, &mut current);
    tokens
}

fn flush(tokens: &mut Vec<String>, current: &mut String) {
    if !current.is_empty() {
        tokens.push(std::mem::take(current));
    }
}

/// Returns the compact form: the tokens joined without separators.
pub(crate) fn compact(name: &str) -> String {
    tokens(name).concat()
}

/// Returns the token with a plural `s` removed, for tokens of four or more characters.
fn stem(token: &str) -> &str {
    if token.len() >= 4 && token.ends_with('s') && !token.ends_with("ss") {
        &token[..token.len() - 1]
    } else {
        token
    }
}

/// Returns the stemmed, deduplicated token set of a name.
fn token_set(name: &str) -> Vec<String> {
    let mut set: Vec<String> = tokens(name).iter().map(|t| stem(t).to_string()).collect();
    set.sort();
    set.dedup();
    set
}

/// Returns the Jaccard index of two names' stemmed token sets, in [0, 1].
pub(crate) fn token_jaccard(a: &str, b: &str) -> f64 {
    let (a_tokens, b_tokens) = (token_set(a), token_set(b));
    let shared = a_tokens
        .iter()
        .filter(|token| b_tokens.contains(token))
        .count();
    let union = a_tokens.len() + b_tokens.len() - shared;
    if union == 0 {
        0.0
    } else {
        shared as f64 / union as f64
    }
}

/// Returns the overlap coefficient of two names' stemmed token sets, in [0, 1].
pub(crate) fn token_overlap(a: &str, b: &str) -> f64 {
    let (a_tokens, b_tokens) = (token_set(a), token_set(b));
    let smaller = a_tokens.len().min(b_tokens.len());
    if smaller == 0 {
        return 0.0;
    }
    let shared = a_tokens
        .iter()
        .filter(|token| b_tokens.contains(token))
        .count();
    shared as f64 / smaller as f64
}

/// Returns the normalised Levenshtein similarity of the compact forms, in [0, 1].
pub(crate) fn character_similarity(a: &str, b: &str) -> f64 {
    let (a, b) = (compact(a), compact(b));
    if a.is_empty() || b.is_empty() {
        return 0.0;
    }
    strsim::normalized_levenshtein(&a, &b)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_names_into_tokens() {
        assert_eq!(
            tokens("averageVehicleSpeed"),
            ["average", "vehicle", "speed"]
        );
        assert_eq!(tokens("PM2.5"), ["pm2", "5"]);
        assert_eq!(
            tokens("Fremont Bridge, N 34th St"),
            ["fremont", "bridge", "n", "34th", "st"]
        );
        assert_eq!(tokens("温度_max"), ["温度", "max"]);
        assert_eq!(tokens("TEMP"), ["temp"]);
        assert!(tokens(" _.- ").is_empty());
    }

    #[test]
    fn compact_forms_agree_across_spellings() {
        assert_eq!(compact("PM2.5"), "pm25");
        assert_eq!(compact("pm2_5"), "pm25");
        assert_eq!(compact("Wind Speed"), compact("windSpeed"));
    }

    #[test]
    fn token_similarity_prefers_the_matching_side() {
        let new = "Fremont Bridge Sidewalks, south of N 34th St Cyclist East Sidewalk";
        let east = token_overlap(new, "Fremont Bridge East Sidewalk");
        let west = token_overlap(new, "Fremont Bridge West Sidewalk");
        assert_eq!(east, 1.0);
        assert_eq!(west, 0.75);
        assert_eq!(token_overlap("", "x"), 0.0);
        assert_eq!(token_jaccard("wind_direction", "wind"), 0.5);
        assert_eq!(token_jaccard("", ""), 0.0);
    }

    #[test]
    fn character_similarity_of_variants() {
        assert!(character_similarity("temperature", "temperatur") > 0.9);
        assert!(character_similarity("co", "co2") < 0.7);
        assert_eq!(character_similarity("", "co"), 0.0);
    }
}
