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

/// The Linux capabilities an app goal may add back (`capabilities = ["CHOWN"]`), as Docker's
/// `--cap-add` names them; every other one is dropped from the app's container.
const CAPABILITIES: &[&str] = &[
    "AUDIT_CONTROL",
    "AUDIT_READ",
    "AUDIT_WRITE",
    "BLOCK_SUSPEND",
    "BPF",
    "CHECKPOINT_RESTORE",
    "CHOWN",
    "DAC_OVERRIDE",
    "DAC_READ_SEARCH",
    "FOWNER",
    "FSETID",
    "IPC_LOCK",
    "IPC_OWNER",
    "KILL",
    "LEASE",
    "LINUX_IMMUTABLE",
    "MAC_ADMIN",
    "MAC_OVERRIDE",
    "MKNOD",
    "NET_ADMIN",
    "NET_BIND_SERVICE",
    "NET_BROADCAST",
    "NET_RAW",
    "PERFMON",
    "SETFCAP",
    "SETGID",
    "SETPCAP",
    "SETUID",
    "SYSLOG",
    "SYS_ADMIN",
    "SYS_BOOT",
    "SYS_CHROOT",
    "SYS_MODULE",
    "SYS_NICE",
    "SYS_PACCT",
    "SYS_PTRACE",
    "SYS_RAWIO",
    "SYS_RESOURCE",
    "SYS_TIME",
    "SYS_TTY_CONFIG",
    "WAKE_ALARM",
];

/// An app goal's `capabilities`: names Docker knows, without the `CAP_` prefix.
pub fn check_capabilities(at: &str, capabilities: &[String]) -> Result<(), String> {
    for name in capabilities {
        if !CAPABILITIES.contains(&name.as_str()) {
            return Err(format!(
                "{at}: `capabilities` has `{name}`, not a Linux capability; \
                 write them as Docker's --cap-add does: {}",
                CAPABILITIES.join(", ")
            ));
        }
    }
    Ok(())
}

/// The container an app goal's settings allow (see `api::Sandbox`).
pub fn sandbox(writable: bool, capabilities: &[String]) -> crate::docker::api::Sandbox {
    crate::docker::api::Sandbox {
        writable,
        capabilities: capabilities.to_vec(),
    }
}

#[cfg(test)]
mod capability_names {
    use super::check_capabilities;

    #[test]
    fn known_capabilities_pass_and_others_are_named() {
        assert!(check_capabilities("g", &["CHOWN".into(), "SETUID".into()]).is_ok());
        let error = check_capabilities("g", &["CAP_CHOWN".into()]).unwrap_err();
        assert!(
            error.starts_with("g: `capabilities` has `CAP_CHOWN`"),
            "{error}"
        );
        assert!(check_capabilities("g", &["ALL".into()]).is_err());
    }
}
