//! `.dockerignore` matching with the docker CLI's semantics (moby's `ignorefile.ReadAll`
//! followed by `patternmatcher.New` / `MatchesOrParentMatches`).
//!
//! The point of reproducing moby rather than reusing a gitignore library is that the two
//! disagree in ways that change what lands in the build context: a slash-less pattern such
//! as `*.md` only matches at the context root, `#` is a comment only in column one, and
//! `**file` (without a slash) matches any path that merely *ends* in `file`. The checker
//! must measure the context the engine would really receive, so those quirks are kept.
//!
//! The one place this deliberately diverges from moby's translation is pathological input
//! that moby pastes straight into a Go regexp (`\d` after a backslash, `*` inside a `[...]`
//! class, a bare `^`): here such characters are literal, as `filepath.Match` documents them.

use regex::Regex;

/// A parsed `.dockerignore`: the patterns in file order, because the last match wins.
#[derive(Debug, Clone, Default)]
pub struct DockerIgnore {
    patterns: Vec<Pattern>,
}

/// A line of `.dockerignore` that docker would reject; the build would fail on it, so the
/// checker reports it with the line the user has to fix.
#[derive(Debug, thiserror::Error)]
#[error("line {line}: {message}")]
pub struct DockerIgnoreError {
    pub line: usize,
    pub message: String,
}

#[derive(Debug, Clone)]
struct Pattern {
    /// moby's `cleanedPattern`: without the `!`, after both of moby's cleaning passes.
    cleaned: String,
    /// A `!` line: re-includes what earlier lines excluded.
    exception: bool,
    matcher: Matcher,
    /// The pattern reduced to what `can_skip_dir` needs to reason about it.
    tokens: Vec<Token>,
}

/// moby picks a match strategy per pattern and the fast paths are *not* always equivalent
/// to the regex (`**file` is a plain suffix test), so the same choice is made here.
#[derive(Debug, Clone)]
enum Matcher {
    /// No wildcard at all: string equality.
    Exact,
    /// Only a trailing `**`: the text before it must be a prefix.
    Prefix(String),
    /// Only a leading `**`: the text after it must be a suffix (or the whole path, minus
    /// the leading `/`, so that `**/foo` matches `foo`).
    Suffix(String),
    Regex(Regex),
}

/// One unit of a pattern as far as path segments are concerned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Token {
    /// A character matched literally (escaped or not); `/` separates segments.
    Lit(char),
    /// `*`: any run of non-`/` characters.
    Star,
    /// `?`: one non-`/` character.
    Quest,
    /// `**` or a `[...]` class: both can match a `/`, so segment reasoning stops here.
    Complex,
}

impl DockerIgnore {
    /// Parses the text of a .dockerignore file.
    ///
    /// Validation happens here rather than on first use (moby compiles lazily and fails the
    /// build mid-walk) so that a bad line is reported before anything is packed.
    pub fn parse(text: &str) -> Result<DockerIgnore, DockerIgnoreError> {
        let lines = text.lines().enumerate().filter_map(|(index, raw)| {
            let raw = if index == 0 {
                raw.strip_prefix('\u{feff}').unwrap_or(raw)
            } else {
                raw
            };
            // moby tests for '#' before trimming, so an indented '#' is a pattern, not a comment.
            (!raw.starts_with('#')).then_some((index + 1, raw))
        });
        DockerIgnore::compile_lines(lines)
    }

    /// Builds a matcher from patterns the engine sends in a BuildKit session (the
    /// `.dockerignore` it read, or the paths a Dockerfile's COPY and ADD use). They reach
    /// fsutil's `patternmatcher.New` as they are, so there are no comments to skip; an
    /// invalid one is reported with its position in the list.
    pub fn from_patterns(patterns: &[String]) -> Result<DockerIgnore, DockerIgnoreError> {
        DockerIgnore::compile_lines(
            patterns
                .iter()
                .enumerate()
                .map(|(index, p)| (index + 1, p.as_str())),
        )
    }

    fn compile_lines<'a>(
        lines: impl Iterator<Item = (usize, &'a str)>,
    ) -> Result<DockerIgnore, DockerIgnoreError> {
        let mut patterns = Vec::new();
        for (line, raw) in lines {
            let trimmed = raw.trim();
            if trimmed.is_empty() {
                continue;
            }
            let err = |message: String| DockerIgnoreError { line, message };

            // ReadAll: clean the part after '!' and make absolute paths context-relative.
            let (invert, body) = match trimmed.strip_prefix('!') {
                Some(rest) => (true, rest.trim()),
                None => (false, trimmed),
            };
            let mut body = if body.is_empty() {
                String::new()
            } else {
                go_clean(body)
            };
            if body.len() > 1 && body.starts_with('/') {
                body.remove(0);
            }
            let entry = if invert { format!("!{body}") } else { body };

            // patternmatcher.New cleans the whole entry, '!' included, a second time. That
            // turns `!/` into a bare `!`, which is why it is rejected like one.
            let entry = entry.trim();
            if entry.is_empty() {
                continue;
            }
            let entry = go_clean(entry);
            let (exception, cleaned) = match entry.strip_prefix('!') {
                Some("") => {
                    return Err(err(
                        "illegal exclusion pattern: \"!\" (a `!` needs a pattern after it)".into(),
                    ))
                }
                Some(rest) => (true, rest.to_string()),
                None => (false, entry.clone()),
            };
            let (matcher, tokens) = compile(&cleaned)
                .map_err(|m| err(format!("invalid pattern {:?}: {m}", trimmed)))?;
            patterns.push(Pattern {
                cleaned,
                exception,
                matcher,
                tokens,
            });
        }
        Ok(DockerIgnore { patterns })
    }

    /// An empty matcher (no .dockerignore): excludes nothing.
    pub fn empty() -> DockerIgnore {
        DockerIgnore::default()
    }

    /// Whether `path` (relative to the context root, '/'-separated, no leading "./") is excluded.
    ///
    /// The context root itself (`""` or `"."`) is never excluded: moby refuses to exclude
    /// "everything" that way, and a walker needs the root regardless.
    pub fn excludes(&self, path: &str) -> bool {
        if path.is_empty() || path == "." {
            return false;
        }
        let mut excluded = false;
        for pattern in &self.patterns {
            // A pattern can only flip the state, so one that would leave it unchanged is
            // not evaluated (moby's loop, and a cheap way to get "last match wins").
            if pattern.exception != excluded {
                continue;
            }
            if pattern.matches_self_or_parent(path) {
                excluded = !pattern.exception;
            }
        }
        excluded
    }

    /// Whether a directory may be skipped entirely while walking (excluded, and no exception pattern could re-include something under it).
    ///
    /// moby's own shortcut only compares exception patterns textually with the directory,
    /// which wrongly skips `a/` under `a` + `!*/keep`. Here an exception blocks the skip
    /// unless it is provably unable to match below `dir`; anything with `**` or a class is
    /// assumed able to, so the walker may descend needlessly but never drops a file.
    pub fn can_skip_dir(&self, dir: &str) -> bool {
        if dir.is_empty() || dir == "." {
            return false;
        }
        let Some(last) = self
            .patterns
            .iter()
            .rposition(|p| p.matches_self_or_parent(dir))
        else {
            return false;
        };
        if self.patterns[last].exception {
            return false;
        }
        // Every pattern that matches `dir` also matches everything below it, so only an
        // exception after the decisive pattern can re-include something in there.
        !self.patterns[last + 1..]
            .iter()
            .any(|p| p.exception && p.could_match_below(dir))
    }

    /// Read as include patterns (what the engine asks for): whether nothing at or below
    /// `dir` can be included, so a walker may skip it. Conservative as `can_skip_dir`; an
    /// exception among includes keeps every directory. Without this the walk for the
    /// engine's request of the Dockerfile alone read a whole `node_modules` (1 s for
    /// 100,000 files, twice per build: the Dockerfile, then its ignore file).
    pub fn includes_nothing_in(&self, dir: &str) -> bool {
        if dir.is_empty() || dir == "." || self.patterns.iter().any(|p| p.exception) {
            return false;
        }
        !self
            .patterns
            .iter()
            .any(|p| p.matches_self_or_parent(dir) || p.could_match_below(dir))
    }

    /// The patterns after cleaning, so tests can see what a line became.
    #[cfg(test)]
    pub fn patterns(&self) -> Vec<String> {
        self.patterns
            .iter()
            .map(|p| {
                if p.exception {
                    format!("!{}", p.cleaned)
                } else {
                    p.cleaned.clone()
                }
            })
            .collect()
    }
}

impl Pattern {
    fn matches(&self, path: &str) -> bool {
        match &self.matcher {
            Matcher::Exact => path == self.cleaned,
            Matcher::Prefix(prefix) => path.starts_with(prefix.as_str()),
            Matcher::Suffix(suffix) => {
                path.ends_with(suffix.as_str())
                    || suffix.strip_prefix('/').is_some_and(|s| path == s)
            }
            Matcher::Regex(re) => re.is_match(path),
        }
    }

    /// Docker excludes a whole directory's contents when the directory matches, so every
    /// ancestor of `path` is tried as well (moby's `MatchesOrParentMatches`).
    fn matches_self_or_parent(&self, path: &str) -> bool {
        self.matches(path)
            || path
                .match_indices('/')
                .any(|(i, _)| self.matches(&path[..i]))
    }

    /// Conservative: `false` only when no path strictly below `dir` can match. Segments up
    /// to the first `**` or class are compared one by one, because `*`, `?` and literals
    /// never match a `/` and so stay aligned with the path's segments.
    fn could_match_below(&self, dir: &str) -> bool {
        let dir_segments: Vec<&str> = dir.split('/').collect();
        let segments: Vec<&[Token]> = self.tokens.split(|t| *t == Token::Lit('/')).collect();
        let last = segments.len() - 1;
        for (j, segment) in segments.iter().enumerate() {
            if segment.contains(&Token::Complex) {
                return true;
            }
            if j == last {
                // A pattern without `**` or classes matches only paths with exactly as many
                // segments as it has; being below `dir` needs more than `dir` has.
                return j >= dir_segments.len();
            }
            if j >= dir_segments.len() {
                return true;
            }
            if !glob_segment(segment, dir_segments[j]) {
                return false;
            }
        }
        true
    }
}

/// Translates a cleaned pattern the way moby's `Pattern.compile` does, choosing the same
/// match strategy it would, and checks the syntax `filepath.Match` would reject.
/// Which matcher a pattern needs, as the tokens tell it.
#[derive(PartialEq)]
enum Kind {
    Exact,
    Prefix,
    Suffix,
    Regex,
}

fn compile(pattern: &str) -> Result<(Matcher, Vec<Token>), String> {
    let chars: Vec<char> = pattern.chars().collect();
    let mut re = String::from("^");
    let mut kind = Kind::Exact;
    let mut tokens = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let start = i;
        let c = chars[i];
        i += 1;
        match c {
            '*' if chars.get(i) == Some(&'*') => {
                i += 1;
                // `**/` is treated as `**`, which is what lets `**/foo` match `foo`.
                if chars.get(i) == Some(&'/') {
                    i += 1;
                }
                if i == chars.len() {
                    if kind == Kind::Exact {
                        kind = Kind::Prefix;
                    } else {
                        re.push_str(".*");
                        kind = Kind::Regex;
                    }
                } else {
                    re.push_str("(?:.*/)?");
                    kind = Kind::Regex;
                }
                if start == 0 {
                    kind = Kind::Suffix;
                }
                tokens.push(Token::Complex);
            }
            '*' => {
                re.push_str("[^/]*");
                kind = Kind::Regex;
                tokens.push(Token::Star);
            }
            '?' => {
                re.push_str("[^/]");
                kind = Kind::Regex;
                tokens.push(Token::Quest);
            }
            '\\' => {
                let Some(&next) = chars.get(i) else {
                    return Err("trailing backslash escapes nothing".into());
                };
                i += 1;
                // moby writes `\` and the next character into its Go regex as they are:
                // before an ASCII letter or digit, or a non-ASCII character, that is a regex
                // escape (`\d` a digit, not `d`; `\x` without hex digits no regex at all,
                // which fails the build); before anything else, the character itself.
                if next.is_ascii_alphanumeric() || !next.is_ascii() {
                    re.push_str(&go_regex_escape(next));
                    tokens.push(Token::Complex);
                } else {
                    push_literal(&mut re, next);
                    tokens.push(Token::Lit(next));
                }
                kind = Kind::Regex;
            }
            '[' => {
                i = push_class(&mut re, &chars, i)?;
                kind = Kind::Regex;
                tokens.push(Token::Complex);
            }
            ']' => {
                push_literal(&mut re, c);
                kind = Kind::Regex;
                tokens.push(Token::Lit(c));
            }
            _ => {
                push_literal(&mut re, c);
                tokens.push(Token::Lit(c));
            }
        }
    }
    Ok((matcher(kind, pattern, re)?, tokens))
}

/// The matcher of `pattern`: plain comparisons where they do, the regex `re` otherwise.
fn matcher(kind: Kind, pattern: &str, mut re: String) -> Result<Matcher, String> {
    Ok(match kind {
        Kind::Exact => Matcher::Exact,
        Kind::Prefix => Matcher::Prefix(pattern[..pattern.len() - 2].to_string()),
        Kind::Suffix => Matcher::Suffix(pattern[2..].to_string()),
        Kind::Regex => {
            re.push('$');
            Matcher::Regex(Regex::new(&re).map_err(|e| e.to_string())?)
        }
    })
}

/// Go's regex escape `\c` in the regex crate's syntax. The Perl classes are ASCII-only in
/// Go and Unicode-aware here, so they are spelt out; every other escape means the same in
/// both (or is refused by both, like `\x` with no hex digits).
fn go_regex_escape(c: char) -> String {
    match c {
        'd' => "[0-9]".into(),
        'D' => "[^0-9]".into(),
        'w' => "[0-9A-Za-z_]".into(),
        'W' => "[^0-9A-Za-z_]".into(),
        's' => r"[\t\n\f\r ]".into(),
        'S' => r"[^\t\n\f\r ]".into(),
        'b' => r"(?-u:\b)".into(),
        'B' => r"(?-u:\B)".into(),
        c => format!("\\{c}"),
    }
}

fn push_literal(re: &mut String, c: char) {
    re.push_str(&regex::escape(c.encode_utf8(&mut [0; 4])));
}

/// Parses a `[...]` class with `filepath.Match`'s grammar (which is what docker validates
/// against) and appends an equivalent regex class. `chars[start]` is just after the `[`;
/// returns the index just after the closing `]`.
fn push_class(re: &mut String, chars: &[char], start: usize) -> Result<usize, String> {
    let mut i = start;
    re.push('[');
    if chars.get(i) == Some(&'^') {
        re.push('^');
        i += 1;
    }
    let mut ranges = 0;
    loop {
        if chars.get(i) == Some(&']') && ranges > 0 {
            re.push(']');
            return Ok(i + 1);
        }
        let (lo, next) = class_char(chars, i)?;
        i = next;
        let mut hi = lo;
        if chars[i] == '-' {
            let (h, next) = class_char(chars, i + 1)?;
            hi = h;
            i = next;
        }
        // filepath.Match accepts a reversed range, but moby's regexp then fails to compile
        // and the build errors, so it is rejected up front.
        if lo > hi {
            return Err(format!("character class range {lo}-{hi} is out of order"));
        }
        push_class_char(re, lo);
        if hi != lo {
            re.push('-');
            push_class_char(re, hi);
        }
        ranges += 1;
    }
}

/// One (possibly escaped) class member, as Go's `getEsc` reads it; errors where it does.
fn class_char(chars: &[char], mut i: usize) -> Result<(char, usize), String> {
    match chars.get(i) {
        None => return Err("unterminated character class `[`".into()),
        Some('-') => {
            return Err("`-` must be escaped (`\\-`) where a class member is expected".into())
        }
        Some(']') => {
            return Err("`]` must be escaped (`\\]`) where a class member is expected".into())
        }
        Some('\\') => i += 1,
        Some(_) => {}
    }
    let Some(&c) = chars.get(i) else {
        return Err("unterminated character class `[`".into());
    };
    if i + 1 >= chars.len() {
        return Err("unterminated character class `[`".into());
    }
    Ok((c, i + 1))
}

/// Escapes by code point so no class member can be read as regex class syntax
/// (`[`, `&&`, `--`, `^`, ...).
fn push_class_char(re: &mut String, c: char) {
    if c.is_alphanumeric() {
        re.push(c);
    } else {
        re.push_str(&format!("\\x{{{:X}}}", c as u32));
    }
}

/// Matches one path segment against pattern tokens free of `/`, `**` and classes.
fn glob_segment(tokens: &[Token], segment: &str) -> bool {
    let s: Vec<char> = segment.chars().collect();
    let (mut t, mut i) = (0, 0);
    let mut backtrack: Option<(usize, usize)> = None;
    while i < s.len() {
        match tokens.get(t) {
            Some(Token::Star) => {
                backtrack = Some((t, i));
                t += 1;
                continue;
            }
            Some(Token::Quest) => {
                t += 1;
                i += 1;
                continue;
            }
            Some(Token::Lit(c)) if *c == s[i] => {
                t += 1;
                i += 1;
                continue;
            }
            _ => {}
        }
        match backtrack {
            Some((star, from)) => {
                t = star + 1;
                i = from + 1;
                backtrack = Some((star, from + 1));
            }
            None => return false,
        }
    }
    tokens[t..].iter().all(|tok| *tok == Token::Star)
}

/// Go's `filepath.Clean` on Unix, because docker normalises every pattern with it: this is
/// what makes `./foo`, `foo/` and `a/../foo` all mean `foo`.
fn go_clean(path: &str) -> String {
    if path.is_empty() {
        return ".".into();
    }
    let rooted = path.starts_with('/');
    let mut out: Vec<&str> = Vec::new();
    for segment in path.split('/') {
        match segment {
            "" | "." => {}
            ".." => {
                if out.last().is_some_and(|s| *s != "..") {
                    out.pop();
                } else if !rooted {
                    out.push("..");
                }
            }
            s => out.push(s),
        }
    }
    let joined = out.join("/");
    match (rooted, joined.is_empty()) {
        (true, _) => format!("/{joined}"),
        (false, true) => ".".into(),
        (false, false) => joined,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn di(text: &str) -> DockerIgnore {
        DockerIgnore::parse(text).unwrap_or_else(|e| panic!("{text:?} should parse: {e}"))
    }

    fn err_line(text: &str) -> usize {
        match DockerIgnore::parse(text) {
            Ok(d) => panic!(
                "{text:?} should be rejected, got patterns {:?}",
                d.patterns()
            ),
            Err(e) => e.line,
        }
    }

    #[track_caller]
    fn assert_excluded(d: &DockerIgnore, yes: &[&str], no: &[&str]) {
        for path in yes {
            assert!(
                d.excludes(path),
                "{path:?} should be excluded by {:?}",
                d.patterns()
            );
        }
        for path in no {
            assert!(
                !d.excludes(path),
                "{path:?} should be kept by {:?}",
                d.patterns()
            );
        }
    }

    #[test]
    fn include_patterns_rule_out_only_folders_nothing_can_match_in() {
        let includes = |lines: &[&str]| {
            DockerIgnore::from_patterns(&lines.iter().map(|l| l.to_string()).collect::<Vec<_>>())
                .unwrap()
        };
        let dockerfile = includes(&["Dockerfile", "Dockerfile.dockerignore"]);
        assert!(dockerfile.includes_nothing_in("node_modules"));
        assert!(dockerfile.includes_nothing_in("node_modules/x"));
        let app = includes(&["src/app", "cmd/*/main.go"]);
        assert!(!app.includes_nothing_in("src"));
        assert!(!app.includes_nothing_in("src/app/deep"));
        assert!(!app.includes_nothing_in("cmd/tool"));
        assert!(app.includes_nothing_in("cmd/tool/vendor"));
        assert!(app.includes_nothing_in("docs"));
        assert!(!includes(&["**/*.go"]).includes_nothing_in("anything/at/all"));
        assert!(!includes(&["docs", "!docs/x"]).includes_nothing_in("src"));
    }

    #[test]
    fn comments_and_blank_lines_are_ignored() {
        let d = di("# a comment\n\n   \n\t\nfoo\n#bar\n");
        assert_eq!(d.patterns(), vec!["foo"]);
        assert_excluded(&d, &["foo"], &["bar", "# a comment", "#bar"]);
    }

    #[test]
    fn hash_is_a_comment_only_in_column_one() {
        // moby checks for '#' before trimming the line.
        let d = di("  #notacomment\n");
        assert_eq!(d.patterns(), vec!["#notacomment"]);
        assert_excluded(&d, &["#notacomment"], &["notacomment"]);
    }

    #[test]
    fn escaped_hash_is_a_pattern() {
        let d = di("\\#file\n");
        assert_excluded(&d, &["#file"], &["file", "\\#file"]);
    }

    #[test]
    fn bom_and_crlf_are_tolerated() {
        let d = di("\u{feff}foo\r\nbar\r\n");
        assert_eq!(d.patterns(), vec!["foo", "bar"]);
        assert_excluded(&d, &["foo", "bar"], &["\u{feff}foo"]);
    }

    #[test]
    fn empty_matcher_excludes_nothing() {
        let d = DockerIgnore::empty();
        assert!(d.patterns().is_empty());
        assert_excluded(&d, &[], &["a", "a/b", ".git", "Dockerfile"]);
        assert!(!d.can_skip_dir("a"));
        let blank = di("\n# only comments\n");
        assert!(blank.patterns().is_empty());
        assert!(!blank.excludes("anything"));
    }

    #[test]
    fn leading_slash_and_dot_segments_are_cleaned() {
        let d = di("/foo\n./bar\nbaz/\na//b/./c/../d\n  spaced  \n/x/../../y\n");
        assert_eq!(
            d.patterns(),
            vec!["foo", "bar", "baz", "a/b/d", "spaced", "y"]
        );
        assert_excluded(
            &d,
            &["foo", "bar", "baz", "a/b/d", "spaced", "y"],
            &["a/b/c", "x/y", "/foo"],
        );
    }

    #[test]
    fn exception_patterns_are_cleaned_after_the_bang() {
        let d = di("*\n!  ./keep/\n! /other\n");
        assert_eq!(d.patterns(), vec!["*", "!keep", "!other"]);
        assert_excluded(&d, &["a", "b/c"], &["keep", "keep/x", "other"]);
    }

    #[test]
    fn trailing_slash_pattern_matches_the_directory_and_its_contents() {
        let d = di("build/\n");
        assert_excluded(
            &d,
            &["build", "build/out.o", "build/x/y"],
            &["builder", "src/build", "build.rs"],
        );
    }

    #[test]
    fn parent_directory_match_excludes_contents() {
        let d = di("node_modules\nsecrets\na/b\n");
        assert_excluded(
            &d,
            &[
                "node_modules",
                "node_modules/a/b.js",
                "secrets/key",
                "a/b",
                "a/b/c",
                "a/b/c/d",
            ],
            &["a", "a/bc", "x/a/b", "src/node_modules", "secretsx"],
        );
    }

    #[test]
    fn star_does_not_cross_a_slash() {
        let d = di("*/b\na*z\n");
        assert_excluded(
            &d,
            &["a/b", "x/b/c", "az", "abcz"],
            &["a/c/b", "b", "a/z", "a/x/z"],
        );
        let all = di("*\n");
        // `*` matches every top-level name, and so everything via the parent rule.
        assert_excluded(&all, &["a", ".hidden", "a/b/c"], &[]);
    }

    #[test]
    fn slashless_glob_only_matches_at_the_root() {
        let d = di("*.md\n");
        assert_excluded(
            &d,
            &["README.md", ".md"],
            &["docs/x.md", "a/b/README.md", "README.mdx"],
        );
    }

    #[test]
    fn double_star_matches_any_depth() {
        let d = di("**/*.md\n");
        assert_excluded(
            &d,
            &["README.md", "docs/x.md", "a/b/c.md"],
            &["README.txt", "docs/md"],
        );
        let named = di("**/foo\n");
        assert_excluded(
            &named,
            &["foo", "a/foo", "a/b/foo", "a/foo/bar"],
            &["afoo", "foox", "a/xfoo"],
        );
    }

    #[test]
    fn double_star_without_slash_is_a_plain_suffix_as_in_moby() {
        // moby's fast path: `**file` is a suffix test, so it also matches `afile`.
        let d = di("**file\n**.log\n");
        assert_excluded(
            &d,
            &["file", "dir/file", "dir/afile", "x.log", "a/b/c.log"],
            &["file.txt", "log"],
        );
    }

    #[test]
    fn trailing_double_star_matches_only_what_is_inside() {
        let d = di("foo/**\n");
        assert_excluded(
            &d,
            &["foo/a", "foo/a/b", "foo/.x"],
            &["foo", "foobar", "foobar/a", "x/foo/a"],
        );
        let mid = di("a/**/z\n");
        assert_excluded(
            &mid,
            &["a/z", "a/b/z", "a/b/c/z", "a/z/w"],
            &["z", "a/bz", "b/a/z"],
        );
    }

    #[test]
    fn question_mark_matches_one_non_slash_character() {
        let d = di("file?.txt\n");
        assert_excluded(
            &d,
            &["file1.txt", "fileé.txt"],
            &["file.txt", "file10.txt", "file/.txt", "d/file1.txt"],
        );
    }

    #[test]
    fn character_classes() {
        let d = di("[abc].txt\nlog[0-9]\nx[^a-c]y\n[\\]]\n[\\-x]z\n");
        assert_excluded(
            &d,
            &[
                "a.txt", "c.txt", "log0", "log9", "xdy", "x☺y", "]", "-z", "xz",
            ],
            &[
                "d.txt", "ab.txt", "loga", "log10", "xay", "xcy", "xy", "az", "[\\-x]z",
            ],
        );
        // As in moby (and filepath.Match), a negated class can match the separator.
        assert!(di("a[^x]b\n").excludes("a/b"));
        assert!(di("[a-ζ]*\n").excludes("α"));
    }

    #[test]
    fn regex_metacharacters_are_literal() {
        let d = di("abc.def\na.|)$(}+{bc\na^b\n");
        assert_excluded(
            &d,
            &["abc.def", "a.|)$(}+{bc", "a^b"],
            &["abcdef", "abcZdef", "ab"],
        );
        let wheel = di("dist/*.whl\n");
        assert!(wheel.excludes("dist/proxy.py-2.4.0rc3.dev36+g08acad9-py3-none-any.whl"));
    }

    #[test]
    fn backslash_escapes_the_next_character() {
        let d = di("\\*.txt\n\\[x\\]\na\\?b\n");
        assert_excluded(&d, &["*.txt", "[x]", "a?b"], &["a.txt", "x", "axb"]);
        assert!(di("a\\\\\n").excludes("a\\"));
    }

    /// Before a letter or digit, moby's backslash is a Go regex escape, as a build on the
    /// engine shows (tests/dockerignore_engine.rs): `q\d` leaves out `q1` and sends `qd`.
    #[test]
    fn backslash_before_a_letter_is_a_regex_escape() {
        let d = di("q\\d\nw\\w\nt\\x41b\ns\\sp\n");
        assert_excluded(
            &d,
            &["q1", "wa", "w_", "tAb", "s p"],
            &["qd", "q٣", "w-", "wé", "tx41b", "ssp", "s\u{a0}p"],
        );
        let error = DockerIgnore::parse("keep\n**\\x\n").unwrap_err();
        assert_eq!(error.line, 2, "{}", error.message);
    }

    #[test]
    fn exception_re_includes() {
        let d = di("*.log\n!keep.log\n");
        assert_excluded(&d, &["app.log", "x.log"], &["keep.log", "sub/app.log"]);
        let folder = di("docs\n!docs/README.md\n");
        assert_excluded(
            &folder,
            &["docs", "docs/other.md", "docs/a/b"],
            &["docs/README.md"],
        );
        let star = di("docs/*\n!docs/README.md\n");
        assert_excluded(&star, &["docs/other.md"], &["docs/README.md", "docs"]);
    }

    #[test]
    fn last_match_wins() {
        let d = di("!a\na\n");
        assert!(d.excludes("a"));
        let d = di("a\n!a\n");
        assert!(!d.excludes("a"));
        assert!(!d.excludes("a/b"));
        let d = di("a\n!a\na\n");
        assert!(d.excludes("a/b"));
        let d = di("!fileutils.go\n*.go\n");
        assert!(d.excludes("fileutils.go"));
        let d = di("**\n!util/docker/web\n");
        assert_excluded(
            &d,
            &["util", "util/docker", "x"],
            &["util/docker/web", "util/docker/web/foo"],
        );
        let d = di("**\n!util/docker/web\nutil/docker/web/foo\n");
        assert_excluded(&d, &["util/docker/web/foo"], &["util/docker/web/bar"]);
    }

    #[test]
    fn the_context_root_is_never_excluded() {
        for text in ["*\n", "**\n", ".\n", "/\n"] {
            let d = di(text);
            assert!(!d.excludes(""), "{text:?}");
            assert!(!d.excludes("."), "{text:?}");
            assert!(!d.can_skip_dir(""), "{text:?}");
        }
        // `/` and `.` survive cleaning as themselves and match no relative path.
        assert_excluded(&di("/\n.\n"), &[], &["a", "a/b"]);
    }

    #[test]
    fn bare_bang_is_an_error_with_its_line() {
        assert_eq!(err_line("foo\n\n!\n"), 3);
        assert_eq!(err_line("# c\n!   \n"), 2);
        // Cleans to a bare `!` in moby's second pass.
        assert_eq!(err_line("a\nb\nc\n!/\n"), 4);
        let e = DockerIgnore::parse("!").unwrap_err();
        assert_eq!(e.line, 1);
        assert!(e.to_string().starts_with("line 1: "), "{e}");
        assert!(e.message.contains('!'), "{e}");
    }

    #[test]
    fn unterminated_class_is_an_error_with_its_line() {
        assert_eq!(err_line("ok\n# c\nfoo[\n"), 3);
        let e = DockerIgnore::parse("a\n[abc\n").unwrap_err();
        assert_eq!(e.line, 2);
        assert!(e.message.contains("unterminated"), "{e}");
        assert!(e.message.contains("[abc"), "{e}");
        for bad in ["[", "[^", "[^bc", "a[", "[a-", "[\\"] {
            assert_eq!(err_line(bad), 1, "{bad:?}");
        }
    }

    #[test]
    fn other_malformed_patterns_are_errors() {
        for bad in [
            "[]a]", "[-]", "[x-]", "[-x]", "[a-b-c]", "x\\", "[z-a]", "!ok[", "[^]",
        ] {
            assert_eq!(err_line(&format!("fine\n{bad}\n")), 2, "{bad:?}");
        }
    }

    #[test]
    fn can_skip_dir_without_exceptions() {
        let d = di("node_modules\n*.log\nbuild/**\n");
        assert!(d.can_skip_dir("node_modules"));
        assert!(d.can_skip_dir("node_modules/sub"));
        assert!(d.can_skip_dir("build/out"));
        assert!(d.can_skip_dir("dir.log"));
        assert!(!d.can_skip_dir("src"), "not excluded, must be walked");
        assert!(
            !d.can_skip_dir("build"),
            "build/** keeps the directory itself"
        );
    }

    #[test]
    fn can_skip_dir_with_exceptions() {
        let d = di("docs\n!docs/README.md\n");
        assert!(!d.can_skip_dir("docs"));
        let d = di("vendor\ndocs\n!docs/README.md\n");
        assert!(
            d.can_skip_dir("vendor"),
            "the exception cannot reach below vendor"
        );
        assert!(!d.can_skip_dir("docs"));
        // moby's textual shortcut would skip `a` here and lose a/keep.
        let d = di("a\n!*/keep\n");
        assert!(!d.can_skip_dir("a"));
        assert!(!d.excludes("a/keep"));
        let d = di("a\n!**/keep\n");
        assert!(!d.can_skip_dir("a"));
        let d = di("a\nb\n!b/*/keep\n");
        assert!(d.can_skip_dir("a"));
        assert!(!d.can_skip_dir("b"));
        // An exception that is overridden by a later exclusion of the directory is harmless.
        let d = di("!a/keep\na\n");
        assert!(d.can_skip_dir("a"));
        assert!(d.excludes("a/keep"));
        let d = di("build\n!build/**\n");
        assert!(!d.can_skip_dir("build"));
        let d = di("a\n!a/b\n");
        assert!(!d.can_skip_dir("a"));
        assert!(d.can_skip_dir("a/c"));
        assert!(!d.can_skip_dir("a/b"), "re-included");
        let d = di("a\n!a\n");
        assert!(!d.can_skip_dir("a"));
    }

    /// Whatever `can_skip_dir` says yes to, every path below must really be excluded;
    /// otherwise skipping would silently drop files from the context.
    #[test]
    fn can_skip_dir_never_hides_included_files() {
        let files = [
            "a/keep",
            "a/b/keep",
            "a/b/c",
            "a/x.md",
            "b/keep",
            "b/c/keep",
            "b/c/d/keep",
            "docs/README.md",
            "docs/a/README.md",
            "node_modules/p/index.js",
            "src/main.rs",
            "x/y/z.log",
            "keep",
            "a/keep.log",
        ];
        let sets = [
            "a\n!*/keep\n",
            "a\n!**/keep\n",
            "*\n!b/*/keep\n",
            "**\n!docs/README.md\n",
            "a\nb\n!b/c\nb/c/d\n",
            "*\n!**/*.md\n",
            "node_modules\n!node_modules/p/*.js\n",
            "x\n!x/y\nx/y/*.log\n",
            "*/*\n!a/?eep*\n",
            "a\n!a/[k]eep\n",
            "a/**\n!a/b/keep\n",
        ];
        for text in sets {
            let d = di(text);
            for file in files {
                let parts: Vec<&str> = file.split('/').collect();
                for depth in 1..parts.len() {
                    let dir = parts[..depth].join("/");
                    if d.can_skip_dir(&dir) {
                        assert!(
                            d.excludes(file),
                            "{text:?}: skipping {dir:?} would drop {file:?}"
                        );
                    }
                }
            }
        }
    }

    /// Single-pattern cases from moby's patternmatcher tests, judged with the
    /// parent-directory rule as `MatchesOrParentMatches` does.
    #[test]
    fn moby_match_table() {
        let cases: &[(&str, &str, bool)] = &[
            ("**", "file", true),
            ("**", "file/", true),
            ("**/", "file", true),
            ("**", "dir/file", true),
            ("**/**", "dir/file", true),
            ("dir/**", "dir/file", true),
            ("dir/**", "dir/dir2/file", true),
            ("**/dir", "dir", true),
            ("**/dir", "dir/file", true),
            ("**/dir2/*", "dir/dir2/file", true),
            ("**/dir2/*", "dir/dir2/file/", true),
            ("**/dir2/**", "dir/dir2/dir3/file", true),
            ("**file", "file", true),
            ("**file", "dir/file", true),
            ("**/file", "dir/dir/file", true),
            ("**/file*", "dir/dir/file.txt", true),
            ("**/file*txt", "dir/dir/file.txt", true),
            ("**/file*.txt*", "dir/dir/file.txt", true),
            ("**/**/*.txt", "dir/dir/file.txt", true),
            ("**/**/*.txt2", "dir/dir/file.txt", false),
            ("**/*.txt", "file.txt", true),
            ("**/**/*.txt", "file.txt", true),
            ("a**/*.txt", "a/file.txt", true),
            ("a**/*.txt", "a/dir/file.txt", true),
            ("a**/*.txt", "a/dir/dir/file.txt", true),
            ("a/*.txt", "a/dir/file.txt", false),
            ("a/*.txt", "a/file.txt", true),
            ("a/*.txt**", "a/file.txt", true),
            ("a[b-d]e", "ae", false),
            ("a[b-d]e", "ace", true),
            ("a[b-d]e", "aae", false),
            ("a[^b-d]e", "aze", true),
            (".*", ".foo", true),
            (".*", "foo", false),
            ("abc?def", "abcZdef", true),
            ("abc?def", "abcdef", false),
            ("**/foo/bar", "foo/bar", true),
            ("**/foo/bar", "dir/dir2/foo/bar", true),
            ("abc/**", "abc", false),
            ("abc/**", "abc/def/ghi", true),
            ("**/.foo", ".foo", true),
            ("**/.foo", "bar.foo", false),
            ("a(b)c/def", "a(b)c/def", true),
            ("a(b)c/def", "a(b)c/xyz", false),
            ("a\\*b", "a*b", true),
            ("a\\*b", "ab", false),
            ("*c", "abc", true),
            ("a*", "ab/c", true),
            ("a*/b", "abc/b", true),
            ("a*/b", "a/c/b", false),
            ("a*b*c*d*e*/f", "axbxcxdxexxx/f", true),
            ("a*b*c*d*e*/f", "axbxcxdxe/xxx/f", false),
            ("a*b?c*x", "abxbbxdbxebxczzx", true),
            ("a*b?c*x", "abxbbxdbxebxczzy", false),
            ("a?b", "a☺b", true),
            ("a???b", "a☺b", false),
            ("a[^a][^a][^a]b", "a☺b", false),
            ("*[a-ζ]", "A", false),
            ("a?b", "a/b", false),
            ("a*b", "a/b", false),
            ("[x\\-]", "-", true),
            ("[x\\-]", "z", false),
            ("*x", "xxx", true),
        ];
        for (pattern, path, want) in cases {
            let d = di(pattern);
            assert_eq!(d.excludes(path), *want, "pattern {pattern:?} path {path:?}");
        }
    }

    #[test]
    fn go_clean_matches_go() {
        for (input, want) in [
            ("", "."),
            ("a/b", "a/b"),
            ("a//b", "a/b"),
            ("./a/./b/", "a/b"),
            ("a/../..", ".."),
            ("../../a/..", "../.."),
            ("/../a", "/a"),
            ("/", "/"),
            ("//", "/"),
            ("!..", "!.."),
            ("!../..", "."),
        ] {
            assert_eq!(go_clean(input), want, "{input:?}");
        }
    }
}
