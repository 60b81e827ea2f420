//! Formatting shared by the teaching renderers: numbers with stable text, durations in human
//! units, subscripts and superscripts for the notation, ANSI colour, and HTML/SVG escaping.
//!
//! Everything here turns engine numbers into text; nothing computes a figure.

/// Seconds in a minute, an hour, a day and a year (365.25 days).
const MINUTE: f64 = 60.0;
const HOUR: f64 = 60.0 * MINUTE;
const DAY: f64 = 24.0 * HOUR;
const YEAR: f64 = 365.25 * DAY;

/// The age of the universe, 13.8 billion years (Planck 2018), in years.
pub const UNIVERSE_AGE_YEARS: f64 = 13.8e9;

/// The age of the universe in seconds: 13.8e9 years of 365.25 days.
pub fn universe_age_seconds() -> f64 {
    UNIVERSE_AGE_YEARS * YEAR
}

/// Rounds to `digits` significant digits (0 and non-finite values pass through).
pub fn round_significant(value: f64, digits: i32) -> f64 {
    if value == 0.0 || !value.is_finite() {
        return value;
    }
    let scale = 10f64.powi(digits - 1 - value.abs().log10().floor() as i32);
    (value * scale).round() / scale
}

/// A value with at most 3 significant digits and no trailing zeros: `16.7`, `1`, `0.25`.
fn three_digits(value: f64) -> String {
    let rounded = round_significant(value, 3);
    if rounded == 0.0 || !rounded.is_finite() {
        return format!("{rounded}");
    }
    let decimals = (2 - rounded.abs().log10().floor() as i32).clamp(0, 12) as usize;
    let text = format!("{rounded:.decimals$}");
    let text = if text.contains('.') {
        text.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        text
    };
    group_thousands(&text)
}

/// Inserts `,` between groups of three digits in the integer part: `23860` → `23,860`.
pub fn group_thousands(text: &str) -> String {
    let (sign, rest) = match text.strip_prefix('-') {
        Some(rest) => ("-", rest),
        None => ("", text),
    };
    let (integer, fraction) = match rest.split_once('.') {
        Some((i, f)) => (i, Some(f)),
        None => (rest, None),
    };
    let mut grouped = String::new();
    for (i, digit) in integer.chars().enumerate() {
        if i > 0 && (integer.len() - i) % 3 == 0 {
            grouped.push(',');
        }
        grouped.push(digit);
    }
    match fraction {
        Some(f) => format!("{sign}{grouped}.{f}"),
        None => format!("{sign}{grouped}"),
    }
}

/// A count with thousands separators: `23,860`.
pub fn format_count(count: u64) -> String {
    group_thousands(&count.to_string())
}

/// A duration in seconds in human units, 3 significant digits: ns, µs, ms, s, minutes, hours,
/// days, years (with "thousand", "million", "billion" for large counts), and
/// "longer than the age of the universe" beyond 13.8 billion years (infinite included).
///
/// ```
/// use backprop_teach::format_duration;
/// assert_eq!(format_duration(1e-3), "1 ms");
/// assert_eq!(format_duration(1000.0), "16.7 minutes");
/// assert_eq!(format_duration(1e6), "11.6 days");
/// assert_eq!(format_duration(1e30), "longer than the age of the universe");
/// ```
pub fn format_duration(seconds: f64) -> String {
    if seconds.is_nan() || seconds < 0.0 {
        return "unknown".into();
    }
    if seconds == 0.0 {
        return "0 s".into();
    }
    let seconds = round_significant(seconds, 3);
    if seconds > universe_age_seconds() {
        return "longer than the age of the universe".into();
    }
    let plural = |value: f64, unit: &str| {
        let text = three_digits(value);
        if text == "1" {
            format!("1 {unit}")
        } else {
            format!("{text} {unit}s")
        }
    };
    if seconds < 1e-6 {
        format!("{} ns", three_digits(seconds * 1e9))
    } else if seconds < 1e-3 {
        format!("{} µs", three_digits(seconds * 1e6))
    } else if seconds < 1.0 {
        format!("{} ms", three_digits(seconds * 1e3))
    } else if seconds < MINUTE {
        format!("{} s", three_digits(seconds))
    } else if seconds < HOUR {
        plural(round_significant(seconds / MINUTE, 3), "minute")
    } else if seconds < DAY {
        plural(round_significant(seconds / HOUR, 3), "hour")
    } else if seconds < YEAR {
        plural(round_significant(seconds / DAY, 3), "day")
    } else {
        let years = round_significant(seconds / YEAR, 3);
        for (scale, word) in [(1e9, "billion"), (1e6, "million"), (1e3, "thousand")] {
            if years >= scale {
                return format!("{} {word} years", three_digits(years / scale));
            }
        }
        plural(years, "year")
    }
}

/// A number for explanations: 4 decimals between 0.001 and 10,000, scientific notation
/// (`1.234e-5`) outside, `0` for zero; negative zero is written as zero.
pub fn format_number(value: f64) -> String {
    if value == 0.0 {
        return "0".into();
    }
    if !value.is_finite() {
        return format!("{value}");
    }
    let magnitude = value.abs();
    if (1e-3..1e4).contains(&magnitude) {
        format!("{value:.4}")
    } else {
        format!("{value:.3e}")
    }
}

/// A number inside a printed calculation: 6 decimals between 0.001 and 10,000 (trailing zeros
/// dropped, so `1` and `0.5` stay short), 7 significant digits in scientific notation outside.
///
/// Operands carry two more digits than the 4-decimal results of [`format_number`], so a reader
/// who redoes a printed calculation from its printed operands lands within one unit of the
/// printed result's last digit.
pub fn operand(value: f64) -> String {
    if value == 0.0 {
        return "0".into();
    }
    if !value.is_finite() {
        return format!("{value}");
    }
    let magnitude = value.abs();
    if (1e-3..1e4).contains(&magnitude) {
        let text = format!("{value:.6}");
        text.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        let text = format!("{value:.6e}");
        match text.split_once('e') {
            Some((mantissa, exponent)) if mantissa.contains('.') => format!(
                "{}e{exponent}",
                mantissa.trim_end_matches('0').trim_end_matches('.')
            ),
            _ => text,
        }
    }
}

/// [`operand`] in parentheses when negative, for use inside a product: `(-0.253141)`.
pub fn operand_factor(value: f64) -> String {
    let text = operand(value);
    if text.starts_with('-') {
        format!("({text})")
    } else {
        text
    }
}

/// [`format_number`] in parentheses when negative, for use inside a product: `(−0.25)`.
pub fn factor(value: f64) -> String {
    let text = format_number(value);
    if text.starts_with('-') {
        format!("({text})")
    } else {
        text
    }
}

/// A fixed-decimal number for SVG attributes: `-0.00` is written `0.00`.
pub fn fixed(value: f64, decimals: usize) -> String {
    let text = format!("{value:.decimals$}");
    if text.starts_with('-') && text[1..].chars().all(|c| c == '0' || c == '.') {
        text[1..].to_string()
    } else {
        text
    }
}

fn map_digits(number: usize, digits: &[char; 10]) -> String {
    number
        .to_string()
        .chars()
        .map(|c| digits[c.to_digit(10).unwrap_or(0) as usize])
        .collect()
}

/// `12` → `¹²`.
pub fn superscript(number: usize) -> String {
    map_digits(number, &['⁰', '¹', '²', '³', '⁴', '⁵', '⁶', '⁷', '⁸', '⁹'])
}

/// `12` → `₁₂`.
pub fn subscript(number: usize) -> String {
    map_digits(number, &['₀', '₁', '₂', '₃', '₄', '₅', '₆', '₇', '₈', '₉'])
}

/// Two 1-based subscripts, joined by a comma when either has more than one digit: `₁₂`, `₁,₁₂`.
pub fn subscript_pair(first: usize, second: usize) -> String {
    if first < 10 && second < 10 {
        format!("{}{}", subscript(first), subscript(second))
    } else {
        format!("{},{}", subscript(first), subscript(second))
    }
}

/// ANSI styles used by the text renderers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Paint {
    /// Bold, for headings.
    Bold,
    /// Dim, for the notation lines.
    Dim,
    /// Blue, for positive values (as in the diagrams).
    Positive,
    /// Orange, for negative values.
    Negative,
    /// Green, for a cost that fell.
    Good,
    /// Red, for a cost that rose.
    Bad,
}

/// `text` wrapped in the ANSI codes of `paint` when `colour` is true, unchanged otherwise.
pub fn paint(text: &str, paint: Paint, colour: bool) -> String {
    if !colour {
        return text.to_string();
    }
    let code = match paint {
        Paint::Bold => "1",
        Paint::Dim => "2",
        Paint::Positive => "38;5;32",
        Paint::Negative => "38;5;208",
        Paint::Good => "32",
        Paint::Bad => "31",
    };
    format!("\u{1b}[{code}m{text}\u{1b}[0m")
}

/// A number coloured by its sign (blue positive, orange negative) when `colour` is true.
pub fn signed(value: f64, colour: bool) -> String {
    let kind = if value < 0.0 {
        Paint::Negative
    } else {
        Paint::Positive
    };
    paint(&format_number(value), kind, colour)
}

/// Rows of cells as aligned columns, two spaces apart; `right[c]` right-aligns column c.
/// Widths count characters, so cells must not hold ANSI codes.
pub fn table(rows: &[Vec<String>], right: &[bool]) -> String {
    let columns = rows.iter().map(Vec::len).max().unwrap_or(0);
    let widths: Vec<usize> = (0..columns)
        .map(|c| {
            rows.iter()
                .filter_map(|r| r.get(c))
                .map(|cell| cell.chars().count())
                .max()
                .unwrap_or(0)
        })
        .collect();
    let mut out = String::new();
    for row in rows {
        let mut line = String::new();
        for (c, cell) in row.iter().enumerate() {
            let pad = " ".repeat(widths[c] - cell.chars().count());
            if c > 0 {
                line.push_str("  ");
            }
            if right.get(c).copied().unwrap_or(false) {
                line.push_str(&pad);
                line.push_str(cell);
            } else {
                line.push_str(cell);
                line.push_str(&pad);
            }
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

/// Escapes `&`, `<`, `>` and `"` for HTML and SVG text and attributes.
pub fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// Removes ANSI escape sequences (`ESC [ … m`) from text.
pub fn strip_ansi(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            for d in chars.by_ref() {
                if d == 'm' {
                    break;
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}
