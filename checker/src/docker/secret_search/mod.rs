//! A secret looked for in every form an image can carry it: the bytes themselves, their
//! base64 (standard or URL-safe, at any alignment, padded or not, wrapped over lines) and
//! their hex (any case), in plain files and inside compressed files and archives, and in
//! the image's metadata. Pure: given the secret, [`Needles`] says what to look for,
//! [`Matcher`] finds it in a stream, [`search_layer`] walks one layer tar with its
//! compressed members; `contents::find_secret` hands them the engine's archives.
//!
//! # How each form is found
//!
//! Every form is a fixed string ("needle") derived from the secret, so one multi-pattern
//! pass ([aho-corasick](aho_corasick)) finds them all, as fast as a plain byte search; no
//! run of text has to be decoded to be judged:
//!
//! - **raw**: the secret's bytes;
//! - **hex**: their hex digits, matched case-insensitively;
//! - **base64**: a secret that starts at byte `k` of a 3-byte group is encoded into
//!   characters of which the first and last may also depend on the bytes around it. For
//!   each `k` in 0..3 and each alphabet (standard, URL-safe), the needle is the run of
//!   characters that depend on the secret's bytes only, so it is found whatever comes
//!   before or after the secret, and whether or not the encoding is padded.
//!
//! The search runs over a *flat view* of the stream, its blanks (space, tab, CR, LF) left out: base64
//! wrapped at 76 columns (`base64`) or 64 (PEM), hex split into lines and groups
//! (`xxd -p`, `od -An -tx1`), a secret split over lines: each is then one unbroken run.
//! The raw needle is the secret with its own whitespace left out too.
//!
//! # The minimum length
//!
//! A secret is at least [`MIN_SECRET_BYTES`] bytes, whitespace left out. Its shortest
//! needle is then a base64 one of 15 characters (90 bits): a byte string that happens to
//! hold it by chance, as base64 of random data holds any given 15 characters once in
//! 2^90 positions, would need far more than the 2^36 positions × needles a search of
//! 16 GiB tries; the raw and hex needles carry 96 bits. Shorter secrets would also be
//! found for other reasons than a leak (a short word or number occurs in real files).

mod matcher;
mod unpack;

use std::collections::BTreeSet;

use aho_corasick::{AhoCorasick, AhoCorasickBuilder};
use base64::Engine as _;

pub use matcher::Matcher;
pub use unpack::{search_layer, Bounds, Budget, Findings, Hit, BOUNDS};

/// Shorter secrets could be found by chance (see the module's documentation).
pub const MIN_SECRET_BYTES: usize = 12;

/// What a secret's bytes were found as.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Form {
    Raw,
    Base64,
    Base64Url,
    Hex,
}

impl Form {
    pub fn name(self) -> &'static str {
        match self {
            Form::Raw => "raw",
            Form::Base64 => "base64",
            Form::Base64Url => "URL-safe base64",
            Form::Hex => "hex",
        }
    }
}

/// The forms found, in order, in words: "raw, base64".
pub fn forms_in_words(forms: &BTreeSet<Form>) -> String {
    forms
        .iter()
        .map(|f| f.name())
        .collect::<Vec<_>>()
        .join(", ")
}

/// A secret too short to be looked for: its length, whitespace left out.
#[derive(Debug, Clone, PartialEq)]
pub struct TooShort {
    pub bytes: usize,
}

/// What a matcher looks for: every form of one secret, as needles.
#[derive(Debug)]
pub struct Needles {
    /// The raw and base64 needles (case matters).
    exact: AhoCorasick,
    /// The form of each needle of `exact`, by pattern index.
    exact_forms: Vec<Form>,
    /// The hex needle, any case.
    hex: AhoCorasick,
    /// Bytes of the longest needle: a matcher keeps one fewer from each chunk for the next.
    longest: usize,
}

/// What a place name shows instead of a form of the secret.
pub const REDACTED: &str = "‹secret›";

/// The characters of `secret`'s base64 that depend on its bytes alone, when it starts at
/// byte `offset` (0..3) of a 3-byte group. Character `i` holds bits `6i..6i+6` of the
/// encoded stream; the secret holds bits `8·offset..8·(offset+len)`.
fn base64_core(engine: &base64::engine::GeneralPurpose, secret: &[u8], offset: usize) -> String {
    let mut shifted = vec![0u8; offset];
    shifted.extend_from_slice(secret);
    let encoded = engine.encode(&shifted);
    let first = (8 * offset).div_ceil(6);
    let end = 8 * (offset + secret.len()) / 6;
    encoded[first..end].to_string()
}

impl Needles {
    /// The needles of `secret` (its bytes as the file holds them, surrounding whitespace
    /// already left out by the caller).
    pub fn new(secret: &[u8]) -> Result<Needles, TooShort> {
        let mut raw = Vec::new();
        matcher::flatten_into(secret, &mut raw);
        if raw.len() < MIN_SECRET_BYTES {
            return Err(TooShort { bytes: raw.len() });
        }
        let mut needles: Vec<(Vec<u8>, Form)> = vec![(raw, Form::Raw)];
        let alphabets = [
            (
                base64::engine::general_purpose::STANDARD_NO_PAD,
                Form::Base64,
            ),
            (
                base64::engine::general_purpose::URL_SAFE_NO_PAD,
                Form::Base64Url,
            ),
        ];
        for (engine, form) in &alphabets {
            for offset in 0..3 {
                let core = base64_core(engine, secret, offset).into_bytes();
                // Without `+` or `/`, both alphabets write the same: found as standard.
                if !needles.iter().any(|(n, _)| *n == core) {
                    needles.push((core, *form));
                }
            }
        }
        let hex = hex::encode(secret);
        let longest = needles
            .iter()
            .map(|(n, _)| n.len())
            .chain([hex.len()])
            .max()
            .unwrap_or(0);
        let exact = AhoCorasick::new(needles.iter().map(|(n, _)| n)).expect("few short needles");
        let hex = AhoCorasickBuilder::new()
            .ascii_case_insensitive(true)
            .build([hex])
            .expect("one needle");
        Ok(Needles {
            exact,
            exact_forms: needles.into_iter().map(|(_, form)| form).collect(),
            hex,
            longest,
        })
    }

    /// A matcher for one stream.
    pub fn matcher(&self) -> Matcher<'_> {
        Matcher::new(self)
    }

    /// The forms of the secret in `text`, taken whole.
    pub fn find(&self, text: &[u8]) -> BTreeSet<Form> {
        let mut matcher = self.matcher();
        matcher.feed(text);
        matcher.found().clone()
    }

    /// The forms found in `flat` (a flat view), added to `found`.
    fn search_flat(&self, flat: &[u8], found: &mut BTreeSet<Form>) {
        for m in self.exact.find_overlapping_iter(flat) {
            found.insert(self.exact_forms[m.pattern().as_usize()]);
        }
        if self.hex.is_match(flat) {
            found.insert(Form::Hex);
        }
    }

    /// `text` with every form of the secret it holds as it stands replaced by
    /// [`REDACTED`]: the place names of a verdict quote instructions and paths, and must not
    /// print the secret they point at.
    pub fn redact(&self, text: &str) -> String {
        let exact = self
            .exact
            .replace_all_bytes(text.as_bytes(), &vec![REDACTED; self.exact_forms.len()]);
        let both = self.hex.replace_all_bytes(&exact, &[REDACTED]);
        String::from_utf8_lossy(&both).into_owned()
    }
}

/// The parts of an image's config (as `docker inspect` shows it under `Config`), each
/// named as the instruction that sets it: "config: ENV NAME" (one a variable), "config:
/// LABEL name" (one a label), "config: ENTRYPOINT", "config: CMD", "config: USER"…; the
/// text of each is every string it holds, one a line.
pub fn config_texts(config: &serde_json::Value) -> Vec<(String, String)> {
    use serde_json::Value;
    let mut texts = Vec::new();
    let Some(fields) = config.as_object() else {
        return texts;
    };
    for (field, value) in fields {
        match (field.as_str(), value) {
            ("Env", Value::Array(variables)) => {
                for variable in variables.iter().filter_map(Value::as_str) {
                    let name = variable.split('=').next().unwrap_or_default();
                    texts.push((format!("config: ENV {name}"), variable.to_string()));
                }
            }
            ("Labels", Value::Object(labels)) => {
                for (name, value) in labels {
                    let text = format!("{name}={}", value.as_str().unwrap_or_default());
                    texts.push((format!("config: LABEL {name}"), text));
                }
            }
            _ => {
                let mut strings = Vec::new();
                collect_strings(value, &mut strings);
                if !strings.is_empty() {
                    let place = format!("config: {}", instruction_setting(field));
                    texts.push((place, strings.join("\n")));
                }
            }
        }
    }
    texts
}

/// The Dockerfile instruction that sets a config field.
fn instruction_setting(field: &str) -> &str {
    match field {
        "Entrypoint" => "ENTRYPOINT",
        "Cmd" => "CMD",
        "User" => "USER",
        "WorkingDir" => "WORKDIR",
        "ExposedPorts" => "EXPOSE",
        "Volumes" => "VOLUME",
        "Healthcheck" => "HEALTHCHECK",
        "OnBuild" => "ONBUILD",
        "Shell" => "SHELL",
        "StopSignal" => "STOPSIGNAL",
        other => other,
    }
}

/// Every string in `value`, object keys included (a volume's path is a key).
fn collect_strings(value: &serde_json::Value, out: &mut Vec<String>) {
    use serde_json::Value;
    match value {
        Value::String(s) => out.push(s.clone()),
        Value::Array(items) => items.iter().for_each(|v| collect_strings(v, out)),
        Value::Object(fields) => {
            for (key, v) in fields {
                out.push(key.clone());
                collect_strings(v, out);
            }
        }
        Value::Null | Value::Bool(_) | Value::Number(_) => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &[u8] = b"FAKE-tok-8f3a-0000-not-a-real-secret";

    fn needles() -> Needles {
        Needles::new(SECRET).unwrap()
    }

    fn b64(bytes: &[u8]) -> String {
        base64::engine::general_purpose::STANDARD.encode(bytes)
    }

    #[test]
    fn the_raw_bytes_are_found_and_a_near_miss_is_not() {
        let n = needles();
        assert_eq!(
            n.find(b"PAYMENTS_API_TOKEN=FAKE-tok-8f3a-0000-not-a-real-secret\n"),
            BTreeSet::from([Form::Raw])
        );
        // One byte changed: no form of it is found.
        assert!(n.find(b"FAKE-tok-8f3a-0000-not-a-real-secreT").is_empty());
        assert!(n.find(b"FAKE-tok-8f3a-0000-not-a-real-secre").is_empty());
    }

    #[test]
    fn base64_is_found_at_every_alignment_padded_or_not_in_both_alphabets() {
        let n = needles();
        for before in ["", "x", "xy", "PAYMENTS_API_TOKEN="] {
            for after in ["", "\n", "!?", "\nPAYMENTS_API_URL=https://example.com\n"] {
                let plain = format!("{before}{}{after}", std::str::from_utf8(SECRET).unwrap());
                let padded = b64(plain.as_bytes());
                assert!(
                    n.find(padded.as_bytes()).contains(&Form::Base64),
                    "{padded}"
                );
                let bare = padded.trim_end_matches('=');
                assert!(n.find(bare.as_bytes()).contains(&Form::Base64), "{bare}");
            }
        }
        // Bytes whose standard base64 holds `+` and `/`: the URL-safe one has `-` and `_`.
        let binary: Vec<u8> = (0..40u8).map(|i| i.wrapping_mul(37) | 0xf8).collect();
        let n = Needles::new(&binary).unwrap();
        let url = base64::engine::general_purpose::URL_SAFE.encode(&binary);
        assert!(url.contains('-') || url.contains('_'), "{url}");
        assert_eq!(n.find(url.as_bytes()), BTreeSet::from([Form::Base64Url]));
        assert_eq!(
            n.find(b64(&binary).as_bytes()),
            BTreeSet::from([Form::Base64])
        );
    }

    #[test]
    fn base64_wrapped_at_76_columns_or_with_crlf_is_found() {
        let n = needles();
        // Long enough that the secret's encoding is cut by a line end.
        let text = format!("{}{}", "k".repeat(40), std::str::from_utf8(SECRET).unwrap());
        let encoded = b64(text.as_bytes());
        assert!(encoded.len() > 76);
        let wrapped: Vec<&str> = encoded
            .as_bytes()
            .chunks(76)
            .map(|c| std::str::from_utf8(c).unwrap())
            .collect();
        let unix = wrapped.join("\n");
        assert!(n.find(unix.as_bytes()).contains(&Form::Base64), "{unix}");
        assert!(n
            .find(wrapped.join("\r\n").as_bytes())
            .contains(&Form::Base64));
        // Not found in the halves of it taken apart.
        assert!(n.find(wrapped[0].as_bytes()).is_empty());
        assert!(n.find(wrapped[1].as_bytes()).is_empty());
    }

    #[test]
    fn hex_in_either_case_and_split_by_blanks_is_found() {
        let n = needles();
        let lower = hex::encode(SECRET);
        assert_eq!(n.find(lower.as_bytes()), BTreeSet::from([Form::Hex]));
        assert_eq!(
            n.find(lower.to_uppercase().as_bytes()),
            BTreeSet::from([Form::Hex])
        );
        // As `od -An -tx1` prints it: bytes apart, 16 to a line.
        let od: String = SECRET
            .chunks(16)
            .map(|line| line.iter().map(|b| format!(" {b:02x}")).collect::<String>() + "\n")
            .collect();
        assert_eq!(n.find(od.as_bytes()), BTreeSet::from([Form::Hex]));
        // Off by one digit: not found.
        let near = lower.replacen("46", "47", 1);
        assert!(n.find(near.as_bytes()).is_empty());
    }

    #[test]
    fn a_secret_split_over_lines_is_found_raw() {
        let n = needles();
        assert_eq!(
            n.find(b"FAKE-tok-8f3a\n-0000-not-a-real-secret"),
            BTreeSet::from([Form::Raw])
        );
    }

    #[test]
    fn a_short_secret_is_refused_and_each_needle_of_the_shortest_is_long() {
        assert_eq!(
            Needles::new(b"abc def ghij").unwrap_err(),
            TooShort { bytes: 10 }
        );
        let shortest = Needles::new(b"0123456789ab").unwrap();
        let lengths: Vec<usize> = (0..3)
            .map(|k| {
                base64_core(
                    &base64::engine::general_purpose::STANDARD_NO_PAD,
                    b"0123456789ab",
                    k,
                )
                .len()
            })
            .collect();
        assert_eq!(lengths, vec![16, 15, 15]);
        assert_eq!(shortest.longest, 24);
    }

    #[test]
    fn random_base64_does_not_hold_a_short_secret() {
        // 4 MiB of base64 of pseudo-random bytes: no 12-byte secret is found in it.
        let mut state = 0x2545_f491_4f6c_dd1du64;
        let random: Vec<u8> = (0..3 << 20)
            .map(|_| {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                state as u8
            })
            .collect();
        let text = b64(&random);
        for secret in [&b"0123456789ab"[..], b"aaaaaaaaaaaa", b"AAAAAAAAAAAA"] {
            assert!(Needles::new(secret)
                .unwrap()
                .find(text.as_bytes())
                .is_empty());
        }
    }

    #[test]
    fn redaction_hides_every_form_in_a_place_name() {
        let n = needles();
        let step = format!(
            "RUN printf 'PAYMENTS_API_TOKEN=%s' {} > /app/.env.production && echo {}",
            std::str::from_utf8(SECRET).unwrap(),
            hex::encode(SECRET).to_uppercase()
        );
        assert_eq!(
            n.redact(&step),
            "RUN printf 'PAYMENTS_API_TOKEN=%s' ‹secret› > /app/.env.production && echo ‹secret›"
        );
    }

    #[test]
    fn config_parts_are_named_as_the_instructions_that_set_them() {
        let config = serde_json::json!({
            "Env": ["PATH=/usr/bin", "PAYMENTS_API_TOKEN=FAKE-tok-8f3a-0000-not-a-real-secret"],
            "Labels": {"org.example.token": "RkFLRS10b2stOGYzYS0wMDAwLW5vdC1hLXJlYWwtc2VjcmV0"},
            "Entrypoint": ["/server", "--token", "FAKE-tok-8f3a-0000-not-a-real-secret"],
            "Cmd": null,
            "Volumes": {"/data": {}},
            "User": "10001:10001",
        });
        let texts = config_texts(&config);
        let places: Vec<&str> = texts.iter().map(|(p, _)| p.as_str()).collect();
        assert_eq!(
            places,
            vec![
                "config: ENTRYPOINT",
                "config: ENV PATH",
                "config: ENV PAYMENTS_API_TOKEN",
                "config: LABEL org.example.token",
                "config: USER",
                "config: VOLUME",
            ]
        );
        let n = needles();
        let found: Vec<(&str, BTreeSet<Form>)> = texts
            .iter()
            .map(|(p, t)| (p.as_str(), n.find(t.as_bytes())))
            .filter(|(_, forms)| !forms.is_empty())
            .collect();
        assert_eq!(
            found,
            vec![
                ("config: ENTRYPOINT", BTreeSet::from([Form::Raw])),
                (
                    "config: ENV PAYMENTS_API_TOKEN",
                    BTreeSet::from([Form::Raw])
                ),
                (
                    "config: LABEL org.example.token",
                    BTreeSet::from([Form::Base64])
                ),
            ]
        );
    }
}
