//! Resolution of a collector's input files: an explicit list of paths, or every file in a
//! folder whose name ends with a suffix.

use std::path::{Path, PathBuf};

use governance_core::{Error, Result};

/// Returns the files to read, in reading order.
///
/// An explicit list keeps the caller's order and every path must exist. A folder's files are
/// sorted by name so that every round, and every machine, reads them in the same order. The
/// suffix is compared case-insensitively, so `.csv` also matches `DATA.CSV`.
pub(crate) fn resolve_files(
    component: &str,
    paths: &[PathBuf],
    dir: Option<&Path>,
    suffix: &str,
) -> Result<Vec<PathBuf>> {
    match (paths.is_empty(), dir) {
        (false, Some(_)) => Err(Error::config(
            component,
            "both `paths` and `dir` are set: set only one of them",
        )),
        (true, None) => Err(Error::config(
            component,
            "no input files: set `paths` to a list of files or `dir` to a folder",
        )),
        (false, None) => {
            for path in paths {
                let metadata = std::fs::metadata(path).map_err(|source| Error::io(path, source))?;
                if !metadata.is_file() {
                    return Err(Error::InvalidInput(format!(
                        "{} is not a file: list files in `paths`, or use `dir` for a folder",
                        path.display()
                    )));
                }
            }
            Ok(paths.to_vec())
        }
        (true, Some(dir)) => list_folder(dir, suffix),
    }
}

fn list_folder(dir: &Path, suffix: &str) -> Result<Vec<PathBuf>> {
    let entries = std::fs::read_dir(dir).map_err(|source| Error::io(dir, source))?;
    let suffix = suffix.to_ascii_lowercase();
    let mut files = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|source| Error::io(dir, source))?;
        let path = entry.path();
        let name = entry.file_name().to_string_lossy().to_ascii_lowercase();
        // `Path::is_file` follows symbolic links, so a link to a data file is read too.
        if name.ends_with(&suffix) && path.is_file() {
            files.push(path);
        }
    }
    if files.is_empty() {
        return Err(Error::InvalidInput(format!(
            "folder {} has no files ending in {suffix:?}: check `dir` and `suffix`",
            dir.display()
        )));
    }
    files.sort();
    Ok(files)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folder_files_are_sorted_and_filtered() {
        let dir = tempfile::tempdir().expect("temp dir");
        for name in ["b.csv", "a.CSV", "notes.txt"] {
            std::fs::write(dir.path().join(name), "x\n1\n").expect("write");
        }
        let files = resolve_files("csv", &[], Some(dir.path()), ".csv").expect("resolve");
        let names: Vec<String> = files
            .iter()
            .map(|path| {
                path.file_name()
                    .expect("name")
                    .to_string_lossy()
                    .into_owned()
            })
            .collect();
        assert_eq!(names, vec!["a.CSV", "b.csv"]);
    }

    #[test]
    fn paths_and_dir_together_are_rejected() {
        let error = resolve_files(
            "csv",
            &[PathBuf::from("a.csv")],
            Some(Path::new(".")),
            ".csv",
        )
        .expect_err("both set");
        assert!(error.to_string().contains("set only one"));
    }

    #[test]
    fn folder_without_matches_names_suffix() {
        let dir = tempfile::tempdir().expect("temp dir");
        std::fs::write(dir.path().join("a.txt"), "x").expect("write");
        let error = resolve_files("csv", &[], Some(dir.path()), ".csv").expect_err("no match");
        assert!(error.to_string().contains("\".csv\""));
    }
}
