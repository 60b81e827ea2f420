//! `docs/tutorial.md` cannot drift from the code: every ```` ```console ```` block in it is a
//! command (`$ backprop …`) and its output, and this test runs each one with the real binary,
//! in order, in one scratch folder, and compares what it prints (stdout, then stderr) with the
//! text in the document.
//!
//! Timings are masked in both: a number with its time unit (`ns`, `µs`, `ms`, `s`, `minute(s)`,
//! `hour(s)`, `day(s)`, `year(s)`) or with `samples/s` becomes `<time>`, and runs of spaces become one (table columns widen and narrow with the timings). Blocks marked
//! ```` ```console mnist ```` need MNIST and are run by `scripts/tutorial-mnist.sh` instead.
//! The note an unoptimised build's `compare` adds on stderr is left out.

use std::path::Path;
use std::process::Command;

/// One runnable block: the command after `$ `, and the output lines that follow it.
struct Example {
    line: usize,
    command: String,
    output: Vec<String>,
}

/// The ```` ```console ```` blocks of a Markdown text.
fn examples(markdown: &str) -> Vec<Example> {
    let mut found = Vec::new();
    let mut lines = markdown.lines().enumerate();
    while let Some((number, line)) = lines.next() {
        if line.trim_end() != "```console" {
            continue;
        }
        let mut block = Vec::new();
        for (_, line) in lines.by_ref() {
            if line.starts_with("```") {
                break;
            }
            block.push(line.to_string());
        }
        let command = block
            .first()
            .and_then(|first| first.strip_prefix("$ "))
            .unwrap_or_else(|| {
                panic!(
                    "tutorial line {}: a console block starts with `$ `",
                    number + 1
                )
            })
            .to_string();
        found.push(Example {
            line: number + 1,
            command,
            output: block[1..].to_vec(),
        });
    }
    found
}

const TIME_UNITS: [&str; 14] = [
    "ns",
    "µs",
    "ms",
    "s",
    "s)",
    "minute",
    "minutes",
    "hour",
    "hours",
    "day",
    "days",
    "year",
    "years",
    "samples/s)",
];

/// A line with timings masked and spaces collapsed.
fn normalise(line: &str) -> String {
    let words: Vec<&str> = line.split_whitespace().collect();
    let mut out: Vec<String> = Vec::with_capacity(words.len());
    let mut index = 0;
    while index < words.len() {
        let word = words[index];
        let number = word.trim_start_matches('(');
        let is_number = !number.is_empty()
            && number.chars().any(|c| c.is_ascii_digit())
            && number
                .chars()
                .all(|c| c.is_ascii_digit() || c == '.' || c == ',');
        match words.get(index + 1) {
            // The unit goes too: 999 µs in one run is 1.02 ms in the next.
            Some(unit) if is_number && TIME_UNITS.contains(unit) => {
                let prefix = &word[..word.len() - number.len()];
                let suffix = if unit.ends_with(')') { ")" } else { "" };
                out.push(format!("{prefix}<time>{suffix}"));
                index += 2;
            }
            _ => {
                out.push(word.to_string());
                index += 1;
            }
        }
    }
    out.join(" ")
}

/// Runs one command line (split at spaces; the tutorial uses no quotes) in `folder`.
fn run(command: &str, folder: &Path) -> (bool, String) {
    let mut words = command.split_whitespace();
    assert_eq!(
        words.next(),
        Some("backprop"),
        "only backprop commands: {command}"
    );
    let output = Command::new(env!("CARGO_BIN_EXE_backprop"))
        .args(words)
        .current_dir(folder)
        .env("NO_COLOR", "1")
        .output()
        .expect("the binary runs");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    (output.status.success(), text)
}

#[test]
fn masking_hides_timings_only() {
    assert_eq!(
        normalise("trained 10 epochs in 0.00 s (1,050,440 samples/s)"),
        "trained 10 epochs in <time> (<time>)"
    );
    assert_eq!(
        normalise("784-30-10   1.44 µs    3.48 µs"),
        "784-30-10 <time> <time>"
    );
    assert_eq!(normalise("12.8 years  0.1466"), "<time> 0.1466");
    // A time that lands on exactly one of a unit is written in the singular.
    assert_eq!(normalise("60,000 1 minute"), "60,000 <time>");
    assert_eq!(
        normalise("loss 0.6996  accuracy 49.5%"),
        "loss 0.6996 accuracy 49.5%"
    );
}

#[test]
fn the_tutorial_commands_print_what_the_tutorial_shows() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/tutorial.md");
    let markdown = std::fs::read_to_string(&path).expect("docs/tutorial.md exists");
    let examples = examples(&markdown);
    assert!(examples.len() >= 6, "the tutorial shows its commands");
    let folder = tempfile::tempdir().unwrap();
    let mut failures = Vec::new();
    for example in &examples {
        let (succeeded, text) = run(&example.command, folder.path());
        if !succeeded {
            failures.push(format!(
                "line {}: `{}` failed:\n{text}",
                example.line, example.command
            ));
            continue;
        }
        // Test builds are unoptimised, and `compare` says so; a release build does not.
        let found: Vec<String> = text
            .lines()
            .filter(|line| !line.starts_with("note: an unoptimised (debug) build"))
            .map(normalise)
            .collect();
        let expected: Vec<String> = example.output.iter().map(|line| normalise(line)).collect();
        if found != expected {
            let first = found
                .iter()
                .zip(&expected)
                .position(|(found, expected)| found != expected)
                .unwrap_or(found.len().min(expected.len()));
            failures.push(format!(
                "line {}: `{}` printed something else (first difference at output line {}):\n  tutorial: {:?}\n  printed:  {:?}\nfull output:\n{text}",
                example.line,
                example.command,
                first + 1,
                expected.get(first),
                found.get(first)
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}
