//! A Dockerfile as a stage graph: which stages there are, what each is built from, which
//! stages and external images feed which. Parsing is parse-dockerfile's (escape directive,
//! heredocs, ONBUILD); this module resolves references the way BuildKit does.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use parse_dockerfile::{Instruction, UnescapedString};
use serde::{Deserialize, Serialize};

use crate::error::CheckerError;

pub mod cache_mounts;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", content = "value", rename_all = "snake_case")]
pub enum Base {
    /// `FROM scratch`: an empty filesystem.
    Scratch,
    /// An image from the engine or a registry, after build-argument expansion.
    Image(String),
    /// An earlier stage, by index.
    Stage(usize),
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Stage {
    pub index: usize,
    /// The lower-cased `AS` name, as BuildKit compares names case-insensitively.
    pub name: Option<String>,
    pub base: Base,
    /// The FROM image as written, before expansion (for messages).
    pub base_written: String,
    /// 1-based line of the FROM instruction.
    pub line: usize,
    /// The last USER in this stage and its line, if any.
    pub user: Option<(String, usize)>,
    /// The instructions after FROM, in order: keyword, 1-based line.
    pub steps: Vec<Step>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Step {
    pub keyword: String,
    pub line: usize,
    /// An `ADD` of a URL or a git repository: content the build fetches, not the context's.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub fetches: bool,
    /// The instruction as written, comment lines left out (for the ARGs it uses).
    #[serde(skip)]
    pub text: String,
    /// A `RUN`'s command as the image's history records it after `/bin/sh -c ` (shell
    /// form: its lines joined where they continue) or as its arguments joined with spaces
    /// (exec form): what tells which step made a layer.
    #[serde(skip)]
    pub command: Option<String>,
    /// The targets of a `RUN`'s cache mounts (`--mount=type=cache,target=…`).
    #[serde(skip)]
    pub cache_mounts: Vec<String>,
}

pub use crate::facts::UndeclaredArg;

impl Stage {
    /// How BuildKit names this stage in its progress (`[builder 2/3] RUN …`).
    pub fn label(&self) -> String {
        match &self.name {
            Some(n) => n.clone(),
            None => format!("stage-{}", self.index),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum EdgeKind {
    From,
    CopyFrom,
    MountFrom,
}

impl EdgeKind {
    pub fn label(self) -> &'static str {
        match self {
            EdgeKind::From => "FROM",
            EdgeKind::CopyFrom => "COPY --from",
            EdgeKind::MountFrom => "RUN --mount from",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", content = "value", rename_all = "snake_case")]
pub enum Source {
    Stage(usize),
    Image(String),
    Scratch,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Edge {
    pub from: Source,
    pub to: usize,
    pub kind: EdgeKind,
    pub line: usize,
    /// What a `COPY --from` copies, its flags left out: `/app/dist/ dist/`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub copies: Option<String>,
    /// The bytes a `COPY --from` into the image's stage brought into the image (the size of
    /// the layer it made), once the image is measured.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bytes: Option<u64>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct StageGraph {
    pub stages: Vec<Stage>,
    pub edges: Vec<Edge>,
    /// ARGs declared before the first FROM, with their defaults.
    pub global_args: Vec<(String, Option<String>)>,
    /// The stage that becomes the image: the last one, or the `--target`.
    pub target: usize,
}

/// The most a Dockerfile may weigh. The largest real ones are a few hundred lines; a bound
/// keeps `checker graph /dev/zero` (or a runaway generated file) from eating the memory.
pub const MAX_DOCKERFILE_BYTES: u64 = 1024 * 1024;

/// The most instructions a Dockerfile may have. The exercises' have a few dozen. The bound
/// is for what the engine does with more: BuildKit's Dockerfile frontend takes time that
/// grows faster than the count, and goes on after its client has given up — a 100,000-line
/// one kept Docker 28.5's frontend on a whole core for more than 8 minutes after a grading
/// timeout had dropped its check, slowing every build after it.
pub const MAX_INSTRUCTIONS: usize = 1000;

/// Reads the Dockerfile `file` of the exercise folder `folder`, at most
/// [`MAX_DOCKERFILE_BYTES`] of it, as `learner_file` opens what a learner hands in: a link
/// out of the folder, a FIFO, a device or a larger file is refused, naming the file; a
/// missing one is an error too.
pub fn read_dockerfile(folder: &Path, file: &Path) -> Result<String, CheckerError> {
    match crate::learner_file::read_inside(folder, file, MAX_DOCKERFILE_BYTES)? {
        Some(bytes) => crate::learner_file::text(file, bytes),
        None => Err(CheckerError::io(
            file,
            std::io::Error::from(std::io::ErrorKind::NotFound),
        )),
    }
}

/// A Dockerfile named on the command line (`checker graph FILE`), or `-` for standard input:
/// the user's own choice, so not confined to a folder, but still a regular file of at most
/// [`MAX_DOCKERFILE_BYTES`] (a FIFO would block `open()` with Ctrl-C ignored).
pub fn read_named_dockerfile(file: &Path) -> Result<String, CheckerError> {
    use std::io::Read;
    let bytes = if file == Path::new("-") {
        let mut bytes = Vec::new();
        std::io::stdin()
            .take(MAX_DOCKERFILE_BYTES + 1)
            .read_to_end(&mut bytes)
            .map_err(|e| CheckerError::io(file, e))?;
        if bytes.len() as u64 > MAX_DOCKERFILE_BYTES {
            return Err(CheckerError::Refused {
                file: file.to_path_buf(),
                reason: "larger than 1 MiB, the most a Dockerfile may be".into(),
            });
        }
        bytes
    } else {
        crate::learner_file::read_regular(file, MAX_DOCKERFILE_BYTES)?.ok_or_else(|| {
            CheckerError::io(file, std::io::Error::from(std::io::ErrorKind::NotFound))
        })?
    };
    crate::learner_file::text(file, bytes)
}

/// A parser's message, which quotes the word it stumbled on, cut to one short line: a
/// grader's scoreboard publishes it, and the word may be a whole file with no blank in it.
fn quoted_briefly(message: &str) -> String {
    const MOST: usize = 160;
    let line = message.lines().next().unwrap_or_default();
    match line.char_indices().nth(MOST) {
        Some((cut, _)) => format!("{}…", &line[..cut]),
        None => line.to_string(),
    }
}

/// Byte offsets to 1-based lines in O(log n): the start of every line is found once, so
/// naming the line of each of n instructions costs n·log n, not n² as recounting did.
struct LineIndex {
    starts: Vec<usize>,
}

impl LineIndex {
    fn new(text: &str) -> LineIndex {
        let starts = std::iter::once(0)
            .chain(text.match_indices('\n').map(|(i, _)| i + 1))
            .collect();
        LineIndex { starts }
    }

    fn line_of(&self, offset: usize) -> usize {
        // The number of line starts at or before `offset` is its line.
        self.starts.partition_point(|&start| start <= offset)
    }
}

/// Parses `text` (read from `file`, named in errors) into a stage graph. `build_args`
/// override ARG defaults when FROM lines are expanded; `target` selects the final stage.
pub fn parse_stage_graph(
    file: &Path,
    text: &str,
    build_args: &BTreeMap<String, String>,
    target: Option<&str>,
) -> Result<StageGraph, CheckerError> {
    let parsed = parse_dockerfile::parse(text).map_err(|e| CheckerError::DockerfileSyntax {
        file: file.to_path_buf(),
        line: e.line().max(1),
        column: e.column(),
        message: quoted_briefly(&format!("{e:#}")),
    })?;
    let at = Located::new(file, text, &parsed);
    at.within_bound()?;
    let (args, global_args) = global_args_of(&parsed, build_args);
    let mut stages: Vec<Stage> = Vec::new();
    let mut edges = Vec::new();
    for (index, stage) in parsed.stages().enumerate() {
        let from = stage.from;
        let written = from.image.value.to_string();
        let expanded = expand(&written, &args);
        let from_line = at.line_of(from.from.span.start);
        if expanded.trim().is_empty() {
            return Err(at.fail(
                from.image.span.start,
                format!("FROM `{written}` expands to an empty image name (is an ARG missing a default?)"),
            ));
        }
        let base = match find_stage(&stages, &expanded) {
            Some(i) => Base::Stage(i),
            None if expanded.eq_ignore_ascii_case("scratch") => Base::Scratch,
            None => Base::Image(expanded.clone()),
        };
        edges.push(Edge {
            from: match &base {
                Base::Stage(i) => Source::Stage(*i),
                Base::Image(image) => Source::Image(image.clone()),
                Base::Scratch => Source::Scratch,
            },
            to: index,
            kind: EdgeKind::From,
            line: from_line,
            copies: None,
            bytes: None,
        });
        let (user, steps) = read_steps(&at, &stages, index, stage.instructions, &mut edges)?;
        stages.push(Stage {
            index,
            name: from.as_.as_ref().map(|(_, n)| n.value.to_lowercase()),
            base,
            base_written: written,
            line: from_line,
            user,
            steps,
        });
    }

    let target = match target {
        None => stages.len() - 1,
        Some(t) => find_stage(&stages, t).ok_or_else(|| CheckerError::Dockerfile {
            file: file.to_path_buf(),
            message: format!("there is no stage named `{t}` to build as --target"),
        })?,
    };
    Ok(StageGraph {
        stages,
        edges,
        global_args,
        target,
    })
}

/// A Dockerfile's text as errors name it: the file, and the line of an offset.
struct Located<'a> {
    file: &'a Path,
    lines: LineIndex,
    text: &'a str,
    /// The escape character (`\\`, or the `escape` directive's).
    escape: char,
    /// Where every instruction starts, in order: one instruction ends where the next starts.
    starts: Vec<usize>,
}

impl<'a> Located<'a> {
    fn new(
        file: &'a Path,
        text: &'a str,
        parsed: &parse_dockerfile::Dockerfile<'_>,
    ) -> Located<'a> {
        // The parser drops one leading byte-order mark, as BuildKit does, and its offsets
        // count from after it: ours must too, or an offset lands inside a later BOM's bytes.
        // A BOM holds no line break, so lines keep their numbers.
        let text = text.strip_prefix('\u{feff}').unwrap_or(text);
        Located {
            file,
            lines: LineIndex::new(text),
            text,
            escape: parsed
                .parser_directives
                .escape
                .as_ref()
                .map_or('\\', |d| d.value.value),
            starts: instruction_starts(parsed),
        }
    }
    /// Refuses a Dockerfile of more than [`MAX_INSTRUCTIONS`] at the first line past them.
    fn within_bound(&self) -> Result<(), CheckerError> {
        match self.starts.get(MAX_INSTRUCTIONS) {
            Some(&past) => Err(self.fail(
                past,
                format!(
                    "the Dockerfile has {} instructions, more than the {MAX_INSTRUCTIONS} the checker sends to an engine (BuildKit's frontend slows down with each one, and keeps going after the checker gives up)",
                    self.starts.len()
                ),
            )),
            None => Ok(()),
        }
    }
    fn line_of(&self, offset: usize) -> usize {
        self.lines.line_of(offset)
    }
    /// The instruction starting at `offset`, its comment lines left out.
    fn instruction_text(&self, offset: usize) -> String {
        // A binary search: a linear one per instruction would make parsing quadratic.
        let next = self.starts.partition_point(|&start| start <= offset);
        let end = self.starts.get(next).copied().unwrap_or(self.text.len());
        self.text[offset..end]
            .lines()
            .filter(|l| !l.trim_start().starts_with('#'))
            .collect::<Vec<_>>()
            .join("\n")
    }
    fn fail(&self, offset: usize, message: String) -> CheckerError {
        CheckerError::Dockerfile {
            file: self.file.to_path_buf(),
            message: format!("line {}: {message}", self.line_of(offset)),
        }
    }
}

/// The ARGs before the first FROM: their values for expanding FROM lines (`build_args`
/// override defaults), and each one's name and written default.
#[allow(clippy::type_complexity)]
fn global_args_of(
    parsed: &parse_dockerfile::Dockerfile<'_>,
    build_args: &BTreeMap<String, String>,
) -> (BTreeMap<String, String>, Vec<(String, Option<String>)>) {
    let mut args: BTreeMap<String, String> = BTreeMap::new();
    let mut global_args = Vec::new();
    for arg in parsed.global_args() {
        let (name, default) = split_arg(&arg.arguments.value);
        if let Some(d) = &default {
            args.insert(name.clone(), expand(d, &args));
        }
        if let Some(v) = build_args.get(&name) {
            args.insert(name.clone(), v.clone());
        }
        global_args.push((name, default));
    }
    (args, global_args)
}

/// A stage's instructions: its steps, its last USER (with its line), and the edges its
/// `COPY --from` and `RUN --mount=from=` draw from other stages or images.
#[allow(clippy::type_complexity)]
fn read_steps<'a, 'b: 'a>(
    at: &Located,
    stages: &[Stage],
    index: usize,
    instructions: impl IntoIterator<Item = &'a Instruction<'b>>,
    edges: &mut Vec<Edge>,
) -> Result<(Option<(String, usize)>, Vec<Step>), CheckerError> {
    let mut user = None;
    let mut steps = Vec::new();
    for instruction in instructions {
        let Some((keyword, offset)) = keyword_of(instruction) else {
            continue;
        };
        let line = at.line_of(offset);
        let fetches = matches!(instruction, Instruction::Add(add) if add.src.iter().any(|src| {
            matches!(src, parse_dockerfile::Source::Path(p) if is_remote(&p.value))
        }));
        let (command, cache_mounts) = match instruction {
            Instruction::Run(run) => (
                Some(run_command(&run.arguments, at.escape)),
                cache_targets(run),
            ),
            _ => (None, Vec::new()),
        };
        steps.push(Step {
            keyword: keyword.to_string(),
            line,
            fetches,
            text: at.instruction_text(offset),
            command,
            cache_mounts,
        });
        let mut edge =
            |reference: &str, kind: EdgeKind, copies: Option<String>| -> Result<(), CheckerError> {
                let from =
                    resolve_reference(stages, index, reference).map_err(|m| at.fail(offset, m))?;
                edges.push(Edge {
                    from,
                    to: index,
                    kind,
                    line,
                    copies,
                    bytes: None,
                });
                Ok(())
            };
        match instruction {
            Instruction::User(u) => user = Some((u.arguments.value.trim().to_string(), line)),
            Instruction::Copy(copy) => {
                if let Some(reference) = flag_value(&copy.options, "from") {
                    let mut copies: Vec<&str> = copy
                        .src
                        .iter()
                        .filter_map(|source| match source {
                            parse_dockerfile::Source::Path(path) => Some(path.value.as_ref()),
                            _ => None,
                        })
                        .collect();
                    copies.push(copy.dest.value.as_ref());
                    edge(reference, EdgeKind::CopyFrom, Some(copies.join(" ")))?;
                }
            }
            Instruction::Run(run) => {
                for mount in run.options.iter().filter(|f| f.name.value == "mount") {
                    let Some(value) = &mount.value else { continue };
                    if let Some(reference) = mount_from(&value.value) {
                        edge(&reference, EdgeKind::MountFrom, None)?;
                    }
                }
            }
            // ONBUILD triggers run in a later build that uses this image as its base, so a
            // `ONBUILD COPY --from=…` is no edge of this build.
            _ => {}
        }
    }
    Ok((user, steps))
}

/// The offsets where the instructions start: the global ARGs, each FROM and each
/// instruction of a stage, in order.
fn instruction_starts(parsed: &parse_dockerfile::Dockerfile<'_>) -> Vec<usize> {
    let mut starts: Vec<usize> = parsed.global_args().map(|a| a.arg.span.start).collect();
    for stage in parsed.stages() {
        starts.push(stage.from.from.span.start);
        starts.extend(
            stage
                .instructions
                .iter()
                .filter_map(keyword_of)
                .map(|(_, offset)| offset),
        );
    }
    starts.sort_unstable();
    starts
}

fn keyword_of(instruction: &Instruction<'_>) -> Option<(&'static str, usize)> {
    Some(match instruction {
        Instruction::Add(i) => ("ADD", i.add.span.start),
        Instruction::Arg(i) => ("ARG", i.arg.span.start),
        Instruction::Cmd(i) => ("CMD", i.cmd.span.start),
        Instruction::Copy(i) => ("COPY", i.copy.span.start),
        Instruction::Entrypoint(i) => ("ENTRYPOINT", i.entrypoint.span.start),
        Instruction::Env(i) => ("ENV", i.env.span.start),
        Instruction::Expose(i) => ("EXPOSE", i.expose.span.start),
        Instruction::From(i) => ("FROM", i.from.span.start),
        Instruction::Healthcheck(i) => ("HEALTHCHECK", i.healthcheck.span.start),
        Instruction::Label(i) => ("LABEL", i.label.span.start),
        Instruction::Maintainer(i) => ("MAINTAINER", i.maintainer.span.start),
        Instruction::Onbuild(i) => ("ONBUILD", i.onbuild.span.start),
        Instruction::Run(i) => ("RUN", i.run.span.start),
        Instruction::Shell(i) => ("SHELL", i.shell.span.start),
        Instruction::Stopsignal(i) => ("STOPSIGNAL", i.stopsignal.span.start),
        Instruction::User(i) => ("USER", i.user.span.start),
        Instruction::Volume(i) => ("VOLUME", i.volume.span.start),
        Instruction::Workdir(i) => ("WORKDIR", i.workdir.span.start),
        _ => return None,
    })
}

fn flag_value<'a>(flags: &'a [parse_dockerfile::Flag<'_>], name: &str) -> Option<&'a str> {
    flags
        .iter()
        .find(|f| f.name.value == name)
        .and_then(|f| f.value.as_ref())
        .map(|v: &UnescapedString<'_>| v.value.as_ref())
}

/// The targets of a `RUN`'s cache mounts.
fn cache_targets(run: &parse_dockerfile::RunInstruction<'_>) -> Vec<String> {
    run.options
        .iter()
        .filter(|f| f.name.value == "mount")
        .filter_map(|f| f.value.as_ref())
        .map(|v| cache_mounts::Mount::parse(&v.value))
        .filter(cache_mounts::Mount::is_cache)
        .filter_map(|m| m.target().map(str::to_string))
        .collect()
}

/// A `RUN`'s command as BuildKit's history writes it: exec form's arguments joined with
/// spaces; shell form's lines joined where they end in the escape character (the character
/// and the line break left out, as the parser does), comment lines inside it dropped.
fn run_command(command: &parse_dockerfile::Command<'_>, escape: char) -> String {
    match command {
        parse_dockerfile::Command::Exec(args) => args
            .value
            .iter()
            .map(|a| a.value.as_ref())
            .collect::<Vec<_>>()
            .join(" "),
        parse_dockerfile::Command::Shell(shell) => {
            let mut joined = String::new();
            for line in shell.value.split('\n') {
                let line = line.strip_suffix('\r').unwrap_or(line);
                if !joined.is_empty() && line.trim_start().starts_with('#') {
                    continue;
                }
                joined.push_str(line.strip_suffix(escape).unwrap_or(line));
            }
            joined.trim().to_string()
        }
        // A form a later parser knows: no command to compare, no step named by one.
        _ => String::new(),
    }
}

/// What `ADD` fetches rather than copies from the context: a URL or a git repository.
fn is_remote(source: &str) -> bool {
    let source = source.to_ascii_lowercase();
    ["http://", "https://", "git@", "git://", "ssh://"]
        .iter()
        .any(|scheme| source.starts_with(scheme))
}

/// The `from=` of a `--mount=type=bind,from=builder,target=/x` value.
fn mount_from(value: &str) -> Option<String> {
    value.split(',').find_map(|part| {
        let (k, v) = part.split_once('=')?;
        (k.trim().eq_ignore_ascii_case("from")).then(|| v.trim().to_string())
    })
}

/// The stage named `name` (stage names are not case-sensitive).
pub(crate) fn find_stage(stages: &[Stage], name: &str) -> Option<usize> {
    let name = name.to_lowercase();
    stages
        .iter()
        .position(|s| s.name.as_deref() == Some(name.as_str()))
}

/// A `--from` value: a stage name, a stage index, or else an image (BuildKit's order).
fn resolve_reference(stages: &[Stage], current: usize, reference: &str) -> Result<Source, String> {
    if let Some(i) = find_stage(stages, reference) {
        return Ok(Source::Stage(i));
    }
    if let Ok(i) = reference.parse::<usize>() {
        return if i < current {
            Ok(Source::Stage(i))
        } else {
            Err(format!(
                "--from={reference} refers to stage {i}, which is not an earlier stage"
            ))
        };
    }
    if reference.eq_ignore_ascii_case("scratch") {
        return Ok(Source::Scratch);
    }
    Ok(Source::Image(reference.to_string()))
}

/// The names an ARG or ENV instruction declares: `ARG A B=1`, `ENV A=1 B=2`, `ENV A 1`.
fn declared_names(step: &Step) -> Vec<String> {
    let body = step.text.get(step.keyword.len()..).unwrap_or_default();
    let tokens: Vec<&str> = body.split_whitespace().collect();
    match tokens.first() {
        // The legacy `ENV NAME value with spaces` declares one name.
        Some(first) if step.keyword == "ENV" && !first.contains('=') => vec![first.to_string()],
        _ => tokens
            .iter()
            .filter(|t| step.keyword == "ARG" || t.contains('='))
            .map(|t| t.split('=').next().unwrap_or_default().to_string())
            .filter(|n| !n.is_empty() && n.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'))
            .collect(),
    }
}

fn split_arg(text: &str) -> (String, Option<String>) {
    let text = text.trim();
    match text.split_once('=') {
        Some((n, v)) => (n.trim().to_string(), Some(unquote(v.trim()))),
        None => (text.to_string(), None),
    }
}

fn unquote(v: &str) -> String {
    let bytes = v.as_bytes();
    if bytes.len() >= 2
        && (bytes[0] == b'"' || bytes[0] == b'\'')
        && bytes[bytes.len() - 1] == bytes[0]
    {
        v[1..v.len() - 1].to_string()
    } else {
        v.to_string()
    }
}

/// Expands `$NAME`, `${NAME}`, `${NAME:-default}`, `${NAME-default}`, `${NAME:+alt}` with the
/// build arguments known so far, as the Dockerfile frontend does for FROM.
pub fn expand(text: &str, args: &BTreeMap<String, String>) -> String {
    let mut out = String::new();
    let chars: Vec<char> = text.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        if chars[i] != '$' || i + 1 == chars.len() {
            out.push(chars[i]);
            i += 1;
            continue;
        }
        if chars[i + 1] == '{' {
            let Some(close) = chars[i + 2..].iter().position(|&c| c == '}') else {
                out.extend(&chars[i..]);
                break;
            };
            let inner: String = chars[i + 2..i + 2 + close].iter().collect();
            out.push_str(&expand_braced(&inner, args));
            i += close + 3;
        } else {
            let name: String = chars[i + 1..]
                .iter()
                .take_while(|c| c.is_ascii_alphanumeric() || **c == '_')
                .collect();
            if name.is_empty() {
                out.push('$');
                i += 1;
            } else {
                out.push_str(args.get(&name).map(String::as_str).unwrap_or(""));
                i += 1 + name.len();
            }
        }
    }
    out
}

fn expand_braced(inner: &str, args: &BTreeMap<String, String>) -> String {
    let name_len = inner
        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .unwrap_or(inner.len());
    let (name, rest) = inner.split_at(name_len);
    let value = args.get(name);
    let set = value.is_some_and(|v| !v.is_empty());
    if let Some(default) = rest.strip_prefix(":-") {
        return if set {
            value.cloned().unwrap_or_default()
        } else {
            expand(default, args)
        };
    }
    if let Some(default) = rest.strip_prefix('-') {
        return value.cloned().unwrap_or_else(|| expand(default, args));
    }
    if let Some(alternative) = rest.strip_prefix(":+") {
        return if set {
            expand(alternative, args)
        } else {
            String::new()
        };
    }
    if let Some(alternative) = rest.strip_prefix('+') {
        return if value.is_some() {
            expand(alternative, args)
        } else {
            String::new()
        };
    }
    value.cloned().unwrap_or_default()
}

impl StageGraph {
    /// Stages that `stage` reads from directly.
    pub fn direct_dependencies(&self, stage: usize) -> BTreeSet<usize> {
        self.edges
            .iter()
            .filter(|e| e.to == stage)
            .filter_map(|e| match e.from {
                Source::Stage(i) => Some(i),
                _ => None,
            })
            .collect()
    }

    /// The global ARGs that a stage of the build (the target and what it depends on) uses
    /// without declaring them again: inside a stage a global ARG is empty until `ARG NAME`
    /// there (an ENV of that name, in the stage or a stage it is built FROM, counts too).
    pub fn undeclared_args(&self) -> Vec<UndeclaredArg> {
        static USE: std::sync::LazyLock<regex::Regex> = std::sync::LazyLock::new(|| {
            regex::Regex::new(r"\$\{?([A-Za-z_][A-Za-z0-9_]*)").expect("a valid regex")
        });
        let globals: BTreeSet<&str> = self.global_args.iter().map(|(n, _)| n.as_str()).collect();
        let mut built: Vec<usize> = self.dependencies(self.target).into_iter().collect();
        built.push(self.target);
        let mut found = Vec::new();
        for &index in &built {
            // ENV values are inherited from the stage this one is built FROM; ARGs are not.
            let mut declared: BTreeSet<String> = BTreeSet::new();
            let mut parent = self.stages[index].base.clone();
            while let Base::Stage(p) = parent {
                for step in self.stages[p].steps.iter().filter(|s| s.keyword == "ENV") {
                    declared.extend(declared_names(step));
                }
                parent = self.stages[p].base.clone();
            }
            let stage = &self.stages[index];
            for step in &stage.steps {
                let body = step.text.get(step.keyword.len()..).unwrap_or_default();
                for used in USE.captures_iter(body).map(|c| c[1].to_string()) {
                    if !globals.contains(used.as_str()) || declared.contains(&used) {
                        continue;
                    }
                    let seen = found
                        .iter()
                        .any(|u: &UndeclaredArg| u.stage == stage.label() && u.name == used);
                    if !seen {
                        found.push(UndeclaredArg {
                            stage: stage.label(),
                            name: used,
                            line: step.line,
                        });
                    }
                }
                if step.keyword == "ARG" || step.keyword == "ENV" {
                    declared.extend(declared_names(step));
                }
            }
        }
        found.sort_by_key(|u| u.line);
        found
    }

    /// The name `--target` builds `stage` by: its own, or the one
    /// [`StageGraph::with_every_stage_named`] gives a stage that has none.
    pub fn target_name(&self, stage: usize) -> String {
        self.stages[stage]
            .name
            .clone()
            .unwrap_or_else(|| format!("checker-stage-{stage}"))
    }

    /// `text` (the Dockerfile this graph was parsed from) with ` AS checker-stage-<n>` after
    /// the FROM of every stage that has no name, so that each can be built as a target.
    /// Names are not part of BuildKit's cache keys: the stages still come from the cache.
    pub fn with_every_stage_named(&self, text: &str) -> String {
        let mut lines: Vec<String> = text.split('\n').map(str::to_string).collect();
        for stage in self.stages.iter().filter(|s| s.name.is_none()) {
            // The FROM instruction ends on the first line not continued with `\`.
            let mut last = stage.line - 1;
            while last + 1 < lines.len() && lines[last].trim_end().ends_with('\\') {
                last += 1;
            }
            let Some(line) = lines.get_mut(last) else {
                continue;
            };
            let (body, cr) = match line.strip_suffix('\r') {
                Some(body) => (body.to_string(), "\r"),
                None => (line.clone(), ""),
            };
            *line = format!("{body} AS {}{cr}", self.target_name(stage.index));
        }
        lines.join("\n")
    }

    /// Stages that `stage` depends on, directly or through other stages (itself excluded).
    pub fn dependencies(&self, stage: usize) -> BTreeSet<usize> {
        let mut seen = BTreeSet::new();
        let mut todo: Vec<usize> = self.direct_dependencies(stage).into_iter().collect();
        while let Some(s) = todo.pop() {
            if s != stage && seen.insert(s) {
                todo.extend(self.direct_dependencies(s));
            }
        }
        seen
    }

    /// The stages `stage` reads from directly that do not depend on one another (a greedy
    /// choice, in stage order): what BuildKit can build at the same time.
    pub fn independent_dependencies(&self, stage: usize) -> Vec<usize> {
        let mut chosen: Vec<usize> = Vec::new();
        for candidate in self.direct_dependencies(stage) {
            let related = chosen.iter().any(|&c| {
                self.dependencies(c).contains(&candidate)
                    || self.dependencies(candidate).contains(&c)
            });
            if !related {
                chosen.push(candidate);
            }
        }
        chosen
    }

    /// External images the build reads (FROM, COPY --from, RUN --mount from), with the line
    /// of their first use: what must exist on the engine before building.
    pub fn external_images(&self) -> Vec<(String, usize)> {
        let mut seen = BTreeSet::new();
        let mut out = Vec::new();
        for edge in &self.edges {
            if let Source::Image(image) = &edge.from {
                if seen.insert(image.clone()) {
                    out.push((image.clone(), edge.line));
                }
            }
        }
        out
    }

    /// Whether `stage` makes something of its own for the stages that copy from it: it runs
    /// a command or fetches remote content (`ADD <url>`), or it is built on, or copies from,
    /// a stage that does. A `FROM scratch AS dummy` that only COPYs from the context, or a
    /// stage of a base image with no RUN, makes nothing its readers could not take from
    /// the context or the image themselves.
    pub fn does_work(&self, stage: usize) -> bool {
        let own = self.stages[stage]
            .steps
            .iter()
            .any(|s| s.keyword == "RUN" || s.fetches);
        own || self
            .direct_dependencies(stage)
            .into_iter()
            .filter(|&d| d != stage)
            .any(|d| self.does_work(d))
    }

    /// The stages `stage` depends on (directly or through others) that do no work, by
    /// label, in stage order.
    pub fn idle_dependencies(&self, stage: usize) -> Vec<String> {
        self.dependencies(stage)
            .into_iter()
            .filter(|&d| !self.does_work(d))
            .map(|d| self.stages[d].label())
            .collect()
    }

    /// USER instructions in stages that do not become part of the target image.
    pub fn users_outside_target(&self) -> Vec<(String, String, usize)> {
        let mut chain = BTreeSet::new();
        let mut s = self.target;
        loop {
            chain.insert(s);
            match self.stages[s].base {
                Base::Stage(i) => s = i,
                _ => break,
            }
        }
        self.stages
            .iter()
            .filter(|st| !chain.contains(&st.index))
            .filter_map(|st| st.user.as_ref().map(|(u, l)| (st.label(), u.clone(), *l)))
            .collect()
    }

    /// The graph as a mermaid flowchart: stages as boxes, external images as cylinders,
    /// the target stage highlighted.
    pub fn to_mermaid(&self) -> String {
        let mut out = String::from("flowchart LR\n");
        let mut images: Vec<String> = Vec::new();
        let node_of = |source: &Source, images: &mut Vec<String>| match source {
            Source::Stage(i) => format!("s{i}"),
            Source::Scratch => "scratch".to_string(),
            Source::Image(image) => {
                let n = images.iter().position(|i| i == image).unwrap_or_else(|| {
                    images.push(image.clone());
                    images.len() - 1
                });
                format!("img{n}")
            }
        };
        for stage in &self.stages {
            out.push_str(&format!(
                "  s{}[\"{}: {}\"]\n",
                stage.index,
                stage.index,
                mermaid_text(&stage.label())
            ));
        }
        let mut lines = Vec::new();
        for edge in &self.edges {
            let from = node_of(&edge.from, &mut images);
            lines.push(format!(
                "  {from} -->|{}| s{}\n",
                edge.kind.label(),
                edge.to
            ));
        }
        for (n, image) in images.iter().enumerate() {
            out.push_str(&format!("  img{n}[(\"{}\")]\n", mermaid_text(image)));
        }
        if self.edges.iter().any(|e| e.from == Source::Scratch) {
            out.push_str("  scratch[(\"scratch\")]\n");
        }
        for l in lines {
            out.push_str(&l);
        }
        out.push_str(&format!(
            "  classDef final stroke-width:3px\n  class s{} final\n",
            self.target
        ));
        out
    }
}

impl StageGraph {
    /// Puts on each `COPY --from` into the image's stage the bytes it brought into the
    /// image: the size of the layer it made, found by its history entry (`COPY <what>`,
    /// BuildKit leaves the flags out). `layers`: the image's layers with content, oldest
    /// first; a copy with no such layer brought nothing (0 bytes).
    pub fn attribute_copied_bytes(&mut self, layers: &[(u64, String)]) {
        let mut unused: Vec<&(u64, String)> = layers.iter().collect();
        let target = self.target;
        for edge in self.edges.iter_mut().rev() {
            let (EdgeKind::CopyFrom, true, Some(copies)) =
                (edge.kind, edge.to == target, &edge.copies)
            else {
                continue;
            };
            let wanted = without_flags(copies);
            // The image's last matching layer is this stage's (an earlier one with the same
            // text would be a base stage's).
            let found = unused.iter().rposition(|(_, created_by)| {
                let step = created_by.trim().trim_end_matches("# buildkit").trim();
                step.strip_prefix("COPY ")
                    .is_some_and(|rest| without_flags(rest) == wanted)
            });
            edge.bytes = Some(match found {
                Some(i) => unused.remove(i).0,
                None => 0,
            });
        }
    }

    /// The Dockerfile line of a BuildKit step name such as `[builder 2/4] RUN make` or
    /// `[3/5] COPY . .` (step 1 is the FROM), so a failure can point at the line.
    pub fn locate_step(&self, step_name: &str) -> Option<usize> {
        let inner = step_name.strip_prefix('[')?.split(']').next()?;
        let (label, position) = match inner.rsplit_once(' ') {
            Some((label, position)) => (Some(label.trim()), position),
            None => (None, inner),
        };
        let n: usize = position.split('/').next()?.trim().parse().ok()?;
        let stage = match label {
            Some(label) => self
                .stages
                .iter()
                .find(|s| s.label().eq_ignore_ascii_case(label))?,
            None => self.stages.get(self.target)?,
        };
        // BuildKit numbers the FROM as step 1, except FROM scratch, which makes no step;
        // after it only instructions that change the filesystem count (ADD, COPY, RUN,
        // WORKDIR), not metadata such as ENV or USER.
        let first_instruction = if stage.base == Base::Scratch { 1 } else { 2 };
        if n < first_instruction {
            return Some(stage.line);
        }
        stage
            .steps
            .iter()
            .filter(|s| matches!(s.keyword.as_str(), "RUN" | "COPY" | "ADD" | "WORKDIR"))
            .nth(n - first_instruction)
            .map(|s| s.line)
    }
}

/// The words of an instruction's arguments that are not `--flags`.
fn without_flags(args: &str) -> Vec<&str> {
    args.split_whitespace()
        .filter(|word| !word.starts_with("--"))
        .collect()
}

fn mermaid_text(s: &str) -> String {
    s.replace('"', "#quot;")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn graph(text: &str) -> StageGraph {
        parse_stage_graph(Path::new("Dockerfile"), text, &BTreeMap::new(), None).unwrap()
    }

    #[test]
    fn a_parse_error_quotes_a_short_line_at_most() {
        // A file with no blank in it (as /proc/self/environ is) is one long "instruction".
        let text = format!(
            "MY_API_TOKEN=x\0{}\0PATH=/bin\nFROM scratch\n",
            "A".repeat(5000)
        );
        let err = parse_stage_graph(Path::new("Dockerfile"), &text, &BTreeMap::new(), None)
            .unwrap_err()
            .to_string();
        assert!(err.contains("Dockerfile:1:"), "{err}");
        assert!(err.len() < 300 && !err.contains("PATH"), "{err}");
        assert_eq!(err.lines().count(), 1, "{err}");
    }

    #[test]
    fn unnamed_stages_get_names_that_build_as_targets() {
        let text = "FROM debian:bookworm\nRUN make\nFROM golang \\\n  AS tools\nFROM \\\n  scratch\r\nCOPY --from=0 /a /a\n";
        let g = graph(text);
        let named = g.with_every_stage_named(text);
        assert_eq!(
            named,
            "FROM debian:bookworm AS checker-stage-0\nRUN make\nFROM golang \\\n  AS tools\nFROM \\\n  scratch AS checker-stage-2\r\nCOPY --from=0 /a /a\n"
        );
        let again = graph(&named);
        assert_eq!(again.target_name(0), "checker-stage-0");
        assert_eq!(again.target_name(1), "tools");
        assert_eq!(again.stages.len(), 3);
        // Every stage can now be the target.
        for stage in 0..3 {
            let target = again.target_name(stage);
            parse_stage_graph(
                Path::new("Dockerfile"),
                &named,
                &BTreeMap::new(),
                Some(&target),
            )
            .unwrap();
        }
    }

    #[test]
    fn a_global_arg_used_in_a_stage_that_never_declares_it_is_named() {
        let g = graph(
            "ARG TAG=bookworm-slim\nARG VERSION=1.0\n\
             FROM debian:bookworm AS build\n\
             # $VERSION in a comment is no use\n\
             RUN gcc -DV=\"$VERSION\" -o /a a.c\n\
             FROM debian:${TAG}\n\
             ARG TAG\n\
             ENV BASE=debian:${TAG} OTHER=$HOME\n\
             COPY --from=build /a /a\n",
        );
        assert_eq!(
            g.undeclared_args(),
            vec![UndeclaredArg {
                stage: "build".into(),
                name: "VERSION".into(),
                line: 5
            }]
        );
        let declared = graph(
            "ARG VERSION=1.0\nFROM debian:bookworm AS base\nENV VERSION=2\n\
             FROM base\nRUN echo ${VERSION}\n",
        );
        assert!(
            declared.undeclared_args().is_empty(),
            "an ENV inherited from the parent stage sets it"
        );
    }

    #[test]
    fn single_stage_has_one_image_edge() {
        let g = graph("FROM debian:bookworm\nRUN apt-get update\nUSER 1000\n");
        assert_eq!(g.stages.len(), 1);
        assert_eq!(g.stages[0].base, Base::Image("debian:bookworm".into()));
        assert_eq!(
            g.external_images(),
            vec![("debian:bookworm".to_string(), 1)]
        );
        assert_eq!(g.stages[0].user, Some(("1000".to_string(), 3)));
        assert!(g.dependencies(0).is_empty());
    }

    #[test]
    fn copy_from_by_name_index_and_external_image() {
        let g = graph(
            "FROM debian:bookworm AS Build\nRUN make\n\
             FROM debian:bookworm-slim AS assets\n\
             FROM scratch\nCOPY --from=build /a /a\nCOPY --from=1 /b /b\nCOPY --from=nginx:1.25 /c /c\n",
        );
        assert_eq!(g.stages.len(), 3);
        assert_eq!(
            g.stages[0].name.as_deref(),
            Some("build"),
            "names are lower-cased"
        );
        assert_eq!(g.stages[2].base, Base::Scratch);
        assert_eq!(g.target, 2);
        assert_eq!(g.direct_dependencies(2), BTreeSet::from([0, 1]));
        let images: Vec<String> = g.external_images().into_iter().map(|(i, _)| i).collect();
        assert_eq!(
            images,
            vec!["debian:bookworm", "debian:bookworm-slim", "nginx:1.25"]
        );
        let copy_from_image = g
            .edges
            .iter()
            .find(|e| e.from == Source::Image("nginx:1.25".into()))
            .unwrap();
        assert_eq!(
            (copy_from_image.kind, copy_from_image.line),
            (EdgeKind::CopyFrom, 7)
        );
    }

    #[test]
    fn copies_into_the_image_get_the_bytes_of_the_layers_they_made() {
        let mut g = graph(
            "FROM debian:bookworm AS build\nRUN make\nCOPY --from=debian:bookworm /etc/os-release /x\n\
             FROM scratch\nCOPY --from=build /app/dist/ dist/\n\
             COPY --from=build --chown=10001:10001 /hello /hello\nCOPY --from=build /empty /empty\n",
        );
        g.attribute_copied_bytes(&[
            (74_800_000, String::new()),
            (2_320, "COPY /app/dist/ dist/ # buildkit".into()),
            (
                812_000,
                "COPY --chown=10001:10001 /hello /hello # buildkit".into(),
            ),
        ]);
        let bytes: Vec<(usize, Option<u64>)> = g.edges.iter().map(|e| (e.line, e.bytes)).collect();
        assert_eq!(
            bytes,
            [
                (1, None),
                (3, None),
                (4, None),
                (5, Some(2_320)),
                (6, Some(812_000)),
                (7, Some(0))
            ],
            "only copies into the image's stage; one that made no layer brought 0 bytes"
        );
    }

    #[test]
    fn a_forward_index_is_refused_with_its_line() {
        let err = parse_stage_graph(
            Path::new("x/Dockerfile"),
            "FROM scratch\nCOPY --from=1 /a /a\nFROM scratch\n",
            &BTreeMap::new(),
            None,
        )
        .unwrap_err()
        .to_string();
        assert!(
            err.contains("x/Dockerfile") && err.contains("line 2"),
            "{err}"
        );
    }

    #[test]
    fn transitive_dependencies_through_from_and_mounts() {
        let g = graph(
            "FROM debian:bookworm AS base\n\
             FROM base AS deps\n\
             FROM base AS tools\n\
             FROM debian:bookworm AS build\n\
             RUN --mount=type=bind,from=deps,target=/deps --mount=type=cache,target=/c true\n\
             FROM scratch\nCOPY --from=build /x /x\n",
        );
        assert_eq!(g.stages[1].base, Base::Stage(0));
        assert_eq!(g.dependencies(4), BTreeSet::from([0, 1, 3]));
        assert!(g
            .edges
            .iter()
            .any(|e| e.kind == EdgeKind::MountFrom && e.to == 3 && e.from == Source::Stage(1)));
    }

    #[test]
    fn independent_dependencies_share_a_base_but_not_each_other() {
        let g = graph(
            "FROM debian:bookworm AS base\n\
             FROM base AS docs\nRUN make docs\n\
             FROM base AS app\nRUN make\n\
             FROM app AS app-tests\nRUN make test\n\
             FROM debian:bookworm-slim\nCOPY --from=docs /d /d\nCOPY --from=app /a /a\nCOPY --from=app-tests /ok /ok\n",
        );
        // app-tests depends on app, so only one of them counts.
        assert_eq!(g.independent_dependencies(4), vec![1, 2]);
        let chain = graph("FROM debian:bookworm AS a\nFROM a AS b\nFROM scratch\nCOPY --from=a /x /x\nCOPY --from=b /y /y\n");
        assert_eq!(chain.independent_dependencies(2), vec![0]);
    }

    #[test]
    fn arg_before_from_is_expanded_with_defaults_and_overrides() {
        let text =
            "ARG DEBIAN=bookworm\nARG VARIANT\nFROM debian:${DEBIAN}${VARIANT:+-}${VARIANT}\n";
        let g = graph(text);
        assert_eq!(g.stages[0].base, Base::Image("debian:bookworm".into()));
        assert_eq!(
            g.global_args,
            vec![
                ("DEBIAN".into(), Some("bookworm".into())),
                ("VARIANT".into(), None)
            ]
        );
        let args = BTreeMap::from([("VARIANT".to_string(), "slim".to_string())]);
        let g = parse_stage_graph(Path::new("D"), text, &args, None).unwrap();
        assert_eq!(g.stages[0].base, Base::Image("debian:bookworm-slim".into()));
        let g = graph("ARG IMG=\"debian:bookworm\"\nFROM $IMG\n");
        assert_eq!(g.stages[0].base, Base::Image("debian:bookworm".into()));
    }

    #[test]
    fn an_arg_without_default_in_from_is_an_error() {
        let err = parse_stage_graph(
            Path::new("D"),
            "ARG BASE\nFROM ${BASE}\n",
            &BTreeMap::new(),
            None,
        )
        .unwrap_err()
        .to_string();
        assert!(
            err.contains("line 2") && err.contains("empty image name"),
            "{err}"
        );
    }

    #[test]
    fn escape_directive_changes_line_continuation() {
        let g = graph("# escape=`\nFROM debian:bookworm AS build\nRUN echo a `\n  && echo b\nFROM scratch\nCOPY --from=build C:\\x /x\n");
        assert_eq!(g.stages.len(), 2);
        assert_eq!(g.stages[1].line, 5);
        assert_eq!(g.direct_dependencies(1), BTreeSet::from([0]));
        assert_eq!(g.edges.last().unwrap().line, 6);
    }

    #[test]
    fn heredocs_are_parsed_and_lines_after_them_stay_right() {
        let g = graph(
            "FROM debian:bookworm AS build\nRUN <<EOF\nset -e\necho hi > /x\nEOF\nCOPY <<EOT /y\ncontent\nEOT\n\
             FROM scratch\nCOPY --from=build /x /x\nUSER 10001\n",
        );
        assert_eq!(g.stages[1].line, 9);
        assert_eq!(
            g.stages[0].steps.iter().map(|s| s.line).collect::<Vec<_>>(),
            vec![2, 6]
        );
        assert_eq!(g.stages[1].user, Some(("10001".into(), 11)));
    }

    #[test]
    fn onbuild_triggers_add_no_edges() {
        let g = graph("FROM debian:bookworm AS a\nFROM debian:bookworm\nONBUILD COPY --from=a /x /x\nONBUILD RUN make\n");
        assert!(g.direct_dependencies(1).is_empty());
        assert_eq!(
            g.stages[1]
                .steps
                .iter()
                .map(|s| s.keyword.as_str())
                .collect::<Vec<_>>(),
            vec!["ONBUILD", "ONBUILD"]
        );
    }

    #[test]
    fn users_in_stages_outside_the_target_chain_are_reported() {
        let g = graph(
            "FROM debian:bookworm AS build\nUSER app\nFROM scratch\nCOPY --from=build /x /x\n",
        );
        assert_eq!(
            g.users_outside_target(),
            vec![("build".into(), "app".into(), 2)]
        );
        let g = graph("FROM debian:bookworm AS base\nUSER 1000\nFROM base\nRUN true\n");
        assert!(g.users_outside_target().is_empty());
    }

    #[test]
    fn target_selects_the_final_stage() {
        let text = "FROM debian:bookworm AS build\nFROM build AS test\nRUN make test\nFROM scratch\nCOPY --from=build /x /x\n";
        let g = parse_stage_graph(Path::new("D"), text, &BTreeMap::new(), Some("TEST")).unwrap();
        assert_eq!(g.target, 1);
        assert!(parse_stage_graph(Path::new("D"), text, &BTreeMap::new(), Some("nope")).is_err());
    }

    #[test]
    fn syntax_errors_carry_file_line_and_column() {
        let err = parse_stage_graph(
            Path::new("ex/Dockerfile"),
            "FROM debian\nFORM x\n",
            &BTreeMap::new(),
            None,
        )
        .unwrap_err();
        match err {
            CheckerError::DockerfileSyntax { line, .. } => assert_eq!(line, 2),
            other => panic!("unexpected {other:?}"),
        }
        let err =
            parse_stage_graph(Path::new("D"), "RUN true\n", &BTreeMap::new(), None).unwrap_err();
        assert!(err.to_string().contains("FROM"), "{err}");
    }

    #[test]
    fn buildkit_step_names_map_to_lines() {
        let g = graph("FROM debian:bookworm AS build\nENV A=1\nWORKDIR /src\nRUN make\nFROM scratch\nCOPY --from=build /x /x\n");
        assert_eq!(g.locate_step("[build 3/3] RUN make"), Some(4));
        assert_eq!(g.locate_step("[build 2/3] WORKDIR /src"), Some(3));
        assert_eq!(
            g.locate_step("[stage-1 1/1] COPY --from=build /x /x"),
            Some(6),
            "FROM scratch makes no step"
        );
        assert_eq!(
            g.locate_step("[build 1/3] FROM docker.io/library/debian:bookworm"),
            Some(1)
        );
        let single = graph("FROM debian:bookworm\nRUN false\n");
        assert_eq!(single.locate_step("[2/2] RUN false"), Some(2));
        assert_eq!(single.locate_step("[internal] load build context"), None);
    }

    #[test]
    fn line_index_agrees_with_counting() {
        let text = "a\n\nbc\nd";
        let index = LineIndex::new(text);
        for offset in 0..=text.len() + 3 {
            let counted = text[..offset.min(text.len())].matches('\n').count() + 1;
            assert_eq!(index.line_of(offset), counted, "offset {offset}");
        }
    }

    #[test]
    fn reading_is_bounded_and_names_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let exact = dir.path().join("Exact");
        std::fs::write(&exact, vec![b'#'; MAX_DOCKERFILE_BYTES as usize]).unwrap();
        assert_eq!(
            read_dockerfile(dir.path(), &exact).unwrap().len(),
            MAX_DOCKERFILE_BYTES as usize
        );
        let big = dir.path().join("Big");
        std::fs::write(&big, vec![b'#'; MAX_DOCKERFILE_BYTES as usize + 1]).unwrap();
        let err = read_dockerfile(dir.path(), &big).unwrap_err().to_string();
        assert!(
            err.contains(&big.display().to_string()) && err.contains("1 MiB"),
            "{err}"
        );
        // A device is refused before a byte of it is read, inside the folder or out.
        let err = read_named_dockerfile(Path::new("/dev/zero"))
            .unwrap_err()
            .to_string();
        assert!(err.starts_with("/dev/zero: is a device"), "{err}");
        #[cfg(unix)]
        std::os::unix::fs::symlink("/dev/zero", dir.path().join("Zero")).unwrap();
        let err = read_dockerfile(dir.path(), &dir.path().join("Zero"))
            .unwrap_err()
            .to_string();
        assert!(err.contains("outside"), "{err}");
        let binary = dir.path().join("Binary");
        std::fs::write(&binary, b"FROM scratch\n\xff").unwrap();
        let err = read_dockerfile(dir.path(), &binary)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("not UTF-8") && err.contains("offset 13"),
            "{err}"
        );
    }

    /// Issue 11: each instruction's line used to be counted from the start of the file, so
    /// 100,000 lines took over a minute. One pass now; the bound is generous for a debug
    /// build on a busy machine (it takes well under a second). The lines are 503
    /// instructions of up to 200 lines each, within `MAX_INSTRUCTIONS`.
    #[test]
    fn a_100000_line_dockerfile_parses_in_linear_time() {
        // An instruction of `lines` lines: `first`, then continuation lines.
        let spanning = |first: &str, lines: usize, word: &str| {
            let mut out = format!("{first} \\\n");
            for j in 1..lines - 1 {
                out.push_str(&format!("  {word}{j} \\\n"));
            }
            out.push_str(&format!("  {word}end\n"));
            out
        };
        let mut text = String::from("FROM debian:bookworm AS build\n");
        for i in 0..249 {
            text.push_str(&spanning(&format!("RUN echo {i}"), 200, "x"));
        }
        text.push_str(&spanning("RUN echo last", 199, "x"));
        text.push_str("FROM scratch\n");
        for i in 0..249 {
            text.push_str(&spanning(&format!("ENV V{i}=x"), 200, "W=y"));
        }
        text.push_str(&spanning("ENV LAST=x", 198, "W=y"));
        text.push_str("COPY --from=build /x /x\n");
        assert_eq!(text.lines().count(), 100_000);
        let started = std::time::Instant::now();
        let g = graph(&text);
        let took = started.elapsed();
        assert!(
            took < std::time::Duration::from_secs(5),
            "100,000 lines took {took:?}"
        );
        assert_eq!(g.stages[1].line, 50_001);
        assert_eq!(g.stages[1].steps.last().unwrap().line, 100_000);
        assert_eq!(g.edges.last().unwrap().line, 100_000);
        eprintln!("100,000 lines parsed in {took:?}");
    }

    #[test]
    fn mermaid_names_every_stage_and_edge() {
        let g = graph("FROM debian:bookworm AS build\nFROM scratch\nCOPY --from=build /x /x\n");
        let m = g.to_mermaid();
        assert!(m.starts_with("flowchart LR\n"));
        assert!(m.contains("s0[\"0: build\"]"), "{m}");
        assert!(m.contains("img0[(\"debian:bookworm\")]"), "{m}");
        assert!(m.contains("img0 -->|FROM| s0"), "{m}");
        assert!(m.contains("scratch -->|FROM| s1"), "{m}");
        assert!(m.contains("s0 -->|COPY --from| s1"), "{m}");
        assert!(m.contains("class s1 final"), "{m}");
    }
}

#[cfg(test)]
mod work {
    use super::*;

    fn graph(text: &str) -> StageGraph {
        parse_stage_graph(Path::new("Dockerfile"), text, &BTreeMap::new(), None).unwrap()
    }

    #[test]
    fn a_stage_that_only_copies_from_the_context_does_no_work() {
        let g = graph(
            "FROM debian:bookworm\nRUN gcc -o /hello hello.c\nFROM scratch AS dummy\nCOPY x /x\nFROM debian:bookworm\nCOPY --from=dummy /x /tmp/x\n",
        );
        assert!(g.does_work(0));
        assert!(!g.does_work(1));
        assert_eq!(g.idle_dependencies(2), vec!["dummy".to_string()]);
    }

    #[test]
    fn work_counts_through_the_stages_a_stage_reads() {
        let g = graph(
            "FROM debian:bookworm AS build\nRUN make\nFROM scratch AS export\nCOPY --from=build /out /out\nFROM debian AS fetch\nADD https://example.com/t.tgz /t.tgz\nFROM debian AS idle\nFROM scratch\nCOPY --from=export /out /out\nCOPY --from=fetch /t.tgz /t.tgz\nCOPY --from=idle /etc/os-release /x\n",
        );
        assert!(g.does_work(1), "an export stage of a build stage's output");
        assert!(
            g.does_work(2),
            "ADD of a URL fetches what the context lacks"
        );
        assert!(!g.does_work(3), "a base image's files, no RUN");
        assert_eq!(g.idle_dependencies(4), vec!["idle".to_string()]);
    }

    #[test]
    fn a_leading_byte_order_mark_is_dropped_and_a_later_one_is_text() {
        // Found by the fuzzer: the parser's offsets count from after a leading BOM, and a
        // second BOM inside a line made an offset land inside its bytes.
        let text = "\u{feff}# a comment\nFROM debian:bookworm AS build\u{feff}\n\nRUN apt-get update\nEXPOSE 8081\n";
        let g = graph(text);
        assert_eq!(g.stages.len(), 1);
        assert_eq!(g.stages[0].line, 2, "the BOM holds no line break");
        assert_eq!(g.stages[0].steps.len(), 2);
        // Only one mark is dropped, as in BuildKit: a second one is the first line's text.
        let twice = format!("\u{feff}{text}");
        let e = parse_stage_graph(Path::new("Dockerfile"), &twice, &BTreeMap::new(), None)
            .unwrap_err()
            .to_string();
        assert!(e.starts_with("Dockerfile:1:1:"), "{e}");
    }

    #[test]
    fn a_dockerfile_past_the_instruction_bound_is_refused_at_the_first_line_past_it() {
        let at_the_bound = format!("FROM debian\n{}", "RUN true\n".repeat(MAX_INSTRUCTIONS - 1));
        assert_eq!(graph(&at_the_bound).stages.len(), 1);
        let past = format!(
            "ARG V=1\nFROM debian\n{}",
            "RUN true\n".repeat(MAX_INSTRUCTIONS)
        );
        let e = parse_stage_graph(Path::new("Dockerfile"), &past, &BTreeMap::new(), None)
            .unwrap_err()
            .to_string();
        assert!(e.contains("Dockerfile"), "{e}");
        assert!(
            e.contains(&format!("line {}:", MAX_INSTRUCTIONS + 1)),
            "the first instruction past the bound: {e}"
        );
        assert!(
            e.contains(&format!("{} instructions", MAX_INSTRUCTIONS + 2)),
            "{e}"
        );
    }
}
