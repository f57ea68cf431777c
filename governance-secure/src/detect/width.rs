//! Full-width forms of ASCII characters, as typed by Chinese input methods
//! (`１３８１２３４５６７８`, `ＡＢＣ`).
//!
//! Recognizers match ASCII patterns, so the detector scans a copy of the text in which the
//! full-width digits, Latin letters and the symbols that occur inside identifiers
//! (`＋ － ． ／ ＠ ＿`) are replaced by their ASCII forms (U+FF01..U+FF5E map to
//! U+0021..U+007E). Other full-width punctuation such as `，` and `：` is kept, because it
//! separates tokens in Chinese text.
//!
//! Each replacement turns one character of 3 bytes into one character of 1 byte, so
//! character positions are the same in both texts, but byte positions are not. The scanned
//! copy keeps, for each of its bytes, the byte offset of the original character it came
//! from, and every span found in the copy is mapped back through that table before it is
//! reported: a finding's `byte_span` always indexes the caller's text and covers the
//! full-width characters whole.

use std::borrow::Cow;
use std::ops::Range;

/// Offset between a full-width form (U+FF01..U+FF5E) and its ASCII character.
const FULL_WIDTH_OFFSET: u32 = 0xFF01 - 0x21;

/// Returns the ASCII form of a full-width digit, Latin letter or identifier symbol.
pub(crate) fn ascii_form(c: char) -> Option<char> {
    let ascii = char::from_u32(u32::from(c).checked_sub(FULL_WIDTH_OFFSET)?)?;
    let replaced = ascii.is_ascii_alphanumeric() || "+-./@_".contains(ascii);
    (('\u{FF01}'..='\u{FF5E}').contains(&c) && replaced).then_some(ascii)
}

/// Returns `text` with full-width digits, letters and identifier symbols in ASCII form,
/// borrowing when there is nothing to replace.
pub(crate) fn to_ascii_width(text: &str) -> Cow<'_, str> {
    if !might_contain_full_width(text) || !text.chars().any(|c| ascii_form(c).is_some()) {
        return Cow::Borrowed(text);
    }
    Cow::Owned(text.chars().map(|c| ascii_form(c).unwrap_or(c)).collect())
}

/// Every character from U+F000 to U+FFFF starts with the byte 0xEF in UTF-8, so a text
/// without that byte has no full-width form and needs no further scan.
fn might_contain_full_width(text: &str) -> bool {
    text.as_bytes().contains(&0xEF)
}

/// A text prepared for scanning, with the table that maps its byte offsets back to the
/// original text.
#[derive(Debug)]
pub(crate) struct ScannedText<'a> {
    text: Cow<'a, str>,
    /// For each byte of `text`, plus one entry for its end, the byte offset of the original
    /// character it belongs to. `None` when nothing was replaced and offsets are equal.
    original_offsets: Option<Vec<usize>>,
}

impl<'a> ScannedText<'a> {
    /// Prepares `original` for scanning.
    pub(crate) fn new(original: &'a str) -> Self {
        if !might_contain_full_width(original) || !original.chars().any(|c| ascii_form(c).is_some())
        {
            return ScannedText {
                text: Cow::Borrowed(original),
                original_offsets: None,
            };
        }
        let mut text = String::with_capacity(original.len());
        let mut offsets = Vec::with_capacity(original.len() + 1);
        for (offset, c) in original.char_indices() {
            let scanned = ascii_form(c).unwrap_or(c);
            text.push(scanned);
            offsets.extend(std::iter::repeat_n(offset, scanned.len_utf8()));
        }
        offsets.push(original.len());
        ScannedText {
            text: Cow::Owned(text),
            original_offsets: Some(offsets),
        }
    }

    /// Returns the text to scan.
    pub(crate) fn as_str(&self) -> &str {
        &self.text
    }

    /// Maps a span on character boundaries of the scanned text to the original text.
    pub(crate) fn original_span(&self, span: Range<usize>) -> Range<usize> {
        match &self.original_offsets {
            None => span,
            Some(offsets) => offsets[span.start]..offsets[span.end],
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn full_width_digits_letters_and_symbols_map_to_ascii() {
        assert_eq!(to_ascii_width("１３８ＡＢｃ＠．－"), "138ABc@.-");
        assert_eq!(to_ascii_width("，：。"), "，：。");
        assert!(matches!(to_ascii_width("plain 123"), Cow::Borrowed(_)));
    }

    #[test]
    fn spans_map_back_to_original_bytes() {
        let original = "电话１３８１２３４５６７８谢谢";
        let scanned = ScannedText::new(original);
        assert_eq!(scanned.as_str(), "电话13812345678谢谢");
        let start = scanned.as_str().find('1').expect("digit");
        let span = scanned.original_span(start..start + 11);
        assert_eq!(&original[span], "１３８１２３４５６７８");
    }

    #[test]
    fn text_without_full_width_forms_is_borrowed() {
        let scanned = ScannedText::new("电话13812345678");
        assert!(matches!(scanned.text, Cow::Borrowed(_)));
        assert_eq!(scanned.original_span(6..17), 6..17);
    }
}
