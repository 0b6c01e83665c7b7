//! The cache mounts of a Dockerfile's `RUN` steps (`--mount=type=cache,…`), and the two
//! rewrites the cache goals' probes build with: every cache mount given an id of the probe's
//! own, and a Dockerfile that does nothing but create those mounts, empty.
//!
//! Why: a cache mount is shared by every build on the engine that names the same id (by
//! default its target), so what a probe's build finds there is whatever other builds left.
//! A build that cannot fetch its dependencies at all (`GOPROXY=off`) still succeeds on a
//! mount other builds filled. With ids of its own, a probe's builds start from empty mounts
//! and see only what they wrote themselves.

use parse_dockerfile::Instruction;

/// One `--mount=` value of a `RUN`, as BuildKit reads it: comma-separated fields read as one
/// CSV record (a field may be quoted), each `key=value` or a bare `key` (`ro`); keys are
/// case-insensitive, and a mount without `type` binds.
#[derive(Debug, Clone, PartialEq)]
pub struct Mount {
    /// (lower-cased key, value), in the order written.
    fields: Vec<(String, Option<String>)>,
}

impl Mount {
    pub fn parse(value: &str) -> Mount {
        let fields = csv_fields(value)
            .into_iter()
            .filter(|f| !f.trim().is_empty())
            .map(|field| match field.split_once('=') {
                Some((k, v)) => (k.trim().to_ascii_lowercase(), Some(v.to_string())),
                None => (field.trim().to_ascii_lowercase(), None),
            })
            .collect();
        Mount { fields }
    }

    fn get(&self, keys: &[&str]) -> Option<&str> {
        self.fields
            .iter()
            .find(|(k, _)| keys.contains(&k.as_str()))
            .and_then(|(_, v)| v.as_deref())
    }

    pub fn is_cache(&self) -> bool {
        self.get(&["type"])
            .is_some_and(|t| t.trim().eq_ignore_ascii_case("cache"))
    }

    /// Where the step sees the mount.
    pub fn target(&self) -> Option<&str> {
        self.get(&["target", "dst", "destination"])
    }

    /// The cache's id: the one given, else the target (BuildKit's default).
    pub fn cache_id(&self) -> Option<&str> {
        self.get(&["id"]).or_else(|| self.target())
    }

    /// A cache mount whose content starts from a stage or image (`from=`): its cache is
    /// keyed by that source too, so a seed without it would make another cache.
    fn starts_from_a_source(&self) -> bool {
        self.get(&["from"]).is_some()
    }

    /// The fields but those named, written back as BuildKit reads them.
    fn written_without(&self, left_out: &[&str]) -> Vec<String> {
        self.fields
            .iter()
            .filter(|(k, _)| !left_out.contains(&k.as_str()))
            .map(|(k, v)| {
                quoted(&match v {
                    Some(v) => format!("{k}={v}"),
                    None => k.clone(),
                })
            })
            .collect()
    }

    /// The mount with its cache given the id `<prefix><its id>`.
    fn with_id_prefix(&self, prefix: &str) -> Option<String> {
        let id = self.cache_id()?;
        let mut fields = self.written_without(&["id"]);
        fields.push(quoted(&format!("id={prefix}{id}")));
        Some(fields.join(","))
    }
}

/// The fields of one CSV record, as Go's `encoding/csv` reads the `--mount` value: a field
/// that starts with `"` runs to the closing quote (`""` is a quote in it).
fn csv_fields(value: &str) -> Vec<String> {
    let mut fields = Vec::new();
    let mut chars = value.chars().peekable();
    loop {
        let mut field = String::new();
        if chars.peek() == Some(&'"') {
            chars.next();
            while let Some(c) = chars.next() {
                match c {
                    '"' if chars.peek() == Some(&'"') => {
                        chars.next();
                        field.push('"');
                    }
                    '"' => break,
                    c => field.push(c),
                }
            }
            // Anything between the closing quote and the comma belongs to the field too.
            while let Some(c) = chars.next_if(|c| *c != ',') {
                field.push(c);
            }
        } else {
            while let Some(c) = chars.next_if(|c| *c != ',') {
                field.push(c);
            }
        }
        fields.push(field);
        if chars.next().is_none() {
            return fields;
        }
    }
}

/// A field as CSV needs it written: quoted when it holds a comma or a quote.
fn quoted(field: &str) -> String {
    if field.contains([',', '"']) {
        format!("\"{}\"", field.replace('"', "\"\""))
    } else {
        field.to_string()
    }
}

/// Every `--mount` of every `RUN` (ONBUILD triggers left out: they run in another build):
/// where its value is in the text (byte offsets into `text`), and the mount.
fn run_mounts(parsed: &parse_dockerfile::Dockerfile<'_>) -> Vec<(std::ops::Range<usize>, Mount)> {
    parsed
        .instructions
        .iter()
        .filter_map(|instruction| match instruction {
            Instruction::Run(run) => Some(run),
            _ => None,
        })
        .flat_map(|run| run.options.iter())
        .filter(|flag| flag.name.value == "mount")
        .filter_map(|flag| flag.value.as_ref())
        .map(|value| (value.span.clone(), Mount::parse(&value.value)))
        .collect()
}

/// The text without a leading byte-order mark (which the parser drops, and its offsets
/// count from after), and the mark to put back.
fn split_bom(text: &str) -> (&str, &str) {
    match text.strip_prefix('\u{feff}') {
        Some(rest) => ("\u{feff}", rest),
        None => ("", text),
    }
}

/// `text` with every cache mount's id `<prefix><its id>`: mounts that shared a cache (the
/// same id, or no id and the same target) still share one, and no other build's. A text
/// that does not parse is returned as it is (the build then reports why).
pub fn with_own_cache_ids(text: &str, prefix: &str) -> String {
    let (bom, body) = split_bom(text);
    let Ok(parsed) = parse_dockerfile::parse(text) else {
        return text.to_string();
    };
    let mut rewritten = body.to_string();
    // From the end, so that the offsets of the mounts before each one still hold.
    let mut mounts = run_mounts(&parsed);
    mounts.sort_by_key(|(span, _)| std::cmp::Reverse(span.start));
    for (span, mount) in mounts {
        if let (true, Some(value)) = (mount.is_cache(), mount.with_id_prefix(prefix)) {
            rewritten.replace_range(span, &value);
        }
    }
    format!("{bom}{rewritten}")
}

/// The folder a seed mounts its n-th cache at: a seed's targets must differ, and the target
/// is not part of a cache's identity (its id is).
const SEED_TARGET: &str = "/workbook-cache-";

/// A Dockerfile that creates, empty, every cache `with_own_cache_ids(text, prefix)` gives
/// the Dockerfile (each once, with the uid, gid, mode and sharing of its first mount, which
/// a cache takes when it is made), and whose one step then runs a program that no image
/// has, named `/<prefix>`: the build fails by design, after making the mounts. The engine
/// names a cache mount after the step that made it, so this name is how the probe finds
/// its caches on engines that do not name a cache by its id (Docker 20.10). None: no cache
/// mount to create (a cache mount with `from=` is made by the build itself: its cache is
/// keyed by that source too).
pub fn cache_mount_seed(text: &str, prefix: &str) -> Option<String> {
    let parsed = parse_dockerfile::parse(text).ok()?;
    let mut ids: Vec<String> = Vec::new();
    let mut flags = Vec::new();
    for (_, mount) in run_mounts(&parsed) {
        let Some(id) = mount.cache_id() else { continue };
        if !mount.is_cache() || mount.starts_from_a_source() || ids.iter().any(|i| i == id) {
            continue;
        }
        let mut fields = vec!["type=cache".to_string()];
        fields.extend(mount.written_without(&[
            "type",
            "id",
            "target",
            "dst",
            "destination",
            "source",
            "src",
        ]));
        fields.push(quoted(&format!("id={prefix}{id}")));
        fields.push(format!("target={SEED_TARGET}{}", ids.len()));
        flags.push(format!("--mount={}", fields.join(",")));
        ids.push(id.to_string());
    }
    if flags.is_empty() {
        return None;
    }
    Some(format!(
        "FROM scratch\nRUN {} [\"/{prefix}\"]\n",
        flags.join(" \\\n    ")
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_mount_value_is_read_as_buildkit_reads_it() {
        let m = Mount::parse("type=cache,Target=/root/go/pkg/mod,sharing=locked,ro");
        assert!(m.is_cache());
        assert_eq!(m.target(), Some("/root/go/pkg/mod"));
        assert_eq!(
            m.cache_id(),
            Some("/root/go/pkg/mod"),
            "the id defaults to the target"
        );
        let m = Mount::parse("type=CACHE,id=mods,dst=/m");
        assert_eq!((m.cache_id(), m.target()), (Some("mods"), Some("/m")));
        assert!(
            !Mount::parse("source=goproxy,target=/goproxy").is_cache(),
            "bind by default"
        );
        assert!(!Mount::parse("type=bind,from=cache,target=/c").is_cache());
        // A quoted field may hold a comma.
        let m = Mount::parse("type=cache,\"target=/a,b\",id=x");
        assert_eq!(m.target(), Some("/a,b"));
        assert_eq!(csv_fields("\"a\"\"b\",c"), vec!["a\"b", "c"]);
    }

    #[test]
    fn every_cache_mount_gets_an_id_of_the_probe_and_keeps_who_shares_it() {
        let text = "FROM debian AS build\n\
RUN --mount=type=cache,target=/root/go/pkg/mod go mod download\n\
RUN --mount=type=bind,source=goproxy,target=/goproxy \\\n    --mount=type=cache,id=gomod,target=/root/go/pkg/mod,uid=0 \\\n    --mount=type=cache,target=/root/go/pkg/mod \\\n    go build\n\
RUN --mount=type=secret,id=key cat /run/secrets/key\n\
ONBUILD RUN --mount=type=cache,target=/x make\n";
        let rewritten = with_own_cache_ids(text, "p-");
        assert_eq!(
            rewritten,
            "FROM debian AS build\n\
RUN --mount=type=cache,target=/root/go/pkg/mod,id=p-/root/go/pkg/mod go mod download\n\
RUN --mount=type=bind,source=goproxy,target=/goproxy \\\n    --mount=type=cache,target=/root/go/pkg/mod,uid=0,id=p-gomod \\\n    --mount=type=cache,target=/root/go/pkg/mod,id=p-/root/go/pkg/mod \\\n    go build\n\
RUN --mount=type=secret,id=key cat /run/secrets/key\n\
ONBUILD RUN --mount=type=cache,target=/x make\n",
            "binds, secrets and ONBUILD triggers stay as they are"
        );
        // Lines are kept, so the build's steps still point at the learner's lines.
        assert_eq!(rewritten.lines().count(), text.lines().count());
        // A leading byte-order mark stays where it was.
        let with_bom = format!("\u{feff}{text}");
        assert_eq!(
            with_own_cache_ids(&with_bom, "p-"),
            format!("\u{feff}{rewritten}")
        );
        assert_eq!(
            with_own_cache_ids("FROM debian\nRUN make\n", "p-"),
            "FROM debian\nRUN make\n"
        );
    }

    #[test]
    fn a_seed_makes_each_cache_once_with_its_owner_and_mode() {
        let text = "FROM debian\n\
RUN --mount=type=cache,target=/root/go/pkg/mod,uid=1000,mode=0700 go mod download\n\
RUN --mount=type=cache,target=/root/go/pkg/mod --mount=type=cache,id=build,target=/root/.cache/go-build,sharing=locked go build\n\
RUN --mount=type=cache,from=deps,source=/mods,target=/m true\n";
        assert_eq!(
            cache_mount_seed(text, "workbook-probe-s-1-").unwrap(),
            "FROM scratch\n\
RUN --mount=type=cache,uid=1000,mode=0700,id=workbook-probe-s-1-/root/go/pkg/mod,target=/workbook-cache-0 \\\n    \
--mount=type=cache,sharing=locked,id=workbook-probe-s-1-build,target=/workbook-cache-1 \
[\"/workbook-probe-s-1-\"]\n"
        );
        assert_eq!(cache_mount_seed("FROM debian\nRUN make\n", "p-"), None);
    }
}
