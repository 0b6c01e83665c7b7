//! The non-root goal on real images: each way of (not) setting a user fails with its own
//! reason, and the ways that work pass, resolved through the image's own /etc/passwd.

use crate::common::*;

fn non_root(name: &str) -> serde_json::Value {
    require_engine();
    let out = run(&fixture("users"), &["check", name, "--format", "json"]);
    assert!(
        matches!(out.status.code(), Some(0 | 1)),
        "{name}: {}",
        text(&out.stderr)
    );
    verdict(&json(&out), "non-root").clone()
}

fn assert_fails(name: &str, measured_contains: &str) -> serde_json::Value {
    let v = non_root(name);
    assert_eq!(v["met"], false, "{name}: {v}");
    let measured = v["measured"].as_str().unwrap();
    assert!(measured.contains(measured_contains), "{name}: {measured}");
    v
}

pub(crate) fn no_user_runs_as_root() {
    assert_fails("01-no-user", "no USER in the final image");
}

pub(crate) fn root_by_name_and_by_number() {
    assert_fails("02-root-name", "USER `root` is root");
    assert_fails("03-zero", "USER `0:0` is root");
}

pub(crate) fn a_user_set_only_in_an_earlier_stage() {
    let v = assert_fails("04-earlier-stage", "no USER in the final image");
    assert!(
        v["detail"]
            .as_str()
            .unwrap()
            .contains("stage `build` (line 2)"),
        "{v}"
    );
}

pub(crate) fn a_name_the_image_lacks() {
    assert_fails("05-unknown-name", "unable to find user ghost");
    assert_fails("06-name-on-scratch", "no /etc/passwd");
}

pub(crate) fn names_and_numbers_that_resolve() {
    let v = non_root("07-named-user");
    assert_eq!(v["met"], true, "{v}");
    assert_eq!(v["measured"], "`app` = uid 10001");
    let v = non_root("08-numeric");
    assert_eq!(v["met"], true, "{v}");
    let v = non_root("09-inherited");
    assert_eq!(
        v["met"], true,
        "a USER inherited from the base stage counts: {v}"
    );
    assert_eq!(v["measured"], "`app` = uid 10002");
}
