//! Base images: which ones the exercises need, and making them exist on the engine, by
//! pulling or, with no registry in reach, by building the Debian ones locally with
//! debuerreotype (the tool the official Debian images are made with), and the distroless
//! ones from Debian's packages with a build on the engine (`distroless.Dockerfile`).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use super::Outcome;
use crate::docker::api::{BuildProgress, BuildRequest, EngineApi};
use crate::docker::context::Folder;
use crate::docker::dockerfile::parse_stage_graph;
use crate::docker::engine::Engine;
use crate::error::CheckerError;
use crate::workbook::exercise::Variant;
use crate::workbook::Workbook;
use std::process::ExitCode;

/// The images this checker can make without a registry, and how.
const DEBIAN_SUITE: &str = "bookworm";
const OFFLINE_IMAGES: [&str; 2] = ["debian:bookworm", "debian:bookworm-slim"];

/// The distroless images `checker images --offline` builds from Debian bookworm packages,
/// each with the target of `distroless.Dockerfile` that makes it. Tagged with the names the
/// real ones have, so a Dockerfile reads the same online and offline.
pub const DISTROLESS_IMAGES: [(&str, &str); 6] = [
    ("gcr.io/distroless/static-debian12:latest", "static"),
    (
        "gcr.io/distroless/static-debian12:nonroot",
        "static-nonroot",
    ),
    ("gcr.io/distroless/base-debian12:latest", "base"),
    ("gcr.io/distroless/base-debian12:nonroot", "base-nonroot"),
    ("gcr.io/distroless/cc-debian12:latest", "cc"),
    ("gcr.io/distroless/cc-debian12:nonroot", "cc-nonroot"),
];

/// The Dockerfile the distroless images are built from, inside the binary so an installed
/// checker needs no checkout to make them.
const DISTROLESS_DOCKERFILE: &str = include_str!("distroless.Dockerfile");

/// The bases the book's runtime-base chapter puts exercise 14's program on
/// (`dev::numbers::RUNTIME_BASE_EXERCISE`, measured by `checker measure`), in the order the
/// chapter's table lists them (fattest first): needed to measure the book, so
/// `checker images` makes them too.
pub const RUNTIME_BASES: [&str; 5] = [
    "debian:bookworm",
    "debian:bookworm-slim",
    "gcr.io/distroless/base-debian12",
    "gcr.io/distroless/static-debian12",
    "scratch",
];

/// The label every image `checker images --offline` makes carries, and its value: what
/// tells a local build from the real image pulled from a registry.
pub const MADE_BY_LABEL: &str = "org.workbook.made-by";
pub const MADE_BY_OFFLINE: &str = "checker images --offline";

/// The target of `distroless.Dockerfile` that makes `image`, when it is one of the six.
/// A name without a tag means `:latest`, as the engine reads it.
pub fn distroless_target(image: &str) -> Option<&'static str> {
    let full = if image
        .rsplit('/')
        .next()
        .is_some_and(|last| last.contains(':'))
    {
        image.to_string()
    } else {
        format!("{image}:latest")
    };
    DISTROLESS_IMAGES
        .iter()
        .find(|(name, _)| *name == full)
        .map(|(_, target)| *target)
}

/// Every external image any exercise's Dockerfiles read, with the first place it is used.
pub fn needed_images(
    workbook: &Workbook,
) -> Result<BTreeMap<String, (PathBuf, usize)>, CheckerError> {
    let mut needed = BTreeMap::new();
    for exercise in workbook.exercises()? {
        for variant in [Variant::Starter, Variant::Solution, Variant::Learner] {
            let file = exercise.dockerfile_path(variant);
            let Ok(text) = crate::docker::dockerfile::read_dockerfile(&exercise.dir, &file) else {
                continue;
            };
            // A learner's half-edited Dockerfile may not parse; the starter and solution are
            // what the exercise needs.
            let Ok(graph) =
                parse_stage_graph(&file, &text, &exercise.file.exercise.build_args, None)
            else {
                continue;
            };
            for (image, line) in graph.external_images() {
                needed.entry(image).or_insert((file.clone(), line));
            }
        }
    }
    // The bases the runtime-base chapter puts exercise 14's program on (`checker measure`):
    // needed to measure the book, so `checker images` makes them too.
    let chapter = workbook.root.join("src/runtime-base.md");
    let line = std::fs::read_to_string(&chapter)
        .ok()
        .and_then(|t| {
            t.lines()
                .position(|l| l.contains("{{#measure runtime-bases}}"))
        })
        .map_or(0, |i| i + 1);
    for base in RUNTIME_BASES {
        if base != "scratch" {
            let image = if base.contains(':') {
                base.to_string()
            } else {
                format!("{base}:latest")
            };
            needed.entry(image).or_insert((chapter.clone(), line));
        }
    }
    Ok(needed)
}

pub struct ImagesReport {
    pub present: Vec<String>,
    pub made: Vec<String>,
    pub missing: Vec<(String, String)>,
}

/// Writes every needed image into one archive, for laptops with no registry in reach.
pub async fn save(
    engine: &Engine,
    workbook: &Workbook,
    path: &Path,
) -> Result<Vec<String>, CheckerError> {
    let needed: Vec<String> = needed_images(workbook)?.into_keys().collect();
    let mut missing = Vec::new();
    for image in &needed {
        if !engine.image_exists(image).await? {
            missing.push(image.clone());
        }
    }
    if !missing.is_empty() {
        return Err(CheckerError::Usage(format!(
            "not on this engine, so not saved: {} (run `checker images` or `checker images --offline` first)",
            missing.join(", ")
        )));
    }
    let mut file = std::fs::File::create(path).map_err(|e| CheckerError::io(path, e))?;
    let refs: Vec<&str> = needed.iter().map(String::as_str).collect();
    engine.save_images(&refs, &mut file).await?;
    Ok(needed)
}

/// Pushes every needed image into a classroom registry as `REGISTRY/<name>:<tag>`.
pub async fn push(
    engine: &Engine,
    workbook: &Workbook,
    registry: &str,
) -> Result<Vec<String>, CheckerError> {
    let mut pushed = Vec::new();
    for image in needed_images(workbook)?.into_keys() {
        let target = format!("{}/{image}", registry.trim_end_matches('/'));
        engine.tag(&image, &target).await?;
        eprintln!("pushing {target}");
        let mut last = String::new();
        engine
            .push(&target, |line| {
                if line != last {
                    eprintln!("  {line}");
                    last = line.to_string();
                }
            })
            .await
            .map_err(|e| CheckerError::EngineReply(format!("pushing {target}: {e}")))?;
        // The registry's name was only needed for the push.
        engine.remove_image(&target).await?;
        pushed.push(target);
    }
    Ok(pushed)
}

/// Pulls every needed image that is missing from a classroom registry, and tags it under the
/// name the exercises use.
pub async fn pull_from(
    engine: &Engine,
    workbook: &Workbook,
    registry: &str,
) -> Result<ImagesReport, CheckerError> {
    let mut report = ImagesReport {
        present: vec![],
        made: vec![],
        missing: vec![],
    };
    for image in needed_images(workbook)?.into_keys() {
        if engine.image_exists(&image).await? {
            report.present.push(image);
            continue;
        }
        let source = format!("{}/{image}", registry.trim_end_matches('/'));
        match pull_showing_progress(engine, &source).await {
            Ok(()) => {
                engine.tag(&source, &image).await?;
                engine.remove_image(&source).await?;
                report.made.push(image);
            }
            Err(e) => report
                .missing
                .push((image, format!("pull from {registry} failed: {e}"))),
        }
    }
    Ok(report)
}

/// Makes every needed image exist. Without `offline`, missing images are pulled; with it,
/// nothing is pulled and the Debian bases are built locally.
pub async fn ensure(
    engine: &Engine,
    workbook: &Workbook,
    offline: bool,
    progress: &mut dyn BuildProgress,
) -> Result<ImagesReport, CheckerError> {
    let needed = needed_images(workbook)?;
    let mut report = ImagesReport {
        present: vec![],
        made: vec![],
        missing: vec![],
    };
    let mut to_build = Vec::new();
    let mut distroless = Vec::new();
    for image in needed.keys() {
        if engine.image_exists(image).await? {
            report.present.push(image.clone());
            continue;
        }
        if offline {
            if OFFLINE_IMAGES.contains(&image.as_str()) {
                to_build.push(image.clone());
            } else if distroless_target(image).is_some() {
                distroless.push(image.clone());
            } else {
                report.missing.push((
                    image.clone(),
                    "only debian:bookworm, debian:bookworm-slim and gcr.io/distroless/{static,base,cc}-debian12 can be made offline".into(),
                ));
            }
            continue;
        }
        match pull_showing_progress(engine, image).await {
            Ok(()) => report.made.push(image.clone()),
            Err(e) => report
                .missing
                .push((image.clone(), format!("pull failed: {e}"))),
        }
    }
    if !to_build.is_empty() {
        match build_debian(engine, &to_build).await {
            Ok(()) => report.made.extend(to_build),
            Err(e) => report
                .missing
                .extend(to_build.into_iter().map(|i| (i, e.clone()))),
        }
    }
    if offline {
        // All six, not only those an exercise names: the book compares the bases, and a
        // learner trying `base-debian12` or `cc-debian12` should find them too. They share
        // one build's steps, so the others cost seconds.
        for (image, _) in DISTROLESS_IMAGES {
            if !needed.contains_key(image) && !engine.image_exists(image).await? {
                distroless.push(image.to_string());
            }
        }
    }
    // After the Debian images: the distroless ones are built on debian:bookworm.
    build_distroless_images(engine, distroless, progress, &mut report).await;
    Ok(report)
}

/// Pulls `image`, saying so on stderr with each new progress line of the engine's.
async fn pull_showing_progress(engine: &Engine, image: &str) -> Result<(), String> {
    eprintln!("pulling {image}");
    let mut last = String::new();
    engine
        .pull(image, &mut |line| {
            if line != last {
                eprintln!("  {line}");
                last = line.to_string();
            }
        })
        .await
}

/// Builds each of the distroless `images` (on debian:bookworm, which must be there), into
/// the report as made or missing. The first build ignores the cache, so the packages are
/// today's (a cached `apt-get download` would keep last month's) and BuildKit's COPY, whose
/// cache key leaves file times out, cannot hand back a layer an older build wrote with other
/// times; the others reuse its steps.
async fn build_distroless_images(
    engine: &Engine,
    images: Vec<String>,
    progress: &mut dyn BuildProgress,
    report: &mut ImagesReport,
) {
    for (i, image) in images.into_iter().enumerate() {
        match build_distroless(engine, &image, i == 0, progress).await {
            Ok(()) => report.made.push(image),
            Err(e) => report.missing.push((image, e)),
        }
    }
}

/// Builds one distroless image from `distroless.Dockerfile` on the engine, as any exercise
/// is built (BuildKit, through a session serving an in-memory context), tagged with its
/// real name and labelled as made here.
pub async fn build_distroless(
    engine: &Engine,
    image: &str,
    no_cache: bool,
    progress: &mut dyn BuildProgress,
) -> Result<(), String> {
    let target = distroless_target(image)
        .ok_or_else(|| format!("{image} is not one of the distroless images made offline"))?;
    if !engine
        .image_exists(&format!("debian:{DEBIAN_SUITE}"))
        .await
        .map_err(|e| e.to_string())?
    {
        return Err(format!(
            "it is built from debian:{DEBIAN_SUITE}, which is missing: `checker images --offline` makes it"
        ));
    }
    // An empty folder: the Dockerfile is the whole context, served from memory.
    let empty = tempfile::Builder::new()
        .prefix("workbook-distroless-")
        .tempdir()
        .map_err(|e| e.to_string())?;
    let context = Folder::with_overlay(
        empty.path(),
        BTreeMap::from([(
            "Dockerfile".to_string(),
            DISTROLESS_DOCKERFILE.as_bytes().to_vec(),
        )]),
    );
    let labels = BTreeMap::from([
        (MADE_BY_LABEL.to_string(), MADE_BY_OFFLINE.to_string()),
        (
            "org.workbook.distroless".to_string(),
            format!(
                "built locally from Debian {DEBIAN_SUITE} packages, not the image gcr.io publishes"
            ),
        ),
    ]);
    let request = BuildRequest {
        context,
        dockerfile: "Dockerfile".into(),
        tag: image.to_string(),
        labels,
        build_args: BTreeMap::new(),
        secrets: BTreeMap::new(),
        target: Some(target.to_string()),
        no_cache,
    };
    match engine.build(request, progress).await {
        Ok(Ok(_)) => Ok(()),
        Ok(Err(failure)) => Err(format!(
            "building it failed{}: {}\n{}",
            failure
                .step
                .map(|s| format!(" at `{s}`"))
                .unwrap_or_default(),
            failure.message,
            failure.log_tail
        )),
        Err(e) => Err(e.to_string()),
    }
}

/// Builds the requested Debian images with debuerreotype: one bootstrap, then the slim
/// variant is the same root filesystem slimmed, as the official images are made.
/// Whether debuerreotype can run here: installed, and run as root.
fn debuerreotype_ready() -> Result<(), String> {
    for tool in ["debuerreotype-init", "debuerreotype-tar"] {
        if which(tool).is_none() {
            return Err(format!(
                "`{tool}` is not installed: `apt-get install debuerreotype` (Debian/Ubuntu, as root), or pull the images from a registry"
            ));
        }
    }
    if !is_root() {
        return Err(
            "debuerreotype needs root (it bootstraps a root filesystem with chroot)".into(),
        );
    }
    Ok(())
}

/// The package lists are what `apt-get update` fetched; the official images ship without
/// them.
fn remove_package_lists(rootfs: &Path) {
    let lists = rootfs.join("var/lib/apt/lists");
    if let Ok(entries) = std::fs::read_dir(&lists) {
        for e in entries.flatten() {
            let _ = if e.path().is_dir() {
                std::fs::remove_dir_all(e.path())
            } else {
                std::fs::remove_file(e.path())
            };
        }
    }
}

async fn build_debian(engine: &Engine, images: &[String]) -> Result<(), String> {
    debuerreotype_ready()?;
    let work = tempfile::Builder::new()
        .prefix("workbook-debian-")
        .tempdir()
        .map_err(|e| e.to_string())?;
    let rootfs = work.path().join("rootfs");
    let mirror = debian_mirror();
    eprintln!(
        "building {} with debuerreotype from {mirror} (a few minutes)",
        images.join(" and ")
    );
    let steps: Vec<Vec<String>> = vec![
        argv(
            &["debuerreotype-init", "--non-debian"],
            &rootfs,
            &[DEBIAN_SUITE, &mirror],
        ),
        argv(&["debuerreotype-minimizing-config"], &rootfs, &[]),
        argv(&["debuerreotype-apt-get"], &rootfs, &["update", "-qq"]),
        argv(
            &["debuerreotype-apt-get"],
            &rootfs,
            &["dist-upgrade", "-yqq"],
        ),
    ];
    for step in &steps {
        run(step).await?;
    }
    remove_package_lists(&rootfs);
    for image in images {
        let tree = if image.ends_with("-slim") {
            let slim = work.path().join("slim");
            run(&["cp".into(), "-a".into(), path_arg(&rootfs), path_arg(&slim)]).await?;
            run(&argv(&["debuerreotype-slimify"], &slim, &[])).await?;
            slim
        } else {
            rootfs.clone()
        };
        let tar_path = work.path().join("rootfs.tar");
        run(&argv(
            &["debuerreotype-tar"],
            &tree,
            &[&path_arg(&tar_path)],
        ))
        .await?;
        let tar = std::fs::read(&tar_path).map_err(|e| e.to_string())?;
        engine
            .import_rootfs(
                tar,
                image,
                vec![
                    "CMD [\"bash\"]".into(),
                    "LABEL org.workbook.made-by=\"checker images --offline\"".into(),
                ],
            )
            .await
            .map_err(|e| e.to_string())?;
        eprintln!("  made {image}");
    }
    Ok(())
}

fn argv(cmd: &[&str], path: &Path, rest: &[&str]) -> Vec<String> {
    cmd.iter()
        .map(|s| s.to_string())
        .chain([path_arg(path)])
        .chain(rest.iter().map(|s| s.to_string()))
        .collect()
}

fn path_arg(p: &Path) -> String {
    p.to_string_lossy().into_owned()
}

async fn run(argv: &[String]) -> Result<(), String> {
    let argv = argv.to_vec();
    tokio::task::spawn_blocking(move || {
        let output = Command::new(&argv[0])
            .args(&argv[1..])
            .output()
            .map_err(|e| format!("{}: {e}", argv[0]))?;
        if output.status.success() {
            Ok(())
        } else {
            let stderr = String::from_utf8_lossy(&output.stderr);
            let tail: Vec<&str> = stderr.lines().rev().take(15).collect();
            Err(format!(
                "`{}` failed ({}):\n{}",
                argv.join(" "),
                output.status,
                tail.into_iter().rev().collect::<Vec<_>>().join("\n")
            ))
        }
    })
    .await
    .map_err(|e| e.to_string())?
}

/// The Debian mirror this machine's apt uses (so an offline classroom's local mirror is
/// used too); WORKBOOK_DEBIAN_MIRROR overrides it.
fn debian_mirror() -> String {
    if let Ok(m) = std::env::var("WORKBOOK_DEBIAN_MIRROR") {
        return m;
    }
    let mut candidates = Vec::new();
    if let Ok(entries) = std::fs::read_dir("/etc/apt/sources.list.d") {
        for e in entries.flatten() {
            candidates.push(e.path());
        }
    }
    candidates.sort();
    candidates.insert(0, PathBuf::from("/etc/apt/sources.list"));
    for path in candidates {
        let Ok(text) = std::fs::read_to_string(&path) else {
            continue;
        };
        if let Some(m) = mirror_in(&text) {
            return m;
        }
    }
    "http://deb.debian.org/debian".into()
}

/// The first main-archive URL (not security) in one-line or deb822 apt sources.
fn mirror_in(text: &str) -> Option<String> {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.starts_with('#'))
        .flat_map(|l| {
            if let Some(rest) = l.strip_prefix("URIs:") {
                rest.split_whitespace()
                    .map(str::to_string)
                    .collect::<Vec<_>>()
            } else if let Some(rest) = l.strip_prefix("deb ") {
                rest.split_whitespace()
                    .filter(|w| !w.starts_with('['))
                    .take(1)
                    .map(str::to_string)
                    .collect()
            } else {
                vec![]
            }
        })
        .find(|url| url.starts_with("http") && !url.contains("security"))
}

fn which(tool: &str) -> Option<PathBuf> {
    std::env::var_os("PATH")?
        .to_str()?
        .split(':')
        .map(|d| Path::new(d).join(tool))
        .chain(
            ["/usr/sbin", "/sbin"]
                .iter()
                .map(|d| Path::new(d).join(tool)),
        )
        .find(|p| p.is_file())
}

fn is_root() -> bool {
    // The effective uid of this process, read without unsafe code or a libc binding.
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("Uid:"))
                .and_then(|l| l.split_whitespace().nth(2).map(|u| u == "0"))
        })
        .unwrap_or(false)
}

/// What `checker images` does besides making the base images exist.
#[derive(clap::Subcommand)]
pub enum ImagesAction {
    /// Write every base image the exercises need into one archive.
    Save {
        /// The archive to write (a `docker save` tar).
        file: PathBuf,
    },
    /// Load such an archive on a laptop with no registry access.
    Load {
        /// The archive `checker images save` wrote.
        file: PathBuf,
    },
    /// Push every base image into a classroom registry (e.g. localhost:5000).
    Push {
        /// The registry's address, e.g. localhost:5000.
        registry: String,
    },
}

pub async fn images_action(workbook: &Workbook, action: ImagesAction) -> Outcome {
    let engine = crate::commands::connect().await?;
    match action {
        ImagesAction::Save { file } => {
            let saved = save(&engine, workbook, &file).await?;
            let size = std::fs::metadata(&file).map(|m| m.len()).unwrap_or(0);
            println!(
                "saved {} into {} ({})",
                saved.join(", "),
                file.display(),
                crate::facts::format_mb(size)
            );
        }
        ImagesAction::Load { file } => {
            for line in engine.load_images(&file).await? {
                println!("{line}");
            }
        }
        ImagesAction::Push { registry } => {
            for target in push(&engine, workbook, &registry).await? {
                println!("✔ pushed {target}");
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

pub async fn images_command(
    workbook: &Workbook,
    offline: bool,
    list_only: bool,
    from: Option<String>,
) -> Outcome {
    if list_only {
        for (image, (file, line)) in needed_images(workbook)? {
            println!("{image}  (first used at {}:{line})", file.display());
        }
        return Ok(ExitCode::SUCCESS);
    }
    let engine = crate::commands::connect().await?;
    let report = match &from {
        Some(registry) => pull_from(&engine, workbook, registry).await?,
        None => {
            let mut progress = crate::ui::TerminalProgress::new("base images");
            ensure(&engine, workbook, offline, &mut progress).await?
        }
    };
    for image in &report.present {
        println!("✔ {image} (already there)");
    }
    for image in &report.made {
        println!(
            "✔ {image} ({})",
            if offline { "built locally" } else { "pulled" }
        );
    }
    for (image, why) in &report.missing {
        println!("✘ {image}: {why}");
    }
    if report.missing.is_empty() {
        return Ok(ExitCode::SUCCESS);
    }
    if !offline {
        eprintln!("Some images could not be pulled. Without a registry, `checker images --offline` builds the Debian and distroless bases locally.");
    }
    Ok(ExitCode::from(2))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_six_distroless_images_and_their_targets() {
        assert_eq!(
            distroless_target("gcr.io/distroless/static-debian12:nonroot"),
            Some("static-nonroot")
        );
        // No tag is `:latest`, as the engine reads it.
        assert_eq!(
            distroless_target("gcr.io/distroless/cc-debian12"),
            Some("cc")
        );
        assert_eq!(distroless_target("gcr.io/distroless/java17-debian12"), None);
        assert_eq!(distroless_target("debian:bookworm"), None);
        // Every target the table names is a stage of the Dockerfile.
        for (_, target) in DISTROLESS_IMAGES {
            assert!(
                DISTROLESS_DOCKERFILE
                    .lines()
                    .any(|l| l.starts_with("FROM ") && l.ends_with(&format!(" AS {target}"))),
                "{target}"
            );
        }
        // Docker 20.10's built-in frontend must build it without fetching anything.
        assert!(!DISTROLESS_DOCKERFILE.contains("# syntax="));
        assert!(!DISTROLESS_DOCKERFILE.contains("<<"));
    }

    #[test]
    fn mirror_from_deb822_and_one_line_sources() {
        let deb822 = "Types: deb\n# http://snapshot.debian.org/x\nURIs: http://deb.debian.org/debian\nSuites: bookworm\n\nURIs: http://deb.debian.org/debian-security\n";
        assert_eq!(
            mirror_in(deb822).as_deref(),
            Some("http://deb.debian.org/debian")
        );
        let line = "# comment\ndeb [arch=amd64] http://mirror.local/debian bookworm main\n";
        assert_eq!(
            mirror_in(line).as_deref(),
            Some("http://mirror.local/debian")
        );
        assert_eq!(
            mirror_in("deb http://security.debian.org/debian-security bookworm-security main\n"),
            None
        );
    }
}
