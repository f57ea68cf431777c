//! Street addresses for the generator: North American, international and Chinese forms.

use rand::Rng;
use rand_chacha::ChaCha8Rng;

use super::lexicon::*;
use super::vocabulary::{STREET_ENDINGS, STREET_PREFIXES};
use super::{Builder, SentenceGenerator};
use crate::tagger::labels::EntityLabel;

impl SentenceGenerator {
    pub(super) fn english_address(&mut self, out: &mut Builder) {
        if self.chance(0.3) {
            let address = self.international_address();
            out.entity(&address, EntityLabel::Location);
            return;
        }
        let mut address = if self.chance(0.05) {
            format!("PO Box {}", self.rng.random_range(10..9999))
        } else {
            let mut number = self.rng.random_range(1..9999u32).to_string();
            if self.chance(0.05) {
                number.push(char::from(b'A' + self.rng.random_range(0..6u8)));
            }
            let direction = if self.chance(0.12) {
                format!(
                    "{} ",
                    self.any(&[
                        "N.", "S.", "E.", "W.", "North", "South", "East", "West", "NE", "SW"
                    ])
                )
            } else {
                String::new()
            };
            let street = self.open(STREET_NAMES);
            let suffix = self.any(STREET_SUFFIXES);
            format!("{number} {direction}{street} {suffix}")
        };
        if self.chance(0.3) {
            let separator = self.any(&[", ", " ", "\n"]);
            let unit = self
                .any(UNIT_FORMS)
                .replace("{n}", &self.rng.random_range(1..999u32).to_string())
                .replace(
                    "{c}",
                    &char::from(b'A' + self.rng.random_range(0..8u8)).to_string(),
                );
            address.push_str(separator);
            address.push_str(&unit);
        }
        if self.chance(0.55) {
            let separator = if self.chance(0.3) { "\n" } else { ", " };
            address.push_str(separator);
            address.push_str(self.open(CITIES));
            let (region, code) = REGIONS[self.index_in_split(REGIONS.len())];
            match self.rng.random_range(0..6) {
                0 => {
                    let postcode = self.uk_postcode();
                    address.push(' ');
                    address.push_str(&postcode);
                }
                1 => {
                    address.push_str(", ");
                    address.push_str(region);
                }
                2 => {}
                _ => {
                    address.push_str(", ");
                    address.push_str(code);
                    address.push(' ');
                    address.push_str(&format!("{:05}", self.rng.random_range(1000..99999u32)));
                    if self.chance(0.15) {
                        address.push_str(&format!("-{:04}", self.rng.random_range(0..9999u32)));
                    }
                }
            }
            if self.chance(0.1) {
                address.push_str(", ");
                address.push_str(self.open(COUNTRIES));
            }
        }
        if self.chance(0.05) {
            address = address.to_lowercase();
        }
        out.entity(&address, EntityLabel::Location);
    }

    /// Writes two streets that meet (`Elm Street and Kirvik 12`), each labelled as its own
    /// address. Labelled as one, the model took any `X and Y` for an address, so the
    /// detector joins the two after `corner of` instead.
    pub(super) fn street_corner(&mut self, out: &mut Builder) {
        let lower = self.chance(0.08);
        for position in 0..2 {
            if position == 1 {
                out.literal(" and ");
            }
            let name = if self.chance(0.5) {
                self.made_up_name()
            } else {
                self.open(STREET_NAMES).to_string()
            };
            let mut street = match self.rng.random_range(0..4) {
                0 => format!(
                    "{name}{} {}",
                    self.any(STREET_ENDINGS),
                    self.rng.random_range(1..200u32)
                ),
                1 => format!(
                    "{} {name} {}",
                    self.rng.random_range(1..999u32),
                    self.any(STREET_SUFFIXES)
                ),
                _ => format!("{name} {}", self.any(STREET_SUFFIXES)),
            };
            if lower {
                street = street.to_lowercase();
            }
            out.entity(&street, EntityLabel::Location);
        }
    }

    /// Makes up an address in a form used outside North America: the house number after
    /// the street, the postcode before the town, units on their own line, a country last.
    fn international_address(&mut self) -> String {
        let number = self.rng.random_range(1..400u32);
        let street_word = if self.chance(0.5) {
            self.made_up_name()
        } else {
            self.open(STREET_NAMES).to_string()
        };
        let mut address = match self.rng.random_range(0..4) {
            0 => format!("{street_word}{} {number}", self.any(STREET_ENDINGS)),
            1 => format!("{} {street_word} {number}", self.any(STREET_PREFIXES)),
            2 => format!("{street_word} {} {number}", self.any(STREET_SUFFIXES)),
            _ => format!(
                "{} {street_word}{}, {number}",
                self.any(STREET_PREFIXES),
                self.any(STREET_ENDINGS)
            ),
        };
        let line = |generator: &mut SentenceGenerator| {
            if generator.chance(0.5) { "\n" } else { ", " }
        };
        if self.chance(0.35) {
            let unit = self
                .any(UNIT_FORMS)
                .replace("{n}", &self.rng.random_range(1..999u32).to_string())
                .replace(
                    "{c}",
                    &char::from(b'A' + self.rng.random_range(0..8u8)).to_string(),
                );
            address.push_str(line(self));
            address.push_str(&unit);
        }
        if self.chance(0.8) {
            let mut town = if self.chance(0.5) {
                self.made_up_name()
            } else {
                self.open(CITIES).to_string()
            };
            if self.chance(0.3) {
                town = town.to_uppercase();
            }
            let digits = self.rng.random_range(3..6usize);
            let postcode = format!(
                "{:0digits$}",
                self.rng.random_range(0..10u32.pow(digits as u32))
            );
            address.push_str(line(self));
            match self.rng.random_range(0..3) {
                0 => address.push_str(&format!("{postcode} {town}")),
                1 => address.push_str(&format!("{town} {postcode}")),
                _ => address.push_str(&town),
            }
            if self.chance(0.35) {
                address.push_str(line(self));
                address.push_str(self.open(COUNTRIES));
            }
        }
        address
    }

    fn uk_postcode(&mut self) -> String {
        let letter = |rng: &mut ChaCha8Rng| char::from(b'A' + rng.random_range(0..26u8));
        format!(
            "{}{}{} {}{}{}",
            letter(&mut self.rng),
            letter(&mut self.rng),
            self.rng.random_range(1..20u32),
            self.rng.random_range(0..10u32),
            letter(&mut self.rng),
            letter(&mut self.rng)
        )
    }

    pub(super) fn chinese_address(&mut self, out: &mut Builder) {
        let mut address = String::new();
        if self.chance(0.3) {
            address.push_str(self.open(CN_PROVINCES));
        }
        if self.chance(0.85) {
            address.push_str(self.open(CN_CITIES));
            address.push('市');
        }
        if self.chance(0.8) {
            address.push_str(self.open(CN_DISTRICTS));
        }
        address.push_str(self.open(CN_ROAD_NAMES));
        address.push_str(self.any(CN_ROAD_SUFFIXES));
        address.push_str(&format!("{}号", self.rng.random_range(1..999u32)));
        if self.chance(0.2) {
            address.push_str(self.open(CN_BRAND_WORDS));
            address.push_str(self.any(&["小区", "花园", "大厦", "公寓"]));
        }
        if self.chance(0.45) {
            let building = self.rng.random_range(1..30u32);
            address.push_str(&format!("{building}{}", self.any(&["栋", "号楼", "幢"])));
            if self.chance(0.6) {
                address.push_str(&format!("{}单元", self.rng.random_range(1..8u32)));
            }
            address.push_str(&format!(
                "{}{:02}室",
                self.rng.random_range(1..33u32),
                self.rng.random_range(1..12u32)
            ));
        }
        out.entity(&address, EntityLabel::Location);
    }
}
