//! Output files written atomically: into a temporary file in the target's folder, fsynced,
//! then renamed over the target. A command that fails midway (or is killed) leaves nothing
//! under the final name, and an existing file there stays as it was until the rename.

use crate::exit::CliError;
use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};
use tempfile::NamedTempFile;

/// A file being written; it appears under its name only on [`AtomicFile::commit`].
#[derive(Debug)]
pub struct AtomicFile {
    temporary: NamedTempFile,
    path: PathBuf,
}

impl AtomicFile {
    /// Creates the temporary file next to `path`; fails (exit 1) when the folder cannot be
    /// written, before any work is done.
    pub fn create(path: &Path) -> Result<Self, CliError> {
        let folder = match path.parent() {
            Some(parent) if !parent.as_os_str().is_empty() => parent,
            _ => Path::new("."),
        };
        let name = path
            .file_name()
            .map(|name| name.to_string_lossy().into_owned())
            .ok_or_else(|| CliError::usage(format!("--out {}: not a file name", path.display())))?;
        let prefix = format!(".{name}.");
        let mut builder = tempfile::Builder::new();
        builder.prefix(&prefix).suffix(".tmp");
        // Created as any new file is (0666 less the umask), not with tempfile's private 0600.
        #[cfg(unix)]
        builder.permissions(std::os::unix::fs::PermissionsExt::from_mode(0o666));
        let temporary = builder.tempfile_in(folder).map_err(|error| {
            CliError::io(
                format!(
                    "{}: cannot create a file in {}",
                    path.display(),
                    folder.display()
                ),
                error,
            )
        })?;
        Ok(Self {
            temporary,
            path: path.to_path_buf(),
        })
    }

    /// The temporary file, to write into.
    pub fn file(&mut self) -> &mut File {
        self.temporary.as_file_mut()
    }

    /// The final name.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Syncs the temporary file to disk and renames it to its final name.
    pub fn commit(self) -> Result<(), CliError> {
        let path = self.path;
        self.temporary.as_file().sync_all().map_err(|error| {
            CliError::io(format!("{}: cannot sync to disk", path.display()), error)
        })?;
        self.temporary.persist(&path).map_err(|error| {
            CliError::io(
                format!("{}: cannot rename into place", path.display()),
                error.error,
            )
        })?;
        #[cfg(unix)]
        if let Some(folder) = path
            .parent()
            .filter(|parent| !parent.as_os_str().is_empty())
        {
            // Makes the rename durable; a failure leaves a complete file in place.
            if let Ok(directory) = File::open(folder) {
                let _ = directory.sync_all();
            }
        }
        Ok(())
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
