//! Which Docker engine to talk to, chosen the way the docker CLI chooses it: `DOCKER_HOST`
//! (with `DOCKER_TLS_VERIFY`/`DOCKER_CERT_PATH`), else the context named by `DOCKER_CONTEXT`,
//! else the `currentContext` of `$DOCKER_CONFIG/config.json` (default `~/.docker`), else the
//! platform default. Docker Desktop, Colima and rootless Docker are reached through a context,
//! so a learner whose `docker` works must find that the checker works too.
//!
//! Pure file reading: the environment comes in as a value, so tests need no global state and
//! the engine module does the connecting.

use std::fmt;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::error::CheckerError;

/// Where the docker CLI looks when nothing else is said; Docker Desktop on macOS also answers
/// here once its "default socket" setting is on, and through its `desktop-linux` context always.
#[cfg(unix)]
pub const PLATFORM_DEFAULT_HOST: &str = "unix:///var/run/docker.sock";
#[cfg(windows)]
pub const PLATFORM_DEFAULT_HOST: &str = "npipe:////./pipe/docker_engine";

/// The context the CLI creates implicitly: it means "DOCKER_HOST or the platform default".
const DEFAULT_CONTEXT: &str = "default";

/// The variables the choice depends on, read once from the process (or made up by a test).
#[derive(Debug, Clone, Default)]
pub struct Environment {
    pub docker_host: Option<String>,
    pub docker_context: Option<String>,
    pub docker_config: Option<PathBuf>,
    pub docker_tls_verify: Option<String>,
    pub docker_cert_path: Option<PathBuf>,
    /// The user's home folder, for `~/.docker` when DOCKER_CONFIG is unset.
    pub home: Option<PathBuf>,
}

impl Environment {
    pub fn from_process() -> Environment {
        // The CLI treats an empty variable as unset.
        let var = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
        Environment {
            docker_host: var("DOCKER_HOST"),
            docker_context: var("DOCKER_CONTEXT"),
            docker_config: var("DOCKER_CONFIG").map(PathBuf::from),
            docker_tls_verify: var("DOCKER_TLS_VERIFY"),
            docker_cert_path: var("DOCKER_CERT_PATH").map(PathBuf::from),
            home: home::home_dir(),
        }
    }

    /// `$DOCKER_CONFIG`, else `~/.docker`.
    pub fn config_dir(&self) -> PathBuf {
        match (&self.docker_config, &self.home) {
            (Some(dir), _) => dir.clone(),
            (None, Some(home)) => home.join(".docker"),
            (None, None) => PathBuf::from(".docker"),
        }
    }
}

/// Client certificate and CA for a TLS endpoint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsFiles {
    pub ca: PathBuf,
    pub cert: PathBuf,
    pub key: PathBuf,
}

impl TlsFiles {
    /// Each file read and seen to hold what it must (a PEM certificate, a PEM private key);
    /// the error names the file and what is wrong with it.
    pub fn check(&self) -> Result<(), String> {
        for (file, what, marker) in [
            (&self.ca, "the CA certificate", "CERTIFICATE-----"),
            (&self.cert, "the client certificate", "CERTIFICATE-----"),
            (&self.key, "the client key", "PRIVATE KEY-----"),
        ] {
            let text = crate::learner_file::read_to_string(file, 1024 * 1024)
                .map_err(|e| format!("{what} {} cannot be read: {e}", file.display()))?;
            if !text
                .lines()
                .any(|l| l.starts_with("-----BEGIN ") && l.ends_with(marker))
            {
                return Err(format!(
                    "{what} {} is not PEM (no `-----BEGIN …{marker}` line)",
                    file.display()
                ));
            }
        }
        Ok(())
    }
}

/// What to do when the engine at `endpoint` does not answer: a local socket's engine can be
/// started here; a remote one (tcp, ssh) is another machine's, to check from there.
pub fn advice(endpoint: &Endpoint) -> String {
    let host = endpoint.host.as_str();
    if host.starts_with("unix://") || host.starts_with("npipe://") {
        "Start one: `sudo systemctl start docker` (or `sudo dockerd &`), or `bash .ci/start-engine` in this repository, which installs and starts Debian's docker.io; Docker Desktop: start the app; Colima: `colima start`.".into()
    } else if endpoint.tls.is_some() {
        format!("Check that an engine listens at {host} with TLS (dockerd --tlsverify -H …) and that the certificates above are the ones it trusts.")
    } else if host.starts_with("ssh://") {
        format!(
            "Check that `ssh {}` logs in and that Docker runs on that machine.",
            host.trim_start_matches("ssh://")
        )
    } else {
        format!("Check that an engine listens at {host} (dockerd -H {host}) and that the address and port are right.")
    }
}

/// How the endpoint was chosen, so a failure can say what to change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EndpointSource {
    DockerHost,
    /// The context named by `DOCKER_CONTEXT`.
    DockerContextEnv(String),
    /// `currentContext` in this config.json.
    ConfigContext(String, PathBuf),
    /// Nothing chose one: the platform default.
    Default,
    /// A command-line option of the checker's own, such as `checker pulls --target-host`.
    CommandLine(String),
}

impl EndpointSource {
    /// The context's name, when a context chose the endpoint.
    pub fn context(&self) -> Option<&str> {
        match self {
            EndpointSource::DockerContextEnv(name) | EndpointSource::ConfigContext(name, _) => {
                Some(name)
            }
            _ => None,
        }
    }

    /// A short, stable name for reports: `docker-host`, `docker-context-env`,
    /// `config-context`, `default`, `command-line`.
    pub fn kind(&self) -> &'static str {
        match self {
            EndpointSource::DockerHost => "docker-host",
            EndpointSource::DockerContextEnv(_) => "docker-context-env",
            EndpointSource::ConfigContext(..) => "config-context",
            EndpointSource::Default => "default",
            EndpointSource::CommandLine(_) => "command-line",
        }
    }

    /// What to do when the engine chosen this way does not answer.
    pub fn how_to_choose_another(&self) -> String {
        match self {
            EndpointSource::DockerHost => {
                "DOCKER_HOST chose it: fix or unset DOCKER_HOST (`unset DOCKER_HOST`) to use the current docker context".into()
            }
            EndpointSource::DockerContextEnv(_) => {
                "DOCKER_CONTEXT chose it: set it to another context (`docker context ls` lists them) or `unset DOCKER_CONTEXT`".into()
            }
            EndpointSource::ConfigContext(..) => {
                "choose another context with `docker context use NAME` (`docker context ls` lists them), or set DOCKER_HOST".into()
            }
            EndpointSource::Default => {
                "or choose another engine: `docker context use NAME` (`docker context ls` lists them), or set DOCKER_HOST".into()
            }
            EndpointSource::CommandLine(option) => format!("check the address given to {option}"),
        }
    }
}

impl fmt::Display for EndpointSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            EndpointSource::DockerHost => write!(f, "from DOCKER_HOST"),
            EndpointSource::DockerContextEnv(name) => {
                write!(f, "from context `{name}` named by DOCKER_CONTEXT")
            }
            EndpointSource::ConfigContext(name, config) => {
                write!(f, "from context `{name}` in {}", config.display())
            }
            EndpointSource::Default => write!(f, "the platform default; no DOCKER_HOST, DOCKER_CONTEXT or current docker context is set"),
            EndpointSource::CommandLine(option) => write!(f, "from {option}"),
        }
    }
}

/// The engine's address, its TLS material, and how it was chosen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoint {
    pub host: String,
    pub tls: Option<TlsFiles>,
    pub source: EndpointSource,
}

/// The endpoint as reports show it (no paths to key files).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct EndpointReport {
    pub host: String,
    /// `docker-host`, `docker-context-env`, `config-context`, `default`, `command-line`.
    pub source: String,
    /// The context's name, when a context chose the endpoint.
    pub context: Option<String>,
    /// The config.json whose `currentContext` chose it.
    pub config_file: Option<PathBuf>,
    pub tls: bool,
}

impl Endpoint {
    /// An address given on the checker's own command line.
    pub fn given(host: &str, option: &str) -> Endpoint {
        Endpoint {
            host: host.to_string(),
            tls: None,
            source: EndpointSource::CommandLine(option.to_string()),
        }
    }

    /// Whether the engine runs on this machine's file system (a unix socket or named pipe),
    /// rather than across the network.
    pub fn is_local_socket(&self) -> bool {
        self.host.starts_with("unix://") || self.host.starts_with("npipe://")
    }

    pub fn report(&self) -> EndpointReport {
        EndpointReport {
            host: self.host.clone(),
            source: self.source.kind().to_string(),
            context: self.source.context().map(str::to_string),
            config_file: match &self.source {
                EndpointSource::ConfigContext(_, path) => Some(path.clone()),
                _ => None,
            },
            tls: self.tls.is_some(),
        }
    }
}

impl fmt::Display for Endpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({})", self.host, self.source)
    }
}

/// The endpoint the docker CLI would use in this environment.
pub fn resolve(env: &Environment) -> Result<Endpoint, CheckerError> {
    if let Some(host) = &env.docker_host {
        let tls = match &env.docker_tls_verify {
            // Like the CLI: any non-empty value turns verification on.
            Some(_) if is_tcp(host) => {
                let dir = env
                    .docker_cert_path
                    .clone()
                    .unwrap_or_else(|| env.config_dir());
                Some(tls_files_in(&dir).ok_or_else(|| CheckerError::Io {
                    path: dir.clone(),
                    message: "DOCKER_TLS_VERIFY is set, but ca.pem, cert.pem and key.pem are not all in this folder\n  Put the engine's certificates there, point DOCKER_CERT_PATH at them, or `unset DOCKER_TLS_VERIFY` for an engine without TLS."
                        .into(),
                    source: None,
                })?)
            }
            _ => None,
        };
        return Ok(Endpoint {
            host: host.clone(),
            tls,
            source: EndpointSource::DockerHost,
        });
    }
    let config_dir = env.config_dir();
    let (name, source) = match &env.docker_context {
        Some(name) => (name.clone(), EndpointSource::DockerContextEnv(name.clone())),
        None => {
            let config = config_dir.join("config.json");
            match current_context(&config)? {
                Some(name) => (name.clone(), EndpointSource::ConfigContext(name, config)),
                None => {
                    return Ok(Endpoint {
                        host: PLATFORM_DEFAULT_HOST.into(),
                        tls: None,
                        source: EndpointSource::Default,
                    })
                }
            }
        }
    };
    if name == DEFAULT_CONTEXT {
        return Ok(Endpoint {
            host: PLATFORM_DEFAULT_HOST.into(),
            tls: None,
            source,
        });
    }
    read_context(&config_dir, &name, source)
}

/// `currentContext` of a config.json; None when the file or the key is missing.
fn current_context(config: &Path) -> Result<Option<String>, CheckerError> {
    #[derive(Deserialize)]
    struct ConfigFile {
        #[serde(rename = "currentContext", default)]
        current_context: Option<String>,
    }
    let text = match crate::learner_file::read_to_string(
        config,
        crate::learner_file::MAX_STATE_FILE_BYTES,
    ) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(CheckerError::io(config, e)),
    };
    let file: ConfigFile = serde_json::from_str(&text).map_err(|e| CheckerError::Io {
        path: config.to_path_buf(),
        message: format!(
            "the docker CLI's config file is not valid JSON ({e})\n  Fix the file, or move it away (the docker CLI then starts afresh, without logins), or set DOCKER_HOST to skip it."
        ),
        source: Some(Box::new(e)),
    })?;
    Ok(file.current_context.filter(|c| !c.is_empty()))
}

/// The context store keeps each context under the SHA-256 of its name.
pub fn context_dir_name(name: &str) -> String {
    Sha256::digest(name.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Reads `contexts/meta/<hash>/meta.json` and the TLS files beside it.
/// A context's `meta.json`, as far as the checker reads it.
#[derive(Deserialize)]
struct Meta {
    #[serde(rename = "Endpoints", default)]
    endpoints: Endpoints,
}
#[derive(Deserialize, Default)]
struct Endpoints {
    docker: Option<DockerEndpoint>,
}
#[derive(Deserialize)]
struct DockerEndpoint {
    #[serde(rename = "Host", default)]
    host: String,
    #[serde(rename = "SkipTLSVerify", default)]
    skip_tls_verify: bool,
}

fn read_context(
    config_dir: &Path,
    name: &str,
    source: EndpointSource,
) -> Result<Endpoint, CheckerError> {
    let hash = context_dir_name(name);
    let meta_path = config_dir
        .join("contexts/meta")
        .join(&hash)
        .join("meta.json");
    let docker = read_meta(&meta_path, name, &source)?;
    let tls_dir = config_dir.join("contexts/tls").join(&hash).join("docker");
    let tls = tls_files_in(&tls_dir);
    if docker.skip_tls_verify {
        // bollard verifies the engine's certificate against a CA, always; turning that off
        // silently would be worse than saying so.
        return Err(CheckerError::Io {
            path: meta_path,
            message: format!(
                "context `{name}` skips TLS verification (SkipTLSVerify), which the checker does not do\n  Give it the engine's CA and a client certificate: `docker context update {name} --docker \"host={},ca=CA.pem,cert=CERT.pem,key=KEY.pem\"`.",
                docker.host
            ),
            source: None,
        });
    }
    let host = if docker.host.is_empty() {
        PLATFORM_DEFAULT_HOST.to_string()
    } else {
        docker.host
    };
    Ok(Endpoint {
        tls: tls.filter(|_| is_tcp(&host)),
        host,
        source,
    })
}

/// The docker endpoint of context `name`, from its `meta.json`; each error says how the
/// context came to be chosen and the way out.
fn read_meta(
    meta_path: &Path,
    name: &str,
    source: &EndpointSource,
) -> Result<DockerEndpoint, CheckerError> {
    let meta_path = meta_path.to_path_buf();
    let (chosen_by, way_out) = match source {
        EndpointSource::DockerContextEnv(_) => (
            "DOCKER_CONTEXT names it".to_string(),
            "set DOCKER_CONTEXT to one of them, or `unset DOCKER_CONTEXT`",
        ),
        EndpointSource::ConfigContext(_, config) => (
            format!("{} names it as currentContext", config.display()),
            "choose one with `docker context use NAME`",
        ),
        _ => ("it was named".to_string(), "choose one"),
    };
    let text = match crate::learner_file::read_to_string(&meta_path, crate::learner_file::MAX_STATE_FILE_BYTES) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(CheckerError::Io {
                path: meta_path,
                message: format!(
                    "there is no docker context `{name}`, yet {chosen_by}\n  List the contexts with `docker context ls` and {way_out}."
                ),
                source: None,
            })
        }
        Err(e) => return Err(CheckerError::io(&meta_path, e)),
    };
    let meta: Meta = serde_json::from_str(&text).map_err(|e| CheckerError::Io {
        path: meta_path.clone(),
        message: format!(
            "context `{name}`'s metadata is not valid JSON ({e})\n  Recreate it: `docker context rm {name}`, then `docker context create {name} --docker host=…`."
        ),
        source: Some(Box::new(e)),
    })?;
    meta.endpoints.docker.ok_or_else(|| CheckerError::Io {
        path: meta_path,
        message: format!(
            "context `{name}` has no docker endpoint (Endpoints.docker)\n  Give it one: `docker context update {name} --docker host=…`."
        ),
        source: None,
    })
}

/// ca.pem, cert.pem and key.pem in `dir`, when all three are there.
fn tls_files_in(dir: &Path) -> Option<TlsFiles> {
    let files = TlsFiles {
        ca: dir.join("ca.pem"),
        cert: dir.join("cert.pem"),
        key: dir.join("key.pem"),
    };
    (files.ca.is_file() && files.cert.is_file() && files.key.is_file()).then_some(files)
}

fn is_tcp(host: &str) -> bool {
    ["tcp://", "http://", "https://"]
        .iter()
        .any(|p| host.starts_with(p))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env_in(dir: &Path) -> Environment {
        Environment {
            docker_config: Some(dir.to_path_buf()),
            ..Environment::default()
        }
    }

    fn write(path: &Path, text: &str) {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }

    /// A context as `docker context create NAME --docker host=HOST` writes it.
    fn context(dir: &Path, name: &str, host: &str) {
        write(
            &dir.join("contexts/meta")
                .join(context_dir_name(name))
                .join("meta.json"),
            &format!(
                r#"{{"Name":"{name}","Metadata":{{"Description":""}},"Endpoints":{{"docker":{{"Host":"{host}","SkipTLSVerify":false}}}}}}"#
            ),
        );
    }

    #[test]
    fn the_context_folder_is_the_sha256_of_the_name() {
        // As the docker CLI names it (echo -n default | sha256sum).
        assert_eq!(
            context_dir_name("default"),
            "37a8eec1ce19687d132fe29051dca629d164e2c4958ba141d5f4133a33f0688f"
        );
    }

    #[test]
    fn nothing_set_means_the_platform_default() {
        let dir = tempfile::tempdir().unwrap();
        let endpoint = resolve(&env_in(dir.path())).unwrap();
        assert_eq!(endpoint.host, PLATFORM_DEFAULT_HOST);
        assert_eq!(endpoint.source, EndpointSource::Default);
        assert_eq!(endpoint.tls, None);
    }

    #[test]
    fn the_current_context_of_config_json_is_read_from_the_store() {
        let dir = tempfile::tempdir().unwrap();
        write(
            &dir.path().join("config.json"),
            r#"{"auths":{},"currentContext":"colima"}"#,
        );
        context(
            dir.path(),
            "colima",
            "unix:///home/ada/.colima/default/docker.sock",
        );
        let endpoint = resolve(&env_in(dir.path())).unwrap();
        assert_eq!(
            endpoint.host,
            "unix:///home/ada/.colima/default/docker.sock"
        );
        let config = dir.path().join("config.json");
        assert_eq!(
            endpoint.source,
            EndpointSource::ConfigContext("colima".into(), config.clone())
        );
        assert_eq!(
            endpoint.to_string(),
            format!(
                "unix:///home/ada/.colima/default/docker.sock (from context `colima` in {})",
                config.display()
            )
        );
    }

    #[test]
    fn docker_config_defaults_to_the_home_folder() {
        let home = tempfile::tempdir().unwrap();
        let dir = home.path().join(".docker");
        write(&dir.join("config.json"), r#"{"currentContext":"rootless"}"#);
        context(&dir, "rootless", "unix:///run/user/1000/docker.sock");
        let env = Environment {
            home: Some(home.path().to_path_buf()),
            ..Environment::default()
        };
        let endpoint = resolve(&env).unwrap();
        assert_eq!(endpoint.host, "unix:///run/user/1000/docker.sock");
        assert_eq!(endpoint.source.context(), Some("rootless"));
    }

    #[test]
    fn docker_context_beats_config_json_and_docker_host_beats_both() {
        let dir = tempfile::tempdir().unwrap();
        write(&dir.path().join("config.json"), r#"{"currentContext":"a"}"#);
        context(dir.path(), "a", "unix:///a.sock");
        context(dir.path(), "b", "ssh://ada@build-box");
        let mut env = env_in(dir.path());
        env.docker_context = Some("b".into());
        let endpoint = resolve(&env).unwrap();
        assert_eq!(endpoint.host, "ssh://ada@build-box");
        assert_eq!(
            endpoint.source,
            EndpointSource::DockerContextEnv("b".into())
        );
        env.docker_host = Some("tcp://10.0.0.5:2375".into());
        let endpoint = resolve(&env).unwrap();
        assert_eq!(endpoint.host, "tcp://10.0.0.5:2375");
        assert_eq!(endpoint.source, EndpointSource::DockerHost);
        assert_eq!(endpoint.tls, None);
    }

    #[test]
    fn the_context_named_default_is_the_platform_default() {
        let dir = tempfile::tempdir().unwrap();
        write(
            &dir.path().join("config.json"),
            r#"{"currentContext":"default"}"#,
        );
        let endpoint = resolve(&env_in(dir.path())).unwrap();
        assert_eq!(endpoint.host, PLATFORM_DEFAULT_HOST);
        assert_eq!(endpoint.source.context(), Some("default"));
    }

    #[test]
    fn a_tls_context_brings_its_certificates() {
        let dir = tempfile::tempdir().unwrap();
        context(dir.path(), "remote", "tcp://192.0.2.7:2376");
        let tls = dir
            .path()
            .join("contexts/tls")
            .join(context_dir_name("remote"))
            .join("docker");
        for f in ["ca.pem", "cert.pem", "key.pem"] {
            write(&tls.join(f), "-----BEGIN CERTIFICATE-----\n");
        }
        let mut env = env_in(dir.path());
        env.docker_context = Some("remote".into());
        let endpoint = resolve(&env).unwrap();
        assert_eq!(
            endpoint.tls,
            Some(TlsFiles {
                ca: tls.join("ca.pem"),
                cert: tls.join("cert.pem"),
                key: tls.join("key.pem"),
            })
        );
        assert!(endpoint.report().tls);
    }

    #[test]
    fn docker_tls_verify_takes_the_certificates_from_docker_cert_path() {
        let certs = tempfile::tempdir().unwrap();
        let mut env = Environment {
            docker_host: Some("tcp://192.0.2.7:2376".into()),
            docker_tls_verify: Some("1".into()),
            docker_cert_path: Some(certs.path().to_path_buf()),
            ..Environment::default()
        };
        let err = resolve(&env).unwrap_err().to_string();
        assert!(
            err.starts_with(&certs.path().display().to_string()),
            "{err}"
        );
        assert!(err.contains("DOCKER_TLS_VERIFY"), "{err}");
        for f in ["ca.pem", "cert.pem", "key.pem"] {
            write(&certs.path().join(f), "x");
        }
        let endpoint = resolve(&env).unwrap();
        assert_eq!(endpoint.tls.unwrap().key, certs.path().join("key.pem"));
        // Without DOCKER_CERT_PATH, the CLI looks in its config folder.
        env.docker_cert_path = None;
        env.docker_config = Some(certs.path().to_path_buf());
        assert!(resolve(&env).unwrap().tls.is_some());
    }

    #[test]
    fn a_broken_config_json_is_named() {
        let dir = tempfile::tempdir().unwrap();
        write(&dir.path().join("config.json"), "{\"currentContext\": ");
        let err = resolve(&env_in(dir.path())).unwrap_err().to_string();
        let file = dir.path().join("config.json").display().to_string();
        assert!(err.starts_with(&format!("{file}: ")), "{err}");
        assert!(err.contains("not valid JSON"), "{err}");
    }

    #[test]
    fn a_broken_meta_json_is_named() {
        let dir = tempfile::tempdir().unwrap();
        write(&dir.path().join("config.json"), r#"{"currentContext":"x"}"#);
        let meta = dir
            .path()
            .join("contexts/meta")
            .join(context_dir_name("x"))
            .join("meta.json");
        write(&meta, "{\"Endpoints\": [}");
        let err = resolve(&env_in(dir.path())).unwrap_err().to_string();
        assert!(err.starts_with(&format!("{}: ", meta.display())), "{err}");
        assert!(err.contains("docker context rm x"), "{err}");
    }

    #[test]
    fn a_missing_context_says_how_to_choose_one() {
        let dir = tempfile::tempdir().unwrap();
        write(
            &dir.path().join("config.json"),
            r#"{"currentContext":"gone"}"#,
        );
        let err = resolve(&env_in(dir.path())).unwrap_err().to_string();
        assert!(err.contains("there is no docker context `gone`"), "{err}");
        assert!(
            err.contains("config.json names it as currentContext"),
            "{err}"
        );
        assert!(err.contains("docker context use"), "{err}");
        // Named by DOCKER_CONTEXT instead, the way out is that variable.
        let mut env = env_in(dir.path());
        env.docker_context = Some("gone".into());
        let err = resolve(&env).unwrap_err().to_string();
        assert!(err.contains("yet DOCKER_CONTEXT names it"), "{err}");
        assert!(err.contains("`unset DOCKER_CONTEXT`"), "{err}");
    }

    #[test]
    fn a_context_that_skips_tls_verification_is_refused_with_the_fix() {
        let dir = tempfile::tempdir().unwrap();
        write(
            &dir.path()
                .join("contexts/meta")
                .join(context_dir_name("lax"))
                .join("meta.json"),
            r#"{"Name":"lax","Endpoints":{"docker":{"Host":"tcp://192.0.2.7:2376","SkipTLSVerify":true}}}"#,
        );
        let mut env = env_in(dir.path());
        env.docker_context = Some("lax".into());
        let err = resolve(&env).unwrap_err().to_string();
        assert!(err.contains("SkipTLSVerify"), "{err}");
        assert!(err.contains("docker context update lax"), "{err}");
    }

    #[test]
    fn reports_say_where_the_endpoint_came_from() {
        let config = PathBuf::from("/root/.docker/config.json");
        let endpoint = Endpoint {
            host: "unix:///run/e28.sock".into(),
            tls: None,
            source: EndpointSource::ConfigContext("e28".into(), config.clone()),
        };
        let report = endpoint.report();
        assert_eq!(report.source, "config-context");
        assert_eq!(report.context.as_deref(), Some("e28"));
        assert_eq!(report.config_file, Some(config));
        assert!(endpoint.is_local_socket());
        assert!(!Endpoint::given("tcp://127.0.0.1:2375", "--target-host").is_local_socket());
    }
}
