//! The final image's inventory ([`Inventory`]): every file with the layer that wrote it and,
//! by content, where it came from. Part of every check's measurements.
//!
//! What it reads, and why each:
//! - the final image's layers (`docker save`, read once per image id and shared with the
//!   goals that judge files): each file's content, mode and owner, and every `*.md5sums`
//!   list dpkg wrote in any layer, also one a later layer deleted;
//! - the history entry of each layer, matched to the instruction of the stage that made it;
//! - for each stage the final stage copies from: that stage built as a target, and its dpkg
//!   database read through a container (a few MB, not the stage's hundreds): the packages a
//!   build stage installed are how a toolchain copied out of it under another name is known;
//! - each base image's dpkg status: a package of the base is the base's, not the stage's;
//! - the build context's files, hashed here: a copy of one is the context's.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::Path;

use md5::{Digest, Md5};

use crate::docker::api::{DpkgFiles, EngineApi};
use crate::docker::contents::{self, File, Filesystem, Kind};
use crate::docker::dockerfile::{Base, EdgeKind, Source, StageGraph};
use crate::error::CheckerError;
use crate::facts::inventory::{
    capabilities_that_raise, Content, FileOrigin, Inventory, LayerOrigin, LayerSource, Program,
    StageContribution,
};
use crate::facts::ImageCommand;
use crate::goals::probe::{Builder, Plan};

/// The build context's files by the MD5 of their content.
#[derive(Debug, Default)]
pub struct ContextIndex {
    by_md5: HashMap<[u8; 16], String>,
}

impl ContextIndex {
    /// Hashes `files` (paths relative to `dir`, as the build sent them), at most
    /// [`MAX_CONTEXT_HASHED`] bytes of them: a context of node_modules is large, and a copy of
    /// a file past the bound is then "made during the build" rather than the context's.
    pub fn of(dir: &Path, files: &[String]) -> ContextIndex {
        const MAX_CONTEXT_HASHED: u64 = 256 * 1024 * 1024;
        let mut index = ContextIndex::default();
        let mut hashed = 0;
        for relative in files {
            let path = dir.join(relative);
            let Ok(meta) = std::fs::symlink_metadata(&path) else {
                continue;
            };
            if !meta.is_file() || meta.len() == 0 || hashed + meta.len() > MAX_CONTEXT_HASHED {
                continue;
            }
            if let Ok(bytes) = std::fs::read(&path) {
                hashed += meta.len();
                index
                    .by_md5
                    .insert(Md5::digest(&bytes).into(), relative.clone());
            }
        }
        index
    }
}

/// Packages known by their files' content, from dpkg's `*.md5sums` lists.
#[derive(Debug, Default)]
pub struct PackageIndex {
    by_md5: HashMap<[u8; 16], Vec<(String, String)>>,
}

impl PackageIndex {
    pub fn add(&mut self, list_path: &str, text: &str) {
        let (package, files) = crate::docker::dpkg::md5sums(list_path, text);
        for (md5, path) in files {
            self.insert(&package, md5, path);
        }
    }

    /// The configuration files of a status text's packages (`/etc/debian_version` is
    /// base-files' conffile, in no `*.md5sums`).
    pub fn add_conffiles(&mut self, status: &str) {
        for (package, md5, path) in crate::docker::dpkg::conffiles(status) {
            self.insert(&package, md5, path);
        }
    }

    fn insert(&mut self, package: &str, md5: [u8; 16], path: String) {
        let known = self.by_md5.entry(md5).or_default();
        if !known.iter().any(|(p, at)| p == package && *at == path) {
            known.push((package.to_string(), path));
        }
    }

    /// The package a file with this content at `path` belongs to, and where that package
    /// puts it when that is elsewhere; `prefer` first (the base's packages). Content alone
    /// says little of a small file (two packages may ship the same three-line script): away
    /// from its own path a file must be [`MIN_MOVED_BYTES`] or more to count as a package's,
    /// unless it is one of `prefer`'s.
    /// `here` says whether a package's path is the file's own (`/lib/…` is `/usr/lib/…`
    /// where /lib links there, as in Debian's merged /usr).
    fn lookup(
        &self,
        md5: &[u8; 16],
        here: impl Fn(&str) -> bool,
        size: u64,
        prefer: impl Fn(&str) -> bool,
    ) -> Option<(&str, Option<&str>)> {
        const MIN_MOVED_BYTES: u64 = 256;
        let known = self.by_md5.get(md5)?;
        if let Some((package, _)) = known.iter().find(|(_, at)| here(at)) {
            return Some((package, None));
        }
        let (package, at) = match known.iter().filter(|(p, _)| prefer(p)).min() {
            Some(preferred) => preferred,
            None => known.iter().min().filter(|_| size >= MIN_MOVED_BYTES)?,
        };
        Some((package, Some(at)))
    }
}

/// The final image's inventory. `graph` is the build's stage graph; `builder` builds the
/// stages the final stage copies from, to read what they installed.
pub async fn inventory(
    engine: &dyn EngineApi,
    image: &str,
    graph: &StageGraph,
    builder: &dyn Builder,
    labels: &BTreeMap<String, String>,
    context: &ContextIndex,
    command: &ImageCommand,
) -> Result<Inventory, CheckerError> {
    let contents = contents::contents_of(engine, image).await?;
    let chain = chain_of(graph);
    let final_base = root_image(graph, graph.target);
    let base_count = base_layer_count(engine, image, final_base.as_deref()).await?;
    let layers = align_layers(
        graph,
        &chain,
        final_base.as_deref(),
        base_count,
        &contents.commands,
    );
    let mut packages = PackageIndex::default();
    for (path, text) in &contents.filesystem().md5sums {
        packages.add(path, text);
    }
    for status in &contents.filesystem().dpkg_status {
        packages.add_conffiles(status);
    }
    let mut base_packages: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let bases = copied_stages(graph, &chain)
        .into_iter()
        .filter_map(|stage| root_image(graph, stage))
        .chain(final_base.clone());
    for base in bases.collect::<BTreeSet<_>>() {
        let dpkg = engine.read_dpkg(&base, labels).await?;
        dpkg.status.iter().for_each(|s| packages.add_conffiles(s));
        base_packages.insert(base, installed_names(&dpkg.status));
    }
    for stage in copied_stages(graph, &chain) {
        let dpkg = stage_dpkg(engine, graph, stage, builder, labels).await?;
        for (path, text) in &dpkg.md5sums {
            packages.add(path, text);
        }
        dpkg.status.iter().for_each(|s| packages.add_conffiles(s));
    }
    let known = Knowledge {
        layers: &layers,
        packages: &packages,
        base_packages: &base_packages,
        context,
        graph,
    };
    let mut inventory = known.classify(contents.filesystem(), &contents.layers);
    inventory.program = Some(program(contents.filesystem(), command));
    Ok(inventory)
}

/// The files `command` runs: the executable its first word names (through PATH, from the
/// working folder, links followed as the kernel follows them) and the first file or folder
/// another word names.
fn program(fs: &Filesystem, command: &ImageCommand) -> Program {
    const DEFAULT_PATH: &str = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
    let argv = command.argv();
    let workdir = if command.working_dir.is_empty() {
        "/"
    } else {
        &command.working_dir
    };
    let in_workdir = |word: &str| {
        if word.starts_with('/') {
            word.to_string()
        } else {
            format!("{}/{word}", workdir.trim_end_matches('/'))
        }
    };
    let executable = argv.first().and_then(|first| {
        if first.contains('/') {
            real_path(fs, &in_workdir(first))
        } else {
            command
                .path
                .as_deref()
                .unwrap_or(DEFAULT_PATH)
                .split(':')
                .filter_map(|dir| real_path(fs, &format!("{}/{first}", dir.trim_end_matches('/'))))
                .find(|p| fs.files.contains_key(p.trim_start_matches('/')))
        }
    });
    let argument = argv
        .iter()
        .skip(1)
        .filter(|word| !word.starts_with('-') && !word.is_empty())
        .find_map(|word| real_path(fs, &in_workdir(word)));
    Program {
        argv,
        executable,
        argument,
    }
}

/// `path` with every link on the way followed inside the image (at most 40, as the kernel),
/// when it names a file or a folder of the image.
fn real_path(fs: &Filesystem, path: &str) -> Option<String> {
    let mut todo: std::collections::VecDeque<String> =
        path.split('/').map(str::to_string).collect();
    let mut done: Vec<String> = Vec::new();
    let mut links = 0;
    while let Some(part) = todo.pop_front() {
        match part.as_str() {
            "" | "." => continue,
            ".." => {
                done.pop();
                continue;
            }
            _ => {}
        }
        let here = if done.is_empty() {
            part.clone()
        } else {
            format!("{}/{part}", done.join("/"))
        };
        match fs.files.get(&here).map(|f| &f.kind) {
            Some(Kind::Symlink(target)) => {
                links += 1;
                if links > 40 {
                    return None;
                }
                if target.starts_with('/') {
                    done.clear();
                }
                for (i, p) in target.split('/').enumerate() {
                    todo.insert(i, p.to_string());
                }
            }
            _ => done.push(part),
        }
    }
    let found = done.join("/");
    let folder = format!("{found}/");
    let exists = fs
        .files
        .get(&found)
        .is_some_and(|f| f.kind == Kind::Regular)
        || (!found.is_empty()
            && fs
                .files
                .range(folder.clone()..)
                .next()
                .is_some_and(|(p, _)| p.starts_with(&folder)));
    exists.then(|| format!("/{found}"))
}

/// The stages that make up the final image, the one it starts from first.
fn chain_of(graph: &StageGraph) -> Vec<usize> {
    let mut chain = vec![graph.target];
    while let Base::Stage(parent) = graph.stages[*chain.last().expect("not empty")].base {
        if chain.contains(&parent) {
            break;
        }
        chain.push(parent);
    }
    chain.reverse();
    chain
}

/// The image `stage` starts from, through the stages it is built on (None: scratch).
fn root_image(graph: &StageGraph, stage: usize) -> Option<String> {
    let mut base = &graph.stages[stage].base;
    for _ in 0..graph.stages.len() {
        match base {
            Base::Stage(i) => base = &graph.stages[*i].base,
            Base::Image(image) => return Some(image.clone()),
            Base::Scratch => return None,
        }
    }
    None
}

/// The stages a stage of `chain` copies from (`COPY --from`).
fn copied_stages(graph: &StageGraph, chain: &[usize]) -> BTreeSet<usize> {
    graph
        .edges
        .iter()
        .filter(|e| e.kind == EdgeKind::CopyFrom && chain.contains(&e.to))
        .filter_map(|e| match e.from {
            Source::Stage(i) => Some(i),
            _ => None,
        })
        .collect()
}

/// How many of the image's first layers are its base image's.
async fn base_layer_count(
    engine: &dyn EngineApi,
    image: &str,
    base: Option<&str>,
) -> Result<usize, CheckerError> {
    let Some(base) = base else {
        return Ok(0);
    };
    let (base_ids, ids) = tokio::try_join!(engine.diff_ids(base), engine.diff_ids(image))?;
    Ok(if ids.starts_with(&base_ids) {
        base_ids.len()
    } else {
        0
    })
}

/// The package names an installed-packages database lists.
fn installed_names(status: &[String]) -> BTreeSet<String> {
    status
        .iter()
        .flat_map(|text| crate::docker::dpkg::installed(text))
        .map(|p| p.name)
        .collect()
}

/// `stage`'s dpkg database, read through a container of an image that holds nothing else:
/// a stage of the checker's own, appended to the Dockerfile, copies `/var/lib/dpkg` from
/// the stage (built from the cache the main build filled). Exporting the stage itself as an
/// image took its toolchain's layers with it: on the containerd store each export
/// compressed them again (hundreds of MB per check) and each removal gave them back to the
/// garbage collector while other builds used the same layers. Should that build fail (a
/// Dockerfile the appended stage cannot follow), the stage is built as a target as before.
async fn stage_dpkg(
    engine: &dyn EngineApi,
    graph: &StageGraph,
    stage: usize,
    builder: &dyn Builder,
    labels: &BTreeMap<String, String>,
) -> Result<DpkgFiles, CheckerError> {
    let name = graph.target_name(stage);
    let own = (0..)
        .map(|n| format!("checker-dpkg-{n}"))
        .find(|own| crate::docker::dockerfile::find_stage(&graph.stages, own).is_none())
        .expect("a free name");
    // A wildcard in every part of the path: a stage without the folder (scratch, a base
    // without dpkg) copies nothing rather than failing, and BuildKit fails on a missing
    // parent folder even when only the last part is a wildcard.
    let database_only = Plan {
        target: Some(own.clone()),
        name_stages: true,
        appended: Some(format!(
            "FROM scratch AS {own}\nCOPY --from={name} /[v]ar/[l]ib/dp[k]g /var/lib/dpkg/\n"
        )),
        tag_suffix: Some(format!("dpkg-{name}")),
        ..Plan::default()
    };
    // Not built: a failed build, or a Dockerfile the stage could not be appended to (its
    // target is then missing; see `build::planned_dockerfile`).
    match read_built(engine, &database_only, builder, labels).await {
        Err(CheckerError::BuildFailed { .. } | CheckerError::Dockerfile { .. }) => {}
        read => return read,
    }
    let whole_stage = Plan {
        target: Some(name.clone()),
        name_stages: true,
        tag_suffix: Some(format!("stage-{name}")),
        ..Plan::default()
    };
    read_built(engine, &whole_stage, builder, labels).await
}

/// Builds `plan` and reads the dpkg database of its image, which is then removed.
async fn read_built(
    engine: &dyn EngineApi,
    plan: &Plan,
    builder: &dyn Builder,
    labels: &BTreeMap<String, String>,
) -> Result<DpkgFiles, CheckerError> {
    let tag = builder.tag(plan);
    let built = builder.build(plan).await?;
    let read = engine.read_dpkg(&tag, labels).await;
    // The image is the probe's alone: removed, its guard settled (see `Probe::discard`).
    let removed = engine.remove_image(&tag).await;
    built.image.settle();
    removed?;
    read
}

/// The layer-producing instructions of the chain's stages, in order: stage label, line,
/// keyword, text, the stage a COPY copies from.
fn chain_instructions(graph: &StageGraph, chain: &[usize]) -> Vec<LayerSource> {
    let mut out = Vec::new();
    for &stage in chain {
        let s = &graph.stages[stage];
        for step in &s.steps {
            if !matches!(step.keyword.as_str(), "RUN" | "COPY" | "ADD" | "WORKDIR") {
                continue;
            }
            let from = graph
                .edges
                .iter()
                .find(|e| e.kind == EdgeKind::CopyFrom && e.to == stage && e.line == step.line)
                .map(|e| match &e.from {
                    Source::Stage(i) => graph.stages[*i].label(),
                    Source::Image(image) => image.clone(),
                    Source::Scratch => "scratch".to_string(),
                });
            out.push(LayerSource::Instruction {
                stage: s.label(),
                line: step.line,
                keyword: step.keyword.clone(),
                text: first_line(&step.text),
                from,
            });
        }
    }
    out
}

fn first_line(text: &str) -> String {
    let line = text.lines().next().unwrap_or_default().trim();
    let mut short: String = line.chars().take(100).collect();
    if short.len() < line.len() {
        short.push('…');
    }
    short
}

/// Each layer's source: the base's first, then the chain's instructions matched in order
/// by keyword to the history entries that made the other layers (a WORKDIR whose folder
/// exists makes none).
fn align_layers(
    graph: &StageGraph,
    chain: &[usize],
    base: Option<&str>,
    base_count: usize,
    commands: &[Option<String>],
) -> Vec<LayerOrigin> {
    let instructions = chain_instructions(graph, chain);
    let mut next = 0;
    let mut layers = Vec::new();
    for (i, command) in commands.iter().enumerate() {
        let source = match (i < base_count, base) {
            (true, Some(image)) => LayerSource::Base {
                image: image.to_string(),
            },
            _ => {
                let created_by = command.clone().unwrap_or_default();
                let keyword = history_keyword(&created_by);
                match instructions[next.min(instructions.len())..]
                    .iter()
                    .position(|s| matches!(s, LayerSource::Instruction { keyword: k, .. } if *k == keyword))
                {
                    Some(offset) => {
                        next += offset + 1;
                        instructions[next - 1].clone()
                    }
                    None => LayerSource::Unknown { created_by },
                }
            }
        };
        layers.push(LayerOrigin {
            position: i + 1,
            source,
        });
    }
    layers
}

/// The instruction keyword of a history entry: BuildKit's `RUN /bin/sh -c …`, `COPY a b`,
/// or the classic builder's `/bin/sh -c #(nop) COPY …`.
fn history_keyword(created_by: &str) -> String {
    let text = created_by.trim();
    let text = text
        .strip_prefix("/bin/sh -c #(nop)")
        .map(str::trim)
        .or_else(|| text.strip_prefix("/bin/sh -c ").map(|_| "RUN"))
        .unwrap_or(text);
    text.split_whitespace()
        .next()
        .unwrap_or_default()
        .to_ascii_uppercase()
}

/// What the classification of files knows.
struct Knowledge<'a> {
    layers: &'a [LayerOrigin],
    packages: &'a PackageIndex,
    /// Each base image's installed packages.
    base_packages: &'a BTreeMap<String, BTreeSet<String>>,
    context: &'a ContextIndex,
    graph: &'a StageGraph,
}

impl Knowledge<'_> {
    fn source(&self, layer: usize) -> Option<&LayerSource> {
        self.layers.get(layer).map(|l| &l.source)
    }

    /// The base image whose files a layer's files may be: the final image's base, or for a
    /// `COPY --from` the copied stage's.
    fn base_of(&self, layer: usize) -> Option<String> {
        match self.source(layer)? {
            LayerSource::Base { image } => Some(image.clone()),
            LayerSource::Instruction {
                from: Some(from), ..
            } => match self.graph.stages.iter().position(|s| s.label() == *from) {
                Some(stage) => root_image(self.graph, stage),
                None => None,
            },
            _ => self.layers.iter().find_map(|l| match &l.source {
                LayerSource::Base { image } => Some(image.clone()),
                _ => None,
            }),
        }
    }

    fn content(&self, fs: &Filesystem, path: &str, file: &File) -> Content {
        let base = self.base_of(file.layer);
        let md5 = file.md5.filter(|_| file.size > 0);
        let here = |at: &str| at == path || real_path(fs, at).as_deref() == Some(path);
        if let Some(LayerSource::Base { image }) = self.source(file.layer) {
            // A file of the base at its own path: which base package it is, for the goals
            // that deny a tool whichever layer ships it.
            let package = md5
                .and_then(|m| self.packages.lookup(&m, here, file.size, |_| false))
                .filter(|(_, at)| at.is_none())
                .map(|(p, _)| p.to_string());
            return Content::Base {
                image: image.clone(),
                package,
            };
        }
        let Some(md5) = md5 else {
            return Content::Built;
        };
        let base_has = |package: &str| {
            base.as_ref()
                .and_then(|b| self.base_packages.get(b))
                .is_some_and(|names| names.contains(package))
        };
        if let Some((package, at)) = self.packages.lookup(&md5, here, file.size, base_has) {
            if base_has(package) {
                return Content::Base {
                    image: base.expect("a base has packages"),
                    package: Some(package.to_string()),
                };
            }
            return Content::Package {
                name: package.to_string(),
                at: at.map(str::to_string),
            };
        }
        match self.context.by_md5.get(&md5) {
            Some(relative) => Content::Context {
                source: relative.clone(),
            },
            None => Content::Built,
        }
    }

    fn origin(&self, fs: &Filesystem, path: &str, file: &File) -> FileOrigin {
        let absolute = format!("/{path}");
        let raises = if file.raises_to_root() {
            Some(
                if file.mode & 0o4000 != 0 {
                    "setuid root"
                } else {
                    "setgid root"
                }
                .to_string(),
            )
        } else {
            file.capabilities
                .as_deref()
                .map(capabilities_that_raise)
                .filter(|caps| !caps.is_empty())
                .map(|caps| format!("capabilities {}", caps.join(", ")))
        };
        FileOrigin {
            content: self.content(fs, &absolute, file),
            path: absolute,
            size: file.size,
            layer: file.layer + 1,
            elf: file.elf,
            raises,
        }
    }

    fn classify(&self, fs: &Filesystem, layers: &[Vec<contents::Entry>]) -> Inventory {
        let files: Vec<FileOrigin> = fs
            .files
            .iter()
            .filter(|(_, f)| f.kind == Kind::Regular)
            .map(|(path, file)| self.origin(fs, path, file))
            .collect();
        let hidden = self.hidden_package_files(fs, layers);
        let mut stage_contributions: BTreeMap<String, StageContribution> = BTreeMap::new();
        for file in &files {
            let Some(LayerSource::Instruction {
                from: Some(from), ..
            }) = self.source(file.layer - 1)
            else {
                continue;
            };
            let c = stage_contributions.entry(from.clone()).or_default();
            c.files += 1;
            c.bytes += file.size;
            if file.size > 0 && matches!(file.content, Content::Built | Content::Package { .. }) {
                c.made_there += 1;
                c.programs += usize::from(file.elf);
            }
        }
        Inventory {
            layers: self.layers.to_vec(),
            files,
            hidden,
            stage_contributions,
            program: None,
        }
    }

    /// Package files a layer wrote that the final filesystem no longer has (deleted, or
    /// replaced by other content): they still ship in that layer.
    fn hidden_package_files(
        &self,
        fs: &Filesystem,
        layers: &[Vec<contents::Entry>],
    ) -> Vec<FileOrigin> {
        let mut hidden = Vec::new();
        for (index, layer) in layers.iter().enumerate() {
            for entry in layer {
                let contents::Entry::Write { path, file, .. } = entry else {
                    continue;
                };
                if file.kind != Kind::Regular {
                    continue;
                }
                let live = fs.files.get(path).is_some_and(|f| f.md5 == file.md5);
                if live {
                    continue;
                }
                let file = File {
                    layer: index,
                    ..file.clone()
                };
                let origin = self.origin(fs, path, &file);
                let packaged = matches!(
                    origin.content,
                    Content::Package { .. }
                        | Content::Base {
                            package: Some(_),
                            ..
                        }
                );
                if packaged {
                    hidden.push(origin);
                }
            }
        }
        hidden
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::docker::dockerfile::parse_stage_graph;

    fn graph(text: &str) -> StageGraph {
        parse_stage_graph(Path::new("Dockerfile"), text, &BTreeMap::new(), None).unwrap()
    }

    const DOCKERFILE: &str = "FROM debian:bookworm AS tools\n\
        RUN apt-get install -y busybox-static\n\
        FROM debian:bookworm AS noop\n\
        RUN true\n\
        FROM gcr.io/distroless/static-debian12:nonroot\n\
        WORKDIR /home/nonroot\n\
        COPY --from=tools /bin/busybox /usr/local/bin/x\n\
        COPY --from=noop /etc/debian_version /tmp/noop\n";

    fn md5(bytes: &[u8]) -> [u8; 16] {
        Md5::digest(bytes).into()
    }

    fn hex(md5: [u8; 16]) -> String {
        md5.iter().map(|b| format!("{b:02x}")).collect()
    }

    #[test]
    fn layers_are_matched_to_the_instructions_that_made_them() {
        let g = graph(DOCKERFILE);
        let chain = chain_of(&g);
        let commands = vec![
            Some("COPY /rootfs / # buildkit".into()),
            Some("WORKDIR /home/nonroot".into()),
            Some("COPY /bin/busybox /usr/local/bin/x # buildkit".into()),
            Some("COPY /etc/debian_version /tmp/noop # buildkit".into()),
        ];
        let base = "gcr.io/distroless/static-debian12:nonroot";
        let layers = align_layers(&g, &chain, Some(base), 2, &commands);
        assert_eq!(layers[0].source, LayerSource::Base { image: base.into() });
        assert_eq!(layers[1].source, LayerSource::Base { image: base.into() });
        assert!(matches!(&layers[2].source,
            LayerSource::Instruction { line: 7, from: Some(f), .. } if f == "tools"));
        assert!(matches!(&layers[3].source,
            LayerSource::Instruction { line: 8, from: Some(f), .. } if f == "noop"));
        // A base the image does not start with leaves every layer to the instructions.
        let layers = align_layers(&g, &chain, Some(base), 0, &commands[2..]);
        assert!(matches!(
            &layers[0].source,
            LayerSource::Instruction { line: 7, .. }
        ));
        assert_eq!(
            history_keyword("/bin/sh -c #(nop) COPY file:abc in /"),
            "COPY"
        );
        assert_eq!(history_keyword("/bin/sh -c apt-get update"), "RUN");
        assert_eq!(history_keyword("RUN /bin/sh -c make # buildkit"), "RUN");
    }

    #[test]
    fn files_are_told_apart_by_content_and_stages_by_what_they_made() {
        let g = graph(DOCKERFILE);
        let chain = chain_of(&g);
        let base = "gcr.io/distroless/static-debian12:nonroot";
        let commands = vec![
            Some("COPY /rootfs / # buildkit".into()),
            Some("COPY /bin/busybox /usr/local/bin/x # buildkit".into()),
            Some("COPY /etc/debian_version /tmp/noop # buildkit".into()),
        ];
        let layers = align_layers(&g, &chain, Some(base), 1, &commands);
        let busybox = vec![7u8; 2_000_000];
        let mut packages = PackageIndex::default();
        packages.add(
            "var/lib/dpkg/info/busybox-static.md5sums",
            &format!("{}  bin/busybox\n", hex(md5(&busybox))),
        );
        packages.add(
            "var/lib/dpkg/info/base-files.md5sums",
            &format!("{}  etc/debian_version\n", hex(md5(b"12.7\n"))),
        );
        let base_packages = BTreeMap::from([(
            "debian:bookworm".to_string(),
            BTreeSet::from(["base-files".to_string()]),
        )]);
        let context = ContextIndex::default();
        let known = Knowledge {
            layers: &layers,
            packages: &packages,
            base_packages: &base_packages,
            context: &context,
            graph: &g,
        };
        let file = |bytes: &[u8], layer: usize, mode: u32| File {
            size: bytes.len() as u64,
            md5: Some(md5(bytes)),
            mode,
            layer,
            ..File::default()
        };
        let fs = Filesystem {
            files: BTreeMap::from([
                ("etc/passwd".to_string(), file(b"root:x:0:0\n", 0, 0o644)),
                ("usr/local/bin/x".to_string(), file(&busybox, 1, 0o4755)),
                ("tmp/noop".to_string(), file(b"12.7\n", 2, 0o644)),
            ]),
            ..Filesystem::default()
        };
        let inventory = known.classify(&fs, &[]);
        let x = inventory.file("/usr/local/bin/x").unwrap();
        assert_eq!(
            x.content,
            Content::Package {
                name: "busybox-static".into(),
                at: Some("/bin/busybox".into())
            }
        );
        assert_eq!(x.raises.as_deref(), Some("setuid root"));
        assert_eq!(
            inventory.file("/tmp/noop").unwrap().content,
            Content::Base {
                image: "debian:bookworm".into(),
                package: Some("base-files".into()),
            },
            "the copied stage's base image had it"
        );
        assert!(inventory.stage_contributions["tools"].contributes());
        assert!(!inventory.stage_contributions["noop"].contributes());
        assert!(matches!(
            inventory.file("/etc/passwd").unwrap().content,
            Content::Base { .. }
        ));
    }

    #[test]
    fn the_program_is_found_through_path_links_and_the_working_folder() {
        let regular = |size: u64| File {
            size,
            ..File::default()
        };
        let link = |to: &str| File {
            kind: Kind::Symlink(to.into()),
            ..File::default()
        };
        let fs = Filesystem {
            files: BTreeMap::from([
                ("usr/bin/dash".to_string(), regular(120_000)),
                ("bin".to_string(), link("usr/bin")),
                ("usr/bin/sh".to_string(), link("dash")),
                ("usr/bin/java".to_string(), link("/etc/alternatives/java")),
                (
                    "etc/alternatives/java".to_string(),
                    link("/usr/lib/jvm/jre/bin/java"),
                ),
                ("usr/lib/jvm/jre/bin/java".to_string(), regular(16_000)),
                ("app/server.jar".to_string(), regular(90_000)),
                ("app/classes/Server.class".to_string(), regular(4_000)),
                ("loop".to_string(), link("/loop")),
            ]),
            ..Filesystem::default()
        };
        let run = |entrypoint: &[&str], workdir: &str| {
            program(
                &fs,
                &ImageCommand {
                    entrypoint: entrypoint.iter().map(|w| w.to_string()).collect(),
                    working_dir: workdir.into(),
                    ..ImageCommand::default()
                },
            )
        };
        let shell = run(&["/bin/sh", "-c", "echo about 1.4.2"], "");
        assert_eq!(shell.executable.as_deref(), Some("/usr/bin/dash"));
        assert_eq!(shell.argument, None, "no word names a file");
        let java = run(&["java", "-jar", "server.jar"], "/app");
        assert_eq!(
            java.executable.as_deref(),
            Some("/usr/lib/jvm/jre/bin/java")
        );
        assert_eq!(java.argument.as_deref(), Some("/app/server.jar"));
        let classes = run(&["java", "-cp", "/app/classes", "Server"], "/");
        assert_eq!(classes.argument.as_deref(), Some("/app/classes"));
        assert_eq!(run(&["/loop"], "").executable, None, "a link loop ends");
        assert_eq!(run(&["missing"], "").executable, None);
    }
}
