//! Facts about the engine a run talks to, read once (`EngineApi::info`) from `GET /version` and
//! `GET /info`: its version, API, platform, image store and BuildKit, with the endpoint and
//! how it was chosen. The parsing is here, apart from the engine module, so it is tested on
//! plain values without a daemon.

use std::fmt;

use bollard::models::{SystemInfo, SystemVersion};
use serde::{Deserialize, Serialize};

use crate::docker::endpoint::{Endpoint, EndpointReport};

/// Where the engine keeps images. The containerd store (default for new installs of Docker
/// Desktop 4.34+ and Engine 29) keeps compressed layers and reports sizes differently, and
/// `docker save` writes an OCI layout from it, so the rest of the checker asks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ImageStore {
    /// The engine's own graph drivers (overlay2 and friends).
    Classic,
    /// containerd's snapshotters (`"containerd-snapshotter": true`).
    Containerd,
}

impl ImageStore {
    /// `docker info` shows `DriverStatus: [["driver-type", "io.containerd.snapshotter.v1"]]`
    /// when containerd keeps the images; a graph driver shows its own facts instead.
    pub fn from_driver_status(status: &[Vec<String>]) -> ImageStore {
        let containerd = status.iter().any(|pair| {
            pair.first().map(String::as_str) == Some("driver-type")
                && pair.get(1).map(String::as_str) == Some("io.containerd.snapshotter.v1")
        });
        if containerd {
            ImageStore::Containerd
        } else {
            ImageStore::Classic
        }
    }
}

impl fmt::Display for ImageStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ImageStore::Classic => "classic image store",
            ImageStore::Containerd => "containerd image store",
        })
    }
}

/// What reports record about the engine.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EngineInfo {
    /// The engine's version, e.g. `28.5.2` or `20.10.24+dfsg1`.
    pub version: String,
    /// The newest API version the engine speaks, e.g. `1.51`.
    pub api_version: String,
    /// `linux` or `windows`, as `docker version` prints OS/Arch.
    pub os: String,
    /// `amd64`, `arm64`…
    pub arch: String,
    /// The engine host's system, e.g. `Debian GNU/Linux 12 (bookworm)` or `Docker Desktop`.
    pub operating_system: String,
    pub image_store: ImageStore,
    /// The storage driver `docker info` names (`overlay2`, `overlayfs`…).
    pub storage_driver: String,
    /// Whether builds through BuildKit are possible (the checker builds only that way).
    pub buildkit: bool,
    /// DockerRootDir: where the engine keeps its data, on the engine's machine.
    pub root_dir: Option<String>,
    /// The engine's host name and kernel, to tell whether it runs on this machine.
    #[serde(skip)]
    pub host_name: String,
    #[serde(skip)]
    pub kernel: String,
    /// How the checker reached it; left out of files that are committed (the measurements),
    /// where a socket path of the measuring machine would mean nothing.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub endpoint: Option<EndpointReport>,
}

/// The API version that first took BuildKit builds (`version=2` on `POST /build`): Engine 18.09.
const BUILDKIT_API: (u32, u32) = (1, 39);

impl EngineInfo {
    pub fn from_api(version: &SystemVersion, info: &SystemInfo, endpoint: &Endpoint) -> EngineInfo {
        let text = |s: &Option<String>| s.clone().unwrap_or_default();
        let api_version = text(&version.api_version);
        let os = version
            .os
            .clone()
            .or_else(|| info.os_type.clone())
            .unwrap_or_default();
        // The ping's Builder-Version header names only the default builder, and bollard does
        // not expose it; what matters is whether `version=2` is accepted: a Linux engine from
        // API 1.39 on does.
        let buildkit = os == "linux" && api_at_least(&api_version, BUILDKIT_API);
        EngineInfo {
            version: version
                .version
                .clone()
                .or_else(|| info.server_version.clone())
                .unwrap_or_default(),
            api_version,
            os,
            arch: version
                .arch
                .clone()
                .or_else(|| info.architecture.clone())
                .unwrap_or_default(),
            operating_system: text(&info.operating_system),
            image_store: ImageStore::from_driver_status(
                info.driver_status.as_deref().unwrap_or_default(),
            ),
            storage_driver: text(&info.driver),
            buildkit,
            root_dir: info.docker_root_dir.clone().filter(|d| !d.is_empty()),
            host_name: text(&info.name),
            kernel: text(&info.kernel_version),
            endpoint: Some(endpoint.report()),
        }
    }

    /// "Docker Engine 28.5.2 (API 1.51, containerd image store)", for reports and the book.
    pub fn describe(&self) -> String {
        format!(
            "Docker Engine {} (API {}, {})",
            self.version, self.api_version, self.image_store
        )
    }

    /// The same facts without the endpoint, for files that are committed.
    pub fn without_endpoint(&self) -> EngineInfo {
        EngineInfo {
            endpoint: None,
            ..self.clone()
        }
    }
}

fn api_at_least(version: &str, (major, minor): (u32, u32)) -> bool {
    let mut parts = version.split('.').map(|p| p.parse::<u32>().unwrap_or(0));
    let have = (parts.next().unwrap_or(0), parts.next().unwrap_or(0));
    have >= (major, minor)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::docker::endpoint::EndpointSource;

    fn endpoint() -> Endpoint {
        Endpoint {
            host: "unix:///run/workbook-engine-28/docker.sock".into(),
            tls: None,
            source: EndpointSource::DockerContextEnv("e28".into()),
        }
    }

    fn status(pairs: &[(&str, &str)]) -> Vec<Vec<String>> {
        pairs
            .iter()
            .map(|(k, v)| vec![k.to_string(), v.to_string()])
            .collect()
    }

    #[test]
    fn the_containerd_snapshotter_means_the_containerd_store() {
        assert_eq!(
            ImageStore::from_driver_status(&status(&[(
                "driver-type",
                "io.containerd.snapshotter.v1"
            )])),
            ImageStore::Containerd
        );
        // What overlay2 on 20.10 reports.
        assert_eq!(
            ImageStore::from_driver_status(&status(&[
                ("Backing Filesystem", "extfs"),
                ("Supports d_type", "true"),
                ("Native Overlay Diff", "true"),
                ("userxattr", "false"),
            ])),
            ImageStore::Classic
        );
        assert_eq!(ImageStore::from_driver_status(&[]), ImageStore::Classic);
    }

    #[test]
    fn facts_come_from_version_and_info() {
        let version = SystemVersion {
            version: Some("28.5.2".into()),
            api_version: Some("1.51".into()),
            os: Some("linux".into()),
            arch: Some("amd64".into()),
            ..Default::default()
        };
        let info = SystemInfo {
            driver: Some("overlayfs".into()),
            driver_status: Some(status(&[("driver-type", "io.containerd.snapshotter.v1")])),
            docker_root_dir: Some("/var/lib/workbook-engine-28".into()),
            operating_system: Some("Debian GNU/Linux 12 (bookworm)".into()),
            ..Default::default()
        };
        let facts = EngineInfo::from_api(&version, &info, &endpoint());
        assert_eq!(
            facts.describe(),
            "Docker Engine 28.5.2 (API 1.51, containerd image store)"
        );
        assert!(facts.buildkit);
        assert_eq!(
            facts.root_dir.as_deref(),
            Some("/var/lib/workbook-engine-28")
        );
        let json = serde_json::to_value(&facts).unwrap();
        assert_eq!(json["image_store"], "containerd");
        assert_eq!(json["endpoint"]["context"], "e28");
        assert_eq!(json["endpoint"]["source"], "docker-context-env");
        assert!(serde_json::to_value(facts.without_endpoint())
            .unwrap()
            .get("endpoint")
            .is_none());
    }

    #[test]
    fn buildkit_needs_a_linux_engine_from_api_1_39() {
        let facts = |os: &str, api: &str| {
            let version = SystemVersion {
                os: Some(os.into()),
                api_version: Some(api.into()),
                ..Default::default()
            };
            EngineInfo::from_api(&version, &SystemInfo::default(), &endpoint()).buildkit
        };
        assert!(facts("linux", "1.41"));
        assert!(facts("linux", "1.39"));
        assert!(!facts("linux", "1.38"));
        assert!(!facts("windows", "1.51"));
        assert!(facts("linux", "1.100"));
    }

    #[test]
    fn an_old_record_without_endpoint_reads_back() {
        let text = r#"{"version":"20.10.24+dfsg1","api_version":"1.41","os":"linux","arch":"amd64","operating_system":"Debian GNU/Linux 12 (bookworm)","image_store":"classic","storage_driver":"overlay2","buildkit":true,"root_dir":"/var/lib/docker"}"#;
        let facts: EngineInfo = serde_json::from_str(text).unwrap();
        assert_eq!(facts.image_store, ImageStore::Classic);
        assert_eq!(facts.endpoint, None);
    }
}
