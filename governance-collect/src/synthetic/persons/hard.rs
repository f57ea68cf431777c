//! Harder cases for entity resolution: distinct people who look alike, and duplicates that
//! are written less alike.
//!
//! Households make distinct people share an address and a landline phone. Family members of
//! a household also share the family name and have close birth dates, and twins share the
//! date of birth too. Common names make unrelated people share a name. In duplicates,
//! nicknames (William written as Bill) and transposed day and month make the same person look
//! different.

use rand::Rng;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use super::names::{CHINESE_FAMILY, CHINESE_GIVEN, ENGLISH_FAMILY, ENGLISH_GIVEN};
use super::{Person, pick};

/// Settings of the harder cases. With the defaults, 20,000 records contain hundreds of phones
/// shared by distinct people and of family names shared at one address, and about 60 % of
/// people live alone.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct HardCases {
    /// Probability that a person founds a household, whose further members are distinct
    /// people with the founder's street, city and phone.
    pub household_probability: f64,
    /// Maximum number of further members of a household, at least 1.
    pub max_household_members: usize,
    /// Probability that a further member is family: the founder's family name and a birth
    /// date within [`HardCases::family_birth_years`] years of the founder's.
    pub family_probability: f64,
    /// Largest difference in birth year between family members.
    pub family_birth_years: u32,
    /// Probability that a family member is the founder's twin: the same date of birth with
    /// another first name.
    pub twin_probability: f64,
    /// Share of people whose given and family names both come from the
    /// [`HardCases::common_names`] most common ones.
    pub common_name_share: f64,
    /// Number of most common given names and of most common family names that common names
    /// are drawn from.
    pub common_names: usize,
    /// Probability that a duplicate writes the first name as its nickname, for names that
    /// have one.
    pub nickname_probability: f64,
    /// Probability that a duplicate swaps day and month of the date of birth, when both are
    /// 12 or less and differ.
    pub transposed_date_probability: f64,
}

impl Default for HardCases {
    /// 15 % of people found a household of up to 4 further members. 60 % of the members are
    /// family born within 6 years, and 10 % of family members are twins. 10 % of people
    /// have names among the 20 most common, 30 % of duplicates use a nickname, and 10 %
    /// transpose day and month.
    fn default() -> Self {
        Self {
            household_probability: 0.15,
            max_household_members: 4,
            family_probability: 0.6,
            family_birth_years: 6,
            twin_probability: 0.1,
            common_name_share: 0.1,
            common_names: 20,
            nickname_probability: 0.3,
            transposed_date_probability: 0.1,
        }
    }
}

impl HardCases {
    /// Returns the first setting out of range, as its name, value and fix.
    pub(super) fn invalid_setting(&self) -> Option<(&'static str, String, &'static str)> {
        let probabilities = [
            ("household_probability", self.household_probability),
            ("family_probability", self.family_probability),
            ("twin_probability", self.twin_probability),
            ("common_name_share", self.common_name_share),
            ("nickname_probability", self.nickname_probability),
            (
                "transposed_date_probability",
                self.transposed_date_probability,
            ),
        ];
        for (name, value) in probabilities {
            if !(0.0..=1.0).contains(&value) {
                return Some((name, value.to_string(), "use a probability from 0 to 1"));
            }
        }
        if self.max_household_members == 0 {
            return Some(("max_household_members", "0".into(), "use at least 1"));
        }
        if self.common_names == 0 {
            return Some(("common_names", "0".into(), "use at least 1"));
        }
        None
    }
}

/// Gives `person` common names with probability [`HardCases::common_name_share`]. A person
/// with a Chinese name keeps the script the person is written in.
pub(super) fn apply_common_names(rng: &mut ChaCha8Rng, person: &mut Person, hard: &HardCases) {
    if !rng.random_bool(hard.common_name_share) {
        return;
    }
    let common = |length: usize| hard.common_names.min(length);
    if person.chinese {
        let (family_pinyin, family_chars) =
            CHINESE_FAMILY[rng.random_range(0..common(CHINESE_FAMILY.len()))];
        let (given_pinyin, given_chars) =
            CHINESE_GIVEN[rng.random_range(0..common(CHINESE_GIVEN.len()))];
        if person.characters {
            person.last = family_chars.to_owned();
            person.first = given_chars.to_owned();
        } else {
            person.last = family_pinyin.to_owned();
            person.first = capitalised(given_pinyin);
        }
    } else {
        person.last = ENGLISH_FAMILY[rng.random_range(0..common(ENGLISH_FAMILY.len()))].to_owned();
        person.first = ENGLISH_GIVEN[rng.random_range(0..common(ENGLISH_GIVEN.len()))].to_owned();
    }
}

fn capitalised(name: &str) -> String {
    let mut chars = name.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// Draws the further members of a household that `founder` founds, or none.
/// `new_person` draws an unrelated person, whose address and phone are then replaced by
/// the founder's.
pub(super) fn household(
    rng: &mut ChaCha8Rng,
    founder: &Person,
    hard: &HardCases,
    mut new_person: impl FnMut(&mut ChaCha8Rng) -> Person,
) -> Vec<Person> {
    if !rng.random_bool(hard.household_probability) {
        return Vec::new();
    }
    let size = rng.random_range(1..=hard.max_household_members);
    let mut members = Vec::with_capacity(size);
    for _ in 0..size {
        let mut member = new_person(rng);
        let drawn_script = (member.chinese, member.characters);
        // A household is written in one language and script.
        member.chinese = founder.chinese;
        member.characters = founder.characters;
        member.country_code = founder.country_code;
        member.national = founder.national.clone();
        member.house = founder.house;
        member.street = founder.street;
        member.city = founder.city;
        if rng.random_bool(hard.family_probability) {
            make_family(rng, founder, &mut member, hard);
        } else if drawn_script != (founder.chinese, founder.characters) {
            rename_in_script(rng, founder, &mut member);
        }
        members.push(member);
    }
    members
}

/// Makes `member` the founder's relative: the same family name, another first name, and a
/// birth date within `family_birth_years` years, or the same date for a twin.
fn make_family(rng: &mut ChaCha8Rng, founder: &Person, member: &mut Person, hard: &HardCases) {
    member.last = founder.last.clone();
    member.first = other_first_name(rng, founder, &member.first);
    if rng.random_bool(hard.twin_probability) {
        member.birth = founder.birth;
        return;
    }
    let spread = hard.family_birth_years;
    let (year, _, _) = founder.birth;
    let low = year.saturating_sub(spread).max(1900);
    member.birth = (
        rng.random_range(low..=year + spread),
        rng.random_range(1..=12),
        rng.random_range(1..=28),
    );
}

/// Gives a member who is not family a name in the founder's language and script.
fn rename_in_script(rng: &mut ChaCha8Rng, founder: &Person, member: &mut Person) {
    member.last = if !founder.chinese {
        (*pick(rng, ENGLISH_FAMILY)).to_owned()
    } else {
        let (family_pinyin, family_chars) = *pick(rng, CHINESE_FAMILY);
        if founder.characters {
            family_chars.to_owned()
        } else {
            family_pinyin.to_owned()
        }
    };
    member.first = other_first_name(rng, founder, "");
}

/// Draws a first name in the founder's language and script that differs from the
/// founder's. An English `candidate` is kept when it already differs.
fn other_first_name(rng: &mut ChaCha8Rng, founder: &Person, candidate: &str) -> String {
    let fits = |name: &str| {
        !name.is_empty() && name != founder.first && (founder.chinese || name.is_ascii())
    };
    if !founder.chinese && fits(candidate) {
        return candidate.to_owned();
    }
    let in_script = |index: usize| {
        if !founder.chinese {
            ENGLISH_GIVEN[index % ENGLISH_GIVEN.len()].to_owned()
        } else {
            let (pinyin, chars) = CHINESE_GIVEN[index % CHINESE_GIVEN.len()];
            if founder.characters {
                chars.to_owned()
            } else {
                capitalised(pinyin)
            }
        }
    };
    // A random start, then the next names of the list: at most one of them is the
    // founder's, so the second one tried always fits.
    let start = rng.random_range(0..ENGLISH_GIVEN.len().max(CHINESE_GIVEN.len()));
    (start..start + 3)
        .map(in_script)
        .find(|name| fits(name))
        .unwrap_or_else(|| in_script(start + 1))
}

/// Returns the nickname of an English given name, if it has a common one.
pub(super) fn nickname(name: &str) -> Option<&'static str> {
    NICKNAMES
        .iter()
        .find(|(formal, _)| *formal == name)
        .map(|(_, short)| *short)
}

/// Returns the birth date with day and month swapped, when both are 12 or less and differ.
pub(super) fn transposed(birth: (u32, u32, u32)) -> Option<(u32, u32, u32)> {
    let (year, month, day) = birth;
    (day <= 12 && day != month).then_some((year, day, month))
}

/// English given names and a nickname in common use for each.
const NICKNAMES: &[(&str, &str)] = &[
    ("James", "Jim"),
    ("John", "Jack"),
    ("Robert", "Bob"),
    ("Michael", "Mike"),
    ("William", "Bill"),
    ("David", "Dave"),
    ("Richard", "Dick"),
    ("Joseph", "Joe"),
    ("Thomas", "Tom"),
    ("Charles", "Charlie"),
    ("Christopher", "Chris"),
    ("Daniel", "Dan"),
    ("Matthew", "Matt"),
    ("Anthony", "Tony"),
    ("Donald", "Don"),
    ("Steven", "Steve"),
    ("Andrew", "Andy"),
    ("Joshua", "Josh"),
    ("Kenneth", "Ken"),
    ("Timothy", "Tim"),
    ("Ronald", "Ron"),
    ("Edward", "Ted"),
    ("Jeffrey", "Jeff"),
    ("Jacob", "Jake"),
    ("Nicholas", "Nick"),
    ("Jonathan", "Jon"),
    ("Lawrence", "Larry"),
    ("Benjamin", "Ben"),
    ("Samuel", "Sam"),
    ("Gregory", "Greg"),
    ("Alexander", "Alex"),
    ("Patrick", "Pat"),
    ("Raymond", "Ray"),
    ("Zachary", "Zach"),
    ("Gerald", "Jerry"),
    ("Eugene", "Gene"),
    ("Philip", "Phil"),
    ("Patricia", "Patty"),
    ("Jennifer", "Jenny"),
    ("Elizabeth", "Liz"),
    ("Barbara", "Barb"),
    ("Susan", "Sue"),
    ("Jessica", "Jess"),
    ("Margaret", "Peggy"),
    ("Kimberly", "Kim"),
    ("Dorothy", "Dot"),
    ("Deborah", "Debbie"),
    ("Stephanie", "Steph"),
    ("Rebecca", "Becky"),
    ("Cynthia", "Cindy"),
    ("Kathleen", "Kathy"),
    ("Pamela", "Pam"),
    ("Samantha", "Sam"),
    ("Katherine", "Kate"),
    ("Christine", "Chris"),
    ("Catherine", "Cathy"),
    ("Victoria", "Vicky"),
    ("Jacqueline", "Jackie"),
    ("Judith", "Judy"),
    ("Abigail", "Abby"),
    ("Madison", "Maddie"),
    ("Theresa", "Tess"),
    ("Alexis", "Lexi"),
];
