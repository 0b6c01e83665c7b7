//! What the checker measured about one built image: plain data, filled in by `check` from
//! the engine and the Dockerfile (and by the goals' probes), judged by `goals`, printed by
//! `report`. `user` resolves the image's uid.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

pub mod inventory;
pub mod packages;
pub mod user;

use user::ResolvedUser;

// `default`: fields left out when empty read back as empty (the result cache reads these).
#[derive(Debug, Clone, Serialize, Deserialize, Default)]
#[serde(default)]
pub struct Measurements {
    /// Uncompressed file bytes of the layers: what the classic image store's
    /// `docker image inspect .Size` and `docker images` report, measured the same way on the
    /// containerd store (whose own figures are compressed content and disk usage).
    pub image_size: u64,
    /// What a pull transfers (the compressed layer blobs), where the engine keeps them (the
    /// containerd store); null on the classic store.
    pub compressed_size: Option<u64>,
    /// The starter's image size, when a relative-size goal needs it.
    pub starter_size: Option<u64>,
    pub layer_count: usize,
    pub stage_count: usize,
    /// Stages the final stage depends on, directly or transitively.
    pub final_depends_on: usize,
    pub user: Option<ResolvedUser>,
    /// USER instructions in stages that do not end up in the image: (stage, user, line).
    pub users_outside_target: Vec<(String, String, usize)>,
    /// Path → whether it exists in the final image.
    pub paths: BTreeMap<String, bool>,
    /// Goal id → how the app behaved.
    pub apps: BTreeMap<String, AppOutcome>,
    /// When `apps` are the outcomes of an earlier check, in this run of the checker, of an
    /// image with the same id (same layers, same config): the time of that check. None:
    /// the apps ran for this check.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub apps_ran_at: Option<chrono::DateTime<chrono::Utc>>,
    /// The largest layers with the instruction that made each, largest first.
    pub largest_layers: Vec<Layer>,
    /// Wall time of the build, seconds.
    pub build_seconds: f64,
    /// BuildKit steps that came from the cache / all steps.
    pub cached_steps: usize,
    pub total_steps: usize,
    /// Bytes of file content in the build context sent to the engine.
    pub context_bytes: u64,
    /// Files in the build context.
    pub context_files: usize,
    /// Their paths; not in reports (a junk folder can hold thousands).
    #[serde(skip)]
    pub context_paths: std::collections::BTreeSet<String>,
    /// Goal id → what the extra builds of a probing goal found.
    pub probes: BTreeMap<String, ProbeOutcome>,
    /// Stages the final stage depends on that run nothing (no RUN of their own, nothing
    /// copied from a stage that does): a `FROM scratch AS dummy` with a COPY from the
    /// context feeds the final stage nothing it could not copy from the context itself.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub idle_dependencies: Vec<String>,
    /// Global ARGs a stage uses without declaring them again (empty there), for the app
    /// goals' advice.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub undeclared_args: Vec<UndeclaredArg>,
    /// The image the final stage starts from, when the final image begins with all its
    /// layers (None: FROM scratch, or the layers are not shared).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub base: Option<BaseLayers>,
    /// What a container of the image runs (None: not measured).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub command: Option<ImageCommand>,
    /// Every file of the final image with where it came from (None: not measured).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub inventory: Option<inventory::Inventory>,
}

/// A global ARG that a stage uses without declaring it again, so it is empty there (as
/// `docker::dockerfile::StageGraph::undeclared_args` finds them).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UndeclaredArg {
    /// The stage, as BuildKit names it (`build`, `stage-1`).
    pub stage: String,
    pub name: String,
    /// 1-based line of the first instruction that uses it.
    pub line: usize,
}

/// What a container of the image runs (its config's ENTRYPOINT and CMD, both in exec form:
/// a shell form is `/bin/sh -c …`), from which folder, with which PATH.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct ImageCommand {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub entrypoint: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub cmd: Vec<String>,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub working_dir: String,
    /// The PATH the image sets (None: the runtime's default).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
}

impl ImageCommand {
    /// What runs: ENTRYPOINT followed by CMD (CMD alone without an ENTRYPOINT).
    pub fn argv(&self) -> Vec<String> {
        self.entrypoint.iter().chain(&self.cmd).cloned().collect()
    }
}

/// The final image's first layers, which are its base image's.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct BaseLayers {
    pub image: String,
    /// How many of the (non-empty) layers in `largest_layers`' numbering are the base's.
    pub layers: usize,
    pub size: u64,
    /// The same image's `-slim` tag (`debian:bookworm` → `debian:bookworm-slim`) and its
    /// size, when the engine has it: the saving the size advice can promise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub slim: Option<SlimSibling>,
}

/// A smaller tag of the base image's repository that is already on the engine.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct SlimSibling {
    pub image: String,
    pub size: u64,
}

/// What the extra build(s) of a goal found.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(tag = "probe", rename_all = "kebab-case")]
pub enum ProbeOutcome {
    /// `parallel-stages`: the final stage's independent dependencies, and how long their
    /// work overlapped in a build without cache (None: nothing ran to compare).
    Parallel {
        independent: Vec<String>,
        /// Independent stages left out: the final image holds nothing they made.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        idle: Vec<String>,
        overlap_seconds: Option<f64>,
    },
    /// `cache-reuse`: a build, then one after a source edit, and what the second fetched
    /// again.
    CacheReuse(Rebuilt),
    /// `test-stage`: whether the test target built on the context as it is, and how it
    /// went with each of the exercise's faults, and each correct rewrite, swapped in.
    TestStage {
        clean_passed: bool,
        clean_error: Option<String>,
        faults: Vec<Swapped>,
        rewrites: Vec<Swapped>,
    },
    /// `build-arg`: the ARG's default (None: not declared before FROM), whether the build
    /// with the alternate value failed (and how), how the app goals went on it, whether it
    /// is still built on the default build's base (for an ARG that changes the base). The
    /// global ARGs a stage uses without declaring them are the measurements' own
    /// (`undeclared_args`), which the run and http goals name too.
    BuildArg {
        default: Option<String>,
        build_error: Option<String>,
        apps: BTreeMap<String, AppOutcome>,
        base: Option<AlternateBase>,
    },
    /// `wasted-bytes`: dive's count, with the paths that waste most.
    WastedBytes { bytes: u64, top: Vec<(String, u64)> },
    /// `packages`: what dpkg's database in the final image lists as installed, and (when
    /// the goal names a base image) the names the base image's own database lists (None:
    /// the goal names no base).
    Packages {
        installed: Vec<packages::Package>,
        base: Option<Vec<String>>,
        /// The packages the Dockerfile asks apt to install in the final image's stages:
        /// what the learner named is wanted (and what it needs), only what came unasked is
        /// judged.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        named: Vec<String>,
    },
    /// `sources-absent`: the exercise's source files found in the final filesystem, by
    /// content: (source path in the exercise folder, path in the image).
    Sources { found: Vec<(String, String)> },
    /// `base-image`: how many layers the declared base image has, and how many of them
    /// begin the final image.
    BaseImage { base_layers: usize, shared: usize },
    /// `secret-absent`: each place the secret was found, in any form ("stage build: layer 5
    /// of 9 (COPY data.key ./): raw in src/data.key"), the stages looked into, the stages
    /// that could not be built to look into them (stage, why), and what the search's bounds
    /// left unopened (a compressed file too large, nested too deep).
    Secret {
        found: Vec<String>,
        searched: Vec<String>,
        unbuilt: Vec<(String, String)>,
        #[serde(default)]
        unsearched: Vec<String>,
    },
    /// `cache-mount`: a build, then one after a source edit with every copy of the
    /// dependencies' source emptied, and what the second fetched again.
    CacheMount(Rebuilt),
}

/// What the cache goals' probes measured: a build with cache mounts of the probe's own
/// (empty at first: what other builds left in shared mounts is not there), then one after a
/// source file changed (for `cache-mount`, also with every file whose content is the
/// dependencies' emptied), and which of the layers that second build made anew hold files
/// of the dependencies: a step that ran again and wrote them fetched them again.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct Rebuilt {
    /// Cache mounts of the Dockerfile's steps, each given an id of the probe's own.
    pub own_cache_mounts: usize,
    /// How many distinct files the dependencies hold (the files under the goal's folder, and
    /// those inside its zip archives), which the layers are searched for by content.
    pub dependency_files: usize,
    /// Files of the build context emptied for the build after the edit: every copy of a
    /// dependency file, wherever it is (`cache-mount`).
    pub withheld: Vec<String>,
    /// Why the build before the edit failed (None: it built).
    pub before_error: Option<String>,
    /// Why the build after the edit failed (None: it built, or it was not tried).
    pub after_error: Option<String>,
    /// Layers the build after the edit made that the build before it did not.
    pub new_layers: usize,
    /// The steps among them that wrote files of the dependencies into their layer.
    pub fetched: Vec<FetchingStep>,
}

/// A `RUN` step that ran again after the edit and wrote files of the dependencies into its
/// layer.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct FetchingStep {
    /// The stage whose image holds the layer (`build`, `stage-0`).
    pub stage: String,
    /// The instruction, as the Dockerfile writes its command (`RUN go mod download`).
    pub step: String,
    /// Its line in the Dockerfile (None: no step's command matched the layer's history).
    pub line: Option<usize>,
    /// How many files of the dependencies the layer holds, and the first few of them.
    pub files: usize,
    pub paths: Vec<String>,
    /// Cache mounts other steps put on a folder these files were written to: (target, line
    /// of that step). The files were meant to be there, in a cache this step did not mount.
    pub cached_elsewhere: Vec<(String, usize)>,
}

/// The default build's base image, its layer count, and whether the alternate build's
/// image still starts with those layers.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct AlternateBase {
    pub default_base: String,
    pub layers: usize,
    pub kept: bool,
}

/// One build of a test target with a file swapped in: the file swapped in, whether the
/// build passed, and if not where (the failing step) or why (the error's first line).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Swapped {
    pub with: String,
    pub passed: bool,
    pub failure: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Layer {
    /// 1-based position in the image, base layers first.
    pub position: usize,
    pub size: u64,
    pub created_by: String,
}

/// How a run or HTTP check went.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(tag = "outcome", rename_all = "kebab-case")]
pub enum AppOutcome {
    /// The container ran to the end.
    Exited {
        exit_code: i64,
        stdout: String,
        stderr: String,
        seconds: f64,
        /// The word chosen for this run, where the goal's command asks for one (`@word@`):
        /// an answer printed in advance cannot know it.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        word: Option<String>,
    },
    /// The container did not exit within the limit; it was killed and removed.
    TimedOut { after_seconds: u64, stdout: String },
    /// The server answered.
    Answered {
        status: u16,
        body: String,
        seconds: f64,
        /// The uids the container's processes ran as when it answered (`docker top`):
        /// what the runtime really did with USER, whatever the image says.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        uids: Vec<u32>,
    },
    /// The server did not answer within the limit (or exited first).
    NeverAnswered {
        after_seconds: f64,
        exited_with: Option<i64>,
        logs: String,
    },
    /// The container could not be created or started.
    FailedToStart { message: String },
}

/// Sizes as `docker images` prints them: decimal megabytes.
pub fn format_mb(bytes: u64) -> String {
    let mb = bytes as f64 / 1e6;
    if mb < 10.0 {
        format!("{mb:.2} MB")
    } else {
        format!("{mb:.1} MB")
    }
}

pub fn mb(bytes: u64) -> f64 {
    bytes as f64 / 1e6
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_are_decimal_megabytes() {
        assert_eq!(format_mb(646_200_000), "646.2 MB");
        assert_eq!(format_mb(790_000), "0.79 MB");
        assert_eq!(mb(1_500_000), 1.5);
    }
}
