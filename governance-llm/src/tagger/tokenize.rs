//! Tokenisation with byte offsets, and the per-token features the tagger reads.
//!
//! A token is a run of letters and digits outside the CJK scripts (`Main`, `221B`,
//! `José`), one CJK character (`北`), or one other visible character (`.`, `,`, `，`, `#`).
//! Whitespace separates tokens and is never part of one, but a line break before a token
//! is kept as a feature, because multi-line addresses break where their parts do.

use std::ops::Range;

/// One token of a text: its byte range and the facts the features are built from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Token {
    /// Byte range in the text; always on `char` boundaries.
    pub span: Range<usize>,
    /// The token's kind.
    pub kind: TokenKind,
    /// True when a line break lies between the previous token and this one.
    pub after_newline: bool,
}

/// The kind of a token.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TokenKind {
    /// A run of letters and digits outside the CJK scripts.
    Word,
    /// One Han, kana or Hangul character.
    Cjk,
    /// One character that is neither a letter, a digit nor whitespace.
    Punctuation,
}

/// Splits `text` into tokens; see the module docs for the rules.
pub fn tokenize(text: &str) -> Vec<Token> {
    let mut tokens = Vec::new();
    let mut word_start: Option<usize> = None;
    let mut newline_pending = false;
    let mut word_after_newline = false;
    for (index, character) in text.char_indices() {
        let is_word_char = character.is_alphanumeric() && !is_cjk(character);
        if is_word_char {
            if word_start.is_none() {
                word_start = Some(index);
                word_after_newline = newline_pending;
                newline_pending = false;
            }
            continue;
        }
        if let Some(start) = word_start.take() {
            tokens.push(Token {
                span: start..index,
                kind: TokenKind::Word,
                after_newline: word_after_newline,
            });
        }
        if character.is_whitespace() {
            if character == '\n' || character == '\r' {
                newline_pending = true;
            }
            continue;
        }
        let kind = if is_cjk(character) {
            TokenKind::Cjk
        } else {
            TokenKind::Punctuation
        };
        tokens.push(Token {
            span: index..index + character.len_utf8(),
            kind,
            after_newline: newline_pending,
        });
        newline_pending = false;
    }
    if let Some(start) = word_start {
        tokens.push(Token {
            span: start..text.len(),
            kind: TokenKind::Word,
            after_newline: word_after_newline,
        });
    }
    tokens
}

/// Returns true for Han ideographs, kana and Hangul syllables, which are written without
/// spaces and so are tokenised one character at a time.
pub fn is_cjk(character: char) -> bool {
    matches!(character as u32,
        0x3040..=0x30FF      // Hiragana, Katakana
        | 0x3400..=0x4DBF    // CJK Unified Ideographs Extension A
        | 0x4E00..=0x9FFF    // CJK Unified Ideographs
        | 0xAC00..=0xD7AF    // Hangul syllables
        | 0xF900..=0xFAFF    // CJK Compatibility Ideographs
        | 0x20000..=0x2EBEF  // Extensions B to F
    )
}

/// Number of dense shape features per token; see [`shape_features`].
pub const SHAPE_FEATURES: usize = 16;

/// Returns the dense shape features of token `index` of `tokens` in `text`: capitalisation,
/// digits, CJK, punctuation, length, position and line breaks, each 0 or 1.
pub fn shape_features(text: &str, tokens: &[Token], index: usize) -> [f32; SHAPE_FEATURES] {
    let token = &tokens[index];
    let word = &text[token.span.clone()];
    let mut chars = word.chars();
    let first = chars.next().unwrap_or(' ');
    let letters = word.chars().filter(|c| c.is_alphabetic()).count();
    let uppers = word.chars().filter(|c| c.is_uppercase()).count();
    let digits = word.chars().filter(|c| c.is_numeric()).count();
    let length = word.chars().count();
    let next_is_period = tokens
        .get(index + 1)
        .is_some_and(|next| next.span.start == token.span.end && &text[next.span.clone()] == ".");
    let sentence_start = index == 0
        || tokens[index - 1].kind == TokenKind::Punctuation
            && matches!(
                &text[tokens[index - 1].span.clone()],
                "." | "!" | "?" | "。" | "！" | "？" | ":" | "："
            );
    let flag = |condition: bool| if condition { 1.0 } else { 0.0 };
    [
        flag(token.kind == TokenKind::Word),
        flag(token.kind == TokenKind::Cjk),
        flag(token.kind == TokenKind::Punctuation),
        flag(first.is_uppercase()),
        flag(letters > 1 && uppers == letters),
        flag(letters > 0 && uppers == 0),
        flag(digits > 0),
        flag(digits > 0 && digits == length),
        flag(digits > 0 && letters > 0),
        flag(length == 1),
        flag((2..=3).contains(&length)),
        flag(length >= 8),
        flag(next_is_period),
        flag(sentence_start),
        flag(token.after_newline),
        flag(index + 1 == tokens.len()),
    ]
}

/// Returns the hash bucket of the lower-cased token text, in `0..buckets`.
pub fn word_bucket(word: &str, buckets: usize) -> usize {
    let lower = word.to_lowercase();
    (fnv1a(lower.as_bytes(), 0x77) % buckets as u64) as usize
}

/// Returns the hash buckets of the character 2-, 3- and 4-grams of `<word>` (lower-cased,
/// with boundary marks), in `0..buckets`, at most `limit` of them, shortest n-grams first.
pub fn ngram_buckets(word: &str, buckets: usize, limit: usize) -> Vec<usize> {
    let mut marked = String::with_capacity(word.len() + 2);
    marked.push('<');
    marked.push_str(&word.to_lowercase());
    marked.push('>');
    let chars: Vec<char> = marked.chars().collect();
    let mut out = Vec::with_capacity(limit);
    let mut buffer = String::new();
    'sizes: for size in 2..=4usize {
        if chars.len() < size {
            break;
        }
        for start in 0..=chars.len() - size {
            if out.len() == limit {
                break 'sizes;
            }
            buffer.clear();
            buffer.extend(&chars[start..start + size]);
            let seed = 0x100 + size as u64;
            out.push((fnv1a(buffer.as_bytes(), seed) % buckets as u64) as usize);
        }
    }
    out
}

/// FNV-1a over `bytes`, with `seed` mixed in first so that the word and n-gram tables use
/// different hash functions. Stable across platforms and releases, unlike `std`'s hasher,
/// which saved weights depend on.
fn fnv1a(bytes: &[u8], seed: u64) -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for &byte in seed.to_le_bytes().iter().chain(bytes) {
        hash ^= u64::from(byte);
        hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
    }
    hash
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(text: &str) -> Vec<&str> {
        tokenize(text)
            .into_iter()
            .map(|token| &text[token.span])
            .collect()
    }

    #[test]
    fn ascii_words_numbers_and_punctuation() {
        assert_eq!(
            texts("Dr. O'Neil lives at 221B Baker St., Apt 4."),
            [
                "Dr", ".", "O", "'", "Neil", "lives", "at", "221B", "Baker", "St", ".", ",", "Apt",
                "4", "."
            ]
        );
    }

    #[test]
    fn cjk_characters_are_single_tokens() {
        assert_eq!(
            texts("张伟住在北京市"),
            ["张", "伟", "住", "在", "北", "京", "市"]
        );
    }

    #[test]
    fn mixed_text_keeps_byte_offsets() {
        let text = "王芳(Wang Fang)在Acme公司，电话138";
        let tokens = tokenize(text);
        let pieces: Vec<&str> = tokens
            .iter()
            .map(|token| &text[token.span.clone()])
            .collect();
        assert_eq!(
            pieces,
            [
                "王", "芳", "(", "Wang", "Fang", ")", "在", "Acme", "公", "司", "，", "电", "话",
                "138"
            ]
        );
        assert_eq!(tokens[3].span, 7..11);
        assert_eq!(tokens[7].span, 20..24);
        assert_eq!(tokens[10].kind, TokenKind::Punctuation);
        assert_eq!(tokens[13].span, text.len() - 3..text.len());
    }

    #[test]
    fn line_breaks_are_marked() {
        let tokens = tokenize("12 Elm Road\nSpringfield");
        assert!(!tokens[2].after_newline);
        assert!(tokens[3].after_newline);
    }

    #[test]
    fn empty_and_blank_text_have_no_tokens() {
        assert!(tokenize("").is_empty());
        assert!(tokenize(" \n\t ").is_empty());
    }

    #[test]
    fn ngrams_are_bounded_and_stable() {
        let first = ngram_buckets("Springfield", 1000, 12);
        assert_eq!(first.len(), 12);
        assert_eq!(first, ngram_buckets("springfield", 1000, 12));
        assert!(first.iter().all(|&bucket| bucket < 1000));
        assert_eq!(ngram_buckets("x", 1000, 12).len(), 3);
    }
}
