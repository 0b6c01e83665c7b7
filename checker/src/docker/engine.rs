//! The only module that talks to Docker, through bollard and the Engine API: `Engine`
//! answers the pipeline's questions (`docker::api::EngineApi`) and the engine administration
//! of the commands (images, clean, doctor). Everything it creates carries the checker's
//! label, containers are always removed, and nothing here decides whether a goal is met.

use std::collections::{BTreeMap, HashMap};
use std::time::{Duration, Instant};

use bollard::models::{
    BuildInfo, BuildInfoAux, ContainerCreateBody, HostConfig, ImageId, PortBinding,
};
use bollard::query_parameters::{
    BuildImageOptionsBuilder, BuilderVersion, ContainerArchiveInfoOptionsBuilder,
    CreateContainerOptionsBuilder, CreateImageOptionsBuilder, DownloadFromContainerOptionsBuilder,
    ListContainersOptionsBuilder, ListImagesOptionsBuilder, LogsOptionsBuilder,
    PruneImagesOptionsBuilder, RemoveContainerOptionsBuilder, RemoveImageOptionsBuilder,
    TopOptionsBuilder, WaitContainerOptionsBuilder,
};
use bollard::Docker;
use futures_util::StreamExt;

use crate::docker::api::{
    step_text, BuildFailure, BuildOutcome, BuildProgress, BuildRequest, BuildStep, BuildWarning,
    DpkgFiles, EngineApi, HttpRequest, ImageFacts, Sandbox, UserFiles, Warnings, OWNER_LABEL,
    SCOPE_LABEL,
};
use crate::docker::endpoint::{Endpoint, Environment};
use crate::docker::engine_info::{EngineInfo, ImageStore};
use crate::docker::ledger::{self, Pending, Undo};
use crate::error::CheckerError;
use crate::facts::{AppOutcome, Layer};

mod sizes;
mod undo;

/// Output of an app kept for reports; more is cut, so a flooding app cannot exhaust memory.
const OUTPUT_CAP: usize = 64 * 1024;
/// Memory an app container may use (no swap beyond it): a runaway allocation is killed.
pub const APP_MEMORY_LIMIT: i64 = 1 << 30;
/// Processes an app container may have at once: a fork bomb stops here.
pub const APP_PIDS_LIMIT: i64 = 512;

pub struct Engine {
    docker: Docker,
    endpoint: Endpoint,
    /// Read on first use and kept: one `GET /version` and `GET /info` per run.
    info: tokio::sync::OnceCell<EngineInfo>,
    /// Where measured image sizes are kept between runs (see `sizes::SizeCache`).
    size_cache: Option<sizes::SizeCache>,
    /// Where the engine says what it could not clean up; nowhere unless the caller says.
    warnings: std::sync::Arc<dyn Warnings>,
    /// Held (shared) while an app's container is created and started; the checker's other
    /// containers (the one `inspect_files` reads through) wait for them. The app is what a
    /// check waits for longest, and on the containerd store two containers made at once
    /// both take longer: a run goal's app took 0.27–0.35 s beside the file-reading
    /// container, 0.17–0.22 s alone (Docker 28.5, exercise 01).
    app_starts: std::sync::Arc<tokio::sync::RwLock<()>>,
    /// What the ledger's entries for this engine's containers and builds undo them with.
    undo: std::sync::Arc<dyn Undo>,
}

/// dpkg's database from the archive of `/var/lib/dpkg` (entries named `dpkg/…`).
fn dpkg_from_archive(tar: &[u8]) -> std::io::Result<DpkgFiles> {
    let mut files = DpkgFiles::default();
    for entry in tar::Archive::new(tar).entries()? {
        let mut entry = entry?;
        if !entry.header().entry_type().is_file() {
            continue;
        }
        let path = entry.path()?.to_string_lossy().into_owned();
        let Some(inside) = path.trim_start_matches("./").strip_prefix("dpkg/") else {
            continue;
        };
        let is_md5sums = inside.ends_with(".md5sums")
            && (inside.starts_with("info/") || inside.starts_with("status.d/"));
        let is_status = !is_md5sums
            && (inside == "status"
                || inside
                    .strip_prefix("status.d/")
                    .is_some_and(|n| !n.contains('/')));
        if !(is_status || is_md5sums) {
            continue;
        }
        let mut bytes = Vec::new();
        std::io::Read::read_to_end(&mut entry, &mut bytes)?;
        let text = String::from_utf8_lossy(&bytes).into_owned();
        if is_md5sums {
            files.md5sums.push((format!("var/lib/dpkg/{inside}"), text));
        } else {
            files.status.push(text);
        }
    }
    Ok(files)
}

/// One path of a container's filesystem, read through the archive API.
enum Entry {
    Text(String),
    Link(String),
}

/// Where the link at `path` pointing at `target` leads, inside the image's filesystem: an
/// absolute target from its root, a relative one from the link's folder; `..` never
/// climbs above the root.
fn follow_link(path: &str, target: &str) -> String {
    let mut parts: Vec<&str> = if target.starts_with('/') {
        Vec::new()
    } else {
        let folder = path.rsplit_once('/').map(|(d, _)| d).unwrap_or("");
        folder.split('/').filter(|p| !p.is_empty()).collect()
    };
    for part in target.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            part => parts.push(part),
        }
    }
    format!("/{}", parts.join("/"))
}

/// An error and every cause under it, on one line: bollard's "Error in the hyper legacy
/// client: client error (Connect)" alone does not say that the connection was refused.
fn causes(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let more = cause.to_string();
        // Some layers repeat their cause's message in their own.
        if !text.contains(&more) {
            text.push_str(": ");
            text.push_str(&more);
        }
        source = cause.source();
    }
    text
}

/// Drops warnings: the engine of a library user that did not ask for them.
struct Unheard;

impl Warnings for Unheard {
    fn warn(&self, _: &str) {}
}

impl Engine {
    /// Connects to the engine the docker CLI would use (DOCKER_HOST, DOCKER_CONTEXT, the
    /// current context, the platform default: see `endpoint`), negotiates the API version
    /// (Debian's engine 20.10 speaks 1.41) and checks that the engine answers.
    pub async fn connect() -> Result<Engine, CheckerError> {
        let endpoint = crate::docker::endpoint::resolve(&Environment::from_process())?;
        Engine::connect_endpoint(endpoint).await
    }

    /// Connects to the engine at `host` (`unix://…`, `tcp://…`, `ssh://…`), given on the
    /// command line.
    pub async fn connect_to(host: &str) -> Result<Engine, CheckerError> {
        Engine::connect_endpoint(Endpoint::given(host, "the command line")).await
    }

    /// Connects to `endpoint`; a failure names the endpoint, how it was chosen, and how to
    /// start or choose an engine.
    pub async fn connect_endpoint(endpoint: Endpoint) -> Result<Engine, CheckerError> {
        let unreachable = |detail: String| CheckerError::EngineUnreachable {
            host: endpoint.host.clone(),
            chosen: endpoint.source.to_string(),
            detail,
            advice: crate::docker::endpoint::advice(&endpoint),
            choose: endpoint.source.how_to_choose_another(),
        };
        if let Some(tls) = &endpoint.tls {
            // bollard reads the client certificate and key only during the handshake, and
            // then says "client error (Connect)": each file is read here first, to name it.
            tls.check().map_err(unreachable)?;
        }
        let docker = client_for(&endpoint).map_err(|e| unreachable(causes(&e)))?;
        let docker = tokio::time::timeout(Duration::from_secs(10), docker.negotiate_version())
            .await
            .map_err(|_| unreachable("no answer within 10 s".into()))?
            .map_err(|e| unreachable(causes(&e)))?;
        docker.ping().await.map_err(|e| unreachable(causes(&e)))?;
        // Builds of big toolchains take minutes; the client's default 2-minute timeout would
        // cut them off.
        let docker = docker.with_timeout(Duration::from_secs(3600));
        Ok(Engine {
            endpoint,
            info: tokio::sync::OnceCell::new(),
            size_cache: None,
            warnings: std::sync::Arc::new(Unheard),
            app_starts: Default::default(),
            undo: std::sync::Arc::new(undo::Undoer(docker.clone())),
            docker,
        })
    }

    /// Sends the engine's warnings to `warnings`.
    pub fn with_warnings(mut self, warnings: std::sync::Arc<dyn Warnings>) -> Engine {
        self.warnings = warnings;
        self
    }

    /// Keeps the sizes measured on the containerd store in the workbook's own cache folder,
    /// so that an image measured once is not exported again in a later run.
    pub fn with_size_cache(mut self, workbook_root: &std::path::Path) -> Engine {
        self.size_cache = Some(sizes::SizeCache::new(
            workbook_root.join(".workbook-cache/image-sizes.json"),
        ));
        self
    }

    /// The endpoint this engine was reached at, and how it was chosen.
    pub fn endpoint(&self) -> &Endpoint {
        &self.endpoint
    }

    /// The image's labels; None when the image is not on the engine.
    pub async fn image_labels(
        &self,
        image: &str,
    ) -> Result<Option<HashMap<String, String>>, CheckerError> {
        match self.docker.inspect_image(image).await {
            Ok(info) => Ok(Some(info.config.and_then(|c| c.labels).unwrap_or_default())),
            Err(bollard::errors::Error::DockerResponseServerError {
                status_code: 404, ..
            }) => Ok(None),
            Err(e) => Err(e.into()),
        }
    }

    /// Imports a root filesystem tar as `image` (what `docker import` does), with Dockerfile
    /// instructions such as `CMD ["bash"]` applied to its config.
    pub async fn import_rootfs(
        &self,
        tar: Vec<u8>,
        image: &str,
        changes: Vec<String>,
    ) -> Result<(), CheckerError> {
        let (name, tag) = split_tag(image);
        let options = CreateImageOptionsBuilder::default()
            .from_src("-")
            .repo(name)
            .tag(tag)
            .changes(changes)
            .build();
        let mut stream =
            self.docker
                .create_image(Some(options), Some(bollard::body_full(tar.into())), None);
        while let Some(item) = stream.next().await {
            item.map_err(CheckerError::engine(format!("importing {image}")))?;
        }
        Ok(())
    }

    async fn build_once(
        &self,
        request: &BuildRequest,
        progress: &mut dyn BuildProgress,
    ) -> Result<Result<BuildOutcome, BuildFailure>, CheckerError> {
        // The Dockerfile's folder is the context's own: the engine asks for the Dockerfile
        // (and `<Dockerfile>.dockerignore`) by their paths inside it.
        let folders = BTreeMap::from([
            ("context".to_string(), request.context.clone()),
            ("dockerfile".to_string(), request.context.clone()),
        ]);
        // The build's time includes opening the session it reads the context through.
        let started = Instant::now();
        let session = crate::docker::session::open(
            &self.endpoint,
            folders,
            request.secrets.clone(),
            &shared_key(&request.context),
        )
        .await?;
        let labels: HashMap<String, String> = request.labels.clone().into_iter().collect();
        let build_args: HashMap<String, String> = request.build_args.clone().into_iter().collect();
        let mut options = BuildImageOptionsBuilder::default()
            .dockerfile(&request.dockerfile)
            .t(&request.tag)
            .labels(&labels)
            .buildargs(&build_args)
            .rm(true)
            .forcerm(true)
            .nocache(request.no_cache)
            .remote("client-session")
            .session(&session.id)
            // See `with_buildkit_version`: bollard would open a session of its own for "2".
            .version(BuilderVersion::BuilderV1);
        if let Some(target) = &request.target {
            options = options.target(target);
        }
        let docker = with_buildkit_version(self.docker.clone());
        let mut stream = docker.build_image(
            options.build(),
            None,
            Some(bollard::body_full(bytes::Bytes::new())),
        );
        let mut log = BuildLog::default();
        let mut failure: Option<String> = None;
        while let Some(item) = stream.next().await {
            match item {
                Ok(BuildInfo {
                    aux: Some(BuildInfoAux::BuildKit(status)),
                    ..
                }) => log.record(status, progress),
                Ok(BuildInfo {
                    aux: Some(BuildInfoAux::Default(ImageId { id: Some(id) })),
                    ..
                }) => log.image_id = Some(id),
                Ok(_) => {}
                Err(bollard::errors::Error::DockerStreamError { error }) => failure = Some(error),
                Err(e) => {
                    return Err(CheckerError::engine(format!(
                        "reading the progress of building {}",
                        request.tag
                    ))(e))
                }
            }
        }
        let seconds = started.elapsed().as_secs_f64();
        Ok(log.finish(failure, seconds, session.offered()))
    }

    /// GETs `url` every 150 ms until the answer has `expected_status`, the container stops,
    /// or `timeout` (from `started`) passes; the last answer, if any, when time runs out.
    async fn poll_until_answered(
        &self,
        id: &str,
        url: &str,
        expected_status: u16,
        started: Instant,
        timeout: Duration,
    ) -> Result<AppOutcome, CheckerError> {
        let mut last_answer = None;
        while started.elapsed() < timeout {
            if let Some(code) = self.exit_code_if_stopped(id).await {
                let (out, err) = self.output(id).await;
                return Ok(AppOutcome::NeverAnswered {
                    after_seconds: started.elapsed().as_secs_f64(),
                    exited_with: Some(code),
                    logs: format!("{out}{err}"),
                });
            }
            if let Ok((status, body)) = http_get(url).await {
                let seconds = started.elapsed().as_secs_f64();
                let uids = self.process_uids(id).await;
                let answer = AppOutcome::Answered {
                    status,
                    body,
                    seconds,
                    uids,
                };
                if status == expected_status {
                    return Ok(answer);
                }
                last_answer = Some(answer);
            }
            tokio::time::sleep(Duration::from_millis(150)).await;
        }
        if let Some(answer) = last_answer {
            return Ok(answer);
        }
        let (out, err) = self.output(id).await;
        Ok(AppOutcome::NeverAnswered {
            after_seconds: started.elapsed().as_secs_f64(),
            exited_with: None,
            logs: format!("{out}{err}"),
        })
    }

    /// The uids of a running container's processes, as the engine's `top` reports them
    /// (`ps -o pid,uid` on the engine's host); empty when the engine cannot say.
    async fn process_uids(&self, container: &str) -> Vec<u32> {
        let options = TopOptionsBuilder::default().ps_args("-o pid,uid").build();
        let Ok(top) = self.docker.top_processes(container, Some(options)).await else {
            return Vec::new();
        };
        let titles = top.titles.unwrap_or_default();
        let Some(column) = titles.iter().position(|t| t.trim() == "UID") else {
            return Vec::new();
        };
        let mut uids: Vec<u32> = top
            .processes
            .unwrap_or_default()
            .iter()
            .filter_map(|p| p.get(column)?.trim().parse().ok())
            .collect();
        uids.sort();
        uids.dedup();
        uids
    }

    async fn read_dpkg_of(&self, container: &str, image: &str) -> Result<DpkgFiles, CheckerError> {
        /// A JDK build stage's database is about 10 MB.
        const MAX_DPKG_BYTES: usize = 256 * 1024 * 1024;
        let options = DownloadFromContainerOptionsBuilder::default()
            .path("/var/lib/dpkg")
            .build();
        let mut stream = self
            .docker
            .download_from_container(container, Some(options));
        let mut tar = Vec::new();
        while let Some(chunk) = stream.next().await {
            match chunk {
                Ok(bytes) => tar.extend_from_slice(&bytes),
                Err(bollard::errors::Error::DockerResponseServerError {
                    status_code: 404, ..
                }) => return Ok(DpkgFiles::default()),
                Err(e) => return Err(e.into()),
            }
            if tar.len() > MAX_DPKG_BYTES {
                return Err(CheckerError::EngineReply(format!(
                    "/var/lib/dpkg in {image} is larger than {} MB",
                    MAX_DPKG_BYTES >> 20
                )));
            }
        }
        dpkg_from_archive(&tar).map_err(CheckerError::EngineArchive)
    }

    /// A text file of the container's filesystem (None: there is none), its symbolic links
    /// followed inside the image as the runtime follows them (Docker reads /etc/passwd
    /// through a link in the image's own filesystem).
    async fn read_file(&self, container: &str, path: &str) -> Result<Option<String>, CheckerError> {
        let mut path = path.to_string();
        // As many links as the kernel follows (MAXSYMLINKS) before it gives up.
        for _ in 0..40 {
            match self.read_entry(container, &path).await? {
                None => return Ok(None),
                Some(Entry::Text(text)) => return Ok(Some(text)),
                Some(Entry::Link(target)) => path = follow_link(&path, &target),
            }
        }
        Ok(None)
    }

    /// What the archive of one path holds: a file's text, or where a link points.
    async fn read_entry(&self, container: &str, path: &str) -> Result<Option<Entry>, CheckerError> {
        let options = DownloadFromContainerOptionsBuilder::default()
            .path(path)
            .build();
        let mut stream = self
            .docker
            .download_from_container(container, Some(options));
        let mut tar = Vec::new();
        while let Some(chunk) = stream.next().await {
            match chunk {
                Ok(bytes) => tar.extend_from_slice(&bytes),
                Err(bollard::errors::Error::DockerResponseServerError {
                    status_code: 404, ..
                }) => return Ok(None),
                Err(e) => return Err(e.into()),
            }
            if tar.len() > 4 * 1024 * 1024 {
                return Err(CheckerError::EngineReply(format!(
                    "{path} in the image is larger than 4 MB"
                )));
            }
        }
        let mut archive = tar::Archive::new(tar.as_slice());
        let entries = archive.entries().map_err(CheckerError::EngineArchive)?;
        for entry in entries {
            let mut entry = entry.map_err(CheckerError::EngineArchive)?;
            let kind = entry.header().entry_type();
            if kind.is_symlink() {
                let target = entry.link_name().map_err(CheckerError::EngineArchive)?;
                return Ok(target.map(|t| Entry::Link(t.to_string_lossy().into_owned())));
            }
            if kind.is_file() {
                let mut bytes = Vec::new();
                std::io::Read::read_to_end(&mut entry, &mut bytes)
                    .map_err(CheckerError::EngineArchive)?;
                return Ok(Some(Entry::Text(
                    String::from_utf8_lossy(&bytes).into_owned(),
                )));
            }
        }
        Ok(None)
    }

    async fn create(
        &self,
        image: &str,
        cmd: Option<Vec<String>>,
        labels: &BTreeMap<String, String>,
        publish: Option<u16>,
        sandbox: &Sandbox,
    ) -> Result<(String, Pending), CheckerError> {
        let read_only = !sandbox.writable;
        let mut host_config = HostConfig {
            // Nothing the exercises' apps do not use: no capability unless the goal names
            // it, no gaining one through setuid binaries, bounded resources so a runaway app
            // cannot take the machine (or a classroom's engine) down.
            privileged: Some(false),
            cap_drop: Some(vec!["ALL".into()]),
            cap_add: Some(sandbox.capabilities.clone()),
            security_opt: Some(vec!["no-new-privileges".into()]),
            memory: Some(APP_MEMORY_LIMIT),
            // The same as the memory: no swap on top of it, so a runaway allocation is killed
            // rather than slowing the engine's machine down.
            memory_swap: Some(APP_MEMORY_LIMIT),
            pids_limit: Some(APP_PIDS_LIMIT),
            readonly_rootfs: Some(read_only),
            // A read-only image still gets a scratch /tmp (the JVM keeps its perf data there).
            tmpfs: read_only.then(|| {
                HashMap::from([("/tmp".to_string(), "rw,nosuid,nodev,size=64m".to_string())])
            }),
            // "none": a loopback interface only. An app reached over HTTP keeps the default
            // bridge, which its published port needs.
            network_mode: publish.is_none().then(|| "none".to_string()),
            ..Default::default()
        };
        let mut exposed = None;
        if let Some(port) = publish {
            let key = format!("{port}/tcp");
            host_config.port_bindings = Some(HashMap::from([(
                key.clone(),
                Some(vec![PortBinding {
                    host_ip: Some(self.publish_ip()),
                    host_port: Some(String::new()),
                }]),
            )]));
            exposed = Some(vec![key]);
        }
        let config = ContainerCreateBody {
            image: Some(image.to_string()),
            cmd,
            labels: Some(labels.clone().into_iter().collect()),
            exposed_ports: exposed,
            host_config: Some(host_config),
            ..Default::default()
        };
        let name = format!("workbook-{}", uuid::Uuid::new_v4().simple());
        // Recorded before it is asked for: a run dropped while the engine creates it still
        // removes it.
        let pending = ledger::container(&self.undo, &name);
        let options = CreateContainerOptionsBuilder::default().name(&name).build();
        let created = self
            .docker
            .create_container(Some(options), config)
            .await
            .map_err(CheckerError::engine(format!(
                "creating a container from {image}"
            )))?;
        Ok((created.id, pending))
    }

    /// Removes a container this run created, and settles its entry in the ledger, on a task
    /// of its own: removing a container takes the engine the better part of a second on
    /// the containerd store, and nothing the check reports waits for it.
    async fn remove_created(&self, id: &str, pending: Pending) {
        let (docker, warnings, id) = (self.docker.clone(), self.warnings.clone(), id.to_string());
        ledger::remove_later(pending, async move {
            remove_container(&docker, &*warnings, &id).await
        })
        .await;
    }

    /// Removes a container, whatever state it is in. Failure to remove is a warning (see
    /// `Warnings`) rather than hiding the check's own result.
    pub async fn remove_container(&self, id: &str) {
        remove_container(&self.docker, &*self.warnings, id).await
    }

    async fn output(&self, id: &str) -> (String, String) {
        let options = LogsOptionsBuilder::default()
            .stdout(true)
            .stderr(true)
            .tail("400")
            .build();
        let mut stream = self.docker.logs(id, Some(options));
        let (mut out, mut err) = (Vec::new(), Vec::new());
        while let Some(Ok(chunk)) = stream.next().await {
            match chunk {
                bollard::container::LogOutput::StdErr { message } => {
                    err.extend_from_slice(&message)
                }
                other => out.extend_from_slice(&other.into_bytes()),
            }
            if out.len() + err.len() > 4 * OUTPUT_CAP {
                break;
            }
        }
        (cap(&out), cap(&err))
    }

    async fn exit_code(&self, id: &str) -> Result<i64, CheckerError> {
        let info = self.docker.inspect_container(id, None).await?;
        Ok(info.state.and_then(|s| s.exit_code).unwrap_or(-1))
    }

    async fn exit_code_if_stopped(&self, id: &str) -> Option<i64> {
        let info = self.docker.inspect_container(id, None).await.ok()?;
        let state = info.state?;
        if state.running == Some(true) {
            None
        } else {
            state.exit_code
        }
    }

    /// Where published ports are bound: loopback for a local engine, all interfaces for a
    /// remote one (the checker reaches it over the network).
    fn publish_ip(&self) -> String {
        if self.remote_host().is_some() {
            "0.0.0.0".into()
        } else {
            "127.0.0.1".into()
        }
    }

    fn reach_host(&self) -> String {
        self.remote_host().unwrap_or_else(|| "127.0.0.1".into())
    }

    fn remote_host(&self) -> Option<String> {
        let host = &self.endpoint.host;
        let rest = host
            .strip_prefix("tcp://")
            .or_else(|| host.strip_prefix("http://"))?;
        let host = rest
            .split('/')
            .next()?
            .rsplit_once(':')
            .map(|(h, _)| h)
            .unwrap_or(rest);
        Some(host.trim_matches(['[', ']']).to_string())
    }

    /// Writes one `docker save` archive of several images into `file`.
    pub async fn save_images(
        &self,
        images: &[&str],
        file: &mut std::fs::File,
    ) -> Result<u64, CheckerError> {
        let mut stream = self.docker.export_images(images);
        let mut written = 0;
        while let Some(chunk) = stream.next().await {
            let chunk = chunk.map_err(CheckerError::engine("saving images"))?;
            written += chunk.len() as u64;
            std::io::Write::write_all(file, &chunk)
                .map_err(CheckerError::archive("saving images"))?;
        }
        Ok(written)
    }

    /// Loads a `docker save` archive (what `docker load` does), streaming it from disk.
    pub async fn load_images(&self, path: &std::path::Path) -> Result<Vec<String>, CheckerError> {
        let file = tokio::fs::File::open(path)
            .await
            .map_err(|e| CheckerError::io(path, e))?;
        let chunks = tokio_util::io::ReaderStream::new(file);
        let options = bollard::query_parameters::ImportImageOptionsBuilder::default().build();
        let mut stream = self.docker.import_image_stream(options, chunks, None);
        let mut loaded = Vec::new();
        while let Some(item) = stream.next().await {
            let info = item.map_err(CheckerError::engine(format!("loading {}", path.display())))?;
            if let Some(line) = info.stream {
                let line = line.trim().to_string();
                if !line.is_empty() {
                    loaded.push(line);
                }
            }
        }
        Ok(loaded)
    }

    /// Tags `image` as `repo:tag`.
    pub async fn tag(&self, image: &str, target: &str) -> Result<(), CheckerError> {
        let (repo, tag) = split_tag(target);
        let options = bollard::query_parameters::TagImageOptionsBuilder::default()
            .repo(repo)
            .tag(tag)
            .build();
        self.docker
            .tag_image(image, Some(options))
            .await
            .map_err(CheckerError::engine(format!("tagging {image} as {target}")))
    }

    /// Pushes `image` (already tagged with the registry's name), reporting progress lines.
    pub async fn push(&self, image: &str, mut on_progress: impl FnMut(&str)) -> Result<(), String> {
        let (name, tag) = split_tag(image);
        let options = bollard::query_parameters::PushImageOptionsBuilder::default()
            .tag(tag)
            .build();
        let mut stream = self.docker.push_image(name, Some(options), None);
        while let Some(item) = stream.next().await {
            let info = item.map_err(|e| e.to_string())?;
            if let Some(detail) = info.error_detail.and_then(|d| d.message) {
                return Err(detail);
            }
            on_progress(&info.status.unwrap_or_default());
        }
        Ok(())
    }

    /// Removes every untagged image of the checker's, of one checkout's (`scope`) or all.
    pub async fn prune_dangling(&self, scope: Option<&str>) -> Result<(), CheckerError> {
        let mut labels = vec![OWNER_LABEL.to_string()];
        labels.extend(scope.map(|s| format!("{SCOPE_LABEL}={s}")));
        let filters = HashMap::from([("dangling", vec!["true".to_string()]), ("label", labels)]);
        let options = PruneImagesOptionsBuilder::default()
            .filters(&filters)
            .build();
        self.docker.prune_images(Some(options)).await?;
        Ok(())
    }

    /// How many images the engine holds (any, not only the checker's).
    pub async fn image_count(&self) -> Result<usize, CheckerError> {
        let options = ListImagesOptionsBuilder::default().all(true).build();
        Ok(self.docker.list_images(Some(options)).await?.len())
    }

    /// Ids of the checker's containers (any state) and tags/ids of its images: of one
    /// checkout's (`scope`), or of every checkout's.
    pub async fn owned(
        &self,
        scope: Option<&str>,
    ) -> Result<(Vec<String>, Vec<String>), CheckerError> {
        let mut labels = vec![OWNER_LABEL.to_string()];
        labels.extend(scope.map(|s| format!("{SCOPE_LABEL}={s}")));
        let filters = HashMap::from([("label", labels)]);
        let containers = self
            .docker
            .list_containers(Some(
                ListContainersOptionsBuilder::default()
                    .all(true)
                    .filters(&filters)
                    .build(),
            ))
            .await?
            .into_iter()
            .filter_map(|c| c.id)
            .collect();
        let images = self
            .docker
            .list_images(Some(
                ListImagesOptionsBuilder::default()
                    .filters(&filters)
                    .build(),
            ))
            .await?
            .into_iter()
            .map(|i| i.repo_tags.first().cloned().unwrap_or(i.id))
            .collect();
        Ok((containers, images))
    }
}

#[async_trait::async_trait]
impl EngineApi for Engine {
    /// The build cache records whose description holds `marker`, as (id, description): the
    /// cache mounts a probe made under ids of its own. Docker 23 and later write a cache
    /// mount's id into its description (`cached mount /root/go/pkg/mod from exec … with id
    /// "/<id>"`); Docker 20.10 writes only the target and the command of the step that made
    /// it, which a probe's seed build names after its ids for that reason
    /// (`cache_mounts::cache_mount_seed`). bollard's model of `/system/df` reads only the
    /// shape of API 1.52 and later, so the answer is read here, in either shape.
    async fn build_cache_records(
        &self,
        marker: &str,
    ) -> Result<Vec<(String, String)>, CheckerError> {
        let path = format!(
            "/v{}/system/df?type=build-cache",
            self.docker.client_version()
        );
        let body = crate::docker::session::get(&self.endpoint, &path)
            .await
            .map_err(|e| CheckerError::EngineReply(format!("listing the build cache: {e}")))?;
        let answer: serde_json::Value = serde_json::from_slice(&body)
            .map_err(|e| CheckerError::EngineReply(format!("listing the build cache: {e}")))?;
        let records = answer["BuildCache"]
            .as_array()
            .or_else(|| answer["BuildCacheUsage"]["Items"].as_array())
            .cloned()
            .unwrap_or_default();
        Ok(records
            .iter()
            .filter_map(|r| {
                let id = r["ID"].as_str()?;
                let description = r["Description"].as_str()?;
                description
                    .contains(marker)
                    .then(|| (id.to_string(), description.to_string()))
            })
            .collect())
    }

    /// Removes one build cache record by its id (the filter matches ids by pattern, so it is
    /// anchored; an empty id would match every record, and is refused).
    async fn remove_build_cache(&self, id: &str) -> Result<(), CheckerError> {
        if id.is_empty() || !id.chars().all(|c| c.is_ascii_alphanumeric()) {
            return Err(CheckerError::EngineReply(format!(
                "not a build cache record's id: `{id}`"
            )));
        }
        let filters = HashMap::from([("id", vec![format!("^{id}$")])]);
        let options = bollard::query_parameters::PruneBuildOptionsBuilder::default()
            .filters(&filters)
            .build();
        self.docker.prune_build(Some(options)).await?;
        Ok(())
    }

    /// The engine's version, API, platform, image store and BuildKit, with the endpoint; asked
    /// once per run (`engine.info().await?.image_store` tells the classic store from
    /// containerd's).
    async fn info(&self) -> Result<&EngineInfo, CheckerError> {
        self.info
            .get_or_try_init(|| async {
                let version = self
                    .docker
                    .version()
                    .await
                    .map_err(CheckerError::engine("GET /version"))?;
                let info = self
                    .docker
                    .info()
                    .await
                    .map_err(CheckerError::engine("GET /info"))?;
                Ok(EngineInfo::from_api(&version, &info, &self.endpoint))
            })
            .await
    }

    async fn image_exists(&self, image: &str) -> Result<bool, CheckerError> {
        match self.docker.inspect_image(image).await {
            Ok(_) => Ok(true),
            Err(bollard::errors::Error::DockerResponseServerError {
                status_code: 404, ..
            }) => Ok(false),
            Err(e) => Err(e.into()),
        }
    }

    /// Pulls `image`, reporting each progress line; the error says why it could not.
    async fn pull(
        &self,
        image: &str,
        on_progress: &mut (dyn for<'line> FnMut(&'line str) + Send),
    ) -> Result<(), String> {
        let (name, tag) = split_tag(image);
        let options = CreateImageOptionsBuilder::default()
            .from_image(name)
            .tag(tag)
            .build();
        let mut stream = self.docker.create_image(Some(options), None, None);
        while let Some(item) = stream.next().await {
            match item {
                Ok(info) => {
                    let mut line = [info.id.unwrap_or_default(), info.status.unwrap_or_default()]
                        .iter()
                        .filter(|s| !s.is_empty())
                        .cloned()
                        .collect::<Vec<_>>()
                        .join(" ");
                    if let Some(d) = info.progress_detail {
                        if let (Some(current), Some(total)) = (d.current, d.total) {
                            line.push_str(&format!(
                                " {} / {}",
                                crate::facts::format_mb(current as u64),
                                crate::facts::format_mb(total as u64)
                            ));
                        }
                    }
                    on_progress(&line);
                }
                Err(e) => return Err(e.to_string()),
            }
        }
        Ok(())
    }

    /// Builds with BuildKit through a session, streaming each step to `progress`.
    ///
    /// A progress stream that breaks off (seen once in many hundred builds on Docker 28.5:
    /// "bytes remaining on stream", with nothing in the engine's log) is no verdict on the
    /// Dockerfile, so the build runs once more; the cache makes that second run cheap.
    async fn build(
        &self,
        request: BuildRequest,
        progress: &mut dyn BuildProgress,
    ) -> Result<Result<BuildOutcome, BuildFailure>, CheckerError> {
        match self.build_once(&request, progress).await {
            Err(CheckerError::Engine { source, .. }) if is_broken_stream(&source) => {
                self.build_once(&request, progress).await
            }
            other => other,
        }
    }

    async fn inspect(&self, image: &str) -> Result<ImageFacts, CheckerError> {
        let info = self.docker.inspect_image(image).await?;
        let id = info.id.unwrap_or_default();
        let diff_ids = info.root_fs.as_ref().and_then(|r| r.layers.clone());
        let (size, compressed_size) = match self.image_store().await? {
            ImageStore::Classic => (info.size.unwrap_or(0).max(0) as u64, None),
            // There `.Size` is the compressed content: measure the layers instead.
            ImageStore::Containerd => {
                self.measured_sizes(image, &id, diff_ids.as_deref().unwrap_or_default())
                    .await?
            }
        };
        let config = info.config.clone().unwrap_or_default();
        let path = config
            .env
            .iter()
            .flatten()
            .find_map(|e| e.strip_prefix("PATH="))
            .map(str::to_string);
        Ok(ImageFacts {
            id,
            size,
            compressed_size,
            command: crate::facts::ImageCommand {
                entrypoint: config.entrypoint.unwrap_or_default(),
                cmd: config.cmd.unwrap_or_default(),
                working_dir: config.working_dir.unwrap_or_default(),
                path,
            },
            user: info.config.and_then(|c| c.user).unwrap_or_default(),
            layer_count: info
                .root_fs
                .and_then(|r| r.layers)
                .map(|l| l.len())
                .unwrap_or(0),
            diff_ids: diff_ids.unwrap_or_default(),
        })
    }

    /// The digests of the image's layers (its `RootFS` diff ids), base first: an image built
    /// on another starts with that image's.
    async fn diff_ids(&self, image: &str) -> Result<Vec<String>, CheckerError> {
        let info = self.docker.inspect_image(image).await?;
        Ok(info.root_fs.and_then(|r| r.layers).unwrap_or_default())
    }

    /// The image's layers with the instruction that made each, base first, empty
    /// (metadata-only) history entries left out.
    async fn layers(&self, image: &str) -> Result<Vec<Layer>, CheckerError> {
        if self.image_store().await? == ImageStore::Containerd {
            // History sizes there are snapshot disk usage; the layers are measured instead,
            // each matched to the config history entry that made it (the ones not marked
            // empty, in order: what `docker history` lists too).
            let id = self
                .image_id(image)
                .await?
                .ok_or_else(|| CheckerError::EngineReply(format!("no image {image}")))?;
            let measured = self.measure_from_layers(image, &id).await?;
            return Ok(measured
                .layers
                .iter()
                .enumerate()
                .filter(|(_, l)| l.size > 0)
                .map(|(i, l)| Layer {
                    position: i + 1,
                    size: l.size,
                    created_by: l.created_by.clone().unwrap_or_default(),
                })
                .collect());
        }
        let history = self.docker.image_history(image).await?;
        Ok(number_layers(
            history
                .into_iter()
                .rev()
                .map(|h| (h.size.max(0) as u64, h.created_by)),
        ))
    }

    /// Reads the image's /etc/passwd and /etc/group and whether each path exists, without
    /// starting it: a created (never started) container's filesystem is the image's.
    async fn inspect_files(
        &self,
        image: &str,
        labels: &BTreeMap<String, String>,
        paths: &[String],
    ) -> Result<(UserFiles, BTreeMap<String, bool>), CheckerError> {
        // Apps' containers go first (see `app_starts`).
        drop(self.app_starts.write().await);
        // The command is never run; it only satisfies `create` for images with no CMD.
        let (id, pending) = self
            .create(
                image,
                Some(vec!["/checker-never-runs".into()]),
                labels,
                None,
                &Sandbox::default(),
            )
            .await?;
        let result = async {
            let users = UserFiles {
                passwd: self.read_file(&id, "/etc/passwd").await?,
                group: self.read_file(&id, "/etc/group").await?,
            };
            let mut found = BTreeMap::new();
            for path in paths {
                let options = ContainerArchiveInfoOptionsBuilder::default()
                    .path(path)
                    .build();
                let exists = match self
                    .docker
                    .get_container_archive_info(&id, Some(options))
                    .await
                {
                    Ok(_) => true,
                    Err(bollard::errors::Error::DockerResponseServerError {
                        status_code: 404,
                        ..
                    }) => false,
                    Err(e) => return Err(e.into()),
                };
                found.insert(path.clone(), exists);
            }
            Ok((users, found))
        }
        .await;
        self.remove_created(&id, pending).await;
        result
    }

    /// dpkg's database in `image` (its status and every package's `*.md5sums`), read
    /// through a created container's archive of /var/lib/dpkg: a few MB, where exporting
    /// the image would be hundreds. Empty when the image has none (scratch, a static base).
    async fn read_dpkg(
        &self,
        image: &str,
        labels: &BTreeMap<String, String>,
    ) -> Result<DpkgFiles, CheckerError> {
        drop(self.app_starts.write().await);
        let (id, pending) = self
            .create(
                image,
                Some(vec!["/checker-never-runs".into()]),
                labels,
                None,
                &Sandbox::default(),
            )
            .await?;
        let result = self.read_dpkg_of(&id, image).await;
        self.remove_created(&id, pending).await;
        result
    }

    /// Records that a build is about to (re)tag `tag`, which points at `before` now: if the
    /// run is dropped before the guard is settled, the tag goes back to `before` and the
    /// image the build made is removed.
    fn record_build(&self, tag: &str, before: Option<String>) -> Pending {
        ledger::image(&self.undo, tag, before)
    }

    /// Runs the image to its end (or the time limit) and collects its output.
    async fn run_to_exit(
        &self,
        image: &str,
        command: Option<Vec<String>>,
        labels: &BTreeMap<String, String>,
        sandbox: &Sandbox,
        timeout: Duration,
    ) -> Result<AppOutcome, CheckerError> {
        let starting = self.app_starts.read().await;
        let (id, pending) = self.create(image, command, labels, None, sandbox).await?;
        let result = async {
            let started = Instant::now();
            let start = self.docker.start_container(&id, None).await;
            drop(starting);
            if let Err(e) = start {
                return Ok(AppOutcome::FailedToStart {
                    message: e.to_string(),
                });
            }
            let mut wait = self.docker.wait_container(&id, None);
            let finished = tokio::time::timeout(timeout, wait.next()).await;
            let seconds = started.elapsed().as_secs_f64();
            let (stdout, stderr) = self.output(&id).await;
            match finished {
                Err(_) => Ok(AppOutcome::TimedOut {
                    after_seconds: timeout.as_secs(),
                    stdout,
                }),
                Ok(waited) => {
                    // The wait's answer carries the exit code (bollard makes a non-zero one
                    // an error); asked again only when it did not come.
                    let exit_code = match waited {
                        Some(Ok(response)) => response.status_code,
                        Some(Err(bollard::errors::Error::DockerContainerWaitError {
                            code,
                            ..
                        })) => code,
                        _ => self.exit_code(&id).await?,
                    };
                    Ok(AppOutcome::Exited {
                        exit_code,
                        stdout,
                        stderr,
                        seconds,
                        word: None,
                    })
                }
            }
        }
        .await;
        self.remove_created(&id, pending).await;
        result
    }

    /// Starts the image, then asks `GET path` on its published `port` until the expected
    /// status comes back, the container exits, or time runs out.
    async fn serve_and_get(
        &self,
        image: &str,
        request: &HttpRequest<'_>,
        labels: &BTreeMap<String, String>,
        sandbox: &Sandbox,
        timeout: Duration,
    ) -> Result<AppOutcome, CheckerError> {
        let HttpRequest {
            port,
            path,
            expected_status,
        } = *request;
        let starting = self.app_starts.read().await;
        let (id, pending) = self
            .create(image, None, labels, Some(port), sandbox)
            .await?;
        let result = async {
            let started = Instant::now();
            let start = self.docker.start_container(&id, None).await;
            drop(starting);
            if let Err(e) = start {
                return Ok(AppOutcome::FailedToStart {
                    message: e.to_string(),
                });
            }
            let info = self.docker.inspect_container(&id, None).await?;
            let host_port = info
                .network_settings
                .and_then(|n| n.ports)
                .and_then(|p| p.get(&format!("{port}/tcp")).cloned().flatten())
                .and_then(|b| b.into_iter().find_map(|b| b.host_port))
                .and_then(|p| p.parse::<u16>().ok());
            let Some(host_port) = host_port else {
                let (out, err) = self.output(&id).await;
                let exited_with = self.exit_code_if_stopped(&id).await;
                return Ok(AppOutcome::NeverAnswered {
                    after_seconds: 0.0,
                    exited_with,
                    logs: format!("{out}{err}"),
                });
            };
            let url = format!("http://{}:{host_port}{path}", self.reach_host());
            self.poll_until_answered(&id, &url, expected_status, started, timeout)
                .await
        }
        .await;
        self.remove_created(&id, pending).await;
        result
    }

    /// The image's metadata as text, each with where it is: every history entry (the
    /// instruction that made it, with the build arguments RUN saw), and the config (its
    /// environment, labels, command…). What `docker history` and `docker inspect` show anyone
    /// who has the image.
    async fn metadata_texts(&self, image: &str) -> Result<Vec<(String, String)>, CheckerError> {
        let (info, history) = tokio::try_join!(
            self.docker.inspect_image(image),
            self.docker.image_history(image)
        )?;
        let mut texts: Vec<(String, String)> = history
            .into_iter()
            .rev()
            .enumerate()
            .map(|(i, h)| {
                (
                    format!("history entry {} ({})", i + 1, step_text(&h.created_by)),
                    format!("{}\n{}", h.created_by, h.comment),
                )
            })
            .collect();
        if let Some(config) = info.config {
            let config = serde_json::to_value(&config).unwrap_or_default();
            texts.extend(crate::docker::secret_search::config_texts(&config));
        }
        Ok(texts)
    }

    /// Writes `docker save IMAGE` into `file`, for reading the layers' contents.
    async fn export_image(
        &self,
        image: &str,
        file: &mut std::fs::File,
    ) -> Result<(), CheckerError> {
        let mut stream = self.docker.export_image(image);
        while let Some(chunk) = stream.next().await {
            let chunk = chunk.map_err(CheckerError::engine(format!("exporting {image}")))?;
            std::io::Write::write_all(file, &chunk)
                .map_err(CheckerError::archive(format!("exporting {image}")))?;
        }
        Ok(())
    }

    /// The id of the image a tag points at, if any.
    async fn image_id(&self, image: &str) -> Result<Option<String>, CheckerError> {
        match self.docker.inspect_image(image).await {
            Ok(info) => Ok(info.id),
            Err(bollard::errors::Error::DockerResponseServerError {
                status_code: 404, ..
            }) => Ok(None),
            Err(e) => Err(e.into()),
        }
    }

    /// Removes an image the checker replaced, unless something still uses it (another tag,
    /// a container): then it is not garbage, and the engine's refusal is the answer. On a
    /// task of its own: it waits for the containers of the image to be removed first (those
    /// of the check before, 0.2 s on the containerd store), and a check that waited for it
    /// showed its verdict that much later whenever a save changed the image.
    async fn remove_replaced_image(&self, id: &str) {
        let (docker, warnings, id) = (self.docker.clone(), self.warnings.clone(), id.to_string());
        ledger::replace_later(async move {
            // A container of the image may still be on its way out.
            ledger::removals_done().await;
            let options = RemoveImageOptionsBuilder::default().force(false).build();
            match docker.remove_image(&id, Some(options), None).await {
                Ok(_)
                | Err(bollard::errors::Error::DockerResponseServerError {
                    status_code: 404 | 409,
                    ..
                }) => {}
                Err(e) => {
                    let message = format!("warning: could not remove the replaced image {id}: {e}");
                    warnings.warn(&message);
                }
            }
        })
        .await;
    }

    async fn remove_image(&self, image: &str) -> Result<(), CheckerError> {
        // A container of the image may still be on its way out.
        ledger::removals_done().await;
        let options = RemoveImageOptionsBuilder::default().force(false).build();
        match self.docker.remove_image(image, Some(options), None).await {
            Ok(_)
            | Err(bollard::errors::Error::DockerResponseServerError {
                status_code: 404, ..
            }) => {
                // Gone: no unfinished build of it is left to undo.
                ledger::image_removed(image);
                Ok(())
            }
            Err(e) => Err(e.into()),
        }
    }
}

/// The layers of an image with content, from its history (oldest first), numbered as the
/// image's filesystem layers count (`docker inspect`'s RootFS): a step that changed no
/// bytes (`WORKDIR /app`, a `RUN` that only makes a folder) is still a layer, while `CMD`,
/// `ENV`, `USER` and the like are history entries with no layer. The classic store's history
/// does not say which entries are layers, so the instruction tells.
fn number_layers(history: impl Iterator<Item = (u64, String)>) -> Vec<Layer> {
    history
        .filter(|(size, created_by)| *size > 0 || makes_a_layer(created_by))
        .enumerate()
        .filter(|(_, (size, _))| *size > 0)
        .map(|(i, (size, created_by))| Layer {
            position: i + 1,
            size,
            created_by,
        })
        .collect()
}

/// Whether a history entry's instruction writes a filesystem layer: BuildKit's `RUN …`,
/// `COPY …`, `ADD …`, `WORKDIR …`; the classic builder's `/bin/sh -c <command>` (a RUN)
/// and `/bin/sh -c #(nop) COPY|ADD|WORKDIR …`; a base image's import (no instruction).
fn makes_a_layer(created_by: &str) -> bool {
    let step = created_by.trim();
    let step = match step.strip_prefix("/bin/sh -c ") {
        Some(rest) => match rest.trim_start().strip_prefix("#(nop)") {
            Some(instruction) => instruction.trim_start(),
            None => return true,
        },
        None => step,
    };
    let instruction = step.split_whitespace().next().unwrap_or("");
    step.is_empty() || ["RUN", "COPY", "ADD", "WORKDIR"].contains(&instruction)
}

/// Whether a build's progress stream broke off (the connection, or its framing) rather than
/// the engine answering with an error.
fn is_broken_stream(error: &bollard::errors::Error) -> bool {
    !matches!(
        error,
        bollard::errors::Error::DockerResponseServerError { .. }
            | bollard::errors::Error::DockerStreamError { .. }
    )
}

/// Removes a container, whatever state it is in; failing to is a warning.
async fn remove_container(docker: &Docker, warnings: &dyn Warnings, id: &str) {
    let options = RemoveContainerOptionsBuilder::default()
        .force(true)
        .v(true)
        .build();
    match docker.remove_container(id, Some(options)).await {
        Ok(())
        // Gone already: what was asked is done.
        | Err(bollard::errors::Error::DockerResponseServerError {
            status_code: 404, ..
        }) => {}
        // "Removal already in progress": a checker killed mid-way (a closed terminal, a
        // SIGKILL) leaves its removals to the engine. Returning now would let `clean` ask
        // for the image while that container still holds it, and fail on it.
        Err(bollard::errors::Error::DockerResponseServerError {
            status_code: 409, ..
        }) if removed_within(docker, id, REMOVAL_WAIT).await => {}
        Err(e) => warnings.warn(&format!("warning: could not remove container {id}: {e}")),
    }
}

/// How long a removal another client started may take before it is reported.
const REMOVAL_WAIT: Duration = Duration::from_secs(60);

/// Whether the container `id` is gone within `limit` (the engine's wait for "removed").
async fn removed_within(docker: &Docker, id: &str, limit: Duration) -> bool {
    let options = WaitContainerOptionsBuilder::default()
        .condition("removed")
        .build();
    let mut wait = docker.wait_container(id, Some(options));
    // Any answer means the wait is over: removed, already gone (404), or an exit code
    // bollard reports as an error; only a timeout leaves it in doubt.
    if tokio::time::timeout(limit, wait.next()).await.is_err() {
        return false;
    }
    matches!(
        docker.inspect_container(id, None).await,
        Err(bollard::errors::Error::DockerResponseServerError {
            status_code: 404,
            ..
        })
    )
}

/// A client whose build requests say `version=2` (BuildKit) where bollard wrote `1`.
///
/// bollard's BuildKit builds open a session of their own, which serves registry
/// credentials but not files; the checker's session (see `session`) serves the context, so
/// the build must name that one and bollard must not open another. bollard does that only
/// for version 1, and this rewrites the version on the way out.
/// What BuildKit reported of one build: each step (merged by digest, timed from the first
/// start) and the tail of each step's output.
#[derive(Default)]
struct BuildLog {
    steps: Vec<(String, BuildStep)>,
    warnings: Vec<BuildWarning>,
    logs: HashMap<String, Vec<u8>>,
    epoch: Option<f64>,
    image_id: Option<String>,
}

impl BuildLog {
    fn record(
        &mut self,
        status: bollard::moby::buildkit::v1::StatusResponse,
        progress: &mut dyn BuildProgress,
    ) {
        for v in status.vertexes {
            let s = v
                .started
                .as_ref()
                .map(|t| t.seconds as f64 + t.nanos as f64 / 1e9);
            let c = v
                .completed
                .as_ref()
                .map(|t| t.seconds as f64 + t.nanos as f64 / 1e9);
            if self.epoch.is_none() {
                self.epoch = s;
            }
            let epoch = self.epoch;
            let rel = |x: Option<f64>| x.map(|x| x - epoch.unwrap_or(x));
            let step = BuildStep {
                name: v.name.clone(),
                cached: v.cached,
                started: rel(s),
                completed: rel(c),
                error: (!v.error.is_empty()).then(|| v.error.clone()),
                log: String::new(),
            };
            progress.step(&step);
            match self.steps.iter_mut().find(|(d, _)| *d == v.digest) {
                Some((_, existing)) => {
                    existing.cached |= step.cached;
                    existing.started = existing.started.or(step.started);
                    existing.completed = step.completed.or(existing.completed);
                    existing.error = step.error.or(existing.error.take());
                }
                None => self.steps.push((v.digest.clone(), step)),
            }
        }
        for w in status.warnings {
            let warning = BuildWarning {
                message: String::from_utf8_lossy(&w.short).trim().to_string(),
                line: w
                    .ranges
                    .first()
                    .and_then(|r| r.start.as_ref())
                    .and_then(|p| usize::try_from(p.line).ok())
                    .filter(|l| *l > 0),
                url: w.url,
            };
            // BuildKit repeats a warning for every stage solve that meets it.
            if !self.warnings.contains(&warning) {
                self.warnings.push(warning);
            }
        }
        for log in status.logs {
            let name = self.steps.iter().find(|(d, _)| *d == log.vertex);
            progress.log(name.map_or(&log.vertex, |(_, s)| &s.name), &log.msg);
            let buf = self.logs.entry(log.vertex).or_default();
            buf.extend_from_slice(&log.msg);
            if buf.len() > OUTPUT_CAP {
                buf.drain(..buf.len() - OUTPUT_CAP);
            }
        }
    }

    /// The build's outcome: its steps, or where and why it failed with the failing step's
    /// last lines of output.
    fn finish(
        self,
        failure: Option<String>,
        seconds: f64,
        context: crate::docker::context::Offered,
    ) -> Result<BuildOutcome, BuildFailure> {
        let failed_step = self.steps.iter().find(|(_, s)| s.error.is_some());
        match (failure, failed_step) {
            (None, None) => Ok(BuildOutcome {
                steps: self
                    .steps
                    .into_iter()
                    .map(|(digest, step)| BuildStep {
                        log: self
                            .logs
                            .get(&digest)
                            .map(|b| String::from_utf8_lossy(b).into_owned())
                            .unwrap_or_default(),
                        ..step
                    })
                    .collect(),
                warnings: self.warnings,
                seconds,
                context,
                image_id: self.image_id,
            }),
            (message, step) => {
                let log_tail = step
                    .and_then(|(digest, _)| self.logs.get(digest))
                    .map(|b| tail_lines(&String::from_utf8_lossy(b), 20))
                    .unwrap_or_default();
                let message = message
                    .or_else(|| step.and_then(|(_, s)| s.error.clone()))
                    .unwrap_or_else(|| "the build failed".into());
                Err(BuildFailure {
                    step: step.map(|(_, s)| s.name.clone()),
                    message,
                    log_tail,
                })
            }
        }
    }
}

fn with_buildkit_version(docker: Docker) -> Docker {
    docker.with_request_modifier(|mut request| {
        if let (true, Some(query)) = (
            request.uri().path().ends_with("/build"),
            request.uri().query(),
        ) {
            let query: Vec<&str> = query
                .split('&')
                .map(|pair| {
                    if pair == "version=1" {
                        "version=2"
                    } else {
                        pair
                    }
                })
                .collect();
            // Only the query changes: for a unix socket the authority encodes its path.
            let mut parts = request.uri().clone().into_parts();
            let path_and_query = format!("{}?{}", request.uri().path(), query.join("&"));
            if let Ok(path_and_query) = path_and_query.parse() {
                parts.path_and_query = Some(path_and_query);
                if let Ok(uri) = hyper::Uri::from_parts(parts) {
                    *request.uri_mut() = uri;
                }
            }
        }
        request
    })
}

/// The key under which the engine keeps a copy of the transferred folder to send only what
/// changed next time. The same folder with an overlay gets its own key: the engine compares
/// size and time, which an overlaid file need not change.
fn shared_key(folder: &crate::docker::context::Folder) -> String {
    use std::hash::{Hash, Hasher};
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    folder.root.hash(&mut hasher);
    folder.overlay.hash(&mut hasher);
    format!("workbook-{:016x}", hasher.finish())
}

/// A bollard client for the endpoint's scheme. TLS material comes from the endpoint (the
/// context store or DOCKER_CERT_PATH), never from bollard's own reading of the environment,
/// so a context's certificates are the ones used.
fn client_for(endpoint: &Endpoint) -> Result<Docker, bollard::errors::Error> {
    const TIMEOUT: u64 = 120;
    let version = bollard::API_DEFAULT_VERSION;
    let host = endpoint.host.as_str();
    match &endpoint.tls {
        Some(tls) => Docker::connect_with_ssl(host, &tls.key, &tls.cert, &tls.ca, TIMEOUT, version),
        None if host.starts_with("unix://") => Docker::connect_with_unix(host, TIMEOUT, version),
        None if host.starts_with("tcp://") || host.starts_with("http://") => {
            Docker::connect_with_http(host, TIMEOUT, version)
        }
        None if host.starts_with("ssh://") => {
            Docker::connect_with_ssh(host, TIMEOUT, version, None)
        }
        // Named pipes, and the schemes bollard refuses with a message naming them.
        None => Docker::connect_with_host(host),
    }
}

/// `debian:bookworm` → (`debian`, `bookworm`); a registry port is not a tag.
fn split_tag(image: &str) -> (&str, &str) {
    match image.rsplit_once(':') {
        Some((name, tag)) if !tag.contains('/') => (name, tag),
        _ => (image, "latest"),
    }
}

fn tail_lines(text: &str, n: usize) -> String {
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(n)..].join("\n")
}

fn cap(bytes: &[u8]) -> String {
    let start = bytes.len().saturating_sub(OUTPUT_CAP);
    String::from_utf8_lossy(&bytes[start..]).into_owned()
}

/// One plain HTTP/1.1 GET with a short timeout: (status, body up to 64 KiB).
async fn http_get(url: &str) -> Result<(u16, String), String> {
    use http_body_util::BodyExt;
    let client = hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
        .build_http::<http_body_util::Empty<bytes::Bytes>>();
    let uri: hyper::Uri = url.parse().map_err(|e| format!("{e}"))?;
    let response = tokio::time::timeout(Duration::from_secs(2), client.get(uri))
        .await
        .map_err(|_| "timed out".to_string())?
        .map_err(|e| e.to_string())?;
    let status = response.status().as_u16();
    let body = tokio::time::timeout(Duration::from_secs(2), response.into_body().collect())
        .await
        .map_err(|_| "body timed out".to_string())?
        .map_err(|e| e.to_string())?
        .to_bytes();
    Ok((status, cap(&body)))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `checker -v`: what a step prints goes to the progress as it arrives, named by the step.
    #[test]
    fn a_step_s_output_is_streamed_to_the_progress_under_its_name() {
        use bollard::moby::buildkit::v1::{StatusResponse, Vertex, VertexLog};
        #[derive(Default)]
        struct Logs(Vec<(String, Vec<u8>)>);
        impl BuildProgress for Logs {
            fn step(&mut self, _: &BuildStep) {}
            fn note(&mut self, _: &str) {}
            fn log(&mut self, step: &str, output: &[u8]) {
                self.0.push((step.to_string(), output.to_vec()));
            }
        }
        let mut log = BuildLog::default();
        let mut progress = Logs::default();
        let status = StatusResponse {
            vertexes: vec![Vertex {
                digest: "sha256:a".into(),
                name: "[build 2/3] RUN make".into(),
                ..Default::default()
            }],
            logs: vec![VertexLog {
                vertex: "sha256:a".into(),
                msg: b"cc -o app app.c\n".to_vec(),
                ..Default::default()
            }],
            ..Default::default()
        };
        log.record(status, &mut progress);
        let unknown = StatusResponse {
            logs: vec![VertexLog {
                vertex: "sha256:b".into(),
                msg: b"x".to_vec(),
                ..Default::default()
            }],
            ..Default::default()
        };
        log.record(unknown, &mut progress);
        assert_eq!(
            progress.0,
            [
                (
                    "[build 2/3] RUN make".to_string(),
                    b"cc -o app app.c\n".to_vec()
                ),
                ("sha256:b".to_string(), b"x".to_vec()),
            ]
        );
        assert_eq!(log.logs["sha256:a"], b"cc -o app app.c\n");
    }

    #[test]
    fn layers_are_numbered_as_the_filesystem_counts_them() {
        // Exercise 04's solution as Docker 20.10's classic store lists it: 5 layers, the
        // zero-byte `RUN install -d` among them, the metadata entries not.
        let history = [
            (74_800_000, ""),
            (
                15_300_000,
                "RUN /bin/sh -c apt-get update && apt-get install -y nginx # buildkit",
            ),
            (1_690, "COPY nginx.conf /etc/nginx/site.conf # buildkit"),
            (
                0,
                "RUN /bin/sh -c install -d -o 10001 -g 10001 /run/nginx # buildkit",
            ),
            (3_280, "COPY /srv/www/ /srv/www/ # buildkit"),
            (0, "USER 10001:10001"),
            (0, "EXPOSE map[8080/tcp:{}]"),
            (0, "CMD [\"nginx\"]"),
        ];
        let layers = number_layers(history.iter().map(|(s, c)| (*s, c.to_string())));
        let positions: Vec<usize> = layers.iter().map(|l| l.position).collect();
        assert_eq!(positions, [1, 2, 3, 5]);
        // The classic builder's forms.
        assert!(makes_a_layer("/bin/sh -c apt-get update"));
        assert!(makes_a_layer("/bin/sh -c #(nop) WORKDIR /app"));
        assert!(makes_a_layer("/bin/sh -c #(nop) COPY file:ab12 in /app "));
        assert!(!makes_a_layer("/bin/sh -c #(nop)  CMD [\"node\"]"));
        assert!(!makes_a_layer("ENV PATH=/usr/bin"));
        assert!(makes_a_layer("WORKDIR /app"));
    }

    #[test]
    fn tags_split_like_the_cli() {
        assert_eq!(
            split_tag("debian:bookworm-slim"),
            ("debian", "bookworm-slim")
        );
        assert_eq!(split_tag("debian"), ("debian", "latest"));
        assert_eq!(
            split_tag("localhost:5000/debian"),
            ("localhost:5000/debian", "latest")
        );
        assert_eq!(
            split_tag("localhost:5000/debian:bookworm"),
            ("localhost:5000/debian", "bookworm")
        );
    }

    #[test]
    fn log_tail_keeps_the_last_lines() {
        assert_eq!(tail_lines("a\nb\nc\n", 2), "b\nc");
        assert_eq!(tail_lines("a", 5), "a");
    }
}

#[cfg(test)]
mod following_links {
    use super::follow_link;

    #[test]
    fn links_resolve_inside_the_image_and_never_above_its_root() {
        assert_eq!(follow_link("/etc/passwd", "/srv/passwd"), "/srv/passwd");
        assert_eq!(
            follow_link("/etc/passwd", "passwd.real"),
            "/etc/passwd.real"
        );
        assert_eq!(follow_link("/etc/passwd", "../srv/./p"), "/srv/p");
        assert_eq!(follow_link("/etc/passwd", "../../../../srv/p"), "/srv/p");
        assert_eq!(follow_link("/etc/passwd", "/"), "/");
    }
}
