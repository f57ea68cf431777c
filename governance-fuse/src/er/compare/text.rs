//! Text normalisation and tokenisation shared by the comparators.
//!
//! Normalisation lowercases with Unicode rules and turns every character that is neither a
//! letter nor a digit into a space, except a `.` between two digits (so `7.0` and `129.95` stay
//! whole). Tokens are the runs between spaces, with one exception: each CJK ideograph, kana or
//! hangul syllable is a token of its own, because those scripts do not separate words by
//! spaces and a single character already carries meaning.

/// Returns the normalised form of `value`: lowercase, punctuation as single spaces, trimmed.
pub fn normalize(value: &str) -> String {
    let characters: Vec<char> = value.chars().collect();
    let mut output = String::with_capacity(value.len());
    let mut pending_space = false;
    for (index, &character) in characters.iter().enumerate() {
        let decimal_point = character == '.'
            && index > 0
            && characters[index - 1].is_ascii_digit()
            && characters.get(index + 1).is_some_and(char::is_ascii_digit);
        if character.is_alphanumeric() || decimal_point {
            if pending_space && !output.is_empty() {
                output.push(' ');
            }
            pending_space = false;
            output.extend(character.to_lowercase());
        } else {
            pending_space = true;
        }
    }
    output
}

/// Whether `character` belongs to a script written without spaces between words: CJK
/// ideographs (with extensions and compatibility forms), hiragana, katakana and hangul.
pub fn is_cjk(character: char) -> bool {
    matches!(
        u32::from(character),
        0x3040..=0x30FF
            | 0x3400..=0x4DBF
            | 0x4E00..=0x9FFF
            | 0xAC00..=0xD7AF
            | 0xF900..=0xFAFF
            | 0x20000..=0x2FA1F
    )
}

/// Splits `value` into normalised tokens; each CJK character is a token of its own.
pub fn tokens(value: &str) -> Vec<String> {
    let normalized = normalize(value);
    let mut output = Vec::new();
    for word in normalized.split(' ').filter(|word| !word.is_empty()) {
        if !word.chars().any(is_cjk) {
            output.push(word.to_owned());
            continue;
        }
        let mut run = String::new();
        for character in word.chars() {
            if is_cjk(character) {
                if !run.is_empty() {
                    output.push(std::mem::take(&mut run));
                }
                output.push(character.to_string());
            } else {
                run.push(character);
            }
        }
        if !run.is_empty() {
            output.push(run);
        }
    }
    output
}

/// Returns the character q-grams of the normalised value, padded with `#` at both ends so that
/// the first and last characters count as much as the inner ones. A value shorter than `q`
/// after padding is one gram.
pub fn qgrams(value: &str, q: usize) -> Vec<String> {
    let q = q.max(1);
    let normalized = normalize(value);
    let mut padded: Vec<char> = Vec::with_capacity(normalized.len() + 2 * (q - 1));
    padded.extend(std::iter::repeat_n('#', q - 1));
    padded.extend(normalized.chars());
    padded.extend(std::iter::repeat_n('#', q - 1));
    if padded.len() <= q {
        return vec![padded.into_iter().collect()];
    }
    padded
        .windows(q)
        .map(|window| window.iter().collect())
        .collect()
}

/// Returns the alphanumeric codes in `value`: tokens of at least four characters with both a
/// letter and a digit, such as model numbers (`lds4821ww`, `mbaclrsee2`), plus digit runs of
/// at least five digits (part numbers, ISBNs). Hyphens and slashes inside a code are removed
/// first, so `DSC-W120` and `dscw120` give the same code.
pub fn codes(value: &str) -> Vec<String> {
    let mut output: Vec<String> = Vec::new();
    for word in value.split_whitespace() {
        let joined: String = word
            .chars()
            .filter(|character| !matches!(character, '-' | '/' | '_'))
            .flat_map(char::to_lowercase)
            .collect();
        for token in joined.split(|character: char| !character.is_alphanumeric()) {
            let letters = token.chars().any(char::is_alphabetic);
            let digits = token.chars().filter(char::is_ascii_digit).count();
            let length = token.chars().count();
            let code = (letters && digits > 0 && length >= 4) || (!letters && digits >= 5);
            if code && !output.iter().any(|known| known == token) {
                output.push(token.to_owned());
            }
        }
    }
    output
}

/// Returns the lowercase letters and digits of `value` with everything else removed, the form
/// in which a code is searched inside another record's text.
pub fn squash(value: &str) -> String {
    value
        .chars()
        .filter(|character| character.is_alphanumeric())
        .flat_map(char::to_lowercase)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalize_lowercases_and_strips_punctuation() {
        assert_eq!(normalize("  Hello, World!  "), "hello world");
        assert_eq!(normalize("Version 7.0 (Mac)"), "version 7.0 mac");
        assert_eq!(normalize("end."), "end");
        assert_eq!(normalize("ÉCOLE Straße"), "école straße");
    }

    #[test]
    fn tokens_split_cjk_characters() {
        assert_eq!(
            tokens("北京市 Haidian区"),
            ["北", "京", "市", "haidian", "区"]
        );
        assert_eq!(tokens("a-b c"), ["a", "b", "c"]);
        assert!(tokens(" ,; ").is_empty());
    }

    #[test]
    fn qgrams_pad_both_ends() {
        assert_eq!(qgrams("ab", 3), ["##a", "#ab", "ab#", "b##"]);
        assert_eq!(qgrams("", 2), ["##"]);
    }

    #[test]
    fn codes_find_model_numbers() {
        assert_eq!(
            codes("LG 24' LDS4821WW dishwasher DSC-W120 part 123456 in 2007"),
            ["lds4821ww", "dscw120", "123456"]
        );
        assert!(codes("adobe photoshop cs3").is_empty());
    }

    #[test]
    fn squash_keeps_letters_and_digits() {
        assert_eq!(squash("DSC-W120 / Black"), "dscw120black");
    }
}
