//! What goal settings share: regex patterns compiled once when `exercise.toml` is loaded,
//! and the checks of numbers, paths and timeouts, with the messages that name the key.

use regex::Regex;
use serde::{Deserialize, Serialize};

/// A regex from `exercise.toml`, compiled when the file is loaded. One that does not compile
/// is kept with its error, which validation reports with the goal and key.
#[derive(Debug, Clone)]
pub struct Pattern {
    text: String,
    regex: Result<Regex, regex::Error>,
}

impl Pattern {
    pub fn new(text: impl Into<String>) -> Pattern {
        let text = text.into();
        let regex = Regex::new(&text);
        Pattern { text, regex }
    }
    pub fn as_str(&self) -> &str {
        &self.text
    }
    /// The compiled regex; None when it did not compile (refused at load).
    pub fn regex(&self) -> Option<&Regex> {
        self.regex.as_ref().ok()
    }
    /// Whether `text` matches; an invalid pattern (refused at load) matches nothing.
    pub fn is_match(&self, text: &str) -> bool {
        self.regex.as_ref().is_ok_and(|r| r.is_match(text))
    }
    /// The load-time check: `at: `key` is not a valid regex: …`.
    pub fn check(&self, at: &str, key: &str) -> Result<(), String> {
        match &self.regex {
            Ok(_) => Ok(()),
            Err(e) => Err(format!("{at}: `{key}` is not a valid regex: {e}")),
        }
    }
}

impl PartialEq for Pattern {
    fn eq(&self, other: &Pattern) -> bool {
        self.text == other.text
    }
}

impl std::fmt::Display for Pattern {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.text)
    }
}

impl From<&str> for Pattern {
    fn from(text: &str) -> Pattern {
        Pattern::new(text)
    }
}

impl Serialize for Pattern {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.text)
    }
}

impl<'de> Deserialize<'de> for Pattern {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Pattern, D::Error> {
        String::deserialize(deserializer).map(Pattern::new)
    }
}

// `!(x > 0)` and `is_finite` because TOML has `nan` (a goal never met) and `inf` (a goal
// always met), and every comparison with nan is false.
pub fn check_positive(at: &str, key: &str, value: f64) -> Result<(), String> {
    if !(value.is_finite() && value > 0.0) {
        return Err(format!(
            "{at}: `{key}` must be a positive, finite number, not {value}"
        ));
    }
    Ok(())
}

pub fn check_relative(at: &str, key: &str, path: &str) -> Result<(), String> {
    if path.starts_with('/') || path.split('/').any(|c| c == "..") || path.is_empty() {
        return Err(format!(
            "{at}: `{key}` must be a path inside the exercise folder, not `{path}`"
        ));
    }
    Ok(())
}

pub fn check_timeout(at: &str, timeout_s: u64) -> Result<(), String> {
    if timeout_s == 0 || timeout_s > 600 {
        return Err(format!("{at}: `timeout_s` must be between 1 and 600"));
    }
    Ok(())
}
