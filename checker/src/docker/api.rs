//! What the checker's pipeline asks of a Docker engine, and the words it asks in: the
//! [`EngineApi`] trait (`check`, `build`, the goals and their probes, `contents`, the check
//! and grade commands and the authors' measure, verify and doctest take `&dyn EngineApi`), the requests and answers it passes
//! (a [`BuildRequest`], a [`BuildOutcome`] or [`BuildFailure`], [`ImageFacts`]…), where a
//! build reports its progress ([`BuildProgress`]) and the engine its warnings ([`Warnings`]).
//!
//! `docker::engine::Engine` answers through bollard and a real engine; `docker::fake` (tests
//! only) answers from memory, so everything above this seam is tested without a daemon.
//! Nothing here knows bollard.

use std::collections::BTreeMap;
use std::time::Duration;

use crate::docker::engine_info::{EngineInfo, ImageStore};
use crate::docker::ledger::{self, Pending};
use crate::docker::oci::Platform;
use crate::error::CheckerError;
use crate::facts::{AppOutcome, Layer};

/// Images are tagged `workbook-<scope>/<exercise>:<variant>`, the scope being the checkout's
/// (`workbook::exercise::checkout_scope`).
pub const IMAGE_REPOSITORY_PREFIX: &str = "workbook";
/// Every image and container the checker creates carries this label (value `true`), so it
/// can find and remove what it owns and nothing else.
pub const OWNER_LABEL: &str = "org.workbook.checker";
pub const EXERCISE_LABEL: &str = "org.workbook.exercise";
/// The checkout an image or container belongs to (its tag's scope): `clean` removes only its
/// own checkout's.
pub const SCOPE_LABEL: &str = "org.workbook.scope";
pub const VARIANT_LABEL: &str = "org.workbook.variant";

/// The request `serve_and_get` asks of an app until it answers with `expected_status`.
#[derive(Debug, Clone, Copy)]
pub struct HttpRequest<'a> {
    pub port: u16,
    pub path: &'a str,
    pub expected_status: u16,
}

/// What an app container may do beyond running its image: by default nothing (no
/// capability, a read-only root filesystem with a scratch `/tmp`). Its network is not a
/// setting: an app served over HTTP has the default bridge for its published port, any
/// other container none.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Sandbox {
    /// The image's root filesystem is writable (an app that writes its data beside it).
    pub writable: bool,
    /// Linux capabilities added back after dropping them all (`CHOWN`, `SETUID`, …).
    pub capabilities: Vec<String>,
}

/// Where the engine reports what it could not clean up (a container, a replaced image): a
/// warning, never a reason to fail a check. The commands send them to stderr.
pub trait Warnings: Send + Sync {
    fn warn(&self, message: &str);
}

/// One build, as the pipeline asks for it.
#[derive(Clone)]
pub struct BuildRequest {
    /// The build context, served to the engine through a BuildKit session.
    pub context: crate::docker::context::Folder,
    /// Path of the Dockerfile inside the context's folder (or its overlay).
    pub dockerfile: String,
    pub tag: String,
    pub labels: BTreeMap<String, String>,
    pub build_args: BTreeMap<String, String>,
    /// Secrets by id, for `RUN --mount=type=secret` (served through the session).
    pub secrets: BTreeMap<String, Vec<u8>>,
    pub target: Option<String>,
    pub no_cache: bool,
}

/// One BuildKit vertex (a step, or an internal operation such as loading the context).
#[derive(Debug, Clone, Default, serde::Serialize, serde::Deserialize)]
pub struct BuildStep {
    pub name: String,
    pub cached: bool,
    /// Seconds since the build started.
    pub started: Option<f64>,
    pub completed: Option<f64>,
    pub error: Option<String>,
    /// What the step printed (its last 64 KiB): what it did, for goals that judge that
    /// (a compile step that downloads modules again). Not in reports.
    #[serde(skip)]
    pub log: String,
}

pub struct BuildOutcome {
    pub steps: Vec<BuildStep>,
    /// What the Dockerfile frontend's build checks found (`UndefinedVar`, `FromAsCasing`…):
    /// BuildKit 0.14 and later (Engine 27.0+) report them with every build; older engines
    /// report none.
    pub warnings: Vec<BuildWarning>,
    pub seconds: f64,
    /// The context files the engine was offered, as it asked for them.
    pub context: crate::docker::context::Offered,
    /// The id of the image built, as the engine announced it at the end of the build
    /// (`moby.image.id`); None if it did not.
    pub image_id: Option<String>,
}

/// One finding of BuildKit's build checks, as the engine reported it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct BuildWarning {
    /// The check and what it found: "UndefinedVar: Usage of undefined variable '$V'".
    pub message: String,
    /// 1-based line of the Dockerfile it points at, when it points at one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub line: Option<usize>,
    /// The check's documentation page.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub url: String,
}

/// Why a build failed: the step and the tail of its log, or the engine's message.
#[derive(Debug, Clone)]
pub struct BuildFailure {
    pub step: Option<String>,
    pub message: String,
    pub log_tail: String,
}

impl BuildFailure {
    /// Whether the engine, not the Dockerfile, failed the build, so that the same build
    /// again succeeds. Two races of the engine's own, met when other builds run beside this
    /// one (a class graded with `--jobs`, a probe's extra builds, the test suite):
    /// - On the containerd image store, removing an image (a `checker clean`, `docker image
    ///   prune`, or another check replacing its own image) while a build runs can take
    ///   content that build's cache still points to (moby/moby#48700): "parent snapshot …
    ///   does not exist: not found", or a step that ran to its end failing with a bare
    ///   "not found" as its whole message.
    /// - BuildKit runs a step that two builds share once, for both; when the other build
    ///   is cancelled or fails, the shared step can end "context canceled" for this one
    ///   too (seen on 28.5 while exercise 10's probe rebuilt without cache beside checks
    ///   of 07 and 15).
    ///
    /// A step the Dockerfile makes fail ends "did not complete successfully: exit code: N",
    /// a missing file names the file, and a cancelled check (Ctrl-C, a grading timeout)
    /// never reaches this question: none of those is tried again.
    pub fn lost_to_the_engine(&self) -> bool {
        let message = self.message.trim();
        let lost_content = [&self.message, &self.log_tail].iter().any(|text| {
            text.contains(": not found")
                && ["snapshot", "content digest", "blob sha256"]
                    .iter()
                    .any(|what| text.contains(what))
        });
        let exit_code = message.contains("did not complete successfully");
        lost_content
            || (!exit_code && (message == "not found" || message.ends_with("context canceled")))
    }
}

/// What the checker needs to know of a built image.
pub struct ImageFacts {
    pub id: String,
    /// Uncompressed file bytes of the layers, on every image store (see `sizes`).
    pub size: u64,
    /// What a pull transfers (the compressed layer blobs), where the engine keeps them
    /// (the containerd store); None on the classic store, which keeps layers unpacked only.
    pub compressed_size: Option<u64>,
    pub user: String,
    pub layer_count: usize,
    /// The layers' content digests (`RootFS.Layers`), base first.
    pub diff_ids: Vec<String>,
    /// What a container of the image runs, and where.
    pub command: crate::facts::ImageCommand,
}

/// Receives build progress; the terminal UI implements it.
pub trait BuildProgress: Send {
    fn step(&mut self, step: &BuildStep);
    /// A line about the work around the build: what extra builds a goal makes, and why.
    fn note(&mut self, message: &str);
    /// What step `step` (its name) printed, a chunk at a time as the engine streams it (not
    /// always whole lines). Dropped unless the user asked to see it (`checker -v`).
    fn log(&mut self, _step: &str, _output: &[u8]) {}
}

/// The questions and actions of one check, as the pipeline asks them of an engine. Every
/// image is named as the engine's API names it: a tag (`debian:bookworm`) or an id.
#[async_trait::async_trait]
pub trait EngineApi: Send + Sync {
    /// The engine's version, API, platform and image store; asked once per run.
    async fn info(&self) -> Result<&EngineInfo, CheckerError>;

    /// "Docker Engine 28.5.2 (API 1.51, containerd image store)", for reports.
    async fn describe(&self) -> String {
        match self.info().await {
            Ok(info) => info.describe(),
            Err(e) => format!("unknown engine ({e})"),
        }
    }

    /// Which image store the engine uses: it decides how sizes are measured.
    async fn image_store(&self) -> Result<ImageStore, CheckerError> {
        Ok(self.info().await?.image_store)
    }

    /// The platform the engine runs images for (`linux/amd64`): which image of a
    /// multi-platform `docker save` archive is the one it runs.
    async fn platform(&self) -> Result<Platform, CheckerError> {
        let info = self.info().await?;
        Ok(Platform::from_engine(&info.os, &info.arch))
    }

    async fn image_exists(&self, image: &str) -> Result<bool, CheckerError>;

    /// The id of the image a tag points at; None when there is no such image.
    async fn image_id(&self, image: &str) -> Result<Option<String>, CheckerError>;

    /// Size, user, layers and id of an image on the engine (an error when there is none).
    async fn inspect(&self, image: &str) -> Result<ImageFacts, CheckerError>;

    /// The digests of the image's layers (its `RootFS` diff ids), base first: an image built
    /// on another starts with that image's.
    async fn diff_ids(&self, image: &str) -> Result<Vec<String>, CheckerError>;

    /// The image's layers with content, with the instruction that made each, base first,
    /// numbered as its filesystem layers count.
    async fn layers(&self, image: &str) -> Result<Vec<Layer>, CheckerError>;

    /// The image's /etc/passwd and /etc/group (None: it has none), links followed inside
    /// the image, and whether each of `paths` exists in its filesystem, read without running
    /// it; what the engine makes for it carries `labels`.
    async fn inspect_files(
        &self,
        image: &str,
        labels: &BTreeMap<String, String>,
        paths: &[String],
    ) -> Result<(UserFiles, BTreeMap<String, bool>), CheckerError>;

    /// The build cache records whose description holds `marker`, as (id, description): the
    /// cache mounts a probe made under ids of its own.
    async fn build_cache_records(
        &self,
        marker: &str,
    ) -> Result<Vec<(String, String)>, CheckerError>;

    /// Removes one build cache record by its id.
    async fn remove_build_cache(&self, id: &str) -> Result<(), CheckerError>;

    /// dpkg's database in `image` (its status and every package's `*.md5sums`), read
    /// without running it; empty when the image has none.
    async fn read_dpkg(
        &self,
        image: &str,
        labels: &BTreeMap<String, String>,
    ) -> Result<DpkgFiles, CheckerError>;

    /// The image's metadata as text, each with where it is: every history entry, and the
    /// config (environment, labels, command…). What anyone who has the image can read.
    async fn metadata_texts(&self, image: &str) -> Result<Vec<(String, String)>, CheckerError>;

    /// Writes `docker save IMAGE` into `file`, for reading the layers' contents.
    async fn export_image(&self, image: &str, file: &mut std::fs::File)
        -> Result<(), CheckerError>;

    /// Pulls `image`, reporting each progress line; the error says why it could not.
    async fn pull(
        &self,
        image: &str,
        on_progress: &mut (dyn for<'line> FnMut(&'line str) + Send),
    ) -> Result<(), String>;

    /// Builds `request`, streaming each step to `progress`. A build that fails on the
    /// Dockerfile is an `Ok(Err(…))`: the engine worked, the Dockerfile did not.
    async fn build(
        &self,
        request: BuildRequest,
        progress: &mut dyn BuildProgress,
    ) -> Result<Result<BuildOutcome, BuildFailure>, CheckerError>;

    /// Records that a build is about to (re)tag `tag`, which points at `before` now: if the
    /// run is dropped before the guard is settled, the tag goes back to `before` and the
    /// image the build made is removed (see `docker::ledger`).
    fn record_build(&self, tag: &str, before: Option<String>) -> Pending;

    /// Runs the image to its end (or `timeout`) in `sandbox`, with `command` instead of its
    /// own CMD when given, and collects its output.
    async fn run_to_exit(
        &self,
        image: &str,
        command: Option<Vec<String>>,
        labels: &BTreeMap<String, String>,
        sandbox: &Sandbox,
        timeout: Duration,
    ) -> Result<AppOutcome, CheckerError>;

    /// Starts the image, then asks `request` of it until the expected status comes back, the
    /// container exits, or `timeout` runs out.
    async fn serve_and_get(
        &self,
        image: &str,
        request: &HttpRequest<'_>,
        labels: &BTreeMap<String, String>,
        sandbox: &Sandbox,
        timeout: Duration,
    ) -> Result<AppOutcome, CheckerError>;

    /// Removes an image (by tag: the tag, and the image when no other tag holds it); one
    /// already gone is no error. No unfinished build of it is left for the ledger to undo.
    async fn remove_image(&self, image: &str) -> Result<(), CheckerError>;

    /// Removes an image a build replaced (by id), on a task of its own, unless something
    /// still uses it: then it is not garbage. Failing to is a warning.
    async fn remove_replaced_image(&self, id: &str);

    /// Waits until the images that this run's builds replaced are removed, and unfinished
    /// builds undone: a build waits before it reads what its tag points at, since it may make
    /// one of them again (an image removed by its id loses its only tag with it), and an
    /// undoing removes whatever its tag points at when it runs.
    async fn replaced_images_removed(&self) {
        tokio::join!(ledger::replacements_done(), ledger::images_undone());
    }
}

/// An instruction as history records it, short enough for a message: BuildKit's
/// `/bin/sh -c` prefix and `# buildkit` suffix left out, cut at 60 characters.
pub fn short_step(created_by: &str) -> String {
    let step = step_text(created_by);
    match step.char_indices().nth(60) {
        Some((at, _)) => format!("{}…", &step[..at]),
        None => step,
    }
}

/// A history entry's instruction as the Dockerfile wrote it, whole: without the shell
/// and BuildKit's mark.
pub fn step_text(created_by: &str) -> String {
    created_by
        .trim()
        .trim_end_matches("# buildkit")
        .trim()
        .replace("/bin/sh -c ", "")
}

/// The image's user database, as the runtime reads it to resolve USER.
#[derive(Debug, Clone, Default)]
pub struct UserFiles {
    pub passwd: Option<String>,
    pub group: Option<String>,
}

/// dpkg's database as an image holds it: the status texts (one file, or distroless's
/// one-per-package `status.d/`) and each package's `*.md5sums` (path, text).
#[derive(Debug, Clone, Default)]
pub struct DpkgFiles {
    pub status: Vec<String>,
    pub md5sums: Vec<(String, String)>,
}

#[cfg(test)]
mod tests {
    use super::BuildFailure;

    fn failure(message: &str, log_tail: &str) -> BuildFailure {
        BuildFailure {
            step: Some("[build 2/5] RUN apt-get install -y golang-go".into()),
            message: message.into(),
            log_tail: log_tail.into(),
        }
    }

    #[test]
    fn the_engines_own_races_are_told_from_the_dockerfiles_failures() {
        // Seen on 28.5 (containerd store) with checks beside each other.
        for lost in [
            "not found",
            "context canceled",
            "failed to solve: context canceled",
            "failed to prepare extraction snapshot \"extract-1 sha256:3b\": parent snapshot sha256:9e does not exist: not found",
        ] {
            let log = "Setting up golang-go:amd64 (2:1.19~1) ...";
            assert!(failure(lost, log).lost_to_the_engine(), "{lost}");
        }
        // The Dockerfile's own: a command that fails, a file the context lacks.
        for own in [
            "process \"/bin/sh -c go build\" did not complete successfully: exit code: 1",
            "failed to compute cache key: failed to calculate checksum of ref abc::def: \"/goproxy\": not found",
            "process \"/bin/sh -c curl https://x\" did not complete successfully: exit code: 6 context canceled",
        ] {
            assert!(!failure(own, "").lost_to_the_engine(), "{own}");
        }
    }
}
