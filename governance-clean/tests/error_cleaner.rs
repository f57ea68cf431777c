//! The error cleaner as a user drives it: pick tuples, label them through feedback, detect and
//! correct; and the same stage on hostile input.

use std::sync::Arc;

use arrow::array::{Array, ArrayRef, Int64Array, RecordBatch, StringArray};
use arrow::datatypes::{Field, Schema};
use governance_clean::{ErrorCleaner, ErrorCleanerConfig};
use governance_core::audit::AuditLog;
use governance_core::{
    Cleaner, Feedback, GovernedBatch, IssueKind, Label, Provenance, RowIdAllocator, Stage,
    StageContext,
};

fn batch(columns: Vec<(&str, ArrayRef)>) -> GovernedBatch {
    let fields: Vec<Field> = columns
        .iter()
        .map(|(name, array)| Field::new(*name, array.data_type().clone(), true))
        .collect();
    let arrays: Vec<ArrayRef> = columns.into_iter().map(|(_, array)| array).collect();
    let data = RecordBatch::try_new(Arc::new(Schema::new(fields)), arrays).expect("batch");
    let ids = RowIdAllocator::default().allocate(data.num_rows());
    GovernedBatch::try_new(data, ids, Provenance::new("test")).expect("governed batch")
}

fn text(values: Vec<String>) -> ArrayRef {
    Arc::new(StringArray::from(values))
}

fn context() -> StageContext {
    StageContext::new("error_cleaner", 1, AuditLog::in_memory().into_handle())
}

/// Zip codes that determine cities, with typos in some cities; returns dirty and clean tables.
fn towns() -> (Vec<Vec<String>>, Vec<Vec<String>>) {
    let places = [
        ("10001", "springfield", "il"),
        ("20002", "riverside", "ca"),
        ("30003", "fairview", "tn"),
        ("40004", "georgetown", "tx"),
    ];
    let mut clean = vec![Vec::new(), Vec::new(), Vec::new()];
    for row in 0..200 {
        let (zip, city, state) = places[(row * 7) % 4];
        clean[0].push(zip.to_string());
        clean[1].push(city.to_string());
        clean[2].push(state.to_string());
    }
    let mut dirty = clean.clone();
    for row in (3..200).step_by(17) {
        let city = &dirty[1][row];
        let position = city.len() / 2;
        dirty[1][row] = format!("{}x{}", &city[..position], &city[position + 1..]);
    }
    (dirty, clean)
}

#[test]
fn labels_train_detection_and_correction() {
    let (dirty, clean) = towns();
    let names = ["zip", "city", "state"];
    let input = batch(
        names
            .iter()
            .zip(&dirty)
            .map(|(name, values)| (*name, text(values.clone())))
            .collect(),
    );
    let mut cleaner = ErrorCleaner::new(ErrorCleanerConfig::default()).expect("config");
    let tuples = cleaner.pick_tuples(&input, 1).expect("sampling");
    assert!(!tuples.is_empty() && tuples.len() <= 20);

    let mut feedback = Vec::new();
    for &row_id in &tuples {
        let row = row_id as usize;
        for (column, name) in names.iter().enumerate() {
            let label = if dirty[column][row] == clean[column][row] {
                Label::Rejected
            } else {
                Label::Corrected {
                    value: clean[column][row].clone(),
                }
            };
            feedback.push(Feedback::cell(row_id, *name, label, "test"));
        }
    }
    let adjustment = cleaner.learn(&feedback).expect("learn");
    assert!(adjustment.is_some());
    assert_eq!(cleaner.version(), "2");

    let mut ctx = context();
    let output = cleaner.clean(input, &mut ctx).expect("clean");
    assert_eq!(output.num_rows(), 200);
    // Each classifier trained for the batch is audited with its training-data hash.
    let trained: Vec<String> = ctx
        .audit_handle()
        .lock()
        .expect("audit lock")
        .records()
        .iter()
        .map(|record| record.detail.clone())
        .filter(|detail| detail.starts_with("trained cell classifier data_sha256="))
        .collect();
    assert!(!trained.is_empty(), "no classifier was audited");
    let errors: Vec<usize> = (0..200)
        .filter(|&row| dirty[1][row] != clean[1][row])
        .collect();
    let flagged: Vec<u64> = output
        .issues
        .issues()
        .iter()
        .filter(|issue| issue.kind == IssueKind::Anomaly)
        .map(|issue| issue.row_id)
        .collect();
    for row in &errors {
        assert!(
            flagged.contains(&(*row as u64)),
            "typo in row {row} not flagged"
        );
    }
    let explained = output
        .issues
        .issues()
        .iter()
        .find(|issue| issue.kind == IssueKind::Anomaly && issue.message.contains("fired:"));
    assert!(explained.is_some(), "no flag names the features that fired");
    // Every flag the classifier raised on an unlabelled cell names the features that moved
    // its logit most, with signed amounts.
    let contributions: Vec<&str> = output
        .issues
        .issues()
        .iter()
        .filter(|issue| issue.kind == IssueKind::Anomaly && issue.message.contains("likely"))
        .map(|issue| issue.message.as_str())
        .collect();
    assert!(!contributions.is_empty(), "no flag on an unlabelled cell");
    for message in &contributions {
        let Some((_, top)) = message.split_once("classifier logit contributions: ") else {
            panic!("flag without contributions: {message}");
        };
        let first = top.split(", ").next().unwrap_or_default();
        let amount = first.rsplit(' ').next().unwrap_or_default();
        assert!(
            amount.starts_with('+') || amount.starts_with('-'),
            "contribution {first:?} has no signed amount in {message}"
        );
        assert!(amount[1..].parse::<f32>().is_ok(), "{message}");
    }

    let cities = output
        .column("city")
        .expect("city")
        .as_any()
        .downcast_ref::<StringArray>()
        .expect("text")
        .clone();
    let fixed = errors
        .iter()
        .filter(|&&row| cities.value(row) == clean[1][row])
        .count();
    assert!(
        fixed * 10 >= errors.len() * 8,
        "{fixed} of {} fixed",
        errors.len()
    );
    let originals_kept = output
        .issues
        .issues()
        .iter()
        .filter(|issue| issue.kind == IssueKind::Canonicalised)
        .all(|issue| issue.message.starts_with("replaced "));
    assert!(originals_kept);
}

#[test]
fn bad_config_is_rejected() {
    let error = ErrorCleaner::new(ErrorCleanerConfig {
        threshold: 1.5,
        ..Default::default()
    })
    .expect_err("threshold above 1");
    assert!(error.to_string().contains("threshold"));
    let error =
        serde_json::from_str::<ErrorCleanerConfig>(r#"{"budget": 3}"#).expect_err("unknown field");
    assert!(error.to_string().contains("budget"));
}

/// Runs pick, learn and clean on a batch and checks no row is lost.
fn survives(input: GovernedBatch) {
    let rows = input.num_rows();
    let mut cleaner = ErrorCleaner::new(ErrorCleanerConfig::default()).expect("config");
    let tuples = cleaner.pick_tuples(&input, 3).expect("sampling");
    let names = input.column_names();
    let feedback: Vec<Feedback> = tuples
        .iter()
        .enumerate()
        .flat_map(|(index, &row_id)| {
            let names = names.clone();
            names.into_iter().map(move |name| {
                let label = if index % 2 == 0 {
                    Label::Confirmed
                } else {
                    Label::Rejected
                };
                Feedback::cell(row_id, name, label, "test")
            })
        })
        .collect();
    cleaner.learn(&feedback).expect("learn");
    let output = cleaner.clean(input, &mut context()).expect("clean");
    assert_eq!(output.num_rows(), rows);
}

#[test]
fn empty_table_passes_through() {
    survives(batch(vec![("a", text(Vec::new()))]));
}

#[test]
fn all_null_column_is_handled() {
    let nulls: ArrayRef = Arc::new(StringArray::from(vec![None::<&str>; 30]));
    let values = text((0..30).map(|row| format!("v{}", row % 3)).collect());
    survives(batch(vec![("empty", nulls), ("value", values)]));
}

#[test]
fn mixed_types_are_handled() {
    let mixed = text(
        (0..40)
            .map(|row| match row % 4 {
                0 => format!("{row}"),
                1 => format!("{row}.5"),
                2 => "N/A".to_string(),
                _ => format!("item {row}"),
            })
            .collect(),
    );
    let numbers: ArrayRef = Arc::new(Int64Array::from((0..40).collect::<Vec<i64>>()));
    survives(batch(vec![("mixed", mixed), ("n", numbers)]));
}

#[test]
fn long_cells_are_handled() {
    let long = text(
        (0..12)
            .map(|row| {
                let letter = char::from(b'a' + (row % 3) as u8);
                letter.to_string().repeat(10_000)
            })
            .collect(),
    );
    let key = text((0..12).map(|row| format!("k{}", row % 3)).collect());
    survives(batch(vec![("long", long), ("key", key)]));
}

#[test]
fn unicode_text_is_handled() {
    let samples = [
        "北京市朝阳区",
        "上海市",
        "🚲🚲",
        "שלום עולם",
        "مرحبا",
        "Zürich",
    ];
    let values = text((0..36).map(|row| samples[row % 6].to_string()).collect());
    let mut typo: Vec<String> = (0..36)
        .map(|row| samples[(row + 1) % 6].to_string())
        .collect();
    typo[5] = "北京市朝x区".into();
    survives(batch(vec![("place", values), ("other", text(typo))]));
}

/// Picks tuples, labels every cell of them from `clean`, runs the stage on `dirty` and
/// returns the message of each flagged cell, per column and row.
fn flags_after_labelling(
    names: &[&str],
    dirty: &[Vec<String>],
    clean: &[Vec<String>],
) -> Vec<Vec<Option<String>>> {
    let rows = dirty[0].len();
    let input = batch(
        names
            .iter()
            .zip(dirty)
            .map(|(name, values)| (*name, text(values.clone())))
            .collect(),
    );
    let mut cleaner = ErrorCleaner::new(ErrorCleanerConfig::default()).expect("config");
    let tuples = cleaner.pick_tuples(&input, 1).expect("sampling");
    let mut feedback = Vec::new();
    for &row_id in &tuples {
        let row = row_id as usize;
        for (column, name) in names.iter().enumerate() {
            let label = if dirty[column][row] == clean[column][row] {
                Label::Rejected
            } else {
                Label::Corrected {
                    value: clean[column][row].clone(),
                }
            };
            feedback.push(Feedback::cell(row_id, *name, label, "test"));
        }
    }
    cleaner.learn(&feedback).expect("learn");
    let output = cleaner.clean(input, &mut context()).expect("clean");
    let mut flagged = vec![vec![None; rows]; names.len()];
    for issue in output.issues.issues() {
        if issue.kind != IssueKind::Anomaly {
            continue;
        }
        let column = names
            .iter()
            .position(|name| issue.column.as_deref() == Some(*name))
            .expect("issue names a column of the batch");
        flagged[column][issue.row_id as usize] = Some(issue.message.clone());
    }
    flagged
}

/// Returns `rows` rows of 40 towns: a unique id, a product name, zip, city and state, all correct.
fn clean_towns(rows: usize) -> Vec<Vec<String>> {
    let first = [
        "Hazy", "Quiet", "Jolly", "Wicked", "Bright", "Fuzzy", "Velvet",
    ];
    let second = [
        "Owl", "Kayak", "Jetty", "Quill", "Zephyr", "Badger", "Yak", "Vixen", "Ox",
    ];
    let stems = ["Ash", "Bel", "Cor", "Dun", "Elm", "Fair", "Glen", "Hart"];
    let endings = ["ford", "ton", "ville", "wood", "field"];
    let states = ["IL", "CA", "TN", "TX", "OR", "WI", "NC", "ME", "MD", "CO"];
    let mut columns = vec![Vec::new(); 5];
    for row in 0..rows {
        let town = (row * 7) % 40;
        columns[0].push(format!("p{row:04}"));
        columns[1].push(format!(
            "{} {} No. {}",
            first[row % first.len()],
            second[row % second.len()],
            row / 63
        ));
        columns[2].push(format!("{}", 10_000 + town * 111));
        columns[3].push(format!("{}{}", stems[town % 8], endings[town / 8]));
        columns[4].push(states[town % 10].to_string());
    }
    columns
}

#[test]
fn column_wrong_in_every_row_is_flagged() {
    // Every size carries a unit where plain numbers belong: three common spellings, and one
    // spelling with a can type that each appear in one row only.
    let rows = 800;
    let kinds = [
        "Silo",
        "Alumi-Tek",
        "Crowler",
        "Stubby",
        "Tallboy",
        "Pounder",
        "Nip",
        "Bomber",
        "Magnum",
        "Growler",
        "Pint",
        "Flat",
        "Sleek",
        "Slim",
        "Keg",
        "Mini",
    ];
    let mut clean = clean_towns(rows);
    let mut dirty = clean.clone();
    let (mut written, mut numbers) = (Vec::new(), Vec::new());
    for row in 0..rows {
        let text = if row % 50 == 7 {
            format!("12.0 oz. {} Can", kinds[row / 50])
        } else if row % 3 == 0 {
            "16.0 OZ.".to_string()
        } else if row % 2 == 0 {
            "12.0 oz".to_string()
        } else {
            "12.0 ounce".to_string()
        };
        let number = if text.starts_with("16") { "16" } else { "12" };
        written.push(text);
        numbers.push(number.to_string());
    }
    dirty.push(written);
    clean.push(numbers);
    let names = ["id", "name", "zip", "city", "state", "size"];
    let flagged = flags_after_labelling(&names, &dirty, &clean);

    let missed: Vec<&String> = (0..rows)
        .filter(|&row| flagged[5][row].is_none())
        .map(|row| &dirty[5][row])
        .collect();
    assert!(missed.is_empty(), "sizes not flagged: {missed:?}");
    for (column, name) in names.iter().enumerate().take(5) {
        let wrong = flagged[column].iter().flatten().count();
        assert_eq!(wrong, 0, "{wrong} correct {name} cells flagged");
    }
}

#[test]
fn state_merged_into_city_is_flagged() {
    // Every 23rd row has its state written into the city and the state left blank.
    let rows = 800;
    let clean = clean_towns(rows);
    let mut dirty = clean.clone();
    let merged: Vec<usize> = (5..rows).step_by(23).collect();
    for &row in &merged {
        dirty[3][row] = format!("{} {}", clean[3][row], clean[4][row]);
        dirty[4][row] = String::new();
    }
    let names = ["id", "name", "zip", "city", "state"];
    let flagged = flags_after_labelling(&names, &dirty, &clean);

    let missed: Vec<&String> = merged
        .iter()
        .filter(|&&row| flagged[3][row].is_none())
        .map(|&row| &dirty[3][row])
        .collect();
    assert!(missed.is_empty(), "merged cities not flagged: {missed:?}");
    // Flags of unlabelled cells name the detectors that fired, the moved-value one among them.
    for &row in &merged {
        let Some(message) = &flagged[3][row] else {
            continue;
        };
        if message.contains("was labelled") {
            continue;
        }
        assert!(
            message.contains("contains a value of another column"),
            "row {row}: {message}"
        );
    }
    let wrong = (0..rows)
        .filter(|&row| flagged[3][row].is_some() && !merged.contains(&row))
        .count();
    assert_eq!(wrong, 0, "{wrong} correct city cells flagged");
}
