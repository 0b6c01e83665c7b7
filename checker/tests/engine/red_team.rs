//! Dockerfiles a reviewer would reject, written the ways a red team wrote them, and right
//! answers written unlike the solutions: each is checked on the engine in a copy of the real
//! exercise. The wrong ones must miss the goal their trick aims at, and say why in terms of
//! what the image does and where its files came from; the right ones must meet every goal.

use crate::common::*;

/// `checker check <exercise> --format json` with `dockerfile` as the learner's.
fn check(exercise: &str, dockerfile: &str) -> serde_json::Value {
    require_engine();
    let (dir, ex) = workbook_with(exercise);
    std::fs::write(ex.join("Dockerfile"), dockerfile).unwrap();
    let out = run(dir.path(), &["check", exercise, "--format", "json"]);
    let report = json(&out);
    assert!(
        matches!(out.status.code(), Some(0 | 1)),
        "{exercise}: {}\n{report}",
        text(&out.stderr)
    );
    report
}

fn missed<'a>(report: &'a serde_json::Value, id: &str) -> (&'a str, &'a str) {
    let v = verdict(report, id);
    assert_eq!(v["met"], false, "`{id}` is met: {v}");
    (
        v["measured"].as_str().unwrap(),
        v["detail"].as_str().unwrap_or_default(),
    )
}

fn all_met(report: &serde_json::Value) {
    let missed: Vec<&serde_json::Value> = report["results"][0]["verdicts"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|v| v["met"] != true)
        .collect();
    assert!(missed.is_empty(), "{missed:#?}");
}

/// The solution of an exercise with `from` replaced by `to` (each must be there).
fn solution_with(exercise: &str, edits: &[(&str, &str)]) -> String {
    let mut text = std::fs::read_to_string(
        workbook_root()
            .join("exercises")
            .join(exercise)
            .join("solution/Dockerfile"),
    )
    .unwrap();
    for (from, to) in edits {
        assert!(text.contains(from), "{exercise}'s solution has no `{from}`");
        text = text.replacen(from, to, 1);
    }
    text
}

/// Class 1: a passwd line Docker reads differently. A space after the uid makes moby's
/// parser read the field as 0: `USER app` runs as root, on scratch as anywhere.
pub(crate) fn a_passwd_uid_docker_reads_as_zero_is_root() {
    let dockerfile = solution_with(
        "02-go-api",
        &[
            (
                "RUN CGO_ENABLED=0",
                "RUN printf 'app:x:10001 :10001::/:/nonexistent\\n' > /passwd\nRUN CGO_ENABLED=0",
            ),
            (
                "USER 10001:10001",
                "COPY --from=build /passwd /etc/passwd\nUSER app",
            ),
        ],
    );
    let report = check("02-go-api", &dockerfile);
    let (measured, _) = missed(&report, "non-root");
    assert!(
        measured.contains("USER `app` is root (uid 0)")
            && measured.contains("the uid field `10001 `"),
        "{measured}"
    );
}

/// Class 2: a setuid root program, run by a non-root user, is root again.
pub(crate) fn a_setuid_root_program_is_root() {
    let dockerfile = solution_with(
        "02-go-api",
        &[("-o /server .", "-o /server . && chmod 4755 /server")],
    );
    let report = check("02-go-api", &dockerfile);
    let (measured, detail) = missed(&report, "non-root");
    assert_eq!(
        measured,
        "`10001:10001` = uid 10001, but /server is setuid root"
    );
    assert!(detail.contains("chmod u-s"), "{detail}");
}

/// Class 3: the JDK's compiler copied into the JRE image under another name, and the JDK
/// installed in the final stage with its dpkg entry cut out: its files are known by content.
pub(crate) fn a_jdk_under_another_name_or_hidden_from_dpkg_ships() {
    let renamed = solution_with(
        "03-jdk-to-jre",
        &[(
            "COPY --from=build /server.jar /app/server.jar",
            "COPY --from=build /server.jar /app/server.jar\nCOPY --from=build /usr/lib/jvm/java-17-openjdk-amd64/bin/javac /usr/lib/jvm/java-17-openjdk-amd64/bin/jrunner",
        )],
    );
    let report = check("03-jdk-to-jre", &renamed);
    let (measured, detail) = missed(&report, "no-jdk-package");
    assert_eq!(measured, "ships files of openjdk-17-jdk-headless");
    assert!(
        detail.contains("/usr/lib/jvm/java-17-openjdk-amd64/bin/jrunner is package openjdk-17-jdk-headless's /usr/lib/jvm/java-17-openjdk-amd64/bin/javac"),
        "{detail}"
    );
    let hidden = solution_with(
        "03-jdk-to-jre",
        &[(
            "RUN useradd",
            "RUN apt-get update && apt-get install -y --no-install-recommends openjdk-17-jdk-headless \\\n && sed -i '/^Package: openjdk-17-jdk-headless/,/^$/d' /var/lib/dpkg/status && rm -rf /var/lib/apt/lists/*\nRUN useradd",
        )],
    );
    let report = check("03-jdk-to-jre", &hidden);
    let (measured, _) = missed(&report, "no-jdk-package");
    assert_eq!(measured, "ships files of openjdk-17-jdk-headless");
}

/// Class 3: TypeScript's compiler copied into the runtime image from the build stage.
pub(crate) fn the_typescript_compiler_elsewhere_ships() {
    let dockerfile = solution_with(
        "05-typescript-service",
        &[(
            "COPY --from=build /app/dist/ dist/",
            "COPY --from=build /app/dist/ dist/\nCOPY --from=build /usr/share/nodejs/typescript/lib/ /opt/tsc/",
        )],
    );
    let report = check("05-typescript-service", &dockerfile);
    let (measured, _) = missed(&report, "no-dev-packages");
    assert_eq!(measured, "ships files of node-typescript");
}

/// Class 3: busybox copied onto distroless is a shell, whatever its name.
pub(crate) fn busybox_on_distroless_is_a_shell() {
    let dockerfile = solution_with(
        "14-distroless",
        &[
            (
                "golang-go ca-certificates tzdata",
                "golang-go ca-certificates tzdata busybox-static",
            ),
            (
                "COPY --from=build /worldclock /worldclock",
                "COPY --from=build /worldclock /worldclock\nCOPY --from=build /bin/busybox /usr/local/bin/tools",
            ),
        ],
    );
    let report = check("14-distroless", &dockerfile);
    let (measured, detail) = missed(&report, "no-shell");
    assert_eq!(measured, "ships files of busybox-static");
    assert!(
        detail.contains("/usr/local/bin/tools is package busybox-static's /bin/busybox"),
        "{detail}"
    );
    assert_eq!(verdict(&report, "runs")["met"], true);
}

/// Class 4: a stage that only copies a file of its base image, and the app compiled in
/// the final stage: no build stage does the work.
pub(crate) fn a_dummy_stage_and_the_app_compiled_in_the_final_stage() {
    let dockerfile = "FROM debian:bookworm AS noop\n\
        RUN true\n\
        FROM debian:bookworm-slim\n\
        COPY --from=noop /etc/debian_version /tmp/noop\n\
        RUN apt-get update && apt-get install -y --no-install-recommends openjdk-17-jre-headless && rm -rf /var/lib/apt/lists/*\n\
        RUN useradd --uid 10001 --no-create-home --shell /usr/sbin/nologin app\n\
        WORKDIR /app\n\
        COPY Server.java .\n\
        RUN apt-get update && apt-get install -y --no-install-recommends openjdk-17-jdk-headless \\\n\
         && javac -d /app Server.java && rm Server.java \\\n\
         && apt-get purge -y openjdk-17-jdk-headless && rm -rf /var/lib/apt/lists/*\n\
        USER app\n\
        ENTRYPOINT [\"java\", \"-cp\", \"/app\", \"Server\"]\n";
    let report = check("03-jdk-to-jre", dockerfile);
    let (measured, detail) = missed(&report, "stages");
    assert!(measured.contains("(1 of them idle: noop)"), "{measured}");
    assert!(
        detail.starts_with("the final stage builds the program itself: /app/Server.class"),
        "{detail}"
    );
    // The JDK was installed and purged in one layer: its files were never shipped, and
    // dpkg no longer lists it; the program still is the one the build made.
    assert_eq!(verdict(&report, "serves")["met"], true);
}

/// Class 5: a fake app. `sh -c 'echo …'` prints what the run goal looks for, and no
/// compiled program is there.
pub(crate) fn a_shell_that_prints_the_answer_is_no_app() {
    let dockerfile = "ARG DEBIAN_TAG=bookworm-slim\n\
        ARG APP_VERSION=1.4.2\n\
        FROM debian:${DEBIAN_TAG}\n\
        ARG DEBIAN_TAG\n\
        ARG APP_VERSION\n\
        ENV BASE_IMAGE=debian:${DEBIAN_TAG} APP_VERSION=${APP_VERSION}\n\
        USER 10001:10001\n\
        ENTRYPOINT [\"/bin/sh\", \"-c\", \"echo \\\"about $APP_VERSION on $BASE_IMAGE (Debian $(cat /etc/debian_version))\\\"\"]\n";
    let report = check("11-build-args", dockerfile);
    let (measured, detail) = missed(&report, "runs");
    assert!(
        measured.ends_with(", but not from the exercise's program"),
        "{measured}"
    );
    assert!(
        detail.starts_with("the container runs `/bin/sh -c")
            && detail.contains("is package dash's"),
        "{detail}"
    );
}

/// Class 6: a padding stage that only sleeps beside the real build and leaves a file.
pub(crate) fn a_padding_stage_is_no_parallel_build() {
    let dockerfile = "FROM debian:bookworm AS build\n\
        RUN apt-get update && apt-get install -y --no-install-recommends golang-go && rm -rf /var/lib/apt/lists/*\n\
        ENV CGO_ENABLED=0\n\
        WORKDIR /src\n\
        COPY go.mod ./\n\
        COPY server/ server/\n\
        COPY healthcheck/ healthcheck/\n\
        RUN go build -ldflags=\"-s -w\" -o /out/server ./server && go build -ldflags=\"-s -w\" -o /out/healthcheck ./healthcheck\n\
        FROM debian:bookworm-slim AS padding\n\
        RUN sleep 5 && echo waited > /waited\n\
        FROM scratch\n\
        COPY --from=build /out/server /server\n\
        COPY --from=build /out/healthcheck /healthcheck\n\
        COPY --from=padding /waited /waited\n\
        USER 10001:10001\n\
        ENTRYPOINT [\"/server\"]\n";
    let report = check("10-parallel-stages", dockerfile);
    let (measured, _) = missed(&report, "parallel");
    assert!(
        measured.contains("padding built no program the image holds"),
        "{measured}"
    );
}

/// Right answers written unlike the solutions. 12 with tini installed on purpose as PID 1:
/// what the learner names is wanted.
pub(crate) fn tini_asked_for_is_no_recommend() {
    let dockerfile = solution_with(
        "12-layer-cleanup",
        &[
            (
                "install -y --no-install-recommends python3",
                "install -y --no-install-recommends python3 tini",
            ),
            (
                "CMD [\"python3\", \"app.py\"]",
                "ENTRYPOINT [\"/usr/bin/tini\", \"--\"]\nCMD [\"python3\", \"app.py\"]",
            ),
        ],
    );
    all_met(&check("12-layer-cleanup", &dockerfile));
}

/// 05 with the app in /usr/src/app: its runtime files are where its WORKDIR is.
pub(crate) fn a_typescript_service_in_another_folder_meets_every_goal() {
    let solution = std::fs::read_to_string(
        workbook_root().join("exercises/05-typescript-service/solution/Dockerfile"),
    )
    .unwrap();
    let dockerfile = solution
        .replace("WORKDIR /app", "WORKDIR /usr/src/app")
        .replace("/app/", "/usr/src/app/");
    all_met(&check("05-typescript-service", &dockerfile));
}
