//! Similarities of two strings: edit-based (Levenshtein, Jaro-Winkler from `strsim`) and
//! set-based (Jaccard on q-grams and on tokens, token containment).
//!
//! Every function compares the normalised forms (see [`super::text::normalize`]) and returns a
//! similarity in `[0, 1]`, 1 for identical normalised values.

use std::collections::HashSet;
use std::hash::Hash;

use super::text::{normalize, qgrams, tokens};

/// Longest prefix, in characters, that the edit-based comparators look at. Their cost grows with
/// the product of the two lengths, and two long descriptions are compared better by token sets.
pub const EDIT_MAX_CHARS: usize = 256;

/// 1 when the normalised values are equal, else 0.
pub fn exact(left: &str, right: &str) -> f64 {
    if normalize(left) == normalize(right) {
        1.0
    } else {
        0.0
    }
}

/// `1 - distance / max(length)` on the normalised values, by Levenshtein distance.
pub fn levenshtein(left: &str, right: &str) -> f64 {
    levenshtein_normalized(&normalize(left), &normalize(right))
}

/// [`levenshtein`] of two values that are already normalised, such as the output of
/// [`normalize`] kept for many comparisons.
pub fn levenshtein_normalized(left: &str, right: &str) -> f64 {
    strsim::normalized_levenshtein(prefix(left), prefix(right))
}

/// Jaro-Winkler similarity of the normalised values (prefix scale 0.1, as `strsim` fixes it).
pub fn jaro_winkler(left: &str, right: &str) -> f64 {
    jaro_winkler_normalized(&normalize(left), &normalize(right))
}

/// [`jaro_winkler`] of two values that are already normalised.
pub fn jaro_winkler_normalized(left: &str, right: &str) -> f64 {
    strsim::jaro_winkler(prefix(left), prefix(right))
}

/// Jaccard similarity of the padded character q-gram sets.
pub fn qgram_jaccard(left: &str, right: &str, q: usize) -> f64 {
    jaccard(&qgrams(left, q), &qgrams(right, q))
}

/// Jaccard similarity of the token sets; two values without tokens are identical.
pub fn token_jaccard(left: &str, right: &str) -> f64 {
    jaccard(&tokens(left), &tokens(right))
}

/// Jaccard similarity `|A ∩ B| / |A ∪ B|` of two collections taken as sets; 1 when both are
/// empty.
pub fn jaccard<T: Eq + Hash>(left: &[T], right: &[T]) -> f64 {
    let left: HashSet<&T> = left.iter().collect();
    let right: HashSet<&T> = right.iter().collect();
    let union = left.union(&right).count();
    if union == 0 {
        return 1.0;
    }
    left.intersection(&right).count() as f64 / union as f64
}

/// Share of the distinct items of `part` that also occur in `whole`; 1 when `part` is empty.
pub fn containment<T: Eq + Hash>(part: &[T], whole: &[T]) -> f64 {
    let part: HashSet<&T> = part.iter().collect();
    if part.is_empty() {
        return 1.0;
    }
    let whole: HashSet<&T> = whole.iter().collect();
    part.iter().filter(|item| whole.contains(*item)).count() as f64 / part.len() as f64
}

/// Returns the first [`EDIT_MAX_CHARS`] characters of `value`, borrowed.
fn prefix(value: &str) -> &str {
    match value.char_indices().nth(EDIT_MAX_CHARS) {
        Some((end, _)) => &value[..end],
        None => value,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(actual: f64, expected: f64) {
        assert!(
            (actual - expected).abs() < 1e-3,
            "expected {expected}, got {actual}"
        );
    }

    #[test]
    fn exact_compares_normalised_values() {
        assert_eq!(exact("Main St.", "main st"), 1.0);
        assert_eq!(exact("Main St", "Main Ave"), 0.0);
    }

    #[test]
    fn levenshtein_known_values() {
        // kitten -> sitting takes 3 edits over 7 characters.
        close(levenshtein("kitten", "sitting"), 1.0 - 3.0 / 7.0);
        close(levenshtein("Same", "same"), 1.0);
    }

    #[test]
    fn jaro_winkler_known_values() {
        // The textbook pair from Winkler's paper.
        close(jaro_winkler("MARTHA", "MARHTA"), 0.961);
        close(jaro_winkler("DIXON", "DICKSONX"), 0.813);
    }

    #[test]
    fn jaccard_on_tokens_and_qgrams() {
        close(token_jaccard("a b c", "b c d"), 0.5);
        // "ab" -> {#a, ab, b#}; "ac" -> {#a, ac, c#}: one shared gram of five.
        close(qgram_jaccard("ab", "ac", 2), 0.2);
        close(token_jaccard("", " "), 1.0);
    }

    #[test]
    fn containment_is_directional() {
        let small = ["a", "b"];
        let large = ["a", "b", "c", "d"];
        close(containment(&small, &large), 1.0);
        close(containment(&large, &small), 0.5);
    }
}
