//! The engine the docker CLI would use is the one the checker uses: with DOCKER_HOST unset, a
//! context made current with `docker context use` chooses it, and the reports say which
//! engine, store and context that was.

use std::path::Path;
use std::process::Command;

use crate::common::*;
use sha2::{Digest, Sha256};

/// The endpoint this test run targets, as the checker itself resolves it from the inherited
/// environment (DOCKER_HOST when set, else the current context or the default socket).
fn targeted_engine() -> serde_json::Value {
    let out = run(&workbook_root(), &["doctor", "--format", "json"]);
    let doctor: serde_json::Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("doctor's JSON ({e}): {}", text(&out.stderr)));
    assert!(
        doctor["endpoint"]["host"].is_string(),
        "no endpoint: {doctor}"
    );
    doctor
}

/// `docker …` with its own config folder and neither DOCKER_HOST nor DOCKER_CONTEXT, so the
/// machine's ~/.docker is never touched.
fn docker_cli(config: &Path, args: &[&str]) {
    let out = Command::new("docker")
        .args(args)
        .env("DOCKER_CONFIG", config)
        .env_remove("DOCKER_HOST")
        .env_remove("DOCKER_CONTEXT")
        .output()
        .expect("the docker CLI, for making a context");
    assert!(
        out.status.success(),
        "docker {}: {}",
        args.join(" "),
        text(&out.stderr)
    );
}

pub(crate) fn a_current_docker_context_chooses_the_engine_and_reports_name_it() {
    require_engine();
    let doctor = targeted_engine();
    let host = doctor["endpoint"]["host"].as_str().unwrap().to_string();
    let mut endpoint = format!("host={host}");
    // An engine reached with TLS keeps it: the context gets the same certificates.
    if std::env::var("DOCKER_TLS_VERIFY").is_ok_and(|v| !v.is_empty()) {
        let certs = std::env::var("DOCKER_CERT_PATH").expect("DOCKER_CERT_PATH with TLS");
        endpoint.push_str(&format!(
            ",ca={certs}/ca.pem,cert={certs}/cert.pem,key={certs}/key.pem"
        ));
    }
    let config = tempfile::tempdir().unwrap();
    docker_cli(
        config.path(),
        &["context", "create", "workbook-test", "--docker", &endpoint],
    );
    docker_cli(config.path(), &["context", "use", "workbook-test"]);

    let workbook = copy_fixture("users");
    let checker_in_context = |args: &[&str]| {
        checker()
            .arg("--root")
            .arg(workbook.path())
            .args(args)
            .env("DOCKER_CONFIG", config.path())
            .env_remove("DOCKER_HOST")
            .env_remove("DOCKER_CONTEXT")
            .env_remove("DOCKER_TLS_VERIFY")
            .output()
            .unwrap()
    };
    let out = checker_in_context(&["check", "01-no-user", "--format", "json"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    let report = json(&out);
    let info = &report["engine_info"];
    assert_eq!(info["endpoint"]["host"], host, "{report}");
    assert_eq!(info["endpoint"]["source"], "config-context", "{report}");
    assert_eq!(info["endpoint"]["context"], "workbook-test", "{report}");
    assert_eq!(
        info["endpoint"]["config_file"],
        config.path().join("config.json").display().to_string()
    );
    // The same engine as the one the run targets, with its store named.
    assert_eq!(report["engine"], doctor["engine"], "{report}");
    let engine = report["engine"].as_str().unwrap();
    assert!(
        engine.starts_with("Docker Engine ") && engine.ends_with(" image store)"),
        "{engine}"
    );
    assert!(
        ["classic", "containerd"].contains(&info["image_store"].as_str().unwrap()),
        "{report}"
    );

    // The hand-in report carries the engine each exercise was last checked on.
    let out = checker_in_context(&["report"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let handed_in = json(&out);
    let entry = handed_in["exercises"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["exercise"] == "01-no-user")
        .unwrap();
    assert_eq!(entry["engine"], report["engine"], "{entry}");
    assert_eq!(entry["engine_info"]["endpoint"]["context"], "workbook-test");

    // The doctor names the context too.
    let out = checker_in_context(&["doctor"]);
    let said = text(&out.stdout);
    assert!(
        said.contains(&format!(
            "{host} (from context `workbook-test` in {})",
            config.path().join("config.json").display()
        )),
        "{said}"
    );
}

/// A context as `docker context create NAME --docker host=HOST` stores it.
fn write_context(config: &Path, name: &str, host: &str) {
    let hash: String = Sha256::digest(name.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    let dir = config.join("contexts/meta").join(hash);
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("meta.json"),
        format!(
            r#"{{"Name":"{name}","Metadata":{{}},"Endpoints":{{"docker":{{"Host":"{host}","SkipTLSVerify":false}}}}}}"#
        ),
    )
    .unwrap();
}

pub(crate) fn an_unreachable_context_is_named_with_the_file_that_chose_it() {
    let config = tempfile::tempdir().unwrap();
    std::fs::write(
        config.path().join("config.json"),
        r#"{"currentContext":"stopped-vm"}"#,
    )
    .unwrap();
    write_context(config.path(), "stopped-vm", "unix:///nonexistent/vm.sock");
    let out = checker()
        .arg("--root")
        .arg(workbook_root())
        .args(["check", "01-static-binary"])
        .env("DOCKER_CONFIG", config.path())
        .env_remove("DOCKER_HOST")
        .env_remove("DOCKER_CONTEXT")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = text(&out.stderr);
    assert!(
        err.contains(&format!(
            "no Docker engine answers at unix:///nonexistent/vm.sock (from context `stopped-vm` in {})",
            config.path().join("config.json").display()
        )),
        "{err}"
    );
    assert!(err.contains("docker context use NAME"), "{err}");
    // The doctor says the same and exits 2.
    let out = checker()
        .arg("--root")
        .arg(workbook_root())
        .args(["doctor", "--format", "json"])
        .env("DOCKER_CONFIG", config.path())
        .env_remove("DOCKER_HOST")
        .env_remove("DOCKER_CONTEXT")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let doctor: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(doctor["can_check"], false);
    assert_eq!(doctor["endpoint"]["context"], "stopped-vm");
}

pub(crate) fn a_broken_config_json_is_named() {
    let config = tempfile::tempdir().unwrap();
    std::fs::write(config.path().join("config.json"), "{\"currentContext\":").unwrap();
    let out = checker()
        .arg("--root")
        .arg(workbook_root())
        .args(["check", "01-static-binary"])
        .env("DOCKER_CONFIG", config.path())
        .env_remove("DOCKER_HOST")
        .env_remove("DOCKER_CONTEXT")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = text(&out.stderr);
    assert!(
        err.starts_with(&format!(
            "error: {}: the docker CLI's config file is not valid JSON",
            config.path().join("config.json").display()
        )),
        "{err}"
    );
}
