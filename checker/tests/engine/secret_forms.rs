//! `secret-absent` red-teamed with the secret written in other forms, on the real exercises
//! 08 (the token in `.env`) and 15 (the key in `data.key`): its base64 in /data, a gzip of
//! it, the token in an ENV, printed into another file by a RUN, as `od` hex in the build
//! stage. Each misses the goal, and the verdict names where and in what form, never
//! printing the secret. And the other way: the solutions, and right answers unlike them
//! (an /app/.env without the token, the key's SHA-256 in the image), meet it.

use crate::common::*;

/// `checker check <exercise> --format json` in a copy of the real exercise with `dockerfile`
/// as the learner's and `files` (path, content) written beside it: the report, and the
/// exit code.
fn check_with(
    exercise: &str,
    dockerfile: &str,
    files: &[(&str, &str)],
) -> (serde_json::Value, Option<i32>) {
    let (book, folder) = workbook_with(exercise);
    std::fs::write(folder.join("Dockerfile"), dockerfile).unwrap();
    for (path, content) in files {
        std::fs::write(folder.join(path), content).unwrap();
    }
    let out = run(book.path(), &["check", exercise, "--format", "json"]);
    (json(&out), out.status.code())
}

fn met(report: &serde_json::Value, id: &str) -> bool {
    verdict(report, id)["met"].as_bool().unwrap()
}

fn detail(report: &serde_json::Value, id: &str) -> String {
    verdict(report, id)["detail"]
        .as_str()
        .unwrap_or_default()
        .to_string()
}

/// What the goal's probe found: each place, in words.
fn found(report: &serde_json::Value, id: &str) -> Vec<String> {
    report["results"][0]["measurements"]["probes"][id]["found"]
        .as_array()
        .unwrap_or_else(|| panic!("no probe {id} in {report}"))
        .iter()
        .map(|place| place.as_str().unwrap().to_string())
        .collect()
}

/// Whether some place starts with `start` and ends with `end` (a layer's number and its
/// instruction lie between).
fn has_place(places: &[String], start: &str, end: &str) -> bool {
    places
        .iter()
        .any(|p| p.starts_with(start) && p.ends_with(end))
}

/// The key exercise 15 decrypts its quotes with, as the goal looks for it.
fn key_of_15() -> String {
    std::fs::read_to_string(workbook_root().join("exercises/15-build-mounts/data.key"))
        .unwrap()
        .trim()
        .to_string()
}

/// The token in exercise 08's `.env`.
fn token_of_08() -> String {
    let env =
        std::fs::read_to_string(workbook_root().join("exercises/08-dockerignore/.env")).unwrap();
    env.lines()
        .find_map(|line| line.strip_prefix("PAYMENTS_API_TOKEN="))
        .expect("08's .env sets PAYMENTS_API_TOKEN")
        .to_string()
}

/// A miss of `id` whose verdict and probe outcome never print `secret` (the rest of the
/// report may: its build steps quote the learner's Dockerfile).
fn assert_missed_quietly(report: &serde_json::Value, code: Option<i32>, id: &str, secret: &str) {
    assert_eq!(code, Some(1), "{report}");
    assert!(!met(report, id), "{report}");
    let said = [
        verdict(report, id).to_string(),
        report["results"][0]["measurements"]["probes"][id].to_string(),
    ];
    for text in said {
        assert!(!text.contains(secret), "the secret is printed: {text}");
    }
}

/// 15's solution, with `extra` run after the decryption (the key mounted at
/// /run/secrets/data_key) and all of the build stage's /data copied into the image.
fn fifteen_writing(extra: &str) -> String {
    solution_with(
        "15-build-mounts",
        "-out /data/quotes.txt\n",
        &format!("-out /data/quotes.txt \\\n    && {extra}\n"),
    )
    .replacen(
        "COPY --from=build /data/quotes.txt /data/quotes.txt",
        "COPY --from=build /data/ /data/",
        1,
    )
}

pub(crate) fn the_key_of_15_in_base64_in_data_is_found_in_the_image_and_its_stage() {
    require_engine();
    let dockerfile = fifteen_writing("base64 /run/secrets/data_key > /data/key.b64");
    let (report, code) = check_with("15-build-mounts", &dockerfile, &[]);
    assert_missed_quietly(&report, code, "secret", &key_of_15());
    let places = found(&report, "secret");
    assert!(
        has_place(
            &places,
            "the image: layer ",
            "(COPY /data/ /data/): base64 in data/key.b64"
        ),
        "{places:?}"
    );
    assert!(
        has_place(&places, "stage build: layer ", ": base64 in data/key.b64"),
        "{places:?}"
    );
    assert!(
        detail(&report, "secret").contains("Encoding or compressing it hides nothing"),
        "{report}"
    );
    // The app still works: only the secret goal sees the leak.
    assert!(met(&report, "quote"), "{report}");
}

pub(crate) fn the_key_of_15_gzipped_is_found_inside_the_gzip() {
    require_engine();
    let dockerfile = fifteen_writing("gzip -c /run/secrets/data_key > /data/key.gz");
    let (report, code) = check_with("15-build-mounts", &dockerfile, &[]);
    assert_missed_quietly(&report, code, "secret", &key_of_15());
    let places = found(&report, "secret");
    assert!(
        has_place(&places, "the image: layer ", ": raw in data/key.gz (gzip)"),
        "{places:?}"
    );
    assert!(
        has_place(
            &places,
            "stage build: layer ",
            ": raw in data/key.gz (gzip)"
        ),
        "{places:?}"
    );
}

pub(crate) fn a_fingerprint_of_the_key_of_15_is_no_secret() {
    require_engine();
    // A right answer unlike the solution: the key mounted elsewhere, and its SHA-256 (hex
    // derived from the key, but not the key) shipped in /data beside the quotes.
    let dockerfile = fifteen_writing("sha256sum /root/key > /data/key.sha256")
        .replacen(
            "--mount=type=secret,id=data_key,required=true",
            "--mount=type=secret,id=data_key,required=true,target=/root/key",
            1,
        )
        .replacen("-key /run/secrets/data_key", "-key /root/key", 1);
    let (report, code) = check_with("15-build-mounts", &dockerfile, &[]);
    assert!(met(&report, "secret"), "{report}");
    assert_eq!(
        verdict(&report, "secret")["measured"],
        "not found (the image, stage build)"
    );
    assert_eq!(code, Some(0), "{report}");
}

pub(crate) fn the_token_of_08_in_an_env_is_found_in_config_and_history() {
    require_engine();
    let token = token_of_08();
    let dockerfile = solution_with(
        "08-dockerignore",
        "USER 10001:10001",
        &format!("ENV PAYMENTS_API_TOKEN={token}\nUSER 10001:10001"),
    );
    let (report, code) = check_with("08-dockerignore", &dockerfile, &[]);
    assert_missed_quietly(&report, code, "no-secret", &token);
    let places = found(&report, "no-secret");
    assert!(
        places.contains(&"the image: config: ENV PAYMENTS_API_TOKEN: raw".to_string()),
        "{places:?}"
    );
    assert!(
        has_place(
            &places,
            "the image: history entry ",
            "(ENV PAYMENTS_API_TOKEN=‹secret›): raw"
        ),
        "{places:?}"
    );
    // Nothing else is wrong with it: the ENV is the whole leak.
    for id in ["context", "no-junk", "non-root", "serves"] {
        assert!(met(&report, id), "{id}: {report}");
    }
}

pub(crate) fn the_token_of_08_printed_into_env_production_is_found_in_both_stages() {
    require_engine();
    let token = token_of_08();
    let build = "RUN CGO_ENABLED=0 go build -ldflags=\"-s -w\" -o /server .\n";
    let dockerfile = solution_with(
        "08-dockerignore",
        build,
        &format!(
            "{build}RUN mkdir -p /app && printf 'PAYMENTS_API_TOKEN=%s\\n' '{token}' > /app/.env.production\n"
        ),
    )
    .replacen(
        "COPY --from=build /server /server",
        "COPY --from=build /server /server\nCOPY --from=build /app/.env.production /app/.env.production",
        1,
    );
    let (report, code) = check_with("08-dockerignore", &dockerfile, &[]);
    assert_missed_quietly(&report, code, "no-secret", &token);
    let places = found(&report, "no-secret");
    assert!(
        has_place(
            &places,
            "the image: layer ",
            "(COPY /app/.env.production /app/.env.production): raw in app/.env.production"
        ),
        "{places:?}"
    );
    // The RUN's layer, named by its instruction with the token left out, and its history.
    assert!(
        has_place(
            &places,
            "stage build: layer ",
            "(RUN mkdir -p /app && printf 'PAYMENTS_API_TOKEN=%s\\n' '‹secret›…): raw in app/.env.production"
        ),
        "{places:?}"
    );
    let history = |p: &&String| {
        p.starts_with("stage build: history entry ")
            && p.contains("(RUN mkdir -p /app && printf 'PAYMENTS_API_TOKEN=%s\\n' '‹secret›'")
            && p.ends_with("): raw")
    };
    assert!(places.iter().any(|p| history(&p)), "{places:?}");
}

pub(crate) fn the_token_of_08_as_od_hex_in_the_build_stage_is_found() {
    require_engine();
    // The token read from .env through a bind mount (no layer keeps .env) and written as
    // `od` prints it: hex bytes apart, 16 to a line. Only the build stage holds it.
    let build = "RUN CGO_ENABLED=0 go build -ldflags=\"-s -w\" -o /server .\n";
    let dockerfile = solution_with(
        "08-dockerignore",
        build,
        &format!(
            "{build}RUN --mount=type=bind,source=.env,target=/tmp/.env . /tmp/.env && printf '%s' \"$PAYMENTS_API_TOKEN\" | od -An -tx1 > /src/token.hex\n"
        ),
    );
    let (report, code) = check_with("08-dockerignore", &dockerfile, &[]);
    assert_missed_quietly(&report, code, "no-secret", &token_of_08());
    let places = found(&report, "no-secret");
    assert_eq!(places.len(), 1, "{places:?}");
    assert!(
        has_place(&places, "stage build: layer ", ": hex in src/token.hex"),
        "{places:?}"
    );
}

pub(crate) fn an_env_file_without_the_token_and_a_deny_list_meet_no_secret() {
    require_engine();
    // A right answer unlike the solution: the starter's COPY . . kept, .env and
    // node_modules denied, and an /app/.env holding only the sandbox URL (a paths-absent
    // goal on /app/.env would have failed this image).
    let starter = std::fs::read_to_string(
        workbook_root().join("exercises/08-dockerignore/starter/Dockerfile"),
    )
    .unwrap();
    let build = "RUN CGO_ENABLED=0 go build -ldflags=\"-s -w\" -o /server .\n";
    assert!(starter.contains(build));
    let dockerfile = starter
        .replacen(
            build,
            &format!(
                "{build}RUN printf 'PAYMENTS_API_URL=https://payments.example.com/sandbox\\n' > /app.env\n"
            ),
            1,
        )
        .replacen(
            "COPY --from=build /server /server",
            "COPY --from=build /server /server\nCOPY --from=build /app.env /app/.env",
            1,
        );
    let ignore = "node_modules\n.env\n";
    let (report, code) = check_with("08-dockerignore", &dockerfile, &[(".dockerignore", ignore)]);
    assert!(met(&report, "no-secret"), "{report}");
    assert_eq!(
        verdict(&report, "no-secret")["measured"],
        "not found (the image, stage build)"
    );
    assert_eq!(code, Some(0), "{report}");
}

pub(crate) fn the_solutions_of_08_and_15_meet_their_secret_goals() {
    require_engine();
    for (exercise, id) in [
        ("08-dockerignore", "no-secret"),
        ("15-build-mounts", "secret"),
    ] {
        let (book, folder) = workbook_with(exercise);
        save_solution(&folder);
        let out = run(book.path(), &["check", exercise, "--format", "json"]);
        let report = json(&out);
        assert!(met(&report, id), "{exercise}: {report}");
        assert_eq!(out.status.code(), Some(0), "{exercise}: {report}");
    }
}
