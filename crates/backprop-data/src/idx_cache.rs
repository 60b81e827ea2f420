//! A cache of decompressed IDX files, so that a gzip-compressed MNIST is inflated once per
//! machine rather than once per run (inflating MNIST's 47 MB of training images is most of the
//! time it takes to load).
//!
//! **Where.** `$BACKPROP_CACHE_DIR/idx/` when that variable is set (empty or `off` turns the
//! cache off), else `$XDG_CACHE_HOME/backprop/idx/`, else `$HOME/.cache/backprop/idx/`: never
//! next to the data, which may be read-only or shared. Deleting the folder is always safe.
//!
//! **Key.** An entry is named after the SHA-256 of the *compressed* file's bytes, so an entry
//! can only ever be used for the very bytes it was made from; a changed, renamed or moved file
//! simply makes (or finds) another entry. Only files of at least [`MIN_CACHED_BYTES`]
//! compressed bytes are cached: small files inflate faster than they hash.
//!
//! **Trust.** An entry holds a magic tag, the CRC-32 of its payload and the payload (the
//! decompressed file). An entry that is short, tagged differently or fails its CRC is ignored
//! and the file inflated again, exactly as without a cache; the payload then goes through the
//! same header checks as any IDX file.
//!
//! **Invisible.** Reading or writing the cache never fails a load and never prints: an entry
//! is written to a temporary file named after the process and renamed into place, so a
//! concurrent reader sees a whole entry or none, and any error while writing is ignored.

use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};

/// The tag an entry starts with; a new layout gets a new tag.
const MAGIC: &[u8; 8] = b"BPIDXC01";

/// Bytes before the payload: the tag and the payload's CRC-32 (little-endian).
const HEADER: usize = MAGIC.len() + 4;

/// Compressed files smaller than this (1 MiB) are not cached.
pub const MIN_CACHED_BYTES: usize = 1 << 20;

/// The environment variable that moves the cache (or, empty or `off`, turns it off).
pub const CACHE_DIR_VARIABLE: &str = "BACKPROP_CACHE_DIR";

/// The folder of the cache, from the environment; `None` when it is turned off or no home
/// folder is known.
pub fn cache_folder() -> Option<PathBuf> {
    let non_empty = |name: &str| std::env::var_os(name).filter(|value| !value.is_empty());
    let base = match std::env::var_os(CACHE_DIR_VARIABLE) {
        Some(value) if value.is_empty() || value == "off" => return None,
        Some(value) => PathBuf::from(value),
        None => match non_empty("XDG_CACHE_HOME") {
            Some(cache) => PathBuf::from(cache).join("backprop"),
            None => PathBuf::from(non_empty("HOME")?).join(".cache/backprop"),
        },
    };
    Some(base.join("idx"))
}

/// Where the entry for these compressed bytes lives in `folder`.
pub fn entry_path(folder: &Path, compressed: &[u8]) -> PathBuf {
    let digest = hex::encode(Sha256::digest(compressed));
    folder.join(format!("{digest}.idx"))
}

/// The decompressed bytes stored for `compressed` in `folder`, when a whole, intact entry is
/// there and its payload is at most `limit` bytes.
pub fn lookup(folder: &Path, compressed: &[u8], limit: usize) -> Option<Vec<u8>> {
    use std::io::Read;
    let mut file = std::fs::File::open(entry_path(folder, compressed)).ok()?;
    // The header is read apart, so that the payload lands at the start of its own buffer.
    let mut header = [0u8; HEADER];
    file.read_exact(&mut header).ok()?;
    if &header[..MAGIC.len()] != MAGIC {
        return None;
    }
    let stored_crc = u32::from_le_bytes(header[MAGIC.len()..].try_into().ok()?);
    let stored = file.metadata().ok()?.len().saturating_sub(HEADER as u64);
    let mut payload = Vec::with_capacity(usize::try_from(stored).ok()?.min(limit));
    let cap = u64::try_from(limit).unwrap_or(u64::MAX).saturating_add(1);
    file.take(cap).read_to_end(&mut payload).ok()?;
    if payload.len() > limit || crc32fast::hash(&payload) != stored_crc {
        return None;
    }
    Some(payload)
}

/// Stores `decompressed` as the entry for `compressed` in `folder`; every error is ignored.
///
/// The entry is written to a temporary file that is then renamed, so a reader sees a whole
/// entry or none; unlike the workspace's model files it is not fsynced (a file the system lost
/// in a crash fails its CRC and is made again), which keeps the first load from waiting for
/// the disk.
pub fn store(folder: &Path, compressed: &[u8], decompressed: &[u8]) {
    let destination = entry_path(folder, compressed);
    // Named after the entry and the process: two loads never share a temporary file.
    let mut temporary_name = std::ffi::OsString::from(".");
    temporary_name.push(destination.file_name().unwrap_or_default());
    temporary_name.push(format!(".{}.tmp", std::process::id()));
    let temporary = folder.join(temporary_name);
    let write = || -> std::io::Result<()> {
        use std::io::Write;
        std::fs::create_dir_all(folder)?;
        let mut file = std::fs::File::create(&temporary)?;
        file.write_all(MAGIC)?;
        file.write_all(&crc32fast::hash(decompressed).to_le_bytes())?;
        file.write_all(decompressed)?;
        drop(file);
        std::fs::rename(&temporary, &destination)
    };
    // A cache that cannot be written is only a slower load next time.
    if write().is_err() {
        let _ = std::fs::remove_file(&temporary);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_entry_round_trips_and_is_keyed_by_the_compressed_bytes() {
        let folder = tempfile::tempdir().unwrap();
        let (compressed, payload) = (b"compressed bytes".to_vec(), vec![7u8; 1000]);
        assert_eq!(lookup(folder.path(), &compressed, 1 << 20), None);
        store(folder.path(), &compressed, &payload);
        assert_eq!(
            lookup(folder.path(), &compressed, 1 << 20),
            Some(payload.clone())
        );
        assert_eq!(lookup(folder.path(), b"other bytes", 1 << 20), None);
        // Above the caller's limit, the entry is not used.
        assert_eq!(lookup(folder.path(), &compressed, 999), None);
    }

    #[test]
    fn a_damaged_entry_is_ignored() {
        let folder = tempfile::tempdir().unwrap();
        let compressed = b"key".to_vec();
        store(folder.path(), &compressed, &[1, 2, 3, 4]);
        let path = entry_path(folder.path(), &compressed);
        let mut entry = std::fs::read(&path).unwrap();
        let last = entry.len() - 1;
        entry[last] ^= 0xFF; // a flipped payload byte: the CRC no longer matches
        std::fs::write(&path, &entry).unwrap();
        assert_eq!(lookup(folder.path(), &compressed, 100), None);
        std::fs::write(&path, &entry[..5]).unwrap(); // shorter than the header
        assert_eq!(lookup(folder.path(), &compressed, 100), None);
        std::fs::write(&path, b"BPIDXC99\0\0\0\0").unwrap(); // another layout's tag
        assert_eq!(lookup(folder.path(), &compressed, 100), None);
    }

    #[test]
    fn an_unwritable_folder_is_ignored() {
        let folder = tempfile::tempdir().unwrap();
        let file = folder.path().join("not-a-folder");
        std::fs::write(&file, b"x").unwrap();
        store(&file.join("idx"), b"key", b"payload"); // cannot create: no panic, no error
        assert_eq!(lookup(&file.join("idx"), b"key", 100), None);
    }
}
