//! Nationalities, religious groups and political groups (Presidio's NRP).
//!
//! The words come from lists written for this crate: the demonyms of the sovereign states and
//! of some nations within them, the followers of the major religions and their main
//! branches, and the names of political movements. Nationality and religion words match in
//! any case, alone or in their plural (`Finnish`, `finns`, `Saudis`, `Englishmen`).
//! Political words and the demonyms `Pole` and `Swede` match only capitalised
//! (`Republicans`, but not `a liberal reading` or `a telephone pole`), because their
//! lower-case forms are common words.
//!
//! NOTE: a demonym is also an adjective of things (`Japanese cars`, `French fries`), and
//! such uses are reported too, because a word list cannot separate a group of people from a
//! product.

use governance_core::Result;
use regex::Regex;

use super::boundary::TokenRule;
use super::{ConfidenceTier, PiiKind, Recognizer, Today, compile};

/// Demonyms: adjectives and nouns for the people of a country or nation, lower case.
const NATIONALITIES: &[&str] = &[
    "afghan",
    "albanian",
    "algerian",
    "american",
    "andorran",
    "angolan",
    "argentine",
    "argentinian",
    "armenian",
    "australian",
    "austrian",
    "azerbaijani",
    "bahamian",
    "bahraini",
    "bangladeshi",
    "barbadian",
    "belarusian",
    "belgian",
    "belizean",
    "beninese",
    "bhutanese",
    "bolivian",
    "bosnian",
    "botswanan",
    "brazilian",
    "british",
    "briton",
    "brit",
    "bruneian",
    "bulgarian",
    "burkinabe",
    "burmese",
    "burundian",
    "cambodian",
    "cameroonian",
    "canadian",
    "chadian",
    "chilean",
    "chinese",
    "colombian",
    "congolese",
    "costa rican",
    "croatian",
    "croat",
    "cuban",
    "cypriot",
    "czech",
    "dane",
    "danish",
    "djiboutian",
    "dominican",
    "dutch",
    "dutchman",
    "ecuadorian",
    "ecuadorean",
    "egyptian",
    "emirati",
    "english",
    "englishman",
    "eritrean",
    "estonian",
    "ethiopian",
    "fijian",
    "filipino",
    "filipina",
    "finn",
    "finnish",
    "french",
    "frenchman",
    "gabonese",
    "gambian",
    "georgian",
    "german",
    "ghanaian",
    "greek",
    "grenadian",
    "guatemalan",
    "guinean",
    "guyanese",
    "haitian",
    "honduran",
    "hungarian",
    "icelander",
    "icelandic",
    "indian",
    "indonesian",
    "iranian",
    "iraqi",
    "irish",
    "irishman",
    "israeli",
    "italian",
    "ivorian",
    "jamaican",
    "japanese",
    "jordanian",
    "kazakh",
    "kenyan",
    "korean",
    "kosovar",
    "kuwaiti",
    "kyrgyz",
    "lao",
    "laotian",
    "latvian",
    "lebanese",
    "liberian",
    "libyan",
    "liechtensteiner",
    "lithuanian",
    "luxembourger",
    "macedonian",
    "malagasy",
    "malawian",
    "malaysian",
    "maldivian",
    "malian",
    "maltese",
    "mauritanian",
    "mauritian",
    "mexican",
    "moldovan",
    "monegasque",
    "mongolian",
    "montenegrin",
    "moroccan",
    "mozambican",
    "namibian",
    "nepalese",
    "nepali",
    "new zealander",
    "nicaraguan",
    "nigerian",
    "nigerien",
    "norwegian",
    "omani",
    "pakistani",
    "palestinian",
    "panamanian",
    "paraguayan",
    "peruvian",
    "polish",
    "portuguese",
    "qatari",
    "romanian",
    "russian",
    "rwandan",
    "salvadoran",
    "samoan",
    "saudi",
    "scot",
    "scottish",
    "scotsman",
    "senegalese",
    "serb",
    "serbian",
    "sierra leonean",
    "singaporean",
    "slovak",
    "slovenian",
    "slovene",
    "somali",
    "south african",
    "spaniard",
    "spanish",
    "sri lankan",
    "sudanese",
    "surinamese",
    "swedish",
    "swiss",
    "syrian",
    "taiwanese",
    "tajik",
    "tanzanian",
    "thai",
    "togolese",
    "tongan",
    "trinidadian",
    "tunisian",
    "turk",
    "turkish",
    "turkmen",
    "ugandan",
    "ukrainian",
    "uruguayan",
    "uzbek",
    "venezuelan",
    "vietnamese",
    "welsh",
    "welshman",
    "yemeni",
    "zambian",
    "zimbabwean",
    "kurd",
    "kurdish",
    "basque",
    "catalan",
    "flemish",
    "greenlandic",
    "greenlander",
    "tibetan",
    "uyghur",
    "faroese",
    "quebecer",
];

/// Followers of religions and of their branches, lower case.
const RELIGIONS: &[&str] = &[
    "christian",
    "catholic",
    "protestant",
    "anglican",
    "baptist",
    "lutheran",
    "methodist",
    "presbyterian",
    "evangelical",
    "pentecostal",
    "mormon",
    "quaker",
    "adventist",
    "muslim",
    "moslem",
    "sunni",
    "shia",
    "shii",
    "shiite",
    "sufi",
    "jew",
    "jewish",
    "hindu",
    "buddhist",
    "sikh",
    "jain",
    "taoist",
    "confucian",
    "shinto",
    "bahai",
    "zoroastrian",
    "atheist",
    "agnostic",
    "rastafarian",
];

/// Capitalised-only words: political movements and party members, and demonyms whose
/// lower-case forms are common nouns (`pole`, `swede`).
const POLITICAL: &[&str] = &[
    "Pole",
    "Swede",
    "Democrat",
    "Republican",
    "Socialist",
    "Communist",
    "Conservative",
    "Liberal",
    "Libertarian",
    "Labourite",
    "Tory",
    "Tories",
    "Marxist",
    "Leninist",
    "Maoist",
    "Nationalist",
    "Green Party",
    "Social Democrat",
    "Christian Democrat",
    "Anarchist",
    "Fascist",
    "Zionist",
];

/// Returns the regex alternation of `word` and its plurals: `s` or `es` added, and `man`
/// turned into `men`.
fn with_plurals(word: &str) -> String {
    let escaped = regex::escape(word);
    match escaped.strip_suffix("man") {
        Some(stem) => format!("{stem}m[ae]ns?"),
        None => format!("{escaped}(?:e?s)?"),
    }
}

/// Builds the pattern: case-insensitive nationalities and religions, then capitalised
/// political words. A demonym before `Republic` is part of a country name (`Czech
/// Republic`) and is matched with it in the group `country`, so that it can be rejected.
/// Longer words come first, so that `Englishman` wins over `English`.
fn nrp_pattern() -> String {
    let mut words: Vec<&str> = NATIONALITIES.iter().chain(RELIGIONS).copied().collect();
    words.sort_by_key(|word| std::cmp::Reverse(word.len()));
    let groups: Vec<String> = words.iter().map(|word| with_plurals(word)).collect();
    let mut political: Vec<&str> = POLITICAL.to_vec();
    political.sort_by_key(|word| std::cmp::Reverse(word.len()));
    let parties: Vec<String> = political.iter().map(|word| with_plurals(word)).collect();
    format!(
        "(?i-u:{})(?P<country> Republic)?|{}",
        groups.join("|"),
        parties.join("|")
    )
}

/// Recognizes nationality, religious and political group words.
#[derive(Debug)]
pub(crate) struct NrpRecognizer {
    pattern: Regex,
}

impl NrpRecognizer {
    pub(crate) fn new() -> Result<Self> {
        Ok(NrpRecognizer {
            pattern: compile(&nrp_pattern())?,
        })
    }
}

impl Recognizer for NrpRecognizer {
    fn kind(&self) -> PiiKind {
        PiiKind::Nrp
    }

    fn name(&self) -> &'static str {
        "nrp"
    }

    fn pattern(&self) -> &Regex {
        &self.pattern
    }

    fn token_rule(&self) -> TokenRule {
        TokenRule::Numeric
    }

    fn validate(&self, candidate: &str, _today: &Today) -> Option<ConfidenceTier> {
        let country = self
            .pattern
            .captures(candidate)
            .is_some_and(|captures| captures.name("country").is_some());
        (!country).then_some(ConfidenceTier::PatternOnly)
    }
}

#[cfg(test)]
mod tests {
    use crate::detect::{PiiKind, found_texts};

    fn groups(text: &str) -> Vec<String> {
        found_texts(PiiKind::Nrp, text)
    }

    #[test]
    fn nationalities_in_any_case_and_plural() {
        assert_eq!(groups("The Finnish delegation arrived."), ["Finnish"]);
        assert_eq!(groups("we met two saudis"), ["saudis"]);
        assert_eq!(groups("Englishmen abroad"), ["Englishmen"]);
        assert_eq!(groups("a New Zealander"), ["New Zealander"]);
        assert_eq!(
            groups("Ecuadoreans and Peruvians"),
            ["Ecuadoreans", "Peruvians"]
        );
    }

    #[test]
    fn religions_and_parties_are_found() {
        assert_eq!(groups("Buddhists and Sikhs"), ["Buddhists", "Sikhs"]);
        assert_eq!(groups("Republicans voted"), ["Republicans"]);
    }

    #[test]
    fn words_inside_other_words_are_ignored() {
        assert!(groups("a liberal reading").is_empty());
        assert!(groups("the republican form").is_empty());
        assert!(groups("Thailand and Polishing").is_empty());
        assert!(groups("brittle and jewel").is_empty());
        assert!(groups("scottie").is_empty());
        assert!(groups("a telephone pole").is_empty());
        assert!(groups("in the Czech Republic").is_empty());
    }
}
