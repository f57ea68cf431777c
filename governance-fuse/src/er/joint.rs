//! Joint comparisons: several correlated comparisons merged into one, so that the
//! Fellegi-Sunter model counts their shared evidence once.
//!
//! The model assumes that comparisons are independent given the match status. Attributes
//! that people share without being the same person break that assumption: members of one
//! household agree on phone, street and city together. Summed as independent comparisons,
//! the three weights (about +15, +15 and +5 bits on the person benchmark) outweigh any
//! disagreement on name and date of birth, so whole households merge. A joint comparison has
//! one level per combination of its members' levels, and m and u are estimated per
//! combination. Agreeing on all three is then worth what it is worth in the data (about
//! +15 bits there), not the sum.
//!
//! ```
//! use governance_fuse::er::fellegi_sunter::LevelMatrix;
//! use governance_fuse::er::joint::join_comparisons;
//!
//! let labels = vec!["else".to_string(), "exact".to_string()];
//! let matrix = LevelMatrix::new(
//!     vec!["name:exact".into(), "phone:exact".into(), "street:exact".into()],
//!     vec![labels.clone(), labels.clone(), labels],
//!     vec![1, 1, 1, 0, 1, 0],
//! )?;
//! let joint = join_comparisons(&matrix, &["phone".to_string(), "street".to_string()])?;
//! assert_eq!(joint.names(), ["name:exact", "phone:exact & street:exact"]);
//! assert_eq!(joint.labels()[1][joint.row(0)[1] as usize], "exact & exact");
//! assert_eq!(joint.labels()[1][joint.row(1)[1] as usize], "exact & else");
//! # Ok::<(), governance_fuse::er::ErError>(())
//! ```

use super::ErError;
use super::compare::NULL_LEVEL;
use super::fellegi_sunter::LevelMatrix;

/// Separator between member names in the name of a joint comparison.
pub const JOINT_SEPARATOR: &str = " & ";

/// Returns the member comparison names of a comparison name: itself for a plain comparison,
/// the parts between [`JOINT_SEPARATOR`]s for a joint one.
pub fn member_names(name: &str) -> impl Iterator<Item = &str> {
    name.split(JOINT_SEPARATOR)
}

/// Returns whether `entry` names comparison `name` by its full name, its attribute (the part
/// before `:`), or the name or attribute of one of its members when it is joint.
pub fn names_comparison(entry: &str, name: &str) -> bool {
    entry == name
        || member_names(name)
            .any(|member| member == entry || member.split(':').next().unwrap_or(member) == entry)
}

/// Replaces the comparisons that `members` names (each by comparison name or attribute)
/// with one joint comparison at the position of the first of them.
///
/// The joint levels are the combinations of the members' levels, `null` included as a
/// value of its own, and the joint level is `null` only when every member is `null`. Its
/// labels join the members' labels with [`JOINT_SEPARATOR`], such as `exact & else & null`.
/// Apply the same join to the candidates, the random pairs and the pairs to predict, because
/// a model trained on joined levels reads only joined levels.
///
/// # Errors
/// [`ErError::InvalidConfig`] when fewer than two members are named, a member names no
/// comparison or the same one as another member, or the combinations exceed 255 levels.
pub fn join_comparisons(matrix: &LevelMatrix, members: &[String]) -> Result<LevelMatrix, ErError> {
    if members.len() < 2 {
        return Err(ErError::invalid_config(
            "members of a joint comparison",
            format!("[{}]", members.join(", ")),
            "name at least two comparisons to join",
        ));
    }
    let names = matrix.names();
    let mut columns = Vec::with_capacity(members.len());
    for member in members {
        let column = names
            .iter()
            .position(|name| member == name || name.split(':').next() == Some(member.as_str()))
            .ok_or_else(|| {
                ErError::invalid_config(
                    "member of a joint comparison",
                    format!("'{member}'"),
                    format!(
                        "name one of the comparisons [{}] or its attribute",
                        names.join(", ")
                    ),
                )
            })?;
        if columns.contains(&column) {
            return Err(ErError::invalid_config(
                "member of a joint comparison",
                format!("'{member}'"),
                format!("name the comparison '{}' only once", names[column]),
            ));
        }
        columns.push(column);
    }

    // Each member contributes one digit: 0 for null, level + 1 otherwise. The first member
    // is the most significant digit, and the all-null combination (index 0) is the joint null.
    let radices: Vec<usize> = columns
        .iter()
        .map(|&column| matrix.labels()[column].len() + 1)
        .collect();
    let combinations: usize = radices.iter().product();
    if combinations > usize::from(NULL_LEVEL) {
        return Err(ErError::invalid_config(
            format!(
                "level count of the joint comparison of [{}]",
                members.join(", ")
            ),
            combinations - 1,
            format!(
                "join comparisons with at most {} level combinations, so fewer members or \
                 fewer thresholds",
                NULL_LEVEL
            ),
        ));
    }
    let joint_labels = joint_labels(matrix, &columns, combinations);
    let joint_name = columns
        .iter()
        .map(|&column| names[column].as_str())
        .collect::<Vec<_>>()
        .join(JOINT_SEPARATOR);

    let first = columns.iter().copied().min().unwrap_or(0);
    let kept: Vec<usize> = (0..names.len())
        .filter(|column| *column == first || !columns.contains(column))
        .collect();
    let mut new_names = Vec::with_capacity(kept.len());
    let mut new_labels = Vec::with_capacity(kept.len());
    for &column in &kept {
        if column == first {
            new_names.push(joint_name.clone());
            new_labels.push(joint_labels.clone());
        } else {
            new_names.push(names[column].clone());
            new_labels.push(matrix.labels()[column].clone());
        }
    }
    let mut levels = Vec::with_capacity(matrix.num_pairs() * kept.len());
    for index in 0..matrix.num_pairs() {
        let row = matrix.row(index);
        for &column in &kept {
            if column == first {
                levels.push(joint_level(row, &columns, &radices));
            } else {
                levels.push(row[column]);
            }
        }
    }
    LevelMatrix::new(new_names, new_labels, levels)
}

/// Joint level of one row: the mixed-radix number of the members' digits, less one for the
/// all-null combination, which becomes [`NULL_LEVEL`].
fn joint_level(row: &[u8], columns: &[usize], radices: &[usize]) -> u8 {
    let mut index = 0;
    for (&column, &radix) in columns.iter().zip(radices) {
        let digit = if row[column] == NULL_LEVEL {
            0
        } else {
            usize::from(row[column]) + 1
        };
        index = index * radix + digit;
    }
    if index == 0 {
        NULL_LEVEL
    } else {
        // The caller checked that every combination fits below the null level.
        (index - 1) as u8
    }
}

/// Labels of joint levels 0 up to `combinations - 2`, in the order of [`joint_level`].
fn joint_labels(matrix: &LevelMatrix, columns: &[usize], combinations: usize) -> Vec<String> {
    (1..combinations)
        .map(|index| {
            let mut rest = index;
            let mut parts = Vec::with_capacity(columns.len());
            for &column in columns.iter().rev() {
                let labels = &matrix.labels()[column];
                let radix = labels.len() + 1;
                let digit = rest % radix;
                rest /= radix;
                parts.push(if digit == 0 {
                    "null".to_owned()
                } else {
                    labels[digit - 1].clone()
                });
            }
            parts.reverse();
            parts.join(JOINT_SEPARATOR)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn matrix() -> LevelMatrix {
        let two = vec!["else".to_string(), "exact".to_string()];
        let three = vec!["else".to_string(), "close".to_string(), "exact".to_string()];
        LevelMatrix::new(
            vec!["phone:exact".into(), "name:jw".into(), "street:jw".into()],
            vec![two, three.clone(), three],
            vec![
                1, 2, 2, //
                0, 0, 1, //
                NULL_LEVEL, 1, NULL_LEVEL, //
                1, 0, NULL_LEVEL,
            ],
        )
        .expect("valid matrix")
    }

    #[test]
    fn join_keeps_other_columns() {
        let joint =
            join_comparisons(&matrix(), &["phone".into(), "street:jw".into()]).expect("joins");
        assert_eq!(joint.names(), ["phone:exact & street:jw", "name:jw"]);
        assert_eq!(joint.num_pairs(), 4);
        assert_eq!(joint.row(0)[1], 2);
        assert_eq!(joint.row(1)[1], 0);
        assert_eq!(joint.row(2)[1], 1);
    }

    #[test]
    fn join_labels_name_each_member() {
        let joint = join_comparisons(&matrix(), &["phone".into(), "street".into()]).expect("joins");
        let labels = &joint.labels()[0];
        // (2 + 1) * (3 + 1) combinations, less the all-null one.
        assert_eq!(labels.len(), 11);
        let label = |row: usize| labels[usize::from(joint.row(row)[0])].clone();
        assert_eq!(label(0), "exact & exact");
        assert_eq!(label(1), "else & close");
        assert_eq!(joint.row(2)[0], NULL_LEVEL);
        assert_eq!(label(3), "exact & null");
    }

    #[test]
    fn distinct_combinations_stay_distinct() {
        let joint = join_comparisons(&matrix(), &["phone".into(), "name".into(), "street".into()])
            .expect("joins");
        let levels: Vec<u8> = (0..4).map(|row| joint.row(row)[0]).collect();
        for (index, level) in levels.iter().enumerate() {
            assert_ne!(
                *level, NULL_LEVEL,
                "row {index} has a member that is not null"
            );
            assert!(
                !levels[index + 1..].contains(level),
                "row {index} shares its level"
            );
        }
    }

    #[test]
    fn join_rejects_bad_members() {
        let data = matrix();
        let unknown = join_comparisons(&data, &["phone".into(), "email".into()])
            .expect_err("email is no comparison")
            .to_string();
        assert!(unknown.contains("'email'"), "{unknown}");
        assert!(unknown.contains("phone:exact"), "{unknown}");
        let repeated = join_comparisons(&data, &["phone".into(), "phone:exact".into()])
            .expect_err("phone twice")
            .to_string();
        assert!(repeated.contains("only once"), "{repeated}");
        let single = join_comparisons(&data, &["phone".into()])
            .expect_err("one member")
            .to_string();
        assert!(single.contains("at least two"), "{single}");
    }

    #[test]
    fn join_rejects_too_many_levels() {
        let labels: Vec<String> = (0..20).map(|level| format!("level {level}")).collect();
        let data = LevelMatrix::new(
            vec!["a:x".into(), "b:x".into()],
            vec![labels.clone(), labels],
            vec![0, 0],
        )
        .expect("valid");
        let error = join_comparisons(&data, &["a".into(), "b".into()])
            .expect_err("441 combinations")
            .to_string();
        assert!(error.contains("440"), "{error}");
    }

    #[test]
    fn names_comparison_matches_members() {
        assert!(names_comparison("city", "phone:exact & city:exact"));
        assert!(names_comparison("city:exact", "phone:exact & city:exact"));
        assert!(names_comparison(
            "phone:exact & city:exact",
            "phone:exact & city:exact"
        ));
        assert!(!names_comparison("street", "phone:exact & city:exact"));
        assert!(names_comparison("name", "name:jw"));
    }
}
