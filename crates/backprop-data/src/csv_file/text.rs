//! From bytes to rows: gzip decompression, the UTF-8 byte-order mark, the header, blank lines
//! and ragged rows, by the shared CSV rules of [`crate::tabular::cells`] (delimiter detection,
//! trimming, what counts as a missing or a numeric cell).
//!
//! The input stays in memory as one byte buffer and is parsed again on each pass, so no cell is
//! ever copied into a per-cell `String`: peak memory is the decompressed input plus the result.

use super::error::{list_columns, CsvError};
use crate::idx::GZIP_MAGIC;
use crate::tabular::cells::{
    accepts_decimal_comma, detect_delimiter, is_blank, parse_number, reader, Number, MAX_COLUMNS,
    UTF8_BOM,
};
use csv::StringRecord;
use std::borrow::Cow;
use std::io::Read;

/// The decompressed bytes: gzip when the data starts with the gzip magic bytes; a name ending in
/// `.gz` on data without them is an error rather than a guess.
pub(crate) fn decompress<'a>(bytes: &'a [u8], file: &str) -> Result<Cow<'a, [u8]>, CsvError> {
    let named_gzip = file.to_ascii_lowercase().ends_with(".gz");
    if bytes.starts_with(&GZIP_MAGIC) {
        let mut out = Vec::new();
        flate2::read::MultiGzDecoder::new(bytes)
            .read_to_end(&mut out)
            .map_err(|error| CsvError::Gzip {
                file: file.to_string(),
                message: error.to_string(),
            })?;
        Ok(Cow::Owned(out))
    } else if named_gzip {
        let message = if bytes.is_empty() {
            "the file is empty".to_string()
        } else {
            "the name ends in .gz but the data does not start with the gzip bytes 1f 8b".to_string()
        };
        Err(CsvError::Gzip {
            file: file.to_string(),
            message,
        })
    } else {
        Ok(Cow::Borrowed(bytes))
    }
}

/// The text without its byte-order mark, after checking that it is UTF-8.
pub(crate) fn utf8_text<'a>(data: &'a [u8], file: &str) -> Result<&'a [u8], CsvError> {
    let text = data.strip_prefix(UTF8_BOM).unwrap_or(data);
    match std::str::from_utf8(text) {
        Ok(_) => Ok(text),
        Err(error) => Err(CsvError::InvalidUtf8 {
            file: file.to_string(),
            line: line_of_offset(text, error.valid_up_to()),
        }),
    }
}

/// The 1-based line holding byte `offset`.
fn line_of_offset(text: &[u8], offset: usize) -> u64 {
    LineCounter::default().line_at(text, offset)
}

/// Line breaks in `bytes`: `\n`, `\r\n`, or a lone `\r`.
fn count_breaks(bytes: &[u8]) -> u64 {
    let mut breaks = 0;
    for (index, &byte) in bytes.iter().enumerate() {
        if byte == b'\n' || (byte == b'\r' && bytes.get(index + 1) != Some(&b'\n')) {
            breaks += 1;
        }
    }
    breaks
}

/// Turns record positions into 1-based file lines. The `csv` crate's own line numbers skip
/// blank lines and count `\r\n` oddly, and its byte position is where the previous record
/// ended; so the record starts at the first byte after that which is not a line break, and its
/// line is counted here, incrementally (records come in order, so the total work is linear).
#[derive(Debug, Default)]
struct LineCounter {
    /// Bytes before this offset are counted…
    offset: usize,
    /// …and hold this many line breaks.
    breaks: u64,
}

impl LineCounter {
    /// The line of the first byte at or after `byte` that is not a line break.
    fn line_at(&mut self, text: &[u8], byte: usize) -> u64 {
        let mut start = byte.min(text.len());
        while matches!(text.get(start), Some(b'\r' | b'\n')) {
            start += 1;
        }
        if start >= self.offset {
            self.breaks += count_breaks(text.get(self.offset..start).unwrap_or_default());
            self.offset = start;
        }
        self.breaks + 1
    }

    /// The line of a record just read.
    fn line_of(&mut self, text: &[u8], record: &StringRecord) -> u64 {
        let byte = record.position().map_or(0, csv::Position::byte);
        self.line_at(text, usize::try_from(byte).unwrap_or(usize::MAX))
    }
}

/// The name given to column `index` (0-based) when the file has no header, or an empty header
/// cell: `column_0`, `column_1`, … (0-based, like `--target INDEX`).
pub(crate) fn generated_name(index: usize) -> String {
    format!("column_{index}")
}

/// A decoded CSV text with its delimiter and column names; its rows are read on demand.
#[derive(Debug)]
pub(crate) struct Table<'a> {
    /// The file as error messages call it.
    pub file: &'a str,
    /// The text, without its byte-order mark.
    text: &'a [u8],
    /// The delimiter in use.
    pub delimiter: u8,
    /// The column names: the header's, or generated ones.
    pub names: Vec<String>,
    /// Whether the first row is a header.
    pub has_header: bool,
    /// The line of the first row (the header, if any).
    pub first_line: u64,
}

impl<'a> Table<'a> {
    /// Reads the first row: the header's names, or generated names for its width.
    pub fn open(
        text: &'a [u8],
        file: &'a str,
        has_header: bool,
        delimiter: Option<u8>,
    ) -> Result<Self, CsvError> {
        let delimiter = delimiter.unwrap_or_else(|| detect_delimiter(text));
        let mut reader = reader(text, delimiter);
        let mut record = StringRecord::new();
        let mut lines = LineCounter::default();
        loop {
            if !read(&mut reader, &mut record, file)? {
                return Err(CsvError::Empty {
                    file: file.to_string(),
                });
            }
            if !is_blank(&record) {
                break;
            }
        }
        let first_line = lines.line_of(text, &record);
        if record.len() > MAX_COLUMNS {
            return Err(CsvError::TooManyColumns {
                file: file.to_string(),
                columns: record.len(),
                after: "",
                limit: MAX_COLUMNS,
            });
        }
        if record.len() < 2 {
            return Err(CsvError::OneColumn {
                file: file.to_string(),
                line: first_line,
            });
        }
        let names: Vec<String> = if has_header {
            record
                .iter()
                .enumerate()
                .map(|(index, name)| {
                    if name.is_empty() {
                        generated_name(index)
                    } else {
                        name.to_string()
                    }
                })
                .collect()
        } else {
            (0..record.len()).map(generated_name).collect()
        };
        let mut seen = std::collections::HashSet::with_capacity(names.len());
        if let Some(name) = names.iter().find(|name| !seen.insert(name.as_str())) {
            return Err(CsvError::DuplicateColumn {
                file: file.to_string(),
                name: name.clone(),
                after: "",
            });
        }
        Ok(Self {
            file,
            text,
            delimiter,
            names,
            has_header,
            first_line,
        })
    }

    /// Calls `visit(line, row)` for each data row (not the header, not blank lines), in order,
    /// after checking that it has as many fields as the first row. Returns the number of rows.
    pub fn for_each_row(
        &self,
        mut visit: impl FnMut(u64, &StringRecord) -> Result<(), CsvError>,
    ) -> Result<usize, CsvError> {
        let mut reader = reader(self.text, self.delimiter);
        let mut record = StringRecord::new();
        let mut skip_header = self.has_header;
        let mut rows = 0;
        let mut lines = LineCounter::default();
        while read(&mut reader, &mut record, self.file)? {
            if is_blank(&record) {
                continue;
            }
            if skip_header {
                skip_header = false;
                continue;
            }
            let line = lines.line_of(self.text, &record);
            if record.len() != self.names.len() {
                return Err(CsvError::Ragged {
                    file: self.file.to_string(),
                    line,
                    column: record.len().min(self.names.len()) + 1,
                    expected: self.names.len(),
                    found: record.len(),
                    first_line: self.first_line,
                });
            }
            rows += 1;
            visit(line, &record)?;
        }
        Ok(rows)
    }

    /// What a (non-missing) cell holds as a number. With `;` as delimiter a decimal comma is
    /// accepted (`1,5`).
    pub fn number(&self, cell: &str) -> Number {
        parse_number(cell, accepts_decimal_comma(self.delimiter))
    }

    /// The error for a missing cell at `column` (0-based) of the row at `line`.
    pub fn missing(&self, line: u64, column: usize) -> CsvError {
        CsvError::Missing {
            file: self.file.to_string(),
            line,
            column: column + 1,
            name: self.name(column),
        }
    }

    /// The error for a cell that should be a number.
    pub fn not_a_number(&self, line: u64, column: usize, value: &str) -> CsvError {
        CsvError::NotANumber {
            file: self.file.to_string(),
            line,
            column: column + 1,
            name: self.name(column),
            value: value.to_string(),
        }
    }

    /// The error for a cell that is a number but not a finite `f32`.
    pub fn not_finite(&self, line: u64, column: usize, value: &str) -> CsvError {
        CsvError::NotFinite {
            file: self.file.to_string(),
            line,
            column: column + 1,
            name: self.name(column),
            value: value.to_string(),
        }
    }

    /// The name of column `column` (0-based).
    pub fn name(&self, column: usize) -> String {
        self.names
            .get(column)
            .cloned()
            .unwrap_or_else(|| generated_name(column))
    }

    /// The column names, listed for a message.
    pub fn list_names(&self) -> String {
        list_columns(&self.names)
    }
}

/// Reads the next record; `false` at the end.
fn read(
    reader: &mut csv::Reader<&[u8]>,
    record: &mut StringRecord,
    file: &str,
) -> Result<bool, CsvError> {
    reader
        .read_record(record)
        .map_err(|error| match error.kind() {
            csv::ErrorKind::Utf8 { pos, .. } => CsvError::InvalidUtf8 {
                file: file.to_string(),
                line: pos.as_ref().map_or(0, csv::Position::line),
            },
            _ => CsvError::Io {
                file: file.to_string(),
                message: error.to_string(),
            },
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utf8_check_names_the_line_and_strips_the_bom() {
        assert_eq!(utf8_text(b"\xEF\xBB\xBFa,b\n", "f").unwrap(), b"a,b\n");
        assert_eq!(
            utf8_text(b"a,b\n1,2\n\xff,3\n", "f"),
            Err(CsvError::InvalidUtf8 {
                file: "f".into(),
                line: 3
            })
        );
    }

    #[test]
    fn blank_lines_are_skipped_and_ragged_rows_reported() {
        let table = Table::open(b"\n  \na,b\n\n1,2\n \n3\n", "t.csv", true, None).unwrap();
        assert_eq!(table.first_line, 3);
        let mut lines = Vec::new();
        let error = table
            .for_each_row(|line, _| {
                lines.push(line);
                Ok(())
            })
            .unwrap_err();
        assert_eq!(lines, [5]);
        let table = Table::open(
            b"a,b\r\n\r\n\r\n1,2\r\n\"x\ny\",2\n\n\n5,6\r7,8",
            "t",
            true,
            None,
        )
        .unwrap();
        let mut lines = Vec::new();
        table
            .for_each_row(|line, _| {
                lines.push(line);
                Ok(())
            })
            .unwrap();
        assert_eq!(lines, [4, 5, 9, 10]);
        assert_eq!(
            error.to_string(),
            "t.csv:7:2: ragged row: expected 2 fields as in the first row (line 3), found 1"
        );
    }
}
