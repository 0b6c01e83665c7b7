//! wordfreq - the app for exercise 13: counts words, most frequent first.
//!
//! It does what `tr -cs '[:alnum:]' '\n' | sort | uniq -c | sort -rn` does in
//! a shell, in one small program:
//!
//!     $ wordfreq to be, or not to be
//!           2 be
//!           2 to
//!           1 not
//!           1 or
//!     $ echo "Build fat, ship thin" | wordfreq
//!           1 build
//!           1 fat
//!           1 ship
//!           1 thin
//!
//! With arguments it counts the words in them; with none it reads standard
//! input. Words are runs of letters, digits and apostrophes, compared without
//! case. Ties are listed alphabetically.
//!
//! It uses only the standard library (Cargo.toml has no dependencies), so the
//! build never needs the network. Linked with `-C target-feature=+crt-static`
//! it is a fully static binary that needs no libc, no shell and no Rust
//! toolchain at run time, so it can ship `FROM scratch`.

use std::collections::HashMap;
use std::io::{self, BufWriter, Read, Write};
use std::process::ExitCode;

const USAGE: &str = "usage: wordfreq [TEXT...]
Counts the words in TEXT (or, with no TEXT, in standard input) and prints
each word with its count, most frequent first.";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.iter().any(|a| a == "-h" || a == "--help") {
        println!("{USAGE}");
        return ExitCode::SUCCESS;
    }

    let text = if args.is_empty() {
        let mut bytes = Vec::new();
        if let Err(e) = io::stdin().read_to_end(&mut bytes) {
            eprintln!("wordfreq: cannot read standard input: {e}");
            return ExitCode::FAILURE;
        }
        // Not UTF-8? Count what can be read rather than give up.
        String::from_utf8_lossy(&bytes).into_owned()
    } else {
        args.join(" ")
    };

    // Write through a buffer and stop quietly if the reader goes away
    // (`wordfreq < book.txt | head`): println! would panic on a closed pipe.
    let stdout = io::stdout();
    let mut out = BufWriter::new(stdout.lock());
    for (word, count) in count_words(&text) {
        if writeln!(out, "{count:>7} {word}").is_err() {
            return ExitCode::SUCCESS;
        }
    }
    let _ = out.flush();
    ExitCode::SUCCESS
}

/// Every word of `text` with its count: most frequent first, ties in
/// alphabetical order.
fn count_words(text: &str) -> Vec<(String, usize)> {
    let mut counts: HashMap<String, usize> = HashMap::new();
    for raw in text.split(|c: char| !(c.is_alphanumeric() || c == '\'')) {
        // "'tis" and "dogs'" are words; a lone quote is not.
        let word = raw.trim_matches('\'');
        if !word.is_empty() {
            *counts.entry(word.to_lowercase()).or_insert(0) += 1;
        }
    }
    let mut sorted: Vec<(String, usize)> = counts.into_iter().collect();
    sorted.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    sorted
}

#[cfg(test)]
mod tests {
    use super::count_words;

    #[test]
    fn most_frequent_first_then_alphabetical() {
        let got = count_words("To be, or not to be");
        let want = [("be", 2), ("to", 2), ("not", 1), ("or", 1)];
        let got: Vec<(&str, usize)> = got.iter().map(|(w, c)| (w.as_str(), *c)).collect();
        assert_eq!(got, want);
    }

    #[test]
    fn apostrophes_and_punctuation() {
        let got = count_words("'Tis the dogs' dinner -- don't!");
        let words: Vec<&str> = got.iter().map(|(w, _)| w.as_str()).collect();
        assert_eq!(words, ["dinner", "dogs", "don't", "the", "tis"]);
    }

    #[test]
    fn nothing_to_count() {
        assert!(count_words("  ... -- ''  ").is_empty());
    }
}
