//! The training-data generator: sentences in English and Chinese with labelled entities.
//!
//! A sentence comes from a template (see [`templates`]) whose slots are filled from word
//! lists (see [`lexicon`]) in many surface forms: titles before names, middle initials,
//! lower-case and upper-case names, apartment and suite numbers, addresses broken over
//! lines, postcodes, street corners, `省/市/区/路/号` addresses with `栋/单元/室`, and
//! organisations built from brand, trade and legal-form words, from two brand stems
//! written as one word, or from partners' surnames. Job titles fill slots that are never
//! entities, and some clauses open with a capitalised word that is not a name. Sentences
//! sometimes get a short prefix, are joined in pairs, or are written all in lower case.
//! Common words (see [`vocabulary`]: city-service words, everyday words from many topics,
//! contractions, and capitalised words that are not names) replace about one in five
//! template words, form extra clauses without entities, and make up one English sentence in
//! ten on their own. Without them the model learned that
//! any word missing from the templates is an entity.
//!
//! Names and addresses also come from made-up words built from syllables, with family-name
//! endings of many languages and street forms used outside North America (number after the
//! street, postcode before the town, units and countries on lines of their own), so that the
//! model learns their structure rather than the lists. An entity written over several lines
//! is labelled one entity per line, the convention [`super::labels::decode_tags`] follows.
//!
//! [`Split::Train`] uses four in five templates and four in five entries of the open word
//! lists (names, streets, places, brand words). [`Split::HeldOutTemplates`] uses the other
//! templates with the training entries, so it scores a model on sentence forms it has never
//! seen. [`Split::HeldOut`] uses the other templates and the other entries, so it also
//! scores names, streets and places the model has never seen.
//!
//! Generation is deterministic: the same seed and split give the same sentences on every
//! platform, because the RNG is ChaCha8 and the lists are compiled in.

mod addresses;
mod lexicon;
mod templates;
mod vocabulary;

use std::ops::Range;

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use super::labels::EntityLabel;
use lexicon::*;
use vocabulary::{
    BRAND_ENDINGS, BRAND_STEMS, CAPITALISED_WORDS, EVERYDAY_WORDS, GIVEN_NAME_ENDINGS, JOB_TITLES,
    NAME_SYLLABLES, PLACE_FORMS, SENTENCE_OPENERS, SPOKEN_FORMS, SURNAME_ENDINGS,
};

/// The part of the templates and word lists a generator draws from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Split {
    /// Four in five templates and open-list entries.
    Train,
    /// The remaining fifth of the templates, with the training entries of the lists.
    HeldOutTemplates,
    /// The remaining fifth of the templates and of the open-list entries.
    HeldOut,
}

impl Split {
    fn contains_template(self, index: usize) -> bool {
        let held_out = index % 5 == 4;
        match self {
            Split::Train => !held_out,
            Split::HeldOutTemplates | Split::HeldOut => held_out,
        }
    }

    fn contains_entry(self, index: usize) -> bool {
        let held_out = index % 5 == 4;
        match self {
            Split::Train | Split::HeldOutTemplates => !held_out,
            Split::HeldOut => held_out,
        }
    }
}

/// The language of a template.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Language {
    /// English.
    English,
    /// Simplified Chinese.
    Chinese,
}

/// A generated sentence with its entities.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GeneratedSentence {
    /// The text.
    pub text: String,
    /// Entity byte ranges in `text` with their labels, in order, not overlapping.
    pub entities: Vec<(Range<usize>, EntityLabel)>,
    /// Language and index of the first template the sentence was made from.
    pub template: (Language, usize),
}

/// Returns true when `word` is on the generator's list of given names (English-language and
/// pinyin), ignoring ASCII case. Detection rules use the list to tell persons from firms.
pub fn is_listed_given_name(word: &str) -> bool {
    GIVEN_NAMES
        .iter()
        .chain(PINYIN_GIVEN)
        .any(|name| name.eq_ignore_ascii_case(word))
}

/// Returns true when `word` is on the generator's list of surnames (English-language and
/// pinyin), ignoring ASCII case.
pub fn is_listed_surname(word: &str) -> bool {
    SURNAMES
        .iter()
        .chain(PINYIN_SURNAMES)
        .any(|name| name.eq_ignore_ascii_case(word))
}

/// Generates labelled sentences; see the module docs.
#[derive(Debug, Clone)]
pub struct SentenceGenerator {
    rng: ChaCha8Rng,
    split: Split,
    /// Share of sentences written in English, in `[0, 1]`.
    english_share: f64,
}

impl SentenceGenerator {
    /// Creates a generator for `split`, seeded with `seed`, writing 60% English sentences.
    pub fn new(seed: u64, split: Split) -> Self {
        SentenceGenerator {
            rng: ChaCha8Rng::seed_from_u64(seed),
            split,
            english_share: 0.6,
        }
    }

    /// Sets the share of English sentences, clamped to `[0, 1]`; the rest are Chinese.
    pub fn with_english_share(mut self, share: f64) -> Self {
        self.english_share = share.clamp(0.0, 1.0);
        self
    }

    /// Returns the next `count` sentences.
    pub fn sentences(&mut self, count: usize) -> Vec<GeneratedSentence> {
        (0..count).map(|_| self.sentence()).collect()
    }

    /// Returns the next sentence.
    pub fn sentence(&mut self) -> GeneratedSentence {
        let language = if self.rng.random_bool(self.english_share) {
            Language::English
        } else {
            Language::Chinese
        };
        let mut out = Builder::default();

        if self.rng.random_bool(0.08) {
            let prefix = match language {
                Language::English => self.any(templates::ENGLISH_PREFIXES),
                Language::Chinese => self.any(templates::CHINESE_PREFIXES),
            };
            out.literal(prefix);
            if language == Language::English {
                out.literal(" ");
            }
        }

        if language == Language::English && self.rng.random_bool(0.1) {
            // A sentence with no entity at all, so that ordinary text is seen on its own.
            let clauses = self.rng.random_range(1..4);
            for _ in 0..clauses {
                self.filler_clause(language, &mut out);
            }
            // No template is filled, but the sentence records one from its split, which keeps
            // the split of every sentence checkable.
            let first = self.template(language);
            return GeneratedSentence {
                text: out.text.trim_end().to_string(),
                entities: out.entities,
                template: (language, first),
            };
        }

        let first = self.template(language);
        let filler_first = self.rng.random_bool(0.35);
        if filler_first {
            self.filler_clause(language, &mut out);
        }
        self.fill(language, first, &mut out);
        if !filler_first && self.rng.random_bool(0.35) {
            self.filler_clause(language, &mut out);
        }
        if self.rng.random_bool(0.12) {
            let separator = if self.rng.random_bool(0.5) { "\n" } else { " " };
            out.literal(separator);
            let second = self.template(language);
            self.fill(language, second, &mut out);
        }
        if language == Language::English && self.rng.random_bool(0.03) {
            // Lower-casing ASCII keeps every byte offset valid.
            out.text = out.text.to_ascii_lowercase();
        }
        GeneratedSentence {
            text: out.text,
            entities: out.entities,
            template: (language, first),
        }
    }

    fn template(&mut self, language: Language) -> usize {
        let count = match language {
            Language::English => templates::ENGLISH.len(),
            Language::Chinese => templates::CHINESE.len(),
        };
        loop {
            let index = self.rng.random_range(0..count);
            if self.split.contains_template(index) {
                return index;
            }
        }
    }

    /// Picks an index in `0..count` of an open list entry in the generator's split. Every
    /// list has at least five entries, so each split has at least one.
    fn index_in_split(&mut self, count: usize) -> usize {
        loop {
            let index = self.rng.random_range(0..count);
            if self.split.contains_entry(index) {
                return index;
            }
        }
    }

    /// Picks an entry of an open list, from the generator's split.
    fn open<'a>(&mut self, list: &[&'a str]) -> &'a str {
        list[self.index_in_split(list.len())]
    }

    /// Picks any entry of a closed list (titles, suffixes, units), the same in both splits.
    fn any<'a>(&mut self, list: &[&'a str]) -> &'a str {
        list[self.rng.random_range(0..list.len())]
    }

    fn chance(&mut self, probability: f64) -> bool {
        self.rng.random_bool(probability)
    }

    /// Picks a lower-case word that is not an entity: a city-service word, an everyday
    /// word or a spoken form.
    fn common_word(&mut self) -> String {
        match self.rng.random_range(0..10) {
            0..4 => self.any(COMMON_WORDS).to_string(),
            4..9 => self.any(EVERYDAY_WORDS).to_string(),
            _ => self.any(SPOKEN_FORMS).to_string(),
        }
    }

    /// Makes up a number that is not part of an address: a phone, card or account number,
    /// a reference code, a year or a quantity.
    fn code_number(&mut self) -> String {
        let rng = &mut self.rng;
        let digits = |rng: &mut ChaCha8Rng, count: usize| -> String {
            (0..count)
                .map(|_| char::from(b'0' + rng.random_range(0..10u8)))
                .collect()
        };
        match rng.random_range(0..6) {
            0 => {
                let groups: Vec<String> = (0..rng.random_range(2..5))
                    .map(|_| {
                        let length = rng.random_range(2..5);
                        digits(rng, length)
                    })
                    .collect();
                let separator = ["-", " ", "."][rng.random_range(0..3)];
                groups.join(separator)
            }
            1 => {
                let length = rng.random_range(8..20);
                digits(rng, length)
            }
            2 => {
                let country: String = (0..2)
                    .map(|_| char::from(b'A' + rng.random_range(0..26u8)))
                    .collect();
                let length = rng.random_range(14..28);
                format!("{country}{}", digits(rng, length))
            }
            3 => rng.random_range(1950..2030u32).to_string(),
            4 => format!("+{} {}", rng.random_range(1..99u32), digits(rng, 9)),
            _ => rng.random_range(1..500u32).to_string(),
        }
    }

    /// Writes a short sentence of common words with no entity, followed by a space.
    fn filler_clause(&mut self, language: Language, out: &mut Builder) {
        let length = self.rng.random_range(3..10);
        match language {
            Language::English => {
                let opener = self.rng.random_bool(0.25);
                let words: Vec<String> = (0..length)
                    .map(|position| {
                        if position == 0 && opener {
                            self.any(SENTENCE_OPENERS).to_string()
                        } else if position > 0 && self.rng.random_bool(0.08) {
                            self.any(CAPITALISED_WORDS).to_string()
                        } else if position > 0 && self.rng.random_bool(0.05) {
                            self.code_number()
                        } else {
                            self.common_word()
                        }
                    })
                    .collect();
                let mut clause = words.join(" ");
                if let Some(first) = clause.get(..1) {
                    let upper = first.to_ascii_uppercase();
                    clause.replace_range(..1, &upper);
                }
                out.literal(&clause);
                let end = self.any(&[". ", ". ", ". ", "! ", "? ", ", ", "... ", " - "]);
                out.literal(end);
            }
            Language::Chinese => {
                let characters: Vec<char> = COMMON_CHARACTERS.chars().collect();
                for _ in 0..length + 2 {
                    out.text
                        .push(characters[self.rng.random_range(0..characters.len())]);
                }
                out.literal("。");
            }
        }
    }

    /// Writes template text, replacing about one in five of its words (English) or
    /// characters (Chinese) by a common word or character, so that the model does not learn
    /// that every word outside the templates' vocabulary is an entity.
    fn noisy_literal(&mut self, language: Language, text: &str, out: &mut Builder) {
        match language {
            Language::English => {
                for (index, word) in text.split(' ').enumerate() {
                    if index > 0 {
                        out.text.push(' ');
                    }
                    let plain =
                        !word.is_empty() && word.bytes().all(|byte| byte.is_ascii_alphabetic());
                    if plain && self.rng.random_bool(0.2) {
                        let mut replacement = self.common_word();
                        if word.starts_with(|c: char| c.is_ascii_uppercase()) {
                            replacement[..1].make_ascii_uppercase();
                        }
                        out.text.push_str(&replacement);
                    } else {
                        out.text.push_str(word);
                    }
                }
            }
            Language::Chinese => {
                for character in text.chars() {
                    if super::tokenize::is_cjk(character) && self.rng.random_bool(0.2) {
                        let pool: Vec<char> = COMMON_CHARACTERS.chars().collect();
                        out.text.push(pool[self.rng.random_range(0..pool.len())]);
                    } else {
                        out.text.push(character);
                    }
                }
            }
        }
    }

    fn fill(&mut self, language: Language, template: usize, out: &mut Builder) {
        let text = match language {
            Language::English => templates::ENGLISH[template],
            Language::Chinese => templates::CHINESE[template],
        };
        let mut rest = text;
        while let Some(open) = rest.find('{') {
            self.noisy_literal(language, &rest[..open], out);
            let after = &rest[open + 1..];
            let Some(close) = after.find('}') else {
                out.literal(&rest[open..]);
                return;
            };
            let slot = &after[..close];
            self.fill_slot(language, slot, out);
            rest = &after[close + 1..];
        }
        self.noisy_literal(language, rest, out);
    }

    fn fill_slot(&mut self, language: Language, slot: &str, out: &mut Builder) {
        let chinese = language == Language::Chinese;
        match slot {
            "P" if chinese && self.chance(0.9) => self.chinese_person(out),
            "P" if !chinese && self.chance(0.1) => {
                // A list of people: each name is its own entity.
                let count = if self.chance(0.2) {
                    self.rng.random_range(4..7)
                } else {
                    self.rng.random_range(2..4)
                };
                for position in 0..count {
                    if position > 0 {
                        let separator = if position + 1 == count {
                            self.any(&[" and ", ", ", " & ", ", and "])
                        } else {
                            ", "
                        };
                        out.literal(separator);
                    }
                    self.english_person(out, false);
                }
            }
            "P" => self.english_person(out, chinese),
            "A" if chinese => self.chinese_address(out),
            "A" => self.english_address(out),
            "X" => self.street_corner(out),
            "G" if chinese => {
                let place = self.chinese_place();
                out.entity(&place, EntityLabel::Gpe);
            }
            "G" => {
                let place = self.english_place();
                out.entity(&place, EntityLabel::Gpe);
            }
            "O" if chinese => {
                let name = self.chinese_organization();
                out.entity(&name, EntityLabel::Organization);
            }
            "O" => {
                let name = self.english_organization();
                out.entity(&name, EntityLabel::Organization);
            }
            other => {
                let filler = self.filler(chinese, other);
                out.literal(&filler);
            }
        }
    }

    fn english_person(&mut self, out: &mut Builder, in_chinese: bool) {
        let form = self.rng.random_range(0..100);
        let surname_only = (70..80).contains(&form);
        // A surname alone mostly follows a title (`Dr. Lind`), but not always (`Ask Lind`).
        let titled = if surname_only { 0.6 } else { 0.2 };
        if !in_chinese && self.chance(titled) {
            let title = self.any(TITLES);
            out.literal(title);
            out.literal(" ");
        }
        let mut name = match form {
            0..45 => format!("{} {}", self.given_name(), self.surname()),
            45..58 => {
                let initial = char::from(b'A' + self.rng.random_range(0..26u8));
                let dot = if self.chance(0.8) { "." } else { "" };
                let given = self.given_name();
                let surname = self.surname();
                format!("{given} {initial}{dot} {surname}")
            }
            58..70 => format!("{} {}", self.open(PINYIN_SURNAMES), self.open(PINYIN_GIVEN)),
            70..80 => self.surname(),
            80..88 => self.given_name(),
            88..94 => format!(
                "{} {} {}",
                self.given_name(),
                self.given_name(),
                self.surname()
            ),
            _ => format!(
                "{} {}-{}",
                self.given_name(),
                self.surname(),
                self.surname()
            ),
        };
        if self.chance(0.04) {
            name = name.to_lowercase();
        } else if self.chance(0.03) {
            name = name.to_uppercase();
        }
        out.entity(&name, EntityLabel::Person);
    }

    /// Picks a given name from the list, or makes one up from syllables three times in ten.
    fn given_name(&mut self) -> String {
        if self.chance(0.3) {
            let mut name = self.made_up_name();
            name.push_str(self.any(GIVEN_NAME_ENDINGS));
            name
        } else {
            self.open(GIVEN_NAMES).to_string()
        }
    }

    /// Picks a surname from the list, or, two times in five, makes one up from syllables and
    /// a family-name ending of one of many languages.
    fn surname(&mut self) -> String {
        if self.chance(0.4) {
            let mut name = self.made_up_name();
            name.push_str(self.any(SURNAME_ENDINGS));
            name
        } else {
            self.open(SURNAMES).to_string()
        }
    }

    fn chinese_person(&mut self, out: &mut Builder) {
        let mut name = self.open(CN_SURNAMES).to_string();
        if self.chance(0.15) {
            // A familiar form: 小王, 老李.
            let prefix = if self.chance(0.5) { "小" } else { "老" };
            out.entity(&format!("{prefix}{name}"), EntityLabel::Person);
            return;
        }
        let given_length = if self.chance(0.35) { 1 } else { 2 };
        for _ in 0..given_length {
            name.push_str(self.open(CN_GIVEN_CHARS));
        }
        out.entity(&name, EntityLabel::Person);
        if self.chance(0.12) {
            let title = self.any(&["先生", "女士", "医生", "老师", "同志", "经理"]);
            out.literal(title);
        }
    }

    /// Makes up a capitalised word from syllables for names, streets and towns, so that the
    /// model learns their structure rather than a fixed list.
    fn made_up_name(&mut self) -> String {
        let count = self.rng.random_range(2..4);
        let mut name = String::new();
        for _ in 0..count {
            name.push_str(self.any(NAME_SYLLABLES));
        }
        if self.chance(0.2) {
            // Letters with diacritics, as in names of many European languages.
            let accented = [
                ('a', "áåäà"),
                ('e', "éëè"),
                ('i', "íï"),
                ('o', "óöøô"),
                ('u', "úüů"),
                ('c', "čç"),
                ('s', "šś"),
                ('z', "žź"),
                ('n', "ñń"),
            ];
            let positions: Vec<(usize, char)> = name
                .char_indices()
                .skip(1)
                .filter(|(_, c)| accented.iter().any(|(plain, _)| plain == c))
                .collect();
            if !positions.is_empty() {
                let (at, plain) = positions[self.rng.random_range(0..positions.len())];
                if let Some((_, forms)) = accented.iter().find(|(p, _)| *p == plain) {
                    let forms: Vec<char> = forms.chars().collect();
                    let replacement = forms[self.rng.random_range(0..forms.len())];
                    name.replace_range(at..at + 1, &replacement.to_string());
                }
            }
        }
        let mut characters = name.chars();
        match characters.next() {
            Some(first) => first.to_uppercase().chain(characters).collect(),
            None => name,
        }
    }

    fn english_place(&mut self) -> String {
        let mut place = match self.rng.random_range(0..100) {
            0..40 => self.open(CITIES).to_string(),
            40..65 => self.open(COUNTRIES).to_string(),
            65..75 => REGIONS[self.index_in_split(REGIONS.len())].0.to_string(),
            75..90 => self.made_up_name(),
            _ => {
                let name = self.made_up_name();
                self.any(PLACE_FORMS).replace("{x}", &name)
            }
        };
        if self.chance(0.05) {
            place = place.to_lowercase();
        } else if self.chance(0.06) {
            place = place.to_uppercase();
        }
        place
    }

    fn chinese_place(&mut self) -> String {
        match self.rng.random_range(0..100) {
            0..30 => self.open(CN_CITIES).to_string(),
            30..55 => format!("{}市", self.open(CN_CITIES)),
            55..75 => self.open(CN_PROVINCES).to_string(),
            _ => self.open(CN_COUNTRIES).to_string(),
        }
    }

    fn english_organization(&mut self) -> String {
        if self.chance(0.06) {
            return self.partnership_name();
        }
        if self.chance(0.12) {
            // A compound brand written as one word from two stems (`Sparkpath`).
            let mut name = self.any(BRAND_STEMS).to_string();
            name.push_str(self.any(BRAND_STEMS));
            name[..1].make_ascii_uppercase();
            if self.chance(0.2) {
                name.push(' ');
                name.push_str(self.any(&["Inc.", "Inc", "LLC", "Group", "Labs", "Co."]));
            }
            return name;
        }
        if self.chance(0.15) {
            // A one-word brand: a made-up stem with a brand-like ending.
            let mut name = self.made_up_name();
            name.push_str(self.any(BRAND_ENDINGS));
            if self.chance(0.3) {
                name.push(' ');
                name.push_str(self.open(ORG_INDUSTRIES));
            }
            return name;
        }
        let mut name = match self.rng.random_range(0..100) {
            0..30 => {
                let mut name = format!(
                    "{} {}",
                    self.open(ORG_NAME_WORDS),
                    self.open(ORG_INDUSTRIES)
                );
                if self.chance(0.7) {
                    name.push(' ');
                    name.push_str(self.any(ORG_SUFFIXES));
                }
                name
            }
            30..42 => {
                let first = self.open(SURNAMES);
                if self.chance(0.5) {
                    format!(
                        "{first} & {} {}",
                        self.open(SURNAMES),
                        self.any(ORG_SUFFIXES)
                    )
                } else {
                    format!("{first} {}", self.open(ORG_INDUSTRIES))
                }
            }
            42..62 => {
                let city = self.open(CITIES);
                let body = self.any(PUBLIC_BODIES);
                if self.chance(0.7) {
                    format!("{city} {body}")
                } else {
                    format!("{body} of {city}")
                }
            }
            62..85 => self
                .any(INSTITUTION_FORMS)
                .replace("{c}", self.open(CITIES))
                .replace("{g}", self.open(GIVEN_NAMES))
                .replace("{s}", self.open(SURNAMES)),
            _ => format!(
                "{} {} {}",
                self.open(ORG_NAME_WORDS),
                self.open(ORG_NAME_WORDS),
                self.any(ORG_SUFFIXES)
            ),
        };
        if self.chance(0.04) {
            name = name.to_lowercase();
        } else if self.chance(0.04) {
            name = name.to_uppercase();
        }
        name
    }

    /// Makes up a firm named after its partners: `Hale & Moreno`, `Hale-Moreno` or
    /// `Hale & Moreno LLP`.
    ///
    /// NOTE: firms written as a list (`Hale, Moreno and Quist`) are not generated, because
    /// the model then took lists of people's names for organisations.
    fn partnership_name(&mut self) -> String {
        let first = self.surname();
        let second = self.surname();
        let mut name = if self.chance(0.5) {
            format!("{first} & {second}")
        } else {
            format!("{first}-{second}")
        };
        if self.chance(0.3) {
            name.push(' ');
            name.push_str(self.any(&["LLP", "LLC", "Partners", "Associates", "PC", "Group"]));
        }
        if self.chance(0.06) {
            name = name.to_lowercase();
        }
        name
    }

    fn chinese_organization(&mut self) -> String {
        match self.rng.random_range(0..100) {
            0..45 => {
                let mut name = String::new();
                if self.chance(0.5) {
                    name.push_str(self.open(CN_CITIES));
                }
                name.push_str(self.open(CN_BRAND_WORDS));
                name.push_str(self.open(CN_INDUSTRIES));
                name.push_str(self.any(CN_COMPANY_SUFFIXES));
                name
            }
            45..70 => format!("{}市{}", self.open(CN_CITIES), self.any(CN_PUBLIC_BODIES)),
            _ => self
                .any(CN_INSTITUTION_FORMS)
                .replace("{c}", self.open(CN_CITIES))
                .replace("{k}", self.any(CN_NUMERALS)),
        }
    }

    /// Returns text for a slot that is never an entity.
    fn filler(&mut self, chinese: bool, slot: &str) -> String {
        let rng = &mut self.rng;
        match (slot, chinese) {
            ("D", false) => {
                let months = [
                    "January",
                    "February",
                    "March",
                    "April",
                    "May",
                    "June",
                    "July",
                    "August",
                    "September",
                    "October",
                    "November",
                    "December",
                ];
                let month = rng.random_range(1..=12usize);
                let day = rng.random_range(1..=28u32);
                let year = rng.random_range(2015..=2025u32);
                match rng.random_range(0..4) {
                    0 => format!("{} {day}, {year}", months[month - 1]),
                    1 => format!("{year}-{month:02}-{day:02}"),
                    2 => format!("{month}/{day}/{year}"),
                    _ => format!("{day} {} {year}", months[month - 1]),
                }
            }
            ("D", true) => format!(
                "{}年{}月{}日",
                rng.random_range(2015..=2025u32),
                rng.random_range(1..=12u32),
                rng.random_range(1..=28u32)
            ),
            ("T", false) => {
                let hour = rng.random_range(1..=12u32);
                let minute = rng.random_range(0..4u32) * 15;
                let half = if rng.random_bool(0.5) { "AM" } else { "PM" };
                format!("{hour}:{minute:02} {half}")
            }
            ("T", true) => {
                let part = ["上午", "下午", "晚上", ""][rng.random_range(0..4)];
                format!(
                    "{part}{}点{}分",
                    rng.random_range(1..=12u32),
                    rng.random_range(0..6u32) * 10
                )
            }
            ("N", _) => rng.random_range(2..60u32).to_string(),
            ("PH", false) => format!(
                "({}) {}-{:04}",
                rng.random_range(200..999u32),
                rng.random_range(200..999u32),
                rng.random_range(0..9999u32)
            ),
            ("PH", true) => format!(
                "1{}{:09}",
                rng.random_range(3..9u32),
                rng.random_range(0..999_999_999u32)
            ),
            ("E", _) => {
                let user = [
                    "info", "service", "j.doe", "contact", "admin", "help", "office",
                ][rng.random_range(0..7)];
                let domain =
                    ["example.com", "mail.example.org", "city.example.net"][rng.random_range(0..3)];
                format!("{user}{}@{domain}", rng.random_range(1..99u32))
            }
            ("J", _) => {
                let mut title = JOB_TITLES[rng.random_range(0..JOB_TITLES.len())].to_string();
                if rng.random_bool(0.5) {
                    title[..1].make_ascii_uppercase();
                }
                title
            }
            ("M", false) => format!("${}", rng.random_range(10..90_000u32)),
            ("M", true) => format!("{}元", rng.random_range(10..90_000u32)),
            ("ID", _) => format!(
                "{}-{:05}",
                rng.random_range(2015..2026u32),
                rng.random_range(0..99_999u32)
            ),
            (other, _) => format!("{{{other}}}"),
        }
    }
}

/// A sentence under construction: its text and the entities written so far.
#[derive(Debug, Default)]
struct Builder {
    text: String,
    entities: Vec<(Range<usize>, EntityLabel)>,
}

impl Builder {
    fn literal(&mut self, text: &str) {
        self.text.push_str(text);
    }

    /// Writes an entity; one written over several lines becomes one entity per line, the
    /// convention the tagger decodes with.
    fn entity(&mut self, text: &str, label: EntityLabel) {
        let base = self.text.len();
        self.text.push_str(text);
        let mut line_start = 0;
        for line in text.split('\n') {
            let leading = line.len() - line.trim_start().len();
            let trimmed = line.trim();
            if !trimmed.is_empty() {
                let start = base + line_start + leading;
                self.entities.push((start..start + trimmed.len(), label));
            }
            line_start += line.len() + 1;
        }
    }
}

#[cfg(test)]
mod tests;
