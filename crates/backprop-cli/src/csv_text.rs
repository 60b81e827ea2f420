//! Text-level helpers for the streamed CSV input: line-end normalisation with line-break
//! offsets, delimiter detection, and what counts as a missing or a numeric cell (the same rules
//! as the training loader in `backprop_data::csv_file`).

use std::cell::RefCell;
use std::collections::VecDeque;
use std::io::{self, Read};
use std::rc::Rc;

/// Lines looked at to detect the delimiter.
pub const DETECTION_LINES: usize = 20;
/// Offsets of line breaks not yet passed, shared between the byte filter and the reader.
pub type Breaks = Rc<RefCell<VecDeque<u64>>>;

/// A reader that turns `\r\n` and lone `\r` into `\n` and notes where each `\n` is.
pub struct NormalisedLines<R> {
    inner: R,
    after_carriage_return: bool,
    offset: u64,
    breaks: Breaks,
    scratch: Vec<u8>,
}

impl<R> NormalisedLines<R> {
    /// Filters `inner`, noting line breaks in `breaks`.
    pub fn new(inner: R, breaks: Breaks) -> Self {
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

// Delimiter detection and missing-cell markers are the training loader's own, so that
// `predict` reads a file exactly as `train` did.
pub use backprop_data::csv_file::{detect_delimiter, is_missing};

/// Up to 20 names, quoted, then a count of the rest.
pub fn list_names(names: &[String]) -> String {
    let mut text = names
        .iter()
        .take(20)
        .map(|name| format!("{name:?}"))
        .collect::<Vec<_>>()
        .join(", ");
    if names.len() > 20 {
        text.push_str(&format!(" and {} more", names.len() - 20));
    }
    text
}

/// A cell as a number (a decimal comma is accepted in semicolon-separated input).
pub fn parse_number(cell: &str, decimal_comma: bool) -> Option<f32> {
    match cell.parse::<f32>() {
        Ok(value) => Some(value),
        Err(_) if decimal_comma && cell.matches(',').count() == 1 && !cell.contains('.') => {
            cell.replacen(',', ".", 1).parse().ok()
        }
        Err(_) => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delimiters_are_detected_like_the_training_loader() {
        assert_eq!(detect_delimiter(b"a;b;c\n1,5;2;3\n"), b';');
        assert_eq!(detect_delimiter(b"a,b\n1,2\n"), b',');
        assert_eq!(detect_delimiter(b"a\tb\n1\t2\n"), b'\t');
        assert_eq!(detect_delimiter(b"single\n1\n"), b',');
    }

    #[test]
    fn numbers_and_missing_markers() {
        assert_eq!(parse_number("1,5", true), Some(1.5));
        assert_eq!(parse_number("1,5", false), None);
        assert_eq!(parse_number("-2e1", false), Some(-20.0));
        assert!(is_missing("na") && is_missing("") && !is_missing("0"));
    }
}
