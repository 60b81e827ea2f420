//! The workspace's one way to write a file: into a temporary file in the destination's folder,
//! fsynced, then renamed over the destination (and the folder fsynced, where the platform
//! allows). A reader never sees a half-written file under the final name: until the rename an
//! existing file there stays as it was, and a write that fails or is abandoned (dropped, or the
//! process killed) leaves at most a hidden `.NAME.*.tmp` file, which the writer itself removes
//! whenever it still runs.
//!
//! It lives here, in the crate every other crate of the workspace depends on, so that model
//! files (`backprop`), downloads (`backprop-data`) and the command line's outputs
//! (`backprop-cli`) share one implementation rather than three.
//!
//! ```
//! use backprop_tensor::atomic_file::{write_atomically, AtomicFile};
//! use std::io::Write;
//!
//! let folder = std::env::temp_dir().join(format!("atomic-doc-{}", std::process::id()));
//! std::fs::create_dir_all(&folder).unwrap();
//! let path = folder.join("out.txt");
//! write_atomically(&path, b"one\n").unwrap();
//!
//! let mut file = AtomicFile::create(&path).unwrap();
//! file.write_all(b"two\n").unwrap();
//! assert_eq!(std::fs::read(&path).unwrap(), b"one\n"); // not yet renamed
//! file.commit().unwrap();
//! assert_eq!(std::fs::read(&path).unwrap(), b"two\n");
//! std::fs::remove_dir_all(&folder).unwrap();
//! ```

use std::fmt;
use std::fs::File;
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use tempfile::NamedTempFile;

/// The step of an atomic write that failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WriteStage {
    /// Creating the temporary file in the destination's folder.
    Create,
    /// Writing the bytes into the temporary file.
    Write,
    /// Syncing the temporary file to disk.
    Sync,
    /// Renaming the temporary file over the destination.
    Rename,
}

impl WriteStage {
    /// What was being done, as a verb phrase: `"create a temporary file"`, …
    pub fn action(self) -> &'static str {
        match self {
            WriteStage::Create => "create a temporary file",
            WriteStage::Write => "write the temporary file",
            WriteStage::Sync => "sync the temporary file to disk",
            WriteStage::Rename => "rename the temporary file into place",
        }
    }
}

/// An atomic write that failed, and where: nothing was written under the final name.
#[derive(Debug, thiserror::Error)]
#[error("{}: cannot {}: {source}", path.display(), stage.action())]
pub struct AtomicWriteError {
    /// The step that failed.
    pub stage: WriteStage,
    /// What that step worked on: the folder for [`WriteStage::Create`], the temporary file for
    /// [`WriteStage::Write`] and [`WriteStage::Sync`], the destination for
    /// [`WriteStage::Rename`].
    pub path: PathBuf,
    /// The operating system's error.
    #[source]
    pub source: io::Error,
}

/// A file being written; it appears under its name only on [`AtomicFile::commit`]. Dropping it
/// uncommitted removes the temporary file.
pub struct AtomicFile {
    temporary: NamedTempFile,
    path: PathBuf,
}

impl fmt::Debug for AtomicFile {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter
            .debug_struct("AtomicFile")
            .field("path", &self.path)
            .field("temporary", &self.temporary.path())
            .finish()
    }
}

/// The folder `path` is in (`.` for a bare file name).
fn folder_of(path: &Path) -> &Path {
    match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent,
        _ => Path::new("."),
    }
}

impl AtomicFile {
    /// Creates the temporary file `.NAME.XXXXXX.tmp` next to `path`, so that an unwritable
    /// folder is found before any work is done. A `path` without a file name (`/`, `..`) fails
    /// at [`WriteStage::Create`] with [`io::ErrorKind::InvalidInput`].
    pub fn create(path: &Path) -> Result<Self, AtomicWriteError> {
        let folder = folder_of(path);
        let failed = |source| AtomicWriteError {
            stage: WriteStage::Create,
            path: folder.to_path_buf(),
            source,
        };
        let name = path.file_name().ok_or_else(|| {
            failed(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("{} is not a file name", path.display()),
            ))
        })?;
        let prefix = format!(".{}.", name.to_string_lossy());
        let mut builder = tempfile::Builder::new();
        builder.prefix(&prefix).suffix(".tmp");
        // Created as any new file is (0666 less the umask), not with tempfile's private 0600:
        // the rename makes it the user's file.
        #[cfg(unix)]
        builder.permissions(std::os::unix::fs::PermissionsExt::from_mode(0o666));
        let temporary = builder.tempfile_in(folder).map_err(failed)?;
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

    /// The temporary file's name.
    pub fn temporary_path(&self) -> &Path {
        self.temporary.path()
    }

    /// Syncs the temporary file to disk, renames it to its final name, then syncs the folder so
    /// that the rename itself survives a crash (a failure of that last step leaves a complete
    /// file in place and is not reported).
    pub fn commit(self) -> Result<(), AtomicWriteError> {
        let Self { temporary, path } = self;
        temporary
            .as_file()
            .sync_all()
            .map_err(|source| AtomicWriteError {
                stage: WriteStage::Sync,
                path: temporary.path().to_path_buf(),
                source,
            })?;
        temporary.persist(&path).map_err(|error| AtomicWriteError {
            stage: WriteStage::Rename,
            path: path.clone(),
            source: error.error,
        })?;
        #[cfg(unix)]
        if let Ok(directory) = File::open(folder_of(&path)) {
            let _ = directory.sync_all();
        }
        Ok(())
    }
}

impl Write for AtomicFile {
    fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
        self.temporary.write(bytes)
    }

    fn write_all(&mut self, bytes: &[u8]) -> io::Result<()> {
        self.temporary.write_all(bytes)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.temporary.flush()
    }
}

/// Writes `bytes` to `path` atomically: [`AtomicFile::create`], write, [`AtomicFile::commit`].
/// On error the temporary file is removed and an existing file at `path` is left as it was.
pub fn write_atomically(path: &Path, bytes: &[u8]) -> Result<(), AtomicWriteError> {
    let mut file = AtomicFile::create(path)?;
    let temporary = file.temporary_path().to_path_buf();
    file.write_all(bytes).map_err(|source| AtomicWriteError {
        stage: WriteStage::Write,
        path: temporary,
        source,
    })?;
    file.commit()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entries(folder: &Path) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(folder)
            .unwrap()
            .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }

    #[test]
    fn nothing_appears_before_commit_and_dropping_leaves_nothing() {
        let folder = tempfile::tempdir().unwrap();
        let path = folder.path().join("out.csv");
        let mut file = AtomicFile::create(&path).unwrap();
        let temporary = file.temporary_path().to_path_buf();
        assert_eq!(temporary.parent(), Some(folder.path()), "same folder");
        let name = temporary
            .file_name()
            .unwrap()
            .to_string_lossy()
            .into_owned();
        assert!(
            name.starts_with(".out.csv.") && name.ends_with(".tmp"),
            "{name}"
        );
        file.file().write_all(b"a\n").unwrap();
        assert!(!path.exists());
        file.commit().unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"a\n");
        let mut dropped = AtomicFile::create(&path).unwrap();
        dropped.write_all(b"b\n").unwrap();
        drop(dropped);
        assert_eq!(std::fs::read(&path).unwrap(), b"a\n");
        assert_eq!(entries(folder.path()), ["out.csv"]);
    }

    #[test]
    fn write_atomically_replaces_a_file_whole() {
        let folder = tempfile::tempdir().unwrap();
        let path = folder.path().join("m.bin");
        write_atomically(&path, b"first").unwrap();
        write_atomically(&path, b"second").unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"second");
        assert_eq!(entries(folder.path()), ["m.bin"]);
    }

    #[cfg(unix)]
    #[test]
    fn files_get_the_usual_permissions_not_private_ones() {
        use std::os::unix::fs::PermissionsExt;
        let folder = tempfile::tempdir().unwrap();
        let path = folder.path().join("p");
        write_atomically(&path, b"x").unwrap();
        let plain = folder.path().join("plain");
        std::fs::write(&plain, b"x").unwrap();
        let mode = |path: &Path| std::fs::metadata(path).unwrap().permissions().mode() & 0o777;
        // Both 0666 less the umask.
        assert_eq!(mode(&path), mode(&plain));
    }

    #[test]
    fn failures_name_the_stage_and_the_path() {
        let folder = tempfile::tempdir().unwrap();
        let missing = folder.path().join("no/such/folder/x.csv");
        let error = AtomicFile::create(&missing).unwrap_err();
        assert_eq!(error.stage, WriteStage::Create);
        assert_eq!(error.path, folder.path().join("no/such/folder"));
        assert!(
            error.to_string().contains("cannot create a temporary file"),
            "{error}"
        );
        let error = AtomicFile::create(Path::new("/")).unwrap_err();
        assert_eq!(
            (error.stage, error.source.kind()),
            (WriteStage::Create, io::ErrorKind::InvalidInput)
        );
        // Renaming onto a folder fails; the folder and the temporary file's absence show that
        // nothing was half-done.
        let target = folder.path().join("a-folder");
        std::fs::create_dir(&target).unwrap();
        std::fs::write(target.join("inside"), b"x").unwrap();
        let error = write_atomically(&target, b"data").unwrap_err();
        assert_eq!(error.stage, WriteStage::Rename);
        assert_eq!(error.path, target);
        assert!(target.is_dir());
        assert_eq!(entries(folder.path()), ["a-folder"]);
    }
}
