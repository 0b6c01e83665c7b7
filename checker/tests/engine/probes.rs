//! The goal kinds that probe with extra builds, each shown catching a wrong Dockerfile: in
//! every fixture exercise the starter is the wrong one, and `verify` demands that it misses
//! exactly that goal while the solution meets it.

use crate::common::*;
use checker::docker::api::SCOPE_LABEL;

pub(crate) fn each_probing_goal_catches_its_wrong_dockerfile() {
    require_engine();
    // Twice: a probe must not be fooled by the cache its own last run left behind.
    for round in 1..=2 {
        let out = run(&fixture("probes"), &["verify", "--format", "json"]);
        let report = json(&out);
        assert_eq!(
            out.status.code(),
            Some(0),
            "round {round}: {}",
            serde_json::to_string_pretty(&report).unwrap()
        );
        let measured = |exercise: &str, variant: &str| -> String {
            let r = report["results"]
                .as_array()
                .unwrap()
                .iter()
                .find(|r| r["exercise"] == exercise)
                .unwrap();
            r[variant]["verdicts"][0]["measured"]
                .as_str()
                .unwrap()
                .to_string()
        };
        assert!(
            measured("01-context", "starter").ends_with("in 8 files"),
            "{}",
            measured("01-context", "starter")
        );
        assert!(
            measured("02-parallel", "solution").starts_with("independent: app, docs; overlapped")
        );
        // The starter's install step runs again and writes deps.txt's content to /deps.
        assert_eq!(
            measured("03-cache", "starter"),
            "fetched again: 1 of the dependencies' files, by 1 step"
        );
        assert_eq!(
            measured("03-cache", "solution"),
            "nothing fetched again: 1 layer rebuilt after the edit, none holding a file of the dependencies (1 looked for)"
        );
        assert!(measured("04-test-stage", "starter").contains("the tests do not run"));
        assert!(measured("04-test-stage", "solution")
            .contains("with the fault it fails at [test 1/1] RUN sh test.sh"));
        assert_eq!(
            measured("05-build-arg", "starter"),
            "no ARG SUITE before the first FROM"
        );
        assert_eq!(
            measured("05-build-arg", "solution"),
            "default `bookworm`; SUITE=bookworm-slim builds and works"
        );
        assert_eq!(measured("06-waste", "starter"), "2.00 MB wasted");
        assert_eq!(measured("06-waste", "solution"), "0.00 MB wasted");
    }
    // The probes' own images (`-probe`, `-probe-before-<stage>`, `-probe-after-<stage>`,
    // `-test`, `-test-fault`, `-alternate`) are removed:
    // those of this workbook's scope (other tests' probes may be running).
    let scope = checker::workbook::exercise::folder_scope(&fixture("probes").join("exercises"));
    let tags = std::process::Command::new("docker")
        .args([
            "images",
            "--filter",
            &format!("label={SCOPE_LABEL}={scope}"),
            "--format",
            "{{.Repository}}:{{.Tag}}",
        ])
        .output()
        .unwrap();
    let left: Vec<String> = text(&tags.stdout)
        .lines()
        .filter(|t| {
            t.contains("-probe-")
                || ["-probe", "-test", "-test-fault", "-alternate"]
                    .iter()
                    .any(|s| t.ends_with(s))
        })
        .map(str::to_string)
        .collect();
    assert!(left.is_empty(), "probe images left behind: {left:?}");
}
