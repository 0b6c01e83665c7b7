//! Dockerfiles that game the goals, built on the real engine: each class of cheat must miss
//! the goal that judges what the image really is, and say what to change. (The goals'
//! pure judgements are unit-tested in `src/goals/`; these prove the measuring end to end.)

use crate::common::*;

/// Checks `dockerfile` as the learner's Dockerfile of a copy of `exercise`; the JSON report.
fn check_cheat(exercise: &str, dockerfile: &str) -> serde_json::Value {
    require_engine();
    let (dir, to) = workbook_with(exercise);
    std::fs::write(to.join("Dockerfile"), dockerfile).unwrap();
    let out = run(dir.path(), &["check", exercise, "--format", "json"]);
    assert_eq!(
        out.status.code(),
        Some(1),
        "a cheat misses a goal: {}{}",
        text(&out.stdout),
        text(&out.stderr)
    );
    json(&out)
}

fn missed<'a>(report: &'a serde_json::Value, id: &str) -> (&'a str, &'a str) {
    let v = verdict(report, id);
    assert_eq!(v["met"], false, "{id} is missed: {v}");
    (
        v["measured"].as_str().unwrap_or_default(),
        v["detail"].as_str().unwrap_or_default(),
    )
}

fn met(report: &serde_json::Value, id: &str) {
    let v = verdict(report, id);
    assert_eq!(v["met"], true, "{id} is met: {v}");
}

/// Class 1 and 2 on exercise 04: a `FROM scratch AS dummy` stage meets the old stage
/// count, Node.js is installed, used and purged in one RUN of the final stage (no
/// /usr/bin/node), and the sources ship outside /src.
pub(crate) fn a_dummy_stage_and_a_purged_toolchain_with_its_sources_elsewhere() {
    let report = check_cheat(
        "04-static-site",
        "FROM scratch AS dummy\n\
         COPY nginx.conf /x\n\
         FROM debian:bookworm-slim\n\
         COPY --from=dummy /x /tmp/x\n\
         WORKDIR /opt/build\n\
         COPY build.js ./\n\
         COPY site/ site/\n\
         RUN apt-get update && apt-get install -y --no-install-recommends nodejs nginx \\\n\
          && node build.js /srv/www && apt-get purge -y --auto-remove nodejs \\\n\
          && rm -rf /var/lib/apt/lists/*\n\
         COPY nginx.conf /etc/nginx/site.conf\n\
         RUN install -d -o 10001 -g 10001 /run/nginx\n\
         USER 10001:10001\n\
         EXPOSE 8080\n\
         CMD [\"nginx\", \"-e\", \"stderr\", \"-c\", \"/etc/nginx/site.conf\"]\n",
    );
    met(&report, "no-build-tools");
    met(&report, "serves");
    let (measured, detail) = missed(&report, "stages");
    assert!(measured.contains("idle: dummy"), "{measured}");
    assert!(
        detail.contains("stage dummy makes nothing the final stage uses"),
        "{detail}"
    );
    let (measured, detail) = missed(&report, "no-sources");
    assert!(
        measured.contains("build.js at /opt/build/build.js"),
        "{measured}"
    );
    assert!(
        detail.contains("COPY --from only what the build wrote"),
        "{detail}"
    );
}

/// Class 2 on exercise 03: the whole JDK installed, javac and jmods deleted in the same
/// RUN; jar, jlink, the package and the source stay.
pub(crate) fn a_jdk_with_javac_and_jmods_deleted() {
    let report = check_cheat(
        "03-jdk-to-jre",
        "FROM debian:bookworm-slim\n\
         WORKDIR /opt/app\n\
         COPY Server.java .\n\
         RUN apt-get update && apt-get install -y --no-install-recommends openjdk-17-jdk-headless \\\n\
          && javac -d /opt/app/classes Server.java \\\n\
          && rm -rf /usr/bin/javac /usr/lib/jvm/java-17-openjdk-*/bin/javac /usr/lib/jvm/java-17-openjdk-*/jmods /var/lib/apt/lists/*\n\
         USER 10001:10001\n\
         EXPOSE 8080\n\
         ENTRYPOINT [\"java\", \"-cp\", \"/opt/app/classes\", \"Server\"]\n",
    );
    met(&report, "no-jdk");
    met(&report, "serves");
    let (measured, detail) = missed(&report, "no-jdk-package");
    assert_eq!(measured, "installed: openjdk-17-jdk-headless");
    assert!(detail.contains("install it in a build stage"), "{detail}");
    let (measured, _) = missed(&report, "no-sources");
    assert_eq!(measured, "Server.java at /opt/app/Server.java");
}

/// Class 6 on exercise 12: python3 with its recommends, their telltale files deleted.
pub(crate) fn recommends_installed_and_their_files_deleted() {
    let report = check_cheat(
        "12-layer-cleanup",
        "FROM debian:bookworm-slim\n\
         RUN apt-get update && apt-get install -y python3 \\\n\
          && rm -rf /var/lib/apt/lists/* /usr/bin/openssl /etc/ssl/certs/ca-certificates.crt\n\
         WORKDIR /app\n\
         COPY app.py .\n\
         USER 10001:10001\n\
         EXPOSE 8080\n\
         CMD [\"python3\", \"app.py\"]\n",
    );
    met(&report, "base");
    met(&report, "serves");
    let (measured, detail) = missed(&report, "no-recommends");
    assert!(
        measured.contains("ca-certificates") && measured.contains("openssl"),
        "{measured}"
    );
    assert!(detail.contains("--no-install-recommends"), "{detail}");
}

/// Class 6 on exercise 12: the starter's messy stage flattened onto scratch: no waste to
/// count, but no layer shared with the base and the recommends still installed.
pub(crate) fn a_messy_stage_flattened_onto_scratch() {
    let report = check_cheat(
        "12-layer-cleanup",
        "FROM debian:bookworm-slim AS messy\n\
         RUN apt-get update\n\
         RUN apt-get install -y python3\n\
         RUN rm -rf /var/lib/apt/lists/*\n\
         WORKDIR /app\n\
         COPY app.py .\n\
         FROM scratch\n\
         COPY --from=messy / /\n\
         WORKDIR /app\n\
         USER 10001:10001\n\
         EXPOSE 8080\n\
         CMD [\"python3\", \"app.py\"]\n",
    );
    met(&report, "waste");
    met(&report, "serves");
    let (measured, detail) = missed(&report, "base");
    assert_eq!(measured, "shares 0 of its 1 layers");
    assert!(
        detail.starts_with("start the final stage FROM debian:bookworm-slim"),
        "{detail}"
    );
    missed(&report, "no-recommends");
}

/// The size advice on exercise 12 points at what can go: a full debian:bookworm final
/// stage where the exercise builds on bookworm-slim.
pub(crate) fn size_advice_names_the_base_to_start_from() {
    let report = check_cheat(
        "12-layer-cleanup",
        "FROM debian:bookworm\n\
         RUN apt-get update && apt-get install -y --no-install-recommends python3 && rm -rf /var/lib/apt/lists/*\n\
         WORKDIR /app\n\
         COPY app.py .\n\
         USER 10001:10001\n\
         EXPOSE 8080\n\
         CMD [\"python3\", \"app.py\"]\n",
    );
    missed(&report, "base");
    let (_, detail) = missed(&report, "size");
    assert!(
        detail.contains(
            "of it is what debian:bookworm has over debian:bookworm-slim: start the final stage FROM debian:bookworm-slim"
        ),
        "{detail}"
    );
}

/// Exercise 03 answered with the JRE on a full debian:bookworm final stage: the JRE's
/// layer is the largest, but the app needs it. The advice names the base's extra over
/// bookworm-slim, which is what can go, and not the JRE.
pub(crate) fn size_advice_on_03_names_the_slim_base_not_the_jre() {
    let report = check_cheat(
        "03-jdk-to-jre",
        "FROM debian:bookworm AS build\n\
         RUN apt-get update && apt-get install -y --no-install-recommends openjdk-17-jdk-headless && rm -rf /var/lib/apt/lists/*\n\
         WORKDIR /src\n\
         COPY Server.java .\n\
         RUN javac -d classes Server.java && jar --create --file /server.jar --main-class Server -C classes .\n\
         FROM debian:bookworm\n\
         RUN apt-get update && apt-get install -y --no-install-recommends openjdk-17-jre-headless && rm -rf /var/lib/apt/lists/*\n\
         RUN useradd --uid 10001 --no-create-home --shell /usr/sbin/nologin app\n\
         COPY --from=build /server.jar /app/server.jar\n\
         USER app\n\
         EXPOSE 8080\n\
         ENTRYPOINT [\"java\", \"-jar\", \"/app/server.jar\"]\n",
    );
    met(&report, "serves");
    met(&report, "no-jdk-package");
    let (_, detail) = missed(&report, "size");
    assert!(
        detail.contains(
            "MB of it is what debian:bookworm has over debian:bookworm-slim: start the final stage FROM debian:bookworm-slim (about"
        ),
        "{detail}"
    );
    assert!(
        !detail.contains("openjdk"),
        "the JRE is not named: {detail}"
    );
}

/// Exercise 11 with the global APP_VERSION never declared again in the build stage: the
/// program gets an empty version and exits 1. The `runs` goal names the ARG, not only the
/// program's own complaint.
pub(crate) fn a_failing_run_on_11_names_the_undeclared_arg() {
    let report = check_cheat(
        "11-build-args",
        "ARG DEBIAN_TAG=bookworm-slim\n\
         ARG APP_VERSION=1.4.2\n\
         FROM debian:bookworm AS build\n\
         RUN apt-get update && apt-get install -y --no-install-recommends gcc libc6-dev && rm -rf /var/lib/apt/lists/*\n\
         WORKDIR /src\n\
         COPY about.c .\n\
         RUN gcc -O2 -Wall -DAPP_VERSION=\"\\\"$APP_VERSION\\\"\" -o /about about.c\n\
         FROM debian:${DEBIAN_TAG}\n\
         ARG DEBIAN_TAG\n\
         ENV BASE_IMAGE=debian:${DEBIAN_TAG} VERSION=$APP_VERSION\n\
         COPY --from=build /about /usr/local/bin/about\n\
         USER 10001:10001\n\
         ENTRYPOINT [\"/usr/local/bin/about\"]\n",
    );
    let (_, detail) = missed(&report, "runs");
    assert!(
        detail
            .contains("stage `build` uses $APP_VERSION (line 7) without declaring ARG APP_VERSION"),
        "{detail}"
    );
    // Docker's own build checks (BuildKit 0.15+, Engine 27+) may flag the ENV line, and the
    // report carries what they say. Engine 28.5 delivers them through /build's progress in
    // some builds only (seen: 3 of 8 runs of one Dockerfile), so their presence is not
    // asserted; older engines have no checks and report none.
    let engine_major: u32 = report["engine_info"]["version"]
        .as_str()
        .and_then(|v| v.split('.').next()?.parse().ok())
        .expect("the report names the engine's version");
    let warnings = report["results"][0]["build_warnings"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    if engine_major < 27 {
        assert!(warnings.is_empty(), "{warnings:?}");
    }
    for w in &warnings {
        assert!(
            w["message"].as_str().is_some_and(|m| m.contains(": ")),
            "a check's name and finding: {w}"
        );
    }
}

/// Exercise 14's tempting wrong answer: the solution's static binary on `scratch` instead of
/// distroless. It builds, it is small, it has no shell and no toolchain, and it runs as a
/// non-root uid, but the program finds no CA certificates, no time zone data and no
/// /etc/passwd, so `runs` misses and says what is missing.
pub(crate) fn the_distroless_program_on_scratch_builds_but_does_not_run() {
    let report = check_cheat(
        "14-distroless",
        "FROM debian:bookworm AS build\n\
         RUN apt-get update && apt-get install -y --no-install-recommends golang-go ca-certificates tzdata && rm -rf /var/lib/apt/lists/*\n\
         WORKDIR /src\n\
         COPY go.mod main.go ./\n\
         RUN CGO_ENABLED=0 go build -trimpath -ldflags=\"-s -w\" -o /worldclock .\n\
         FROM scratch\n\
         COPY --from=build /worldclock /worldclock\n\
         USER 65532:65532\n\
         ENTRYPOINT [\"/worldclock\"]\n",
    );
    for id in ["size", "stages", "non-root", "no-shell", "no-build-tools"] {
        met(&report, id);
    }
    let (measured, _) = missed(&report, "runs");
    assert!(measured.contains("exit 1"), "{measured}");
    let shown = verdict(&report, "runs").to_string();
    for missing in [
        "certificates: MISSING",
        "time zone: MISSING",
        "user: MISSING",
    ] {
        assert!(shown.contains(missing), "{missing} in {shown}");
    }
}
