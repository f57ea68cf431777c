//! Similarity of given names that recognises two ways of writing one name: common English
//! nicknames (Robert and Bob) and the same characters in another order.
//!
//! Two names are the same name when they are equal, when one is a nickname of the other,
//! or when both are nicknames of one formal name (Bill and Will, both William). They are
//! also the same when one is an anagram of the other: a Chinese given name with its two
//! characters swapped, or two transposed letters in a short name, where Jaro-Winkler is low.
//! The nickname list is small on purpose. It contains nicknames in wide use in
//! English-speaking countries, and a pair of names it does not know is compared by its text
//! alone.

use std::collections::HashMap;
use std::sync::LazyLock;

use super::string::jaro_winkler_normalized;
use super::text::is_cjk;

/// Formal given names with nicknames in common use, all in the form [`super::normalize`]
/// returns (lowercase).
const NICKNAMES: &[(&str, &[&str])] = &[
    ("abigail", &["abby", "gail"]),
    ("albert", &["al", "bert"]),
    ("alexander", &["alex", "al", "sandy", "xander"]),
    ("alexandra", &["alex", "sandra", "sandy", "lexi"]),
    ("alfred", &["alf", "fred", "freddie"]),
    ("andrew", &["andy", "drew"]),
    ("angela", &["angie"]),
    ("anthony", &["tony"]),
    ("arthur", &["art", "artie"]),
    ("barbara", &["barb", "babs"]),
    ("benjamin", &["ben", "benny", "benji"]),
    ("bernard", &["bernie"]),
    ("beverly", &["bev"]),
    ("bradley", &["brad"]),
    ("catherine", &["cathy", "kate", "katie", "cat"]),
    ("charles", &["charlie", "chuck", "chas"]),
    ("charlotte", &["charlie", "lottie"]),
    ("christina", &["chris", "tina", "chrissy"]),
    ("christine", &["chris", "chrissy"]),
    ("christopher", &["chris", "kit", "topher"]),
    ("clifford", &["cliff"]),
    ("cynthia", &["cindy"]),
    ("daniel", &["dan", "danny"]),
    ("deborah", &["deb", "debbie"]),
    ("donald", &["don", "donny"]),
    ("dorothy", &["dot", "dotty", "dottie"]),
    ("douglas", &["doug"]),
    ("edward", &["ed", "eddie", "ted", "ned"]),
    (
        "elizabeth",
        &["liz", "beth", "betty", "lizzie", "eliza", "betsy"],
    ),
    ("eleanor", &["ellie", "nell", "nora"]),
    ("emily", &["em", "emmy"]),
    ("eugene", &["gene"]),
    ("frances", &["fran", "frankie"]),
    ("francis", &["frank", "fran"]),
    ("frederick", &["fred", "freddie", "freddy"]),
    ("gabriel", &["gabe"]),
    ("gerald", &["gerry", "jerry"]),
    ("gregory", &["greg"]),
    ("harold", &["harry", "hal"]),
    ("henry", &["hank", "harry", "hal"]),
    ("isabella", &["bella", "izzy"]),
    ("jacob", &["jake"]),
    ("james", &["jim", "jimmy", "jamie"]),
    ("janet", &["jan"]),
    ("jeffrey", &["jeff"]),
    ("jennifer", &["jen", "jenny"]),
    ("jessica", &["jess", "jessie"]),
    ("john", &["jack", "johnny"]),
    ("jonathan", &["jon", "jonny"]),
    ("joseph", &["joe", "joey"]),
    ("joshua", &["josh"]),
    ("judith", &["judy"]),
    ("katherine", &["kathy", "kate", "katie", "kat", "kay"]),
    ("kathleen", &["kathy", "kate"]),
    ("kenneth", &["ken", "kenny"]),
    ("lawrence", &["larry"]),
    ("leonard", &["leo", "len", "lenny"]),
    ("margaret", &["maggie", "meg", "peggy", "marge", "margie"]),
    ("matthew", &["matt"]),
    ("michael", &["mike", "mikey", "mick", "mickey"]),
    ("nathaniel", &["nate", "nat"]),
    ("nicholas", &["nick", "nicky"]),
    ("pamela", &["pam"]),
    ("patricia", &["pat", "patty", "trish", "tricia"]),
    ("patrick", &["pat", "paddy"]),
    ("peter", &["pete"]),
    ("philip", &["phil"]),
    ("raymond", &["ray"]),
    ("rebecca", &["becky", "becca"]),
    ("richard", &["rick", "dick", "rich", "richie", "ricky"]),
    ("robert", &["bob", "rob", "bobby", "robbie", "bert"]),
    ("ronald", &["ron", "ronnie"]),
    ("samantha", &["sam", "sammy"]),
    ("samuel", &["sam", "sammy"]),
    ("sandra", &["sandy"]),
    ("stephanie", &["steph"]),
    ("stephen", &["steve"]),
    ("steven", &["steve"]),
    ("susan", &["sue", "susie", "suzy"]),
    ("theodore", &["ted", "teddy", "theo"]),
    ("thomas", &["tom", "tommy"]),
    ("timothy", &["tim", "timmy"]),
    ("victoria", &["vicky", "tori"]),
    ("vincent", &["vince", "vinny"]),
    ("walter", &["walt", "wally"]),
    ("william", &["bill", "will", "billy", "willy", "liam"]),
    ("zachary", &["zach", "zack"]),
];

/// Each known name, formal or nickname, with the formal names it stands for.
static FORMAL_NAMES: LazyLock<HashMap<&'static str, Vec<&'static str>>> = LazyLock::new(|| {
    let mut formal_names: HashMap<&'static str, Vec<&'static str>> = HashMap::new();
    for &(formal, nicknames) in NICKNAMES {
        formal_names.entry(formal).or_default().push(formal);
        for &nickname in nicknames {
            formal_names.entry(nickname).or_default().push(formal);
        }
    }
    formal_names
});

/// Returns whether two normalised given names are the same name: equal, anagrams of each
/// other, a nickname and its formal name, or two nicknames of one formal name.
pub fn same_given_name(left: &str, right: &str) -> bool {
    if left == right || is_anagram(left, right) {
        return true;
    }
    let (Some(left_formal), Some(right_formal)) = (FORMAL_NAMES.get(left), FORMAL_NAMES.get(right))
    else {
        return false;
    };
    left_formal
        .iter()
        .any(|formal| right_formal.contains(formal))
}

/// Returns whether the two values have the same characters, each as often, in another order.
fn is_anagram(left: &str, right: &str) -> bool {
    if left.len() != right.len() {
        return false;
    }
    let mut left_chars: Vec<char> = left.chars().collect();
    let mut right_chars: Vec<char> = right.chars().collect();
    left_chars.sort_unstable();
    right_chars.sort_unstable();
    left_chars == right_chars
}

/// Returns the ways of writing `name` that the nickname list contains: the name itself, the
/// formal names it stands for and every nickname of those formal names.
fn name_forms(name: &str) -> Vec<&str> {
    let mut forms = vec![name];
    let Some(formals) = FORMAL_NAMES.get(name) else {
        return forms;
    };
    for &formal in formals {
        forms.push(formal);
        if let Some((_, nicknames)) = NICKNAMES.iter().find(|(known, _)| *known == formal) {
            forms.extend_from_slice(nicknames);
        }
    }
    forms
}

/// Returns whether some way of writing `left` and some way of writing `right` (see
/// [`same_given_name`]) are at most `max_edits` edits apart, where an edit inserts,
/// deletes or replaces a character or swaps two adjacent ones (Damerau-Levenshtein).
/// A nickname with a typo (Bll for William) is thus near its formal name, while two
/// unrelated names (Mary and Susan) are not. Names written in a CJK script, where each
/// character is a syllable and the syllables may come in any order, are also near when
/// they share a character.
pub fn given_names_within_edits(left: &str, right: &str, max_edits: usize) -> bool {
    if same_given_name(left, right) {
        return true;
    }
    if left.chars().chain(right.chars()).any(is_cjk) {
        let shared = left.chars().any(|character| right.contains(character));
        return shared
            || strsim::damerau_levenshtein(&sorted_chars(left), &sorted_chars(right)) <= max_edits;
    }
    let right_forms = name_forms(right);
    name_forms(left).iter().any(|left_form| {
        right_forms
            .iter()
            .any(|right_form| strsim::damerau_levenshtein(left_form, right_form) <= max_edits)
    })
}

fn sorted_chars(value: &str) -> String {
    let mut chars: Vec<char> = value.chars().collect();
    chars.sort_unstable();
    chars.into_iter().collect()
}

/// Jaro-Winkler similarity of two normalised given names, or 1.0 when [`same_given_name`]
/// holds for them.
pub fn given_name_similarity_normalized(left: &str, right: &str) -> f64 {
    if same_given_name(left, right) {
        1.0
    } else {
        jaro_winkler_normalized(left, right)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nickname_matches_formal_name() {
        assert!(same_given_name("bob", "robert"));
        assert!(same_given_name("robert", "bob"));
        assert!(same_given_name("sue", "susan"));
    }

    #[test]
    fn nicknames_of_one_formal_name_match() {
        assert!(same_given_name("bill", "will"));
        assert!(same_given_name("kate", "katie"));
    }

    #[test]
    fn reordered_characters_match() {
        assert!(same_given_name("宁娟", "娟宁"));
        assert!(same_given_name("yna", "yan"));
        assert!(!same_given_name("建兰", "建山"));
        assert!(!same_given_name("anna", "ana"));
    }

    #[test]
    fn unrelated_names_do_not_match() {
        assert!(!same_given_name("bob", "william"));
        assert!(!same_given_name("robert", "richard"));
        assert!(!same_given_name("zyxw", "robert"));
        assert!(!same_given_name("zyxw", "wxyq"));
    }

    #[test]
    fn list_is_normalised() {
        for &(formal, nicknames) in NICKNAMES {
            assert_eq!(super::super::normalize(formal), formal);
            for &nickname in nicknames {
                assert_eq!(super::super::normalize(nickname), nickname);
                assert_ne!(nickname, formal, "{formal} lists itself");
            }
        }
    }

    #[test]
    fn names_within_edits_through_nicknames() {
        // A typo in a nickname, in either order.
        assert!(given_names_within_edits("bll", "william", 1));
        assert!(given_names_within_edits("william", "bll", 1));
        // A transposition counts as one edit.
        assert!(given_names_within_edits("otm", "thomas", 1));
        assert!(given_names_within_edits("dn", "donald", 1));
        assert!(given_names_within_edits("li", "lu", 1));
        // Deleting a letter and swapping the two it left adjacent are two edits.
        assert!(given_names_within_edits("hau", "uh", 2));
        assert!(!given_names_within_edits("hau", "uh", 1));
        // CJK characters in another order, one added, or one shared.
        assert!(given_names_within_edits("东平", "平军东", 1));
        assert!(given_names_within_edits("荣雪", "荣璐山", 1));
        assert!(!given_names_within_edits("荣雪", "璐山", 1));
        assert!(given_names_within_edits("bob", "robert", 0));
        assert!(!given_names_within_edits("mary", "susan", 1));
        assert!(!given_names_within_edits("bll", "william", 0));
        assert!(!given_names_within_edits("thomas", "margaret", 2));
        assert!(!given_names_within_edits("建兰", "山宁", 1));
    }

    #[test]
    fn similarity_is_one_for_nicknames() {
        assert_eq!(given_name_similarity_normalized("jim", "james"), 1.0);
        let plain = jaro_winkler_normalized("jim", "james");
        assert!(
            plain < 0.8,
            "plain Jaro-Winkler of jim and james is {plain}"
        );
        let typo = given_name_similarity_normalized("martha", "marta");
        assert_eq!(typo, jaro_winkler_normalized("martha", "marta"));
    }
}
