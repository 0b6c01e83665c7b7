//! `checker doctor`: whether a check can run here, and what to do when it cannot. It looks at
//! the endpoint and how it was chosen, the engine (version, API, image store, BuildKit), the
//! base images, free disk, and the book's tools; every problem comes with the command that
//! fixes it. Only `doctor` prints: the `Diagnosis` as text or JSON.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::docker::api::EngineApi;
use crate::docker::endpoint::{Endpoint, EndpointReport, Environment};
use crate::docker::engine::Engine;
use crate::docker::engine_info::{EngineInfo, ImageStore};
use crate::error::CheckerError;
use crate::workbook::Workbook;

pub const SCHEMA: &str = "workbook-checker/doctor/v1";

/// The book's tools, pinned as README.md and .ci/book install them.
pub const PINNED_TOOLS: [(&str, &str); 2] = [("mdbook", "0.5.4"), ("mdbook-mermaid", "0.17.1")];
const INSTALL_BOOK_TOOLS: &str = "cargo install --locked mdbook@0.5.4 mdbook-mermaid@0.17.1";

/// Below these, builds of the toolchain starters (1 GB and more each, with their cache) or the
/// progress and backup files may run out of room.
const ENGINE_DISK_MIN: u64 = 10_000_000_000;
const WORKBOOK_DISK_MIN: u64 = 500_000_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Status {
    Ok,
    /// Nothing to judge (a fact, or something that cannot be known from here).
    Info,
    /// Checks run, but something will bite later (little disk, the book's tools).
    Warning,
    /// Checks cannot run until it is fixed.
    Problem,
}

#[derive(Debug, Clone, Serialize)]
pub struct Finding {
    pub name: String,
    pub status: Status,
    pub detail: String,
    /// The command (or step) that fixes it.
    pub fix: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct DiskSpace {
    pub path: PathBuf,
    pub free_bytes: u64,
}

#[derive(Debug, Clone, Serialize)]
pub struct ToolVersion {
    pub wanted: String,
    /// None: not found on PATH.
    pub found: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Diagnosis {
    pub schema: &'static str,
    pub checker_version: &'static str,
    /// Engine reachable, BuildKit there, every base image present: `checker check` can run.
    pub can_check: bool,
    /// "Docker Engine 28.5.2 (API 1.51, containerd image store)", when one answered.
    pub engine: Option<String>,
    pub engine_info: Option<EngineInfo>,
    /// The endpoint and how it was chosen, even when nothing answers there.
    pub endpoint: Option<EndpointReport>,
    /// Base image → present on the engine (empty when no engine answered).
    pub base_images: BTreeMap<String, bool>,
    /// Free space where the engine keeps its data: None when it is not on this machine.
    pub engine_disk: Option<DiskSpace>,
    pub workbook_disk: Option<DiskSpace>,
    pub tools: BTreeMap<String, ToolVersion>,
    pub findings: Vec<Finding>,
}

impl Diagnosis {
    fn push(&mut self, name: &str, status: Status, detail: String, fix: Option<String>) {
        self.findings.push(Finding {
            name: name.to_string(),
            status,
            detail,
            fix,
        });
    }

    /// Exit code: 0 when a check can run, 2 when it cannot.
    pub fn exit_code(&self) -> u8 {
        if self.can_check {
            0
        } else {
            2
        }
    }

    /// For people: one line per finding, its fix under it.
    pub fn to_text(&self) -> String {
        let mut out = String::new();
        let width = self
            .findings
            .iter()
            .map(|f| f.name.chars().count())
            .max()
            .unwrap_or(0);
        for f in &self.findings {
            let mark = match f.status {
                Status::Ok => "✔",
                Status::Info => "·",
                Status::Warning => "!",
                Status::Problem => "✘",
            };
            let _ = writeln!(out, "{mark} {:width$}  {}", f.name, f.detail);
            if let Some(fix) = &f.fix {
                for line in fix.lines() {
                    let _ = writeln!(out, "  {:width$}  fix: {}", "", line.trim());
                }
            }
        }
        let _ = writeln!(
            out,
            "\n{}",
            if self.can_check {
                "A check can run here."
            } else {
                "A check cannot run here until the problems (✘) are fixed."
            }
        );
        out
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).expect("diagnosis serializes") + "\n"
    }
}

/// Looks at everything a check needs, in `workbook` (or why none was found), with the engine
/// `env` points at.
pub async fn diagnose(workbook: Result<Workbook, CheckerError>, env: &Environment) -> Diagnosis {
    let mut d = Diagnosis {
        schema: SCHEMA,
        checker_version: env!("CARGO_PKG_VERSION"),
        can_check: false,
        engine: None,
        engine_info: None,
        endpoint: None,
        base_images: BTreeMap::new(),
        engine_disk: None,
        workbook_disk: None,
        tools: BTreeMap::new(),
        findings: Vec::new(),
    };
    let workbook = match workbook {
        Ok(workbook) => Some(workbook),
        Err(e) => {
            d.push(
                "workbook",
                Status::Problem,
                e.to_string(),
                Some("run the checker inside the workbook, or pass --root".into()),
            );
            None
        }
    };
    let engine_ok = match crate::docker::endpoint::resolve(env) {
        Err(e) => {
            let (detail, fix) = split_fix(&e.to_string());
            d.push("endpoint", Status::Problem, detail, fix);
            false
        }
        Ok(endpoint) => {
            d.endpoint = Some(endpoint.report());
            d.push("endpoint", Status::Ok, endpoint.to_string(), None);
            engine_findings(&mut d, workbook.as_ref(), endpoint).await
        }
    };
    local_findings(&mut d, workbook.as_ref());
    d.can_check = engine_ok && workbook.is_some();
    d
}

/// The engine's own findings; true when a check can run on it.
/// The free disk where the engine keeps its data, when that is on this machine.
fn engine_disk_findings(d: &mut Diagnosis, info: &EngineInfo, engine: &Engine) {
    match local_root(info, engine.endpoint(), &this_machine()) {
        Some(root) => match free_bytes(&root) {
            Some(free) => {
                d.engine_disk = Some(DiskSpace {
                    path: root.clone(),
                    free_bytes: free,
                });
                let (status, fix) = disk_status(free, ENGINE_DISK_MIN, "checker clean && docker builder prune");
                d.push(
                    "engine disk",
                    status,
                    format!("{} free in {}", format_gb(free), root.display()),
                    fix,
                );
            }
            None => d.push(
                "engine disk",
                Status::Info,
                format!("{} cannot be read from here", root.display()),
                None,
            ),
        },
        None => d.push(
            "engine disk",
            Status::Info,
            "not known: the engine keeps its data on another machine or VM; `docker system df` there shows it".into(),
            None,
        ),
    }
}

async fn engine_findings(
    d: &mut Diagnosis,
    workbook: Option<&Workbook>,
    endpoint: Endpoint,
) -> bool {
    let engine = match Engine::connect_endpoint(endpoint).await {
        Ok(engine) => engine,
        Err(e) => {
            let (detail, fix) = split_fix(&e.to_string());
            d.push("engine", Status::Problem, detail, fix);
            return false;
        }
    };
    let info = match engine.info().await {
        Ok(info) => info.clone(),
        Err(e) => {
            d.push("engine", Status::Problem, e.to_string(), None);
            return false;
        }
    };
    d.engine = Some(info.describe());
    d.push(
        "engine",
        Status::Ok,
        format!(
            "Docker Engine {} (API {}), {}/{} on {}",
            info.version, info.api_version, info.os, info.arch, info.operating_system
        ),
        None,
    );
    d.push(
        "image store",
        Status::Ok,
        match info.image_store {
            ImageStore::Classic => format!("classic ({})", info.storage_driver),
            ImageStore::Containerd => format!(
                "containerd ({}); `docker images` may show another size than the checker's",
                info.storage_driver
            ),
        },
        None,
    );
    let mut ok = true;
    if info.buildkit {
        d.push("BuildKit", Status::Ok, "available".into(), None);
    } else {
        ok = false;
        d.push(
            "BuildKit",
            Status::Problem,
            format!(
                "not available on a {} engine with API {}; the checker builds only with BuildKit",
                info.os, info.api_version
            ),
            Some("use a Linux Docker Engine 18.09 or newer (API 1.39+), e.g. `sudo apt-get install docker.io`".into()),
        );
    }
    if let Some(workbook) = workbook {
        ok &= base_image_findings(d, workbook, &engine).await;
    }
    distroless_findings(d, &engine).await;
    engine_disk_findings(d, &info, &engine);
    d.engine_info = Some(info);
    ok
}

async fn base_image_findings(d: &mut Diagnosis, workbook: &Workbook, engine: &Engine) -> bool {
    let needed = match crate::commands::images::needed_images(workbook) {
        Ok(needed) => needed,
        Err(e) => {
            d.push("base images", Status::Problem, e.to_string(), None);
            return false;
        }
    };
    let mut missing = Vec::new();
    for image in needed.keys() {
        let present = match engine.image_exists(image).await {
            Ok(present) => present,
            Err(e) => {
                d.push("base images", Status::Problem, e.to_string(), None);
                return false;
            }
        };
        if !present {
            missing.push(image.clone());
        }
        d.base_images.insert(image.clone(), present);
    }
    if missing.is_empty() {
        d.push(
            "base images",
            Status::Ok,
            format!(
                "all {} present: {}",
                needed.len(),
                join_keys(&d.base_images)
            ),
            None,
        );
        true
    } else {
        d.push(
            "base images",
            Status::Problem,
            format!("missing: {}", missing.join(", ")),
            Some("checker images\n(without a registry: checker images --offline, or checker images load FILE)".into()),
        );
        false
    }
}

/// Where one of the distroless images came from, as the engine's copy says.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Origin {
    Missing,
    /// Made by `checker images --offline` from Debian packages (its label says so).
    BuiltLocally,
    /// Anything else: pulled from gcr.io or a classroom registry.
    Pulled,
}

/// The distroless images: which are here and where they came from. Only those an exercise
/// uses are needed (the base-images finding judges them); the others are for the book's
/// comparison and the learner's own experiments, so their absence is no problem.
async fn distroless_findings(d: &mut Diagnosis, engine: &Engine) {
    let mut origins = Vec::new();
    for (image, _) in crate::commands::images::DISTROLESS_IMAGES {
        let origin = match engine.image_labels(image).await {
            Ok(None) => Origin::Missing,
            Ok(Some(labels)) => {
                if labels
                    .get(crate::commands::images::MADE_BY_LABEL)
                    .map(String::as_str)
                    == Some(crate::commands::images::MADE_BY_OFFLINE)
                {
                    Origin::BuiltLocally
                } else {
                    Origin::Pulled
                }
            }
            Err(e) => {
                d.push("distroless images", Status::Problem, e.to_string(), None);
                return;
            }
        };
        d.base_images
            .entry(image.to_string())
            .or_insert(origin != Origin::Missing);
        origins.push((image.to_string(), origin));
    }
    let (status, detail, fix) = distroless_summary(&origins);
    d.push("distroless images", status, detail, fix);
}

/// The finding's words for the distroless images' origins: pure, so it is unit-tested.
fn distroless_summary(origins: &[(String, Origin)]) -> (Status, String, Option<String>) {
    let with = |wanted: Origin| {
        origins
            .iter()
            .filter(|(_, o)| *o == wanted)
            .map(|(i, _)| i.as_str())
            .collect::<Vec<_>>()
    };
    let (missing, local, pulled) = (
        with(Origin::Missing),
        with(Origin::BuiltLocally),
        with(Origin::Pulled),
    );
    let mut parts = Vec::new();
    if !local.is_empty() {
        parts.push(format!(
            "built locally from Debian bookworm packages by `checker images --offline`, not Google's images: {}",
            local.join(", ")
        ));
    }
    if !pulled.is_empty() {
        parts.push(format!("pulled: {}", pulled.join(", ")));
    }
    if !missing.is_empty() {
        parts.push(format!("missing: {}", missing.join(", ")));
    }
    if missing.is_empty() {
        (
            Status::Ok,
            format!("all {} present; {}", origins.len(), parts.join("; ")),
            None,
        )
    } else {
        (
            Status::Info,
            parts.join("; "),
            Some(
                "checker images --offline (builds all six from Debian packages), or checker images"
                    .into(),
            ),
        )
    }
}

fn join_keys(map: &BTreeMap<String, bool>) -> String {
    map.keys().cloned().collect::<Vec<_>>().join(", ")
}

/// Free disk of the workbook folder and the book's tools: they never stop a check.
fn local_findings(d: &mut Diagnosis, workbook: Option<&Workbook>) {
    if let Some((workbook, free)) = workbook.and_then(|w| Some((w, free_bytes(&w.root)?))) {
        let (status, fix) = disk_status(free, WORKBOOK_DISK_MIN, "free some space on that disk");
        d.workbook_disk = Some(DiskSpace {
            path: workbook.root.clone(),
            free_bytes: free,
        });
        d.push(
            "workbook disk",
            status,
            format!("{} free in {}", format_gb(free), workbook.root.display()),
            fix,
        );
    }
    for (tool, wanted) in PINNED_TOOLS {
        let found = tool_version(tool);
        let (status, detail) = match &found {
            Some(v) if v == wanted => (Status::Ok, v.to_string()),
            Some(v) => (
                Status::Warning,
                format!("{v}, but the book is built with {wanted}"),
            ),
            None => (
                Status::Warning,
                format!(
                    "not found; only needed to build the book (`mdbook build`), pinned at {wanted}"
                ),
            ),
        };
        let fix = (status != Status::Ok).then(|| INSTALL_BOOK_TOOLS.to_string());
        d.push(tool, status, detail, fix);
        d.tools.insert(
            tool.to_string(),
            ToolVersion {
                wanted: wanted.to_string(),
                found,
            },
        );
    }
}

/// Splits an error's message into what went wrong (its first line) and the fix (the rest).
fn split_fix(message: &str) -> (String, Option<String>) {
    match message.split_once('\n') {
        Some((what, fix)) => (what.to_string(), Some(fix.trim().to_string())),
        None => (message.to_string(), None),
    }
}

fn disk_status(free: u64, min: u64, fix: &str) -> (Status, Option<String>) {
    if free < min {
        (
            Status::Warning,
            Some(format!("{fix} (less than {} left)", format_gb(min))),
        )
    } else {
        (Status::Ok, None)
    }
}

/// Free disk in decimal gigabytes, as `df -H` shows it.
fn format_gb(bytes: u64) -> String {
    format!("{:.1} GB", bytes as f64 / 1e9)
}

/// This machine's host name and kernel release.
#[derive(Debug, Clone, Default)]
pub struct Machine {
    pub host_name: String,
    pub kernel: String,
}

fn this_machine() -> Machine {
    #[cfg(unix)]
    {
        let uname = rustix::system::uname();
        Machine {
            host_name: uname.nodename().to_string_lossy().into_owned(),
            kernel: uname.release().to_string_lossy().into_owned(),
        }
    }
    #[cfg(not(unix))]
    Machine::default()
}

/// The engine's data root, when it is on this machine's disks: reached through a local socket
/// and reporting this machine's host name and kernel. Docker Desktop and Colima also answer on
/// a local socket, but keep their data inside a VM; the same name and kernel tell them apart.
pub fn local_root(info: &EngineInfo, endpoint: &Endpoint, here: &Machine) -> Option<PathBuf> {
    let same = endpoint.is_local_socket()
        && !here.host_name.is_empty()
        && info.host_name == here.host_name
        && info.kernel == here.kernel;
    same.then(|| info.root_dir.clone().map(PathBuf::from))
        .flatten()
}

/// Bytes an unprivileged writer may still use on the file system holding `path`.
fn free_bytes(path: &Path) -> Option<u64> {
    #[cfg(unix)]
    {
        let stat = rustix::fs::statvfs(path).ok()?;
        Some(stat.f_bavail.saturating_mul(stat.f_frsize))
    }
    #[cfg(not(unix))]
    {
        let _ = path;
        None
    }
}

/// `TOOL --version` → its version ("mdbook v0.5.4" → "0.5.4"); None when it does not run.
fn tool_version(tool: &str) -> Option<String> {
    let out = std::process::Command::new(tool)
        .arg("--version")
        .output()
        .ok()?;
    out.status
        .success()
        .then(|| parse_version(&String::from_utf8_lossy(&out.stdout)))
        .flatten()
}

/// The last word of a `--version` line, without a leading `v`.
pub fn parse_version(output: &str) -> Option<String> {
    let word = output.lines().next()?.split_whitespace().last()?;
    let version = word.strip_prefix('v').unwrap_or(word);
    version
        .starts_with(|c: char| c.is_ascii_digit())
        .then(|| version.to_string())
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum DoctorFormat {
    Text,
    Json,
}

/// `checker doctor`: looks at the engine even when no workbook is found from `start`.
pub async fn doctor(start: &Path, format: DoctorFormat) -> super::Outcome {
    let diagnosis = diagnose(Workbook::discover(start), &Environment::from_process()).await;
    match format {
        DoctorFormat::Text => print!("{}", diagnosis.to_text()),
        DoctorFormat::Json => print!("{}", diagnosis.to_json()),
    }
    Ok(std::process::ExitCode::from(diagnosis.exit_code()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::docker::endpoint::EndpointSource;

    #[test]
    fn tool_versions_are_read_from_their_banner() {
        assert_eq!(parse_version("mdbook v0.5.4\n").as_deref(), Some("0.5.4"));
        assert_eq!(
            parse_version("mdbook-mermaid 0.17.1\n").as_deref(),
            Some("0.17.1")
        );
        assert_eq!(parse_version("usage: mdbook [OPTIONS]\n"), None);
        assert_eq!(parse_version(""), None);
    }

    fn info(host_name: &str, kernel: &str) -> EngineInfo {
        EngineInfo {
            version: "28.5.2".into(),
            api_version: "1.51".into(),
            os: "linux".into(),
            arch: "amd64".into(),
            operating_system: "Debian GNU/Linux 12 (bookworm)".into(),
            image_store: ImageStore::Containerd,
            storage_driver: "overlayfs".into(),
            buildkit: true,
            root_dir: Some("/var/lib/docker".into()),
            host_name: host_name.into(),
            kernel: kernel.into(),
            endpoint: None,
        }
    }

    #[test]
    fn the_data_root_counts_only_for_an_engine_on_this_machine() {
        let here = Machine {
            host_name: "laptop".into(),
            kernel: "6.1.0-18-amd64".into(),
        };
        let socket = Endpoint {
            host: "unix:///var/run/docker.sock".into(),
            tls: None,
            source: EndpointSource::Default,
        };
        assert_eq!(
            local_root(&info("laptop", "6.1.0-18-amd64"), &socket, &here),
            Some(PathBuf::from("/var/lib/docker"))
        );
        // Docker Desktop: a local socket, a VM behind it.
        assert_eq!(
            local_root(&info("docker-desktop", "6.10.14-linuxkit"), &socket, &here),
            None
        );
        let tcp = Endpoint::given("tcp://192.0.2.7:2375", "--target-host");
        assert_eq!(
            local_root(&info("laptop", "6.1.0-18-amd64"), &tcp, &here),
            None
        );
    }

    #[test]
    fn distroless_images_say_where_they_came_from() {
        let (status, detail, fix) = distroless_summary(&[
            (
                "gcr.io/distroless/static-debian12:latest".into(),
                Origin::BuiltLocally,
            ),
            (
                "gcr.io/distroless/static-debian12:nonroot".into(),
                Origin::Pulled,
            ),
        ]);
        assert_eq!(status, Status::Ok);
        assert_eq!(fix, None);
        assert_eq!(
            detail,
            "all 2 present; built locally from Debian bookworm packages by `checker images --offline`, not Google's images: gcr.io/distroless/static-debian12:latest; pulled: gcr.io/distroless/static-debian12:nonroot"
        );
        let (status, detail, fix) = distroless_summary(&[(
            "gcr.io/distroless/cc-debian12:latest".into(),
            Origin::Missing,
        )]);
        assert_eq!(status, Status::Info, "only what an exercise uses is needed");
        assert_eq!(detail, "missing: gcr.io/distroless/cc-debian12:latest");
        assert!(fix.unwrap().starts_with("checker images --offline"));
    }

    #[test]
    fn little_disk_is_a_warning_with_the_fix() {
        assert_eq!(
            disk_status(20_000_000_000, ENGINE_DISK_MIN, "x").0,
            Status::Ok
        );
        let (status, fix) = disk_status(1_000_000_000, ENGINE_DISK_MIN, "checker clean");
        assert_eq!(status, Status::Warning);
        assert_eq!(fix.unwrap(), "checker clean (less than 10.0 GB left)");
    }

    #[test]
    fn the_text_shows_each_problem_with_its_fix_and_whether_a_check_can_run() {
        let mut d = Diagnosis {
            schema: SCHEMA,
            checker_version: "0.1.0",
            can_check: false,
            engine: None,
            engine_info: None,
            endpoint: None,
            base_images: BTreeMap::new(),
            engine_disk: None,
            workbook_disk: None,
            tools: BTreeMap::new(),
            findings: vec![],
        };
        let (detail, fix) = split_fix("no Docker engine answers at unix:///x (from DOCKER_HOST): gone\n  Start one: `sudo systemctl start docker`.\n  DOCKER_HOST chose it.");
        d.push("engine", Status::Problem, detail, fix);
        d.push(
            "mdbook",
            Status::Warning,
            "not found".into(),
            Some(INSTALL_BOOK_TOOLS.into()),
        );
        let text = d.to_text();
        assert!(
            text.contains(
                "✘ engine  no Docker engine answers at unix:///x (from DOCKER_HOST): gone\n"
            ),
            "{text}"
        );
        assert!(
            text.contains("fix: Start one: `sudo systemctl start docker`.\n"),
            "{text}"
        );
        assert!(text.contains("fix: DOCKER_HOST chose it.\n"), "{text}");
        assert!(
            text.contains("fix: cargo install --locked mdbook@0.5.4"),
            "{text}"
        );
        assert!(text.ends_with("A check cannot run here until the problems (✘) are fixed.\n"));
        assert_eq!(d.exit_code(), 2);
        let json: serde_json::Value = serde_json::from_str(&d.to_json()).unwrap();
        assert_eq!(json["schema"], SCHEMA);
        assert_eq!(json["findings"][0]["status"], "problem");
        assert_eq!(json["can_check"], false);
    }
}
