//! The bad-input matrix: every kind of broken or hostile submission, each in a workbook of its
//! own, with the exit code and the words the checker must answer with. Input the checker
//! cannot check is refused with exit 2 and a message naming the file (and line); an app that
//! misbehaves is a missed goal (exit 1), stopped by its limits, never a hang or a crash; and
//! the app's container gets no more than the goal declares (no network for a `run` goal, no
//! capability, a read-only root filesystem).

use std::time::{Duration, Instant};

use crate::common::*;
use checker::docker::api::EXERCISE_LABEL;

struct Case {
    name: &'static str,
    dockerfile: &'static [u8],
    /// The goals of `exercise.toml`, after its `[exercise]` table.
    goals: &'static str,
    /// The whole `exercise.toml` instead, for one that is itself broken.
    toml: Option<&'static str>,
    code: i32,
    /// Each must appear in what the checker printed (stderr, or the JSON report).
    says: &'static [&'static str],
}

const NON_ROOT: &str = "[[goals]]\nid = \"non-root\"\nkind = \"non-root\"\n";

const CASES: &[Case] = &[
    Case {
        name: "empty-dockerfile",
        dockerfile: b"",
        goals: NON_ROOT,
        toml: None,
        code: 2,
        says: &["NN-case/Dockerfile", "FROM"],
    },
    Case {
        name: "garbage-dockerfile",
        dockerfile: b"\x7fELF\x02\x01\x01\0\0\0\0\0\0\0\0\0\x02\0>\0\x01\0\0\0\n\xff\xfe garbage {{{\n",
        goals: NON_ROOT,
        toml: None,
        code: 2,
        says: &["NN-case/Dockerfile"],
    },
    Case {
        name: "missing-from",
        dockerfile: b"# no base image\nRUN echo hi\nCMD [\"true\"]\n",
        goals: NON_ROOT,
        toml: None,
        code: 2,
        says: &["NN-case/Dockerfile:2", "FROM"],
    },
    Case {
        name: "unknown-instruction",
        dockerfile: b"FROM debian:bookworm-slim\nRUN true\nFORM debian:bookworm-slim\n",
        goals: NON_ROOT,
        toml: None,
        code: 2,
        says: &["NN-case/Dockerfile:3:", "unknown instruction"],
    },
    Case {
        name: "failing-run",
        dockerfile: b"FROM debian:bookworm-slim\nRUN true\nRUN echo 'the error output' >&2 && exit 3\n",
        goals: NON_ROOT,
        toml: None,
        code: 2,
        says: &[
            "NN-case/Dockerfile: the build failed at",
            "(line 3)",
            "the error output",
        ],
    },
    Case {
        name: "missing-base-image",
        dockerfile: b"FROM workbook-test/never-built:1\nUSER 10001\n",
        goals: NON_ROOT,
        toml: None,
        code: 2,
        says: &[
            "NN-case/Dockerfile:1: base image `workbook-test/never-built:1`",
            "checker images --offline",
        ],
    },
    Case {
        name: "invalid-toml",
        dockerfile: b"FROM debian:bookworm-slim\n",
        goals: "",
        toml: Some("[exercise]\ntitle = \"broken\"\nlesson = []\n\n[[goals]]\nid = \"x\nkind = \"non-root\"\n"),
        code: 2,
        says: &["NN-case/exercise.toml: TOML parse error at line 6"],
    },
    Case {
        name: "bad-regex",
        dockerfile: b"FROM debian:bookworm-slim\n",
        goals: "[[goals]]\nid = \"runs\"\nkind = \"run\"\nstdout = \"^(unclosed\"\n",
        toml: None,
        code: 2,
        says: &["NN-case/exercise.toml", "`stdout` is not a valid regex"],
    },
    Case {
        name: "unknown-capability",
        dockerfile: b"FROM debian:bookworm-slim\n",
        goals: "[[goals]]\nid = \"runs\"\nkind = \"run\"\ncapabilities = [\"CAP_SYS_ADMIN\"]\n",
        toml: None,
        code: 2,
        says: &["NN-case/exercise.toml", "`capabilities` has `CAP_SYS_ADMIN`"],
    },
    Case {
        name: "never-exits",
        dockerfile: b"FROM debian:bookworm-slim\nUSER 10001\nCMD [\"sleep\", \"600\"]\n",
        goals: "[[goals]]\nid = \"runs\"\nkind = \"run\"\ntimeout_s = 3\n",
        toml: None,
        code: 1,
        says: &["still running after 3 s (killed)"],
    },
    Case {
        name: "never-listens",
        dockerfile: b"FROM debian:bookworm-slim\nUSER 10001\nCMD [\"sleep\", \"600\"]\n",
        goals: "[[goals]]\nid = \"serves\"\nkind = \"http\"\nport = 8080\ntimeout_s = 3\n",
        toml: None,
        code: 1,
        says: &["no answer within 3 s"],
    },
    // Processes fork until the pids limit refuses them, the first shell waiting on them all:
    // a missed goal (the forks fail, or the app is stopped at its time limit), not a hang.
    Case {
        name: "fork-bomb",
        dockerfile: b"FROM debian:bookworm-slim\nUSER 10001\nCMD [\"sh\", \"-c\", \"bomb() { bomb | bomb; }; bomb\"]\n",
        goals: "[[goals]]\nid = \"runs\"\nkind = \"run\"\ntimeout_s = 10\n",
        toml: None,
        code: 1,
        says: &["\"met\": false"],
    },
    // `tail` keeps a whole line in memory, and /dev/zero has no newline: the memory limit
    // (1 GiB, no swap) has the kernel kill it.
    Case {
        name: "4gb-allocation",
        dockerfile: b"FROM debian:bookworm-slim\nUSER 10001\nCMD [\"sh\", \"-c\", \"head -c 4000000000 /dev/zero | tail > /dev/null\"]\n",
        goals: "[[goals]]\nid = \"runs\"\nkind = \"run\"\ntimeout_s = 60\n",
        toml: None,
        code: 1,
        says: &["exit 137"],
    },
    // The container of an app, as the goal gets it.
    Case {
        name: "run-goal-has-no-network",
        dockerfile: b"FROM debian:bookworm-slim\nUSER 10001\nCMD [\"sh\", \"-c\", \"ls /sys/class/net | tr '\\\\n' ' '\"]\n",
        goals: "[[goals]]\nid = \"runs\"\nkind = \"run\"\nstdout = \"^lo $\"\n",
        toml: None,
        code: 0,
        says: &["stdout \\\"lo\\\""],
    },
    Case {
        name: "read-only-root",
        dockerfile: b"FROM debian:bookworm-slim\nUSER 10001\nCMD [\"sh\", \"-c\", \"touch /tmp/scratch-is-writable && touch /home/x\"]\n",
        goals: "[[goals]]\nid = \"runs\"\nkind = \"run\"\n",
        toml: None,
        code: 1,
        says: &["exit 1", "Read-only file system"],
    },
    Case {
        name: "writable-root-when-the-goal-says",
        dockerfile: b"FROM debian:bookworm-slim\nRUN install -d -o 10001 /data\nUSER 10001\nCMD [\"touch\", \"/data/x\"]\n",
        goals: "[[goals]]\nid = \"runs\"\nkind = \"run\"\nwritable = true\n",
        toml: None,
        code: 0,
        says: &["exit 0"],
    },
    Case {
        name: "root-without-capabilities",
        dockerfile: b"FROM debian:bookworm-slim\nCMD [\"sh\", \"-c\", \"touch /tmp/f && chown 10001 /tmp/f\"]\n",
        goals: "[[goals]]\nid = \"runs\"\nkind = \"run\"\n",
        toml: None,
        code: 1,
        says: &["exit 1", "Operation not permitted"],
    },
    Case {
        name: "capability-the-goal-declares",
        dockerfile: b"FROM debian:bookworm-slim\nCMD [\"sh\", \"-c\", \"touch /tmp/f && chown 10001 /tmp/f\"]\n",
        goals: "[[goals]]\nid = \"runs\"\nkind = \"run\"\ncapabilities = [\"CHOWN\"]\n",
        toml: None,
        code: 0,
        says: &["exit 0"],
    },
];

pub(crate) fn every_bad_input_gets_its_exit_code_and_message() {
    require_engine();
    // One workbook, one exercise per case: a broken one spoils only itself, and the
    // workbook's clean-up at the end removes every image the cases made.
    let dir = TempWorkbook::new();
    let names: Vec<String> = CASES
        .iter()
        .enumerate()
        .map(|(i, case)| format!("{:02}-{}", i + 1, case.name))
        .collect();
    for (case, name) in CASES.iter().zip(&names) {
        let exercise = dir.path().join("exercises").join(name);
        std::fs::create_dir_all(&exercise).unwrap();
        std::fs::write(exercise.join("Dockerfile"), case.dockerfile).unwrap();
        let toml = match case.toml {
            Some(toml) => toml.to_string(),
            None => format!(
                "[exercise]\ntitle = \"{}\"\nlesson = []\n\n{}",
                case.name, case.goals
            ),
        };
        std::fs::write(exercise.join("exercise.toml"), toml).unwrap();
    }

    let mut failures = Vec::new();
    for (case, name) in CASES.iter().zip(&names) {
        let started = Instant::now();
        let out = run(dir.path(), &["check", name, "--format", "json"]);
        let took = started.elapsed();
        let said = format!("{}\n{}", text(&out.stderr), text(&out.stdout));
        let leftovers = containers_of(name);

        let mut wrong = Vec::new();
        if out.status.code() != Some(case.code) {
            wrong.push(format!("exit {:?}, not {}", out.status.code(), case.code));
        }
        for fragment in case.says {
            if !said.contains(&fragment.replace("NN-case", name)) {
                wrong.push(format!("no {fragment:?}"));
            }
        }
        if took > Duration::from_secs(120) {
            wrong.push(format!("took {took:?}"));
        }
        if !leftovers.is_empty() {
            wrong.push(format!("containers left behind: {leftovers}"));
        }
        eprintln!(
            "{name}: exit {:?} in {:.1} s{}",
            out.status.code(),
            took.as_secs_f64(),
            if wrong.is_empty() { "" } else { " WRONG" }
        );
        if !wrong.is_empty() {
            failures.push(format!("{name}: {}\n{said}", wrong.join("; ")));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

/// Containers of `exercise` still on the engine.
fn containers_of(exercise: &str) -> String {
    let out = std::process::Command::new("docker")
        .args(["ps", "-a", "-q", "--filter"])
        .arg(format!("label={EXERCISE_LABEL}={exercise}"))
        .output()
        .unwrap();
    text(&out.stdout).trim().to_string()
}
