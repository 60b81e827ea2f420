//! The bytes under a streamed CSV input: a file or standard input, gzip decoded as a stream,
//! line ends normalised, the byte-order mark dropped, the delimiter detected, and every
//! record's true line number.
//!
//! Nothing here holds more than the detection prefix (the first 20 lines, at most 1 MiB) and
//! the `csv` crate's buffer, so memory does not grow with the input.
//!
//! The `csv` crate's own line numbers skip blank lines and count `\r\n` as it goes, so the
//! bytes pass through [`NormalisedLines`] first: `\r\n` and a lone `\r` become `\n`, and the
//! offset of every line break is noted until the records before it have been read.

use crate::csv_text::{detect_delimiter, Breaks, NormalisedLines, DETECTION_LINES};
use crate::exit::CliError;
use std::fs::File;
use std::io::{self, Read};
use std::path::Path;
use std::rc::Rc;

/// The most bytes read ahead to detect the delimiter.
const DETECTION_BYTES: usize = 1 << 20;
/// The two bytes every gzip member starts with.
const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];
/// The UTF-8 encoding of U+FEFF.
const UTF8_BOM: &[u8] = b"\xEF\xBB\xBF";

/// A CSV input opened for streaming.
pub struct CsvStream {
    /// The input as messages call it (`<stdin>` for standard input).
    pub file: String,
    /// The delimiter in use.
    pub delimiter: u8,
    /// Whether the input was gzip-compressed (read errors are then bad input).
    pub gzip: bool,
    /// The records.
    pub reader: csv::Reader<Box<dyn Read>>,
    breaks: Breaks,
    /// Line breaks before the first offset still in `breaks`.
    passed: u64,
    /// Bytes the reader does not see (the byte-order mark).
    skipped: u64,
}

impl CsvStream {
    /// Opens `path` (`-` is standard input), gzip-compressed or not.
    pub fn open(path: &Path) -> Result<Self, CliError> {
        let (mut raw, file): (Box<dyn Read>, String) = if path == Path::new("-") {
            (Box::new(io::stdin().lock()), "<stdin>".into())
        } else {
            let name = path.display().to_string();
            let opened = File::open(path).map_err(|error| match error.kind() {
                io::ErrorKind::NotFound => CliError::usage(format!("{name}: cannot open: {error}")),
                _ => CliError::io(format!("{name}: cannot open"), error),
            })?;
            (Box::new(opened), name)
        };
        let mut magic = Vec::with_capacity(2);
        read_until(&mut raw, &mut magic, |bytes| bytes.len() >= 2)
            .map_err(|error| CliError::io(format!("{file}: cannot read"), error))?;
        let gzip = magic == GZIP_MAGIC;
        let chained = io::Cursor::new(magic).chain(raw);
        let decoded: Box<dyn Read> = if gzip {
            Box::new(flate2::read::MultiGzDecoder::new(chained))
        } else {
            Box::new(chained)
        };
        let breaks = Breaks::default();
        let mut normalised = NormalisedLines::new(decoded, Rc::clone(&breaks));
        let mut prefix = Vec::new();
        let at_end = read_until(&mut normalised, &mut prefix, |bytes| {
            bytes.len() >= DETECTION_BYTES
                || bytes.iter().filter(|&&byte| byte == b'\n').count() > DETECTION_LINES
        })
        .map_err(|error| read_error(&file, gzip, error))?;
        let skipped = if prefix.starts_with(UTF8_BOM) {
            prefix.drain(..UTF8_BOM.len());
            UTF8_BOM.len() as u64
        } else {
            0
        };
        let whole_lines = match prefix.iter().rposition(|&byte| byte == b'\n') {
            Some(last) if !at_end => &prefix[..=last],
            _ => &prefix[..],
        };
        let delimiter = detect_delimiter(whole_lines);
        let stream: Box<dyn Read> = Box::new(io::Cursor::new(prefix).chain(normalised));
        let reader = csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .trim(csv::Trim::All)
            .delimiter(delimiter)
            .from_reader(stream);
        Ok(Self {
            file,
            delimiter,
            gzip,
            reader,
            breaks,
            passed: 0,
            skipped,
        })
    }

    /// Reads the next record that is not blank, with the 1-based line it starts on; `None` at
    /// the end of the input.
    pub fn next_record(&mut self, record: &mut csv::StringRecord) -> Result<Option<u64>, CliError> {
        loop {
            let more = self
                .reader
                .read_record(record)
                .map_err(|error| self.csv_error(error))?;
            if !more {
                return Ok(None);
            }
            let start = record.position().map_or(0, csv::Position::byte) + self.skipped;
            let line = self.line_at(start);
            let blank = record.len() == 1 && record.get(0).is_some_and(str::is_empty);
            if !blank {
                return Ok(Some(line));
            }
        }
    }

    /// The line of the first byte at or after `start` that is not a line break.
    fn line_at(&mut self, start: u64) -> u64 {
        let mut breaks = self.breaks.borrow_mut();
        while breaks.front().is_some_and(|&offset| offset < start) {
            breaks.pop_front();
            self.passed += 1;
        }
        let blank_lines = (0..)
            .take_while(|&k| breaks.get(k as usize) == Some(&(start + k)))
            .count() as u64;
        self.passed + blank_lines + 1
    }

    fn csv_error(&self, error: csv::Error) -> CliError {
        let file = &self.file;
        match error.into_kind() {
            csv::ErrorKind::Io(error) => read_error(file, self.gzip, error),
            csv::ErrorKind::Utf8 { pos, .. } => {
                let line = pos.map_or(String::new(), |pos| format!(" near line {}", pos.line()));
                CliError::usage(format!("{file}{line}: the text is not valid UTF-8"))
            }
            other => CliError::usage(format!("{file}: cannot read the CSV: {other:?}")),
        }
    }
}

/// A read error: bad input when decoding gzip, else a failure while running.
fn read_error(file: &str, gzip: bool, error: io::Error) -> CliError {
    if gzip {
        CliError::usage(format!("{file}: not valid gzip data: {error}"))
    } else {
        CliError::io(format!("{file}: cannot read"), error)
    }
}

/// Appends to `buffer` until `enough` holds or the input ends; returns true at the end.
fn read_until(
    reader: &mut dyn Read,
    buffer: &mut Vec<u8>,
    enough: impl Fn(&[u8]) -> bool,
) -> io::Result<bool> {
    let mut chunk = [0u8; 8192];
    while !enough(buffer) {
        let want = if buffer.len() < 2 {
            2 - buffer.len()
        } else {
            chunk.len()
        };
        match reader.read(&mut chunk[..want]) {
            Ok(0) => return Ok(true),
            Ok(read) => buffer.extend_from_slice(&chunk[..read]),
            Err(error) if error.kind() == io::ErrorKind::Interrupted => {}
            Err(error) => return Err(error),
        }
    }
    Ok(false)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines_of(text: &[u8]) -> Vec<(String, u64)> {
        let folder = tempfile::tempdir().unwrap();
        let path = folder.path().join("t.csv");
        std::fs::write(&path, text).unwrap();
        let mut stream = CsvStream::open(&path).unwrap();
        let mut record = csv::StringRecord::new();
        let mut out = Vec::new();
        while let Some(line) = stream.next_record(&mut record).unwrap() {
            out.push((record.get(0).unwrap().to_string(), line));
        }
        out
    }

    #[test]
    fn line_numbers_survive_crlf_blank_lines_quotes_and_a_bom() {
        let expected = |pairs: &[(&str, u64)]| -> Vec<(String, u64)> {
            pairs.iter().map(|(s, l)| (s.to_string(), *l)).collect()
        };
        assert_eq!(
            lines_of(b"h,x\n1,2\n3,4\n"),
            expected(&[("h", 1), ("1", 2), ("3", 3)])
        );
        assert_eq!(
            lines_of(b"h,x\r\n1,2\r\n3,4"),
            expected(&[("h", 1), ("1", 2), ("3", 3)])
        );
        assert_eq!(
            lines_of(b"\xEF\xBB\xBFh,x\n\n1,2\n \n\n3,4\n"),
            expected(&[("h", 1), ("1", 3), ("3", 6)])
        );
        assert_eq!(
            lines_of(b"h,x\r\n\"a\r\nb\",2\r\n\r\n3,4"),
            expected(&[("h", 1), ("a\nb", 2), ("3", 5)])
        );
        assert_eq!(lines_of(b"h;x\r1;2\r"), expected(&[("h", 1), ("1", 2)]));
    }
}
