//! The distroless images `checker images --offline` builds from Debian packages (or pulls,
//! where a registry answers): all six tags exist, the `:nonroot` ones run as 65532 and the
//! others as root, and none has a shell.

use crate::common::*;
use std::process::Command;

const IMAGES: [(&str, bool); 6] = [
    ("gcr.io/distroless/static-debian12:latest", false),
    ("gcr.io/distroless/static-debian12:nonroot", true),
    ("gcr.io/distroless/base-debian12:latest", false),
    ("gcr.io/distroless/base-debian12:nonroot", true),
    ("gcr.io/distroless/cc-debian12:latest", false),
    ("gcr.io/distroless/cc-debian12:nonroot", true),
];

fn docker(args: &[&str]) -> std::process::Output {
    Command::new("docker").args(args).output().unwrap()
}

pub(crate) fn the_six_distroless_images_run_as_their_user_and_have_no_shell() {
    require_engine();
    // Only those the exercises and the book use are needed; --offline makes all six.
    if IMAGES
        .iter()
        .any(|(image, _)| !docker(&["image", "inspect", image]).status.success())
    {
        let out = run(&workbook_root(), &["images", "--offline"]);
        assert!(
            out.status.success(),
            "{}{}",
            text(&out.stdout),
            text(&out.stderr)
        );
    }
    for (image, nonroot) in IMAGES {
        let user = docker(&["image", "inspect", "--format", "{{.Config.User}}", image]);
        assert!(user.status.success(), "{image}: {}", text(&user.stderr));
        let user = text(&user.stdout).trim().to_string();
        if nonroot {
            assert_eq!(user, "65532", "{image}");
        } else {
            assert!(
                ["", "0", "root"].contains(&user.as_str()),
                "{image}: {user}"
            );
        }
        // No shell to start: the runtime cannot find /bin/sh (exit 127, as docker run
        // reports a command that does not exist).
        let shell = docker(&[
            "run",
            "--rm",
            "--network",
            "none",
            "--entrypoint",
            "/bin/sh",
            image,
            "-c",
            "true",
        ]);
        assert_eq!(
            shell.status.code(),
            Some(127),
            "{image}: {}",
            text(&shell.stderr)
        );
    }
}

/// Built locally, the images say so, and have what distroless has: the user database, the
/// CA bundle, the zone data, a /tmp anyone may write to, and the packages in status.d.
pub(crate) fn a_local_distroless_static_holds_what_the_real_one_holds() {
    require_engine();
    let image = "gcr.io/distroless/static-debian12:nonroot";
    let made_by = docker(&[
        "image",
        "inspect",
        "--format",
        "{{index .Config.Labels \"org.workbook.made-by\"}}",
        image,
    ]);
    if text(&made_by.stdout).trim() != "checker images --offline" {
        // Pulled from a registry: Google's image, not ours to describe.
        return;
    }
    let created = docker(&["create", image, "/never-runs"]);
    assert!(created.status.success(), "{}", text(&created.stderr));
    let id = text(&created.stdout).trim().to_string();
    let exported = docker(&["export", &id]);
    docker(&["rm", &id]);
    let mut archive = tar::Archive::new(exported.stdout.as_slice());
    let mut seen = std::collections::BTreeMap::new();
    for entry in archive.entries().unwrap() {
        let mut entry = entry.unwrap();
        let path = entry
            .path()
            .unwrap()
            .to_string_lossy()
            .trim_end_matches('/')
            .to_string();
        let mode = entry.header().mode().unwrap();
        let mut body = String::new();
        if path == "etc/passwd" {
            std::io::Read::read_to_string(&mut entry, &mut body).unwrap();
        }
        seen.insert(path, (mode, body));
    }
    let passwd = &seen["etc/passwd"].1;
    for line in [
        "root:x:0:0:",
        "nobody:x:65534:65534:",
        "nonroot:x:65532:65532:nonroot:/home/nonroot:",
    ] {
        assert!(passwd.contains(line), "{line} in {passwd}");
    }
    for path in [
        "etc/group",
        "etc/os-release",
        "etc/ssl/certs/ca-certificates.crt",
        "usr/share/zoneinfo/Europe/Paris",
        "home/nonroot",
        "var/lib/dpkg/status.d/tzdata",
        "var/lib/dpkg/status.d/ca-certificates",
    ] {
        assert!(seen.contains_key(path), "{path}");
    }
    assert_eq!(seen["tmp"].0 & 0o7777, 0o1777);
    for absent in ["bin/sh", "bin/bash", "usr/bin/dpkg", "usr/bin/apt"] {
        assert!(!seen.contains_key(absent), "{absent}");
    }
}
