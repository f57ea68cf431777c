//! The output folder layout shared by the applicators, and atomic file writes.
//!
//! Every file is written under a temporary name in its final folder and renamed into place
//! when complete. A reader therefore never sees a half-written file under a final name.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use governance_core::{Error, Result};
use tempfile::NamedTempFile;

/// Output folder of one applicator: `dir`, or `dir/round-<n>` per round.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct OutputLayout {
    dir: PathBuf,
    per_round_subdir: bool,
}

impl OutputLayout {
    /// Checks the folder setting of `component`'s config.
    pub(crate) fn new(component: &str, dir: &Path, per_round_subdir: bool) -> Result<Self> {
        if dir.as_os_str().is_empty() {
            return Err(Error::config(
                component,
                "dir is empty: set dir to the folder the output goes to",
            ));
        }
        Ok(OutputLayout {
            dir: dir.to_path_buf(),
            per_round_subdir,
        })
    }

    /// Returns the top-level output folder.
    pub(crate) fn dir(&self) -> &Path {
        &self.dir
    }

    /// Returns the folder of `round`'s files.
    pub(crate) fn round_dir(&self, round: u32) -> PathBuf {
        if self.per_round_subdir {
            self.dir.join(format!("round-{round}"))
        } else {
            self.dir.clone()
        }
    }

    /// Creates the folder of `round`'s files, with its parents, and returns it.
    pub(crate) fn create_round_dir(&self, round: u32) -> Result<PathBuf> {
        let folder = self.round_dir(round);
        fs::create_dir_all(&folder).map_err(|source| Error::io(&folder, source))?;
        Ok(folder)
    }
}

/// Creates an empty temporary file in `folder` for the file that will be called `final_name`.
/// The file is deleted when dropped unless [`persist`] renames it.
pub(crate) fn temp_file_for(folder: &Path, final_name: &str) -> Result<NamedTempFile> {
    let prefix = format!(".{final_name}.");
    let mut builder = tempfile::Builder::new();
    builder.prefix(&prefix).suffix(".tmp");
    // tempfile creates owner-only files by default. Asking for mode 0o666 gives the final file
    // the permissions that the process umask allows, as a plain `File::create` would.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        builder.permissions(fs::Permissions::from_mode(0o666));
    }
    builder
        .tempfile_in(folder)
        .map_err(|source| Error::io(folder.join(&prefix), source))
}

/// Flushes `temp` to disk and renames it to `path`, replacing any file there.
pub(crate) fn persist(temp: NamedTempFile, path: &Path) -> Result<()> {
    temp.as_file()
        .sync_all()
        .map_err(|source| Error::io(temp.path(), source))?;
    temp.persist(path)
        .map_err(|error| Error::io(path, error.error))?;
    Ok(())
}

/// Writes `bytes` to `path` through a temporary file in the same folder.
pub(crate) fn write_atomically(path: &Path, bytes: &[u8]) -> Result<()> {
    let folder = path
        .parent()
        .filter(|parent| !parent.as_os_str().is_empty())
        .unwrap_or_else(|| Path::new("."));
    let name = path.file_name().map_or_else(
        || "output".to_string(),
        |name| name.to_string_lossy().into_owned(),
    );
    let mut temp = temp_file_for(folder, &name)?;
    temp.write_all(bytes)
        .map_err(|source| Error::io(temp.path(), source))?;
    persist(temp, path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_dir_follows_setting() {
        let layout = OutputLayout::new("sink", Path::new("out"), true).expect("layout");
        assert_eq!(layout.round_dir(2), Path::new("out/round-2"));
        let flat = OutputLayout::new("sink", Path::new("out"), false).expect("layout");
        assert_eq!(flat.round_dir(2), Path::new("out"));
    }

    #[test]
    fn empty_dir_is_rejected() {
        let error = OutputLayout::new("sink", Path::new(""), true).expect_err("empty dir");
        assert!(error.to_string().contains("dir is empty"), "{error}");
    }

    #[test]
    fn atomic_write_leaves_only_final_file() {
        let folder = tempfile::tempdir().expect("tempdir");
        let path = folder.path().join("a.json");
        write_atomically(&path, b"{}").expect("first write");
        write_atomically(&path, b"[1]").expect("overwrite");
        assert_eq!(fs::read_to_string(&path).expect("read"), "[1]");
        let names: Vec<_> = fs::read_dir(folder.path())
            .expect("list")
            .map(|entry| entry.expect("entry").file_name())
            .collect();
        assert_eq!(names, vec![std::ffi::OsString::from("a.json")]);
    }

    #[test]
    fn folder_creation_error_names_path() {
        let folder = tempfile::tempdir().expect("tempdir");
        let blocker = folder.path().join("file");
        fs::write(&blocker, b"x").expect("write blocker");
        let layout = OutputLayout::new("sink", &blocker, true).expect("layout");
        let error = layout
            .create_round_dir(1)
            .expect_err("a file is in the way");
        assert!(
            error.to_string().contains(&blocker.display().to_string()),
            "{error}"
        );
    }
}
