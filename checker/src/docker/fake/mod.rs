//! An engine that answers from memory, for tests of everything above the engine seam
//! (`docker::api::EngineApi`): no daemon, a check in milliseconds. Compiled for tests only.
//!
//! A test gives it images (tag → [`FakeImage`]), says what builds produce ([`FakeEngine::on_build`]:
//! an image with its steps, or a failure on a step), and what an image's program does when
//! run ([`FakeApp`]); afterwards it asks which calls were made ([`FakeEngine::calls`]).
//! Tags, ids, replaced images and the ledger's undoings behave as on an engine: a build
//! moves its tag, a failed build tags nothing, an unfinished build dropped is undone.

pub mod exercises;
mod image;

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

pub use image::{deleted, dir, file, sized, FakeApp, FakeConfig, FakeEntry, FakeImage};

use crate::docker::api::{
    step_text, BuildFailure, BuildOutcome, BuildProgress, BuildRequest, BuildStep, BuildWarning,
    DpkgFiles, EngineApi, HttpRequest, ImageFacts, Sandbox, UserFiles,
};
use crate::docker::context::{self, Offered};
use crate::docker::endpoint::EndpointReport;
use crate::docker::engine_info::{EngineInfo, ImageStore};
use crate::docker::ledger::{self, Pending, Undo};
use crate::error::CheckerError;
use crate::facts::{AppOutcome, Layer};

/// Build progress kept for the test to read: the steps reported and the notes.
#[derive(Default)]
pub struct Recorded {
    pub steps: Vec<BuildStep>,
    pub notes: Vec<String>,
}

impl BuildProgress for Recorded {
    fn step(&mut self, step: &BuildStep) {
        self.steps.push(step.clone());
    }
    fn note(&mut self, message: &str) {
        self.notes.push(message.to_string());
    }
}

/// What a scripted build produces.
#[derive(Debug, Clone)]
pub enum ScriptedBuild {
    /// The build succeeds: `image` is tagged, `steps` are what BuildKit reported.
    Image {
        image: Box<FakeImage>,
        steps: Vec<BuildStep>,
        warnings: Vec<BuildWarning>,
    },
    /// The build fails on a step, as BuildKit reports it.
    Fails(BuildFailure),
    /// The build takes `time` (a long compile), then produces `then`.
    Takes {
        time: Duration,
        then: Box<ScriptedBuild>,
    },
}

impl ScriptedBuild {
    /// A build of `image` whose steps are `(name, cached)`.
    pub fn image(image: FakeImage, steps: &[(&str, bool)]) -> ScriptedBuild {
        ScriptedBuild::Image {
            image: Box::new(image),
            steps: steps
                .iter()
                .map(|(name, cached)| BuildStep {
                    name: name.to_string(),
                    cached: *cached,
                    ..BuildStep::default()
                })
                .collect(),
            warnings: vec![],
        }
    }

    /// This build, after `time`.
    pub fn taking(self, time: Duration) -> ScriptedBuild {
        ScriptedBuild::Takes {
            time,
            then: Box::new(self),
        }
    }

    /// A build that fails on `step` with `message`, its log ending in `log_tail`.
    pub fn fails(step: &str, message: &str, log_tail: &str) -> ScriptedBuild {
        ScriptedBuild::Fails(BuildFailure {
            step: Some(step.to_string()),
            message: message.to_string(),
            log_tail: log_tail.to_string(),
        })
    }
}

/// The Dockerfile `request` builds, as the engine reads it: from the context's overlay
/// (a probe's variation) or its folder. What a script's build produces depends on it, as a
/// real build's does.
pub fn dockerfile_of(request: &BuildRequest) -> String {
    match request.context.overlay.get(&request.dockerfile) {
        Some(bytes) => String::from_utf8_lossy(bytes).into_owned(),
        None => std::fs::read_to_string(request.context.root.join(&request.dockerfile))
            .unwrap_or_default(),
    }
}

/// Says what a build request produces; None: another script's request.
type BuildScript = Box<dyn Fn(&BuildRequest) -> Option<ScriptedBuild> + Send>;

/// One call the pipeline made, as tests assert on them.
#[derive(Debug, Clone, PartialEq)]
pub enum Call {
    Build {
        tag: String,
        build_args: BTreeMap<String, String>,
        target: Option<String>,
        no_cache: bool,
    },
    Run {
        image: String,
        command: Option<Vec<String>>,
    },
    Serve {
        image: String,
        port: u16,
        path: String,
    },
    Pull {
        image: String,
    },
    Export {
        image: String,
    },
    RemoveImage {
        image: String,
    },
    RemoveReplacedImage {
        id: String,
    },
    /// The ledger has undone an unfinished build of `tag` (its guard was dropped unsettled).
    RestoreTag {
        tag: String,
        before: Option<String>,
    },
}

#[derive(Default)]
struct State {
    /// By id.
    images: BTreeMap<String, FakeImage>,
    /// Tag → id.
    tags: BTreeMap<String, String>,
    /// What a pull can fetch, by name.
    registry: BTreeMap<String, FakeImage>,
    builds: Vec<BuildScript>,
    calls: Vec<Call>,
    /// How long undoing an unfinished build takes (an engine removing an image).
    undo_delay: Duration,
}

impl State {
    /// The id of `image`: a tag (`debian` meaning `debian:latest`) or an id.
    fn resolve(&self, image: &str) -> Option<String> {
        if self.images.contains_key(image) {
            return Some(image.to_string());
        }
        self.tags
            .get(image)
            .or_else(|| self.tags.get(&format!("{image}:latest")))
            .cloned()
    }

    fn image(&self, image: &str) -> Result<&FakeImage, CheckerError> {
        self.resolve(image)
            .and_then(|id| self.images.get(&id))
            .ok_or_else(|| CheckerError::EngineReply(format!("No such image: {image}")))
    }

    fn tag(&mut self, tag: &str, image: FakeImage) -> String {
        let id = image.id();
        self.images.insert(id.clone(), image);
        self.tags.insert(tag.to_string(), id.clone());
        id
    }

    /// Removes `image`: a tag is untagged, and its image removed when no other tag holds it;
    /// an id is removed with its tags.
    fn remove(&mut self, image: &str) {
        let id = match self.tags.remove(image) {
            Some(id) if self.tags.values().any(|other| *other == id) => return,
            Some(id) => id,
            None => image.to_string(),
        };
        self.tags.retain(|_, other| *other != id);
        self.images.remove(&id);
    }
}

/// The engine in memory. Cheap to clone: clones share their images and calls.
#[derive(Clone)]
pub struct FakeEngine {
    info: EngineInfo,
    state: Arc<Mutex<State>>,
}

impl Default for FakeEngine {
    fn default() -> FakeEngine {
        FakeEngine::new()
    }
}

impl FakeEngine {
    /// An engine with no image. Each has an endpoint of its own: the pipeline keeps some
    /// answers for the process under the engine's facts (the starter's size, the apps of an
    /// image), and two tests' engines must not share them.
    pub fn new() -> FakeEngine {
        static ENGINES: AtomicU64 = AtomicU64::new(0);
        let number = ENGINES.fetch_add(1, Ordering::Relaxed);
        let info = EngineInfo {
            version: "0.0.0-fake".into(),
            api_version: "1.51".into(),
            os: "linux".into(),
            arch: "amd64".into(),
            operating_system: "memory".into(),
            image_store: ImageStore::Classic,
            storage_driver: "memory".into(),
            buildkit: true,
            root_dir: None,
            host_name: String::new(),
            kernel: String::new(),
            endpoint: Some(EndpointReport {
                host: format!("fake://engine-{number}"),
                source: "command-line".into(),
                context: None,
                config_file: None,
                tls: false,
            }),
        };
        FakeEngine {
            info,
            state: Default::default(),
        }
    }

    fn state(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Puts `image` on the engine under `tag`; its id.
    pub fn add_image(&self, tag: &str, image: FakeImage) -> String {
        self.state().tag(tag, image)
    }

    /// Lets a pull of `name` fetch `image`.
    pub fn publish(&self, name: &str, image: FakeImage) {
        self.state().registry.insert(name.to_string(), image);
    }

    /// Builds for which `script` answers produce what it says; the script given last is
    /// asked first, so a test can change what one build of a set-up exercise produces. A
    /// build no script answers is an engine error.
    pub fn on_build(
        &self,
        script: impl Fn(&BuildRequest) -> Option<ScriptedBuild> + Send + 'static,
    ) {
        self.state().builds.push(Box::new(script));
    }

    /// Builds tagged `…:<suffix>` (`solution`, `learner-alternate`) produce `build`.
    pub fn on_build_of(&self, suffix: &str, build: ScriptedBuild) {
        let suffix = format!(":{suffix}");
        self.on_build(move |request| request.tag.ends_with(&suffix).then(|| build.clone()));
    }

    /// Undoing an unfinished build takes `delay` (a busy engine removing an image).
    pub fn undo_takes(&self, delay: Duration) {
        self.state().undo_delay = delay;
    }

    pub fn calls(&self) -> Vec<Call> {
        self.state().calls.clone()
    }

    fn record(&self, call: Call) {
        self.state().calls.push(call);
    }

    /// How many builds of `tag` were asked for.
    pub fn builds_of(&self, tag: &str) -> usize {
        let builds = self.calls().into_iter();
        builds
            .filter(|c| matches!(c, Call::Build { tag: t, .. } if t == tag))
            .count()
    }

    /// How many times `image`'s program was started (run or served).
    pub fn runs_of(&self, image: &str) -> usize {
        let calls = self.calls().into_iter();
        calls
            .filter(|c| {
                matches!(c, Call::Run { image: i, .. } | Call::Serve { image: i, .. } if i == image)
            })
            .count()
    }

    /// The id `tag` points at now.
    pub fn id_of(&self, tag: &str) -> Option<String> {
        self.state().resolve(tag)
    }

    fn undo(&self) -> Arc<dyn Undo> {
        Arc::new(FakeUndo {
            engine: self.clone(),
        })
    }

    /// The files of the context the engine would ask for: all but what the ignore file
    /// that applies to the Dockerfile excludes.
    fn offered(request: &BuildRequest) -> Result<Offered, CheckerError> {
        let folder = &request.context;
        let (_, ignore) = context::load_dockerignore(&folder.root, &request.dockerfile)?;
        let listing = folder.list(&context::Request {
            exclude: ignore.patterns(),
            ..Default::default()
        })?;
        let mut offered = Offered::default();
        offered.add(&listing);
        Ok(offered)
    }

    /// What running `image` with `command` (in place of its CMD) does, or how it fails to
    /// start; an error when there is no such image (no container can be made of it).
    fn program(
        &self,
        image: &str,
        command: Option<Vec<String>>,
    ) -> Result<Result<FakeApp, AppOutcome>, CheckerError> {
        let state = self.state();
        let image = state.image(image)?;
        Ok(start(image, command))
    }
}

/// What the program of `image` does when started with `command` in place of its CMD; Err:
/// how it fails to start.
fn start(image: &FakeImage, command: Option<Vec<String>>) -> Result<FakeApp, AppOutcome> {
    let mut argv = image.config.entrypoint.clone();
    argv.extend(command.unwrap_or_else(|| image.config.cmd.clone()));
    let failed = |message: String| AppOutcome::FailedToStart { message };
    let Some(program) = argv.first() else {
        return Err(failed("no command specified".into()));
    };
    if !finds(image, program) {
        return Err(failed(format!(
            "exec: \"{program}\": executable file not found or no such file or directory"
        )));
    }
    Ok(image.app.clone().unwrap_or(FakeApp::prints("")))
}

/// Whether `program` is a file of `image`: a path, or a name found on its PATH.
fn finds(image: &FakeImage, program: &str) -> bool {
    let fs = image.filesystem();
    let is_file = |path: &str| matches!(fs.get(path.trim_start_matches('/')), Some(Some(_)));
    if program.contains('/') {
        return is_file(program);
    }
    let path = image
        .config
        .env
        .iter()
        .find_map(|e| e.strip_prefix("PATH="))
        .unwrap_or("/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin");
    path.split(':')
        .any(|folder| is_file(&format!("{folder}/{program}")))
}

/// The fake engine's undoing of what an interrupted run made, as the ledger asks it.
struct FakeUndo {
    engine: FakeEngine,
}

#[async_trait::async_trait]
impl Undo for FakeUndo {
    async fn remove_container(&self, _: &str) {}

    /// Recorded once done, so that a test which sees the call sees what it did.
    async fn restore_tag(&self, tag: &str, before: Option<&str>) {
        let delay = self.engine.state().undo_delay;
        tokio::time::sleep(delay).await;
        {
            let mut state = self.engine.state();
            let now = state.tags.get(tag).cloned();
            if now.as_deref() != before {
                if now.is_some() {
                    state.remove(tag);
                }
                if let Some(before) = before.filter(|b| state.images.contains_key(*b)) {
                    state.tags.insert(tag.to_string(), before.to_string());
                }
            }
        }
        self.engine.record(Call::RestoreTag {
            tag: tag.to_string(),
            before: before.map(str::to_string),
        });
    }
}

#[async_trait::async_trait]
impl EngineApi for FakeEngine {
    async fn info(&self) -> Result<&EngineInfo, CheckerError> {
        Ok(&self.info)
    }

    async fn image_exists(&self, image: &str) -> Result<bool, CheckerError> {
        Ok(self.state().resolve(image).is_some())
    }

    async fn image_id(&self, image: &str) -> Result<Option<String>, CheckerError> {
        Ok(self.state().resolve(image))
    }

    async fn inspect(&self, image: &str) -> Result<ImageFacts, CheckerError> {
        let state = self.state();
        let found = state.image(image)?;
        Ok(ImageFacts {
            id: found.id(),
            size: found.size(),
            compressed_size: None,
            user: found.config.user.clone(),
            command: crate::facts::ImageCommand {
                entrypoint: found.config.entrypoint.clone(),
                cmd: found.config.cmd.clone(),
                working_dir: found.config.working_dir.clone(),
                path: found
                    .config
                    .env
                    .iter()
                    .find_map(|e| e.strip_prefix("PATH="))
                    .map(str::to_string),
            },
            layer_count: found.layers.len(),
            diff_ids: found.diff_ids(),
        })
    }

    async fn diff_ids(&self, image: &str) -> Result<Vec<String>, CheckerError> {
        Ok(self.state().image(image)?.diff_ids())
    }

    async fn layers(&self, image: &str) -> Result<Vec<Layer>, CheckerError> {
        Ok(self.state().image(image)?.layers_with_content())
    }

    async fn inspect_files(
        &self,
        image: &str,
        _labels: &BTreeMap<String, String>,
        paths: &[String],
    ) -> Result<(UserFiles, BTreeMap<String, bool>), CheckerError> {
        let fs = self.state().image(image)?.filesystem();
        let text = |path: &str| {
            fs.get(path)
                .cloned()
                .flatten()
                .map(|bytes| String::from_utf8_lossy(&bytes).into_owned())
        };
        let users = UserFiles {
            passwd: text("etc/passwd"),
            group: text("etc/group"),
        };
        let found = paths
            .iter()
            .map(|p| (p.clone(), fs.contains_key(p.trim_matches('/'))))
            .collect();
        Ok((users, found))
    }

    async fn build_cache_records(
        &self,
        _marker: &str,
    ) -> Result<Vec<(String, String)>, CheckerError> {
        // The fake keeps no build cache: nothing a probe made is left in it.
        Ok(Vec::new())
    }

    async fn remove_build_cache(&self, _id: &str) -> Result<(), CheckerError> {
        Ok(())
    }

    async fn read_dpkg(
        &self,
        image: &str,
        _labels: &BTreeMap<String, String>,
    ) -> Result<DpkgFiles, CheckerError> {
        let fs = self.state().image(image)?.filesystem();
        let mut dpkg = DpkgFiles::default();
        for (path, bytes) in fs.iter() {
            let Some(bytes) = bytes else { continue };
            let Some(inside) = path.strip_prefix("var/lib/dpkg/") else {
                continue;
            };
            let text = String::from_utf8_lossy(bytes).into_owned();
            if inside.ends_with(".md5sums") {
                dpkg.md5sums.push((path.clone(), text));
            } else if inside == "status" || inside.starts_with("status.d/") {
                dpkg.status.push(text);
            }
        }
        Ok(dpkg)
    }

    async fn metadata_texts(&self, image: &str) -> Result<Vec<(String, String)>, CheckerError> {
        let state = self.state();
        let found = state.image(image)?;
        let mut texts: Vec<(String, String)> = found
            .history
            .iter()
            .enumerate()
            .map(|(i, h)| {
                let place = format!("history entry {} ({})", i + 1, step_text(&h.created_by));
                (place, format!("{}\n", h.created_by))
            })
            .collect();
        // The config as the engine's inspect gives it, each part named as the real engine's.
        let config = serde_json::json!({
            "User": found.config.user,
            "Entrypoint": found.config.entrypoint,
            "Cmd": found.config.cmd,
            "Env": found.config.env,
            "WorkingDir": found.config.working_dir,
            "Labels": found.config.labels,
        });
        texts.extend(crate::docker::secret_search::config_texts(&config));
        Ok(texts)
    }

    async fn export_image(
        &self,
        image: &str,
        file: &mut std::fs::File,
    ) -> Result<(), CheckerError> {
        self.record(Call::Export {
            image: image.to_string(),
        });
        let found = self.state().image(image)?.clone();
        let platform = self.platform().await?;
        found
            .save(&platform, file)
            .map_err(CheckerError::archive(format!("exporting {image}")))
    }

    async fn pull(
        &self,
        image: &str,
        on_progress: &mut (dyn for<'line> FnMut(&'line str) + Send),
    ) -> Result<(), String> {
        self.record(Call::Pull {
            image: image.to_string(),
        });
        let mut state = self.state();
        let Some(found) = state.registry.get(image).cloned() else {
            return Err(format!(
                "pull access denied for {image}, repository does not exist or may require 'docker login'"
            ));
        };
        state.tag(image, found);
        on_progress(&format!("Status: Downloaded newer image for {image}"));
        Ok(())
    }

    async fn build(
        &self,
        request: BuildRequest,
        progress: &mut dyn BuildProgress,
    ) -> Result<Result<BuildOutcome, BuildFailure>, CheckerError> {
        self.record(Call::Build {
            tag: request.tag.clone(),
            build_args: request.build_args.clone(),
            target: request.target.clone(),
            no_cache: request.no_cache,
        });
        let mut scripted = self
            .state()
            .builds
            .iter()
            .rev()
            .find_map(|script| script(&request));
        while let Some(ScriptedBuild::Takes { time, then }) = scripted {
            tokio::time::sleep(time).await;
            scripted = Some(*then);
        }
        let (image, steps, warnings) = match scripted {
            None => {
                return Err(CheckerError::EngineReply(format!(
                    "the fake engine has no build scripted for {}",
                    request.tag
                )))
            }
            Some(ScriptedBuild::Fails(failure)) => return Ok(Err(failure)),
            Some(ScriptedBuild::Takes { .. }) => unreachable!("waited for above"),
            Some(ScriptedBuild::Image {
                image,
                steps,
                warnings,
            }) => (image, steps, warnings),
        };
        for step in &steps {
            progress.step(step);
        }
        let context = FakeEngine::offered(&request)?;
        let image_id = self.state().tag(&request.tag, *image);
        Ok(Ok(BuildOutcome {
            steps,
            warnings,
            seconds: 0.0,
            context,
            image_id: Some(image_id),
        }))
    }

    fn record_build(&self, tag: &str, before: Option<String>) -> Pending {
        ledger::image(&self.undo(), tag, before)
    }

    async fn run_to_exit(
        &self,
        image: &str,
        command: Option<Vec<String>>,
        _labels: &BTreeMap<String, String>,
        _sandbox: &Sandbox,
        timeout: Duration,
    ) -> Result<AppOutcome, CheckerError> {
        self.record(Call::Run {
            image: image.to_string(),
            command: command.clone(),
        });
        let after_seconds = timeout.as_secs();
        Ok(match self.program(image, command)? {
            Err(could_not_start) => could_not_start,
            Ok(FakeApp::Exits {
                exit_code,
                stdout,
                stderr,
            }) => AppOutcome::Exited {
                exit_code,
                stdout,
                stderr,
                seconds: 0.0,
                word: None,
            },
            // A server runs until it is stopped.
            Ok(FakeApp::Serves { .. } | FakeApp::Hangs) => AppOutcome::TimedOut {
                after_seconds,
                stdout: String::new(),
            },
        })
    }

    async fn serve_and_get(
        &self,
        image: &str,
        request: &HttpRequest<'_>,
        _labels: &BTreeMap<String, String>,
        _sandbox: &Sandbox,
        timeout: Duration,
    ) -> Result<AppOutcome, CheckerError> {
        self.record(Call::Serve {
            image: image.to_string(),
            port: request.port,
            path: request.path.to_string(),
        });
        let silent = |exited_with| AppOutcome::NeverAnswered {
            after_seconds: timeout.as_secs_f64(),
            exited_with,
            logs: String::new(),
        };
        Ok(match self.program(image, None)? {
            Err(could_not_start) => could_not_start,
            Ok(FakeApp::Serves { port, pages }) if port == request.port => {
                let (status, body) = FakeApp::answer(&pages, request.path);
                AppOutcome::Answered {
                    status,
                    body,
                    seconds: 0.0,
                    uids: vec![],
                }
            }
            Ok(FakeApp::Serves { .. } | FakeApp::Hangs) => silent(None),
            Ok(FakeApp::Exits {
                exit_code,
                stdout,
                stderr,
            }) => AppOutcome::NeverAnswered {
                after_seconds: 0.0,
                exited_with: Some(exit_code),
                logs: format!("{stdout}{stderr}"),
            },
        })
    }

    async fn remove_image(&self, image: &str) -> Result<(), CheckerError> {
        self.record(Call::RemoveImage {
            image: image.to_string(),
        });
        self.state().remove(image);
        ledger::image_removed(image);
        Ok(())
    }

    async fn remove_replaced_image(&self, id: &str) {
        self.record(Call::RemoveReplacedImage { id: id.to_string() });
        let (engine, id) = (self.clone(), id.to_string());
        ledger::replace_later(async move {
            let mut state = engine.state();
            // In use by a tag: not garbage, as the engine's refusal (409) says.
            if !state.tags.values().any(|tagged| *tagged == id) {
                state.images.remove(&id);
            }
        })
        .await;
    }
}
