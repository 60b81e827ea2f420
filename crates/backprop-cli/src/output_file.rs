//! Output files written atomically, with the workspace's one writer
//! ([`backprop_tensor::atomic_file`]): into a temporary file in the target's folder, fsynced,
//! then renamed over the target. A command that fails midway (or is killed) leaves nothing
//! under the final name, and an existing file there stays as it was until the rename. This
//! module only words the writer's failures as the command line's errors (exit 1).

use crate::exit::CliError;
use backprop_tensor::atomic_file::{self, WriteStage};
use std::fs::File;
use std::io::Write;
use std::path::Path;

/// A file being written; it appears under its name only on [`AtomicFile::commit`].
#[derive(Debug)]
pub struct AtomicFile(atomic_file::AtomicFile);

impl AtomicFile {
    /// Creates the temporary file next to `path`; fails (exit 1) when the folder cannot be
    /// written, before any work is done.
    pub fn create(path: &Path) -> Result<Self, CliError> {
        if path.file_name().is_none() {
            return Err(CliError::usage(format!(
                "--out {}: not a file name",
                path.display()
            )));
        }
        atomic_file::AtomicFile::create(path)
            .map(Self)
            .map_err(|error| {
                CliError::io(
                    format!(
                        "{}: cannot create a file in {}",
                        path.display(),
                        error.path.display()
                    ),
                    error.source,
                )
            })
    }

    /// The temporary file, to write into.
    pub fn file(&mut self) -> &mut File {
        self.0.file()
    }

    /// The final name.
    pub fn path(&self) -> &Path {
        self.0.path()
    }

    /// Syncs the temporary file to disk and renames it to its final name.
    pub fn commit(self) -> Result<(), CliError> {
        let path = self.0.path().display().to_string();
        self.0.commit().map_err(|error| {
            let what = match error.stage {
                WriteStage::Sync => "cannot sync to disk",
                _ => "cannot rename into place",
            };
            CliError::io(format!("{path}: {what}"), error.source)
        })
    }
}

/// Prints one line (a `--json` object) on stdout. A closed pipe (`| head`) is not an error:
/// the reader has what it wanted.
pub fn print_stdout_line(text: impl std::fmt::Display) -> Result<(), CliError> {
    let mut stdout = std::io::stdout().lock();
    match writeln!(stdout, "{text}").and_then(|()| stdout.flush()) {
        Err(error) if error.kind() != std::io::ErrorKind::BrokenPipe => {
            Err(CliError::io("standard output: cannot write", error))
        }
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    #[test]
    fn nothing_appears_before_commit_and_dropping_leaves_nothing() {
        let folder = tempfile::tempdir().unwrap();
        let path = folder.path().join("out.csv");
        let mut file = AtomicFile::create(&path).unwrap();
        file.file().write_all(b"a\n").unwrap();
        assert!(!path.exists());
        file.commit().unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"a\n");
        let mut dropped = AtomicFile::create(&path).unwrap();
        dropped.file().write_all(b"b\n").unwrap();
        drop(dropped);
        assert_eq!(std::fs::read(&path).unwrap(), b"a\n");
        assert_eq!(std::fs::read_dir(folder.path()).unwrap().count(), 1);
        let error = AtomicFile::create(&folder.path().join("no/such/folder/x.csv")).unwrap_err();
        assert_eq!(error.exit_code(), 1);
    }
}
