//! Value transformations learned from the labelled corrections of a column: each is kept when
//! it turns at least one labelled wrong value into the value the person gave.

use crate::detection::table::{first_number, is_missing_token, minimal_number};

/// An edit that maps a wrong value to a right one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Transform {
    /// Keep only the first number, written without trailing zeros: `12.0 oz` to `12`.
    NumberOnly,
    /// Drop the first whitespace-separated token: `12/02/2011 6:55 a.m.` to `6:55 a.m.`.
    DropFirstToken,
    /// Drop the last whitespace-separated token: `Bend OR` to `Bend`.
    DropLastToken,
    /// Remove a literal prefix.
    StripPrefix(String),
    /// Remove a literal suffix: `0.05%` to `0.05`.
    StripSuffix(String),
    /// Replace a missing-value token such as `N/A` with the empty string.
    MissingToEmpty,
}

impl Transform {
    /// Applies the edit, or returns `None` when it does not apply or changes nothing.
    pub fn apply(&self, value: &str) -> Option<String> {
        let result = match self {
            Transform::NumberOnly => minimal_number(first_number(value)?)?,
            Transform::DropFirstToken => {
                let trimmed = value.trim();
                let (_, rest) = trimmed.split_once(char::is_whitespace)?;
                rest.trim_start().to_string()
            }
            Transform::DropLastToken => {
                let trimmed = value.trim();
                let (rest, _) = trimmed.rsplit_once(char::is_whitespace)?;
                rest.trim_end().to_string()
            }
            Transform::StripPrefix(prefix) => value.strip_prefix(prefix.as_str())?.to_string(),
            Transform::StripSuffix(suffix) => value.strip_suffix(suffix.as_str())?.to_string(),
            Transform::MissingToEmpty => {
                if !is_missing_token(value) {
                    return None;
                }
                String::new()
            }
        };
        (result != value).then_some(result)
    }
}

/// Learns the transformations that explain at least one `(wrong, right)` pair, each with its
/// strength: the share of pairs it applies to that it gets right, shrunk towards 0 for few
/// pairs (`hits / (tries + 0.5)`).
pub(crate) fn learn(pairs: &[(&str, &str)]) -> Vec<(Transform, f32)> {
    let mut found: Vec<Transform> = Vec::new();
    for &(dirty, clean) in pairs {
        let mut options = vec![
            Transform::NumberOnly,
            Transform::DropFirstToken,
            Transform::DropLastToken,
            Transform::MissingToEmpty,
        ];
        if clean.len() < dirty.len() {
            if let Some(suffix) = dirty.strip_prefix(clean) {
                options.push(Transform::StripSuffix(suffix.to_string()));
            }
            if let Some(prefix) = dirty.strip_suffix(clean) {
                options.push(Transform::StripPrefix(prefix.to_string()));
            }
        }
        for option in options {
            if option.apply(dirty).as_deref() == Some(clean) && !found.contains(&option) {
                found.push(option);
            }
        }
    }
    found
        .into_iter()
        .map(|transform| {
            let (mut hits, mut tries) = (0u32, 0u32);
            for &(dirty, clean) in pairs {
                if let Some(result) = transform.apply(dirty) {
                    tries += 1;
                    hits += u32::from(result == clean);
                }
            }
            let strength = hits as f32 / (tries as f32 + 0.5);
            (transform, strength)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn transforms_apply_as_documented() {
        assert_eq!(
            Transform::NumberOnly.apply("12.0 oz").as_deref(),
            Some("12")
        );
        assert_eq!(
            Transform::DropFirstToken
                .apply("12/02/2011 6:55 a.m.")
                .as_deref(),
            Some("6:55 a.m.")
        );
        assert_eq!(
            Transform::DropLastToken.apply("Bend OR").as_deref(),
            Some("Bend")
        );
        assert_eq!(Transform::DropLastToken.apply("Bend"), None);
        assert_eq!(
            Transform::StripSuffix("%".into()).apply("0.05%").as_deref(),
            Some("0.05")
        );
        assert_eq!(Transform::MissingToEmpty.apply("N/A").as_deref(), Some(""));
        assert_eq!(Transform::MissingToEmpty.apply("17"), None);
    }

    #[test]
    fn learning_keeps_explaining_transforms() {
        let learned = learn(&[("0.05%", "0.05"), ("0.07%", "0.07")]);
        let suffix = learned
            .iter()
            .find(|(transform, _)| *transform == Transform::StripSuffix("%".into()))
            .expect("suffix learned");
        assert!(suffix.1 > 0.7);
        assert!(
            !learned
                .iter()
                .any(|(transform, _)| *transform == Transform::DropLastToken)
        );
    }
}
