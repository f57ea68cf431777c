//! Levenshtein edit distance, used to suggest the allowed value closest to a misspelt one.

/// Returns the Levenshtein distance between `left` and `right` counted in Unicode scalar
/// values, or `None` as soon as it is certain to exceed `limit`.
pub(crate) fn levenshtein_within(left: &str, right: &str, limit: usize) -> Option<usize> {
    let left: Vec<char> = left.chars().collect();
    let right: Vec<char> = right.chars().collect();
    if left.len().abs_diff(right.len()) > limit {
        return None;
    }
    // Two rows of the dynamic-programming table: distances from a prefix of `left` to every
    // prefix of `right`.
    let mut previous: Vec<usize> = (0..=right.len()).collect();
    let mut current = vec![0; right.len() + 1];
    for (i, left_char) in left.iter().enumerate() {
        current[0] = i + 1;
        for (j, right_char) in right.iter().enumerate() {
            let substitution = previous[j] + usize::from(left_char != right_char);
            current[j + 1] = substitution.min(previous[j + 1] + 1).min(current[j] + 1);
        }
        if current.iter().min().is_some_and(|&best| best > limit) {
            return None;
        }
        std::mem::swap(&mut previous, &mut current);
    }
    Some(previous[right.len()]).filter(|&distance| distance <= limit)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn distances_match_hand_counts() {
        assert_eq!(levenshtein_within("Dongsi", "Dongsi", 2), Some(0));
        assert_eq!(levenshtein_within("Dongsii", "Dongsi", 2), Some(1));
        assert_eq!(levenshtein_within("Dnogsi", "Dongsi", 2), Some(2));
        assert_eq!(levenshtein_within("kitten", "sitting", 3), Some(3));
        assert_eq!(levenshtein_within("", "abc", 3), Some(3));
        assert_eq!(levenshtein_within("Ürümqi", "Urumqi", 2), Some(2));
    }

    #[test]
    fn distances_over_limit_are_none() {
        assert_eq!(levenshtein_within("kitten", "sitting", 2), None);
        assert_eq!(levenshtein_within("Tiantan", "Dongsi", 2), None);
        assert_eq!(levenshtein_within("a", "abcd", 2), None);
    }
}
