//! The one set of rules for reading CSV text, shared by the in-memory loader
//! ([`crate::csv_file`]) and the streamed reader ([`super::ModelInputStream`]), so that
//! `predict` and `evaluate` read a file exactly as `train` did:
//!
//! - **Bytes.** Gzip is recognised by its magic bytes ([`crate::idx::GZIP_MAGIC`], whatever
//!   the file's name); a UTF-8 byte-order mark ([`UTF8_BOM`]) is dropped.
//! - **Delimiter.** Comma, semicolon or tab, detected from the first [`DETECTION_LINES`]
//!   non-blank rows ([`detect_delimiter`]).
//! - **Rows.** Whitespace around every cell is trimmed; a line of nothing but whitespace is
//!   blank and skipped; the header is read as an ordinary row.
//! - **Missing cells.** Empty, `NA`, `N/A`, `NaN`, `null` and `?`, in any case ([`is_missing`]).
//! - **Numbers.** Rust's float syntax, correctly rounded to `f32`; with `;` as the delimiter a
//!   single decimal comma is accepted too (`1,5`); infinities and values beyond `f32` are
//!   numbers but not finite ([`parse_number`]).

use csv::StringRecord;

/// The UTF-8 encoding of U+FEFF, which some programs write at the start of a CSV file.
pub const UTF8_BOM: &[u8] = b"\xEF\xBB\xBF";

/// The most columns a CSV file may have (before one-hot encoding).
pub const MAX_COLUMNS: usize = 100_000;

/// Non-blank rows looked at to detect the delimiter.
pub const DETECTION_LINES: usize = 20;

/// The delimiters tried, in order of preference when they tie.
const DELIMITERS: [u8; 3] = [b',', b';', b'\t'];

/// The markers of a missing cell besides the empty cell, matched in any case.
pub const MISSING_MARKERS: [&str; 5] = ["NA", "N/A", "NaN", "null", "?"];

/// A CSV reader over `input` that trims cells, accepts rows of any length (raggedness is
/// checked by the callers, who know the line to report), and reads the header as an ordinary
/// row.
pub(crate) fn reader<R: std::io::Read>(input: R, delimiter: u8) -> csv::Reader<R> {
    csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .trim(csv::Trim::All)
        .delimiter(delimiter)
        .from_reader(input)
}

/// A line holding nothing but whitespace reads as one empty field; it is skipped.
pub(crate) fn is_blank(record: &StringRecord) -> bool {
    record.len() == 1 && record.get(0).is_some_and(str::is_empty)
}

/// The field counts of the first non-blank rows with this delimiter.
fn field_counts(text: &[u8], delimiter: u8) -> Vec<usize> {
    let mut reader = reader(text, delimiter);
    let mut record = StringRecord::new();
    let mut counts = Vec::new();
    while counts.len() < DETECTION_LINES {
        match reader.read_record(&mut record) {
            Ok(true) if is_blank(&record) => {}
            Ok(true) => counts.push(record.len()),
            Ok(false) | Err(_) => break,
        }
    }
    counts
}

/// The delimiter among comma, semicolon and tab that splits the first 20 non-blank rows into
/// the same number of fields, more than one; the most fields wins, and a tie goes to the
/// earlier of comma, semicolon, tab. When none is consistent, the one giving the first row the
/// most fields (so that the ragged row is then reported); comma when all give one field.
pub fn detect_delimiter(text: &[u8]) -> u8 {
    let mut consistent: Option<(usize, u8)> = None;
    let mut widest_first: Option<(usize, u8)> = None;
    for delimiter in DELIMITERS {
        let counts = field_counts(text, delimiter);
        let Some(&first) = counts.first() else {
            continue;
        };
        if first < 2 {
            continue;
        }
        if counts.iter().all(|&count| count == first)
            && consistent.is_none_or(|(best, _)| first > best)
        {
            consistent = Some((first, delimiter));
        }
        if widest_first.is_none_or(|(best, _)| first > best) {
            widest_first = Some((first, delimiter));
        }
    }
    consistent
        .or(widest_first)
        .map_or(b',', |(_, delimiter)| delimiter)
}

/// Empty, `NA`, `N/A`, `NaN`, `null` and `?` (any case) mark a missing cell.
pub fn is_missing(cell: &str) -> bool {
    cell.is_empty()
        || MISSING_MARKERS
            .iter()
            .any(|marker| cell.eq_ignore_ascii_case(marker))
}

/// What a (non-missing, trimmed) cell holds as a number.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Number {
    /// A number that fits in `f32`.
    Finite(f32),
    /// `inf`, `-inf`, `Infinity`, or a number beyond the range of `f32`.
    NonFinite,
    /// Not a number at all: text.
    Text,
}

/// Whether cells of a file with this delimiter may use a decimal comma: only `;`-separated
/// files, as written in locales where the comma is the decimal separator.
pub fn accepts_decimal_comma(delimiter: u8) -> bool {
    delimiter == b';'
}

/// Reads a cell as an `f32` (Rust's float syntax: `1`, `-2.5`, `1e-3`, `.5`; correctly rounded,
/// so the shortest decimal form of an `f32` reads back exactly). With `decimal_comma`
/// ([`accepts_decimal_comma`]), one comma in place of the point is accepted too (`1,5`).
pub fn parse_number(cell: &str, decimal_comma: bool) -> Number {
    let parse = |text: &str| match text.parse::<f32>() {
        Ok(value) if value.is_finite() => Number::Finite(value),
        Ok(_) => Number::NonFinite,
        Err(_) => Number::Text,
    };
    match parse(cell) {
        Number::Text
            if decimal_comma
                && cell.bytes().filter(|&byte| byte == b',').count() == 1
                && !cell.contains('.') =>
        {
            parse(&cell.replacen(',', ".", 1))
        }
        number => number,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delimiter_detection_prefers_consistent_then_comma() {
        assert_eq!(detect_delimiter(b"a,b,c\n1,2,3\n"), b',');
        assert_eq!(detect_delimiter(b"a;b;c\n1,5;2,5;3\n"), b';');
        assert_eq!(detect_delimiter(b"a\tb\n1\t2\n"), b'\t');
        assert_eq!(detect_delimiter(b"a;b,c\n1;2,3\n"), b',');
        assert_eq!(detect_delimiter(b"\"x,y\";b\n\"1,2\";3\n"), b';');
        assert_eq!(detect_delimiter(b"abc\n"), b',');
        assert_eq!(detect_delimiter(b""), b',');
        assert_eq!(detect_delimiter(b"a;b;c\n1,5;2;3\n"), b';');
        assert_eq!(detect_delimiter(b"a,b\n1,2\n"), b',');
        assert_eq!(detect_delimiter(b"single\n1\n"), b',');
    }

    #[test]
    fn missing_markers_and_numbers() {
        for cell in ["", "NA", "na", "N/A", "NaN", "nan", "NULL", "?"] {
            assert!(is_missing(cell), "{cell}");
        }
        assert!(!is_missing("0"));
        assert_eq!(parse_number("1.5e1", false), Number::Finite(15.0));
        assert_eq!(parse_number("-2e1", false), Number::Finite(-20.0));
        assert_eq!(parse_number("-inf", false), Number::NonFinite);
        assert_eq!(parse_number("Infinity", false), Number::NonFinite);
        assert_eq!(parse_number("1e39", false), Number::NonFinite);
        assert_eq!(parse_number("abc", false), Number::Text);
        assert_eq!(parse_number("1,5", false), Number::Text);
        assert_eq!(parse_number("1,5", true), Number::Finite(1.5));
        assert_eq!(parse_number("-1,5", true), Number::Finite(-1.5));
        assert_eq!(parse_number("1,5e2", true), Number::Finite(150.0));
        assert_eq!(parse_number("1,2,3", true), Number::Text);
        assert_eq!(parse_number("1.2,3", true), Number::Text);
        assert!(accepts_decimal_comma(b';') && !accepts_decimal_comma(b','));
    }

    #[test]
    fn blank_rows_are_one_empty_field() {
        let mut reader = reader(&b"a , b\n  \n"[..], b',');
        let mut record = StringRecord::new();
        assert!(reader.read_record(&mut record).unwrap());
        assert_eq!((record.get(0), record.get(1)), (Some("a"), Some("b")));
        assert!(!is_blank(&record));
        assert!(reader.read_record(&mut record).unwrap());
        assert!(is_blank(&record));
    }
}
