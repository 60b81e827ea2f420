//! The bytes under a streamed CSV input: a file or any reader (standard input), gzip decoded as
//! a stream, line ends normalised, the byte-order mark dropped, the delimiter detected, and
//! every record's true line number.
//!
//! Nothing here holds more than the detection prefix (the first 20 lines, at most 1 MiB) and
//! the `csv` crate's buffer, so memory does not grow with the input.
//!
//! The `csv` crate's own line numbers skip blank lines and count `\r\n` as it goes, so the
//! bytes pass through [`NormalisedLines`] first: `\r\n` and a lone `\r` become `\n`, and the
//! offset of every line break is noted until the records before it have been read.

use super::cells::{self, detect_delimiter, DETECTION_LINES, UTF8_BOM};
use super::TabularError;
use crate::idx::GZIP_MAGIC;
use std::cell::RefCell;
use std::collections::VecDeque;
use std::fs::File;
use std::io::{self, Read};
use std::path::Path;
use std::rc::Rc;

/// The most bytes read ahead to detect the delimiter.
const DETECTION_BYTES: usize = 1 << 20;

/// Offsets of line breaks not yet passed, shared between the byte filter and the reader.
type Breaks = Rc<RefCell<VecDeque<u64>>>;

/// A reader that turns `\r\n` and lone `\r` into `\n` and notes where each `\n` is.
struct NormalisedLines<R> {
    inner: R,
    after_carriage_return: bool,
    offset: u64,
    breaks: Breaks,
    scratch: Vec<u8>,
}

impl<R> NormalisedLines<R> {
    /// Filters `inner`, noting line breaks in `breaks`.
    fn new(inner: R, breaks: Breaks) -> Self {
        Self {
            inner,
            after_carriage_return: false,
            offset: 0,
            breaks,
            scratch: Vec::new(),
        }
    }
}

impl<R: Read> Read for NormalisedLines<R> {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        if out.is_empty() {
            return Ok(0);
        }
        loop {
            self.scratch.resize(out.len(), 0);
            let read = self.inner.read(&mut self.scratch)?;
            if read == 0 {
                return Ok(0);
            }
            let mut written = 0;
            let mut breaks = self.breaks.borrow_mut();
            for &byte in &self.scratch[..read] {
                let emitted = match byte {
                    b'\n' if self.after_carriage_return => {
                        self.after_carriage_return = false;
                        continue;
                    }
                    b'\r' => {
                        self.after_carriage_return = true;
                        b'\n'
                    }
                    other => {
                        self.after_carriage_return = false;
                        other
                    }
                };
                if emitted == b'\n' {
                    breaks.push_back(self.offset);
                }
                out[written] = emitted;
                written += 1;
                self.offset += 1;
            }
            if written > 0 {
                return Ok(written);
            }
        }
    }
}

/// A CSV input opened for streaming.
pub(crate) struct CsvStream {
    /// The input as messages call it.
    pub file: String,
    /// The delimiter in use.
    pub delimiter: u8,
    /// Whether the input was gzip-compressed (read errors are then bad input).
    gzip: bool,
    /// The records.
    reader: csv::Reader<Box<dyn Read>>,
    breaks: Breaks,
    /// Line breaks before the first offset still in `breaks`.
    passed: u64,
    /// Bytes the reader does not see (the byte-order mark).
    skipped: u64,
}

impl CsvStream {
    /// Opens the file at `path`, gzip-compressed or not.
    pub fn open(path: &Path) -> Result<Self, TabularError> {
        let file = path.display().to_string();
        let opened = File::open(path).map_err(|source| TabularError::Open {
            file: file.clone(),
            source,
        })?;
        Self::from_reader(Box::new(opened), file)
    }

    /// Reads `raw` (gzip-compressed or not), calling it `file` in messages.
    pub fn from_reader(mut raw: Box<dyn Read>, file: String) -> Result<Self, TabularError> {
        let mut magic = Vec::with_capacity(2);
        if let Err(source) = read_until(&mut raw, &mut magic, |bytes| bytes.len() >= 2) {
            return Err(TabularError::Read { file, source });
        }
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
        let at_end = match read_until(&mut normalised, &mut prefix, |bytes| {
            bytes.len() >= DETECTION_BYTES
                || bytes.iter().filter(|&&byte| byte == b'\n').count() > DETECTION_LINES
        }) {
            Ok(at_end) => at_end,
            Err(source) => return Err(read_error(file, gzip, source)),
        };
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
        Ok(Self {
            file,
            delimiter,
            gzip,
            reader: cells::reader(stream, delimiter),
            breaks,
            passed: 0,
            skipped,
        })
    }

    /// Reads the next record that is not blank, with the 1-based line it starts on; `None` at
    /// the end of the input.
    pub fn next_record(
        &mut self,
        record: &mut csv::StringRecord,
    ) -> Result<Option<u64>, TabularError> {
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
            if !cells::is_blank(record) {
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

    fn csv_error(&self, error: csv::Error) -> TabularError {
        let file = self.file.clone();
        match error.into_kind() {
            csv::ErrorKind::Io(source) => read_error(file, self.gzip, source),
            csv::ErrorKind::Utf8 { pos, .. } => TabularError::InvalidUtf8 {
                file,
                line: pos.map(|pos| pos.line()),
            },
            other => TabularError::Csv {
                file,
                message: format!("{other:?}"),
            },
        }
    }
}

/// A read error: bad input when decoding gzip, else a failure to read.
fn read_error(file: String, gzip: bool, source: io::Error) -> TabularError {
    if gzip {
        TabularError::Gzip { file, source }
    } else {
        TabularError::Read { file, source }
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

    #[test]
    fn a_missing_file_is_bad_input_and_bad_gzip_is_named() {
        let error = CsvStream::open(Path::new("/no/such/input.csv"))
            .err()
            .unwrap();
        assert!(error.is_bad_input(), "{error}");
        assert!(
            error
                .to_string()
                .starts_with("/no/such/input.csv: cannot open: "),
            "{error}"
        );
        let bytes: &[u8] = &[0x1f, 0x8b, 1, 2, 3];
        let error = CsvStream::from_reader(Box::new(bytes), "g.csv.gz".into())
            .err()
            .unwrap();
        assert!(error.is_bad_input(), "{error}");
        assert!(
            error
                .to_string()
                .starts_with("g.csv.gz: not valid gzip data: "),
            "{error}"
        );
    }
}
