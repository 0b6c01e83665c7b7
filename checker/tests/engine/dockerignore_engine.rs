//! The checker's `.dockerignore` matcher against Docker's own. For each tricky ignore file a
//! context is built twice, `FROM scratch` + `COPY . /ctx`: by the docker CLI (its classic
//! builder packs the context with moby's own matcher, the reference) and by the checker
//! (which serves the context itself through a BuildKit session, see `docker::context`). The
//! two images must hold the same `/ctx`, entry for entry: any difference is a file the
//! checker would measure or send wrongly.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

use crate::common::*;
use checker::docker::api::{BuildFailure, BuildProgress, BuildRequest, BuildStep, EngineApi};
use checker::docker::context::Folder;
use checker::docker::engine::Engine;

struct Case {
    name: &'static str,
    dockerignore: &'static str,
    files: &'static [&'static str],
    empty_dirs: &'static [&'static str],
    /// (link, target)
    symlinks: &'static [(&'static str, &'static str)],
    /// Entries BuildKit sends and the classic builder, the reference here, does not: it skips
    /// an excluded directory unless an exception's text starts with its path, where BuildKit's
    /// fsutil (what `docker build` uses, and the checker follows) walks into it whenever an
    /// exception has a wildcard.
    buildkit_only: &'static [&'static str],
}

const CASES: &[Case] = &[
    Case {
        name: "negations",
        dockerignore: "*.md\n!README.md\n!docs/*.md\ndocs/draft.md\n",
        files: &["a.md", "README.md", "docs/b.md", "docs/draft.md", "sub/README.md"],
        empty_dirs: &[],
        symlinks: &[],
        buildkit_only: &[],
    },
    Case {
        name: "double-star",
        dockerignore: "**/*.log\n!**/keep.log\nbuild/**\n!build/**/out.bin\n",
        files: &[
            "a.log",
            "deep/er/b.log",
            "deep/er/keep.log",
            "build/tmp/o.o",
            "build/x/y/out.bin",
            "build.txt",
        ],
        empty_dirs: &["build/empty"],
        symlinks: &[],
        buildkit_only: &["build/x", "build/x/y", "build/x/y/out.bin"],
    },
    Case {
        name: "trailing-slashes",
        dockerignore: "node_modules/\ncache/\nlogs//\n",
        files: &[
            "node_modules/x.js",
            "sub/node_modules/y.js",
            "cache",
            "logs/today.txt",
            "keep.txt",
        ],
        empty_dirs: &[],
        symlinks: &[],
        buildkit_only: &[],
    },
    Case {
        name: "dot-prefixed",
        dockerignore: "./secret\n.git\n.*\n!.keep\n/abs\n../outside\nsub/./inner\n",
        files: &[
            ".env",
            ".keep",
            "secret",
            "abs",
            ".git/config",
            "sub/.hidden",
            "sub/inner",
            "sub/other",
        ],
        empty_dirs: &[],
        symlinks: &[],
        buildkit_only: &[],
    },
    Case {
        name: "escapes-and-comments",
        dockerignore: "\\#notcomment\n# a comment\n #indented\nfile\\*star\n[ab]?.txt\n[^c]z.txt\n  spaced.txt  \n",
        files: &[
            "#notcomment",
            "# a comment",
            " #indented",
            "file*star",
            "filexstar",
            "a1.txt",
            "c1.txt",
            "dz.txt",
            "cz.txt",
            "spaced.txt",
        ],
        empty_dirs: &[],
        symlinks: &[],
        buildkit_only: &[],
    },
    // moby writes `\` and the next character into a Go regex as they are: before a letter
    // or digit that is a regex escape (`\d` a digit, `\w` a word character), not that
    // letter; before anything else, the character itself.
    Case {
        name: "regex-escapes",
        dockerignore: "q\\d\nw\\w\n\\.hidden\nt\\x41b\n",
        files: &["q1", "qd", "wa", "w-", ".hidden", "xhidden", "tAb", "tx41b"],
        empty_dirs: &[],
        symlinks: &[],
        buildkit_only: &[],
    },
    // `\x` with no hex digits is no regex: docker refuses the file, so must the checker.
    Case {
        name: "invalid-regex-escape",
        dockerignore: "keep\n**\\x\n",
        files: &["keep", "x"],
        empty_dirs: &[],
        symlinks: &[],
        buildkit_only: &[],
    },
    Case {
        name: "excluded-dir-file-reincluded",
        dockerignore: "docs\n!docs/keep.md\nvendor/\n!vendor/a/b/c.txt\ntmp\n!tmp/*/\n",
        files: &[
            "docs/a.md",
            "docs/keep.md",
            "docs/sub/keep.md",
            "vendor/a/b/c.txt",
            "vendor/a/b/d.txt",
            "vendor/z.txt",
            "tmp/one/file",
        ],
        empty_dirs: &["vendor/a/empty", "tmp/two"],
        symlinks: &[],
        buildkit_only: &[],
    },
    Case {
        name: "everything-but",
        dockerignore: "*\n!src\n!Dockerfile\nsrc/**/*.tmp\n",
        files: &["top.txt", "src/a.rs", "src/b/c.tmp", "src/b/d.rs", "other/e"],
        empty_dirs: &["src/empty", "empty"],
        symlinks: &[],
        buildkit_only: &[],
    },
    Case {
        name: "symlinks",
        dockerignore: "linked-dir/inner\ndangling\n!real/*\nexcluded-target\n",
        files: &["real/file", "real/inner", "excluded-target"],
        empty_dirs: &[],
        symlinks: &[
            ("linked-dir", "real"),
            ("to-file", "real/file"),
            ("dangling", "nowhere"),
            ("kept-dangling", "nowhere"),
            ("to-excluded", "excluded-target"),
            ("absolute", "/etc/passwd"),
        ],
        buildkit_only: &[],
    },
];

pub(crate) fn the_checker_sends_what_docker_itself_sends() {
    require_engine();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let engine = runtime.block_on(Engine::connect()).unwrap();
    let mut differences = Vec::new();
    for case in CASES {
        let dir = context_of(case);
        let reference_tag = format!(
            "workbook-difftest-{}/{}:docker",
            std::process::id(),
            case.name
        );
        let checker_tag = format!(
            "workbook-difftest-{}/{}:checker",
            std::process::id(),
            case.name
        );
        let reference = docker_build(dir.path(), &reference_tag);
        let sent = runtime.block_on(checker_build(&engine, dir.path(), &checker_tag));
        let mut docker_ctx = ctx_listing(&reference_tag);
        let checker_ctx = ctx_listing(&checker_tag);
        remove_image(&reference_tag);
        remove_image(&checker_tag);
        let sent = match (reference, sent) {
            (Ok(()), Ok(sent)) => sent,
            // Refused by both: the same ignore file is an error in each.
            (Err(_), Err(_)) => continue,
            (reference, sent) => {
                differences.push(format!(
                    "{}: docker's build {reference:?}, the checker's {:?}",
                    case.name,
                    sent.map(|_| ())
                ));
                continue;
            }
        };
        for path in case.buildkit_only {
            let kind = checker_ctx.get(*path).cloned();
            docker_ctx.insert(path.to_string(), kind.unwrap_or_else(|| "missing".into()));
        }
        if docker_ctx != checker_ctx {
            differences.push(format!(
                "{}: docker's /ctx {docker_ctx:#?}\nthe checker's /ctx {checker_ctx:#?}",
                case.name
            ));
        }
        // What the context-size goal measures is what went in: every file and link of /ctx.
        // The engine reads the Dockerfile and `.dockerignore` through a transfer of their own,
        // so those two are offered (and measured) even when the ignore file excludes them.
        let build_files = ["Dockerfile", ".dockerignore"];
        let in_image: Vec<&String> = checker_ctx
            .iter()
            .filter(|(path, kind)| *kind != "dir" && !build_files.contains(&path.as_str()))
            .map(|(path, _)| path)
            .collect();
        let offered: Vec<&String> = sent
            .keys()
            .filter(|path| !build_files.contains(&path.as_str()))
            .collect();
        if offered != in_image {
            differences.push(format!(
                "{}: offered {offered:?}, copied {in_image:?}",
                case.name
            ));
        }
    }
    assert!(differences.is_empty(), "{}", differences.join("\n\n"));
}

fn context_of(case: &Case) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    std::fs::write(root.join("Dockerfile"), "FROM scratch\nCOPY . /ctx\n").unwrap();
    std::fs::write(root.join(".dockerignore"), case.dockerignore).unwrap();
    for file in case.files {
        let path = root.join(file);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, format!("content of {file}\n")).unwrap();
    }
    for empty in case.empty_dirs {
        std::fs::create_dir_all(root.join(empty)).unwrap();
    }
    for (link, target) in case.symlinks {
        std::os::unix::fs::symlink(target, root.join(link)).unwrap();
    }
    dir
}

/// The reference: the docker CLI packs the context with moby's matcher (classic builder).
fn docker_build(dir: &Path, tag: &str) -> Result<(), String> {
    let out = Command::new("docker")
        .args(["build", "--quiet", "--tag", tag, "."])
        .env("DOCKER_BUILDKIT", "0")
        .current_dir(dir)
        .output()
        .map_err(|e| format!("docker: {e}"))?;
    if !out.status.success() {
        return Err(text(&out.stderr));
    }
    Ok(())
}

struct Quiet;

impl BuildProgress for Quiet {
    fn step(&mut self, _: &BuildStep) {}
    fn note(&mut self, _: &str) {}
}

/// The checker's build: its session lists the folder for the engine. Returns the files it
/// offered, with their sizes.
async fn checker_build(
    engine: &Engine,
    dir: &Path,
    tag: &str,
) -> Result<BTreeMap<String, u64>, String> {
    let request = BuildRequest {
        context: Folder::with_overlay(dir, BTreeMap::new()),
        dockerfile: "Dockerfile".into(),
        tag: tag.into(),
        labels: BTreeMap::new(),
        build_args: BTreeMap::new(),
        secrets: BTreeMap::new(),
        target: None,
        no_cache: false,
    };
    match engine.build(request, &mut Quiet).await {
        Ok(Ok(outcome)) => Ok(outcome.context.files),
        Ok(Err(BuildFailure { message, .. })) => Err(message),
        Err(e) => Err(e.to_string()),
    }
}

/// `/ctx` of the image, from `docker export` of a container made (not started) from it:
/// path → "dir", "file" or "link → target".
fn ctx_listing(tag: &str) -> BTreeMap<String, String> {
    let created = Command::new("docker")
        .args(["create", tag, "/never-runs"])
        .output()
        .unwrap();
    if !created.status.success() {
        return BTreeMap::from([("<no image>".into(), text(&created.stderr))]);
    }
    let id = text(&created.stdout).trim().to_string();
    let exported = Command::new("docker")
        .args(["export", &id])
        .output()
        .unwrap();
    Command::new("docker").args(["rm", &id]).output().unwrap();
    assert!(exported.status.success(), "{}", text(&exported.stderr));
    let mut archive = tar::Archive::new(exported.stdout.as_slice());
    let mut listing = BTreeMap::new();
    for entry in archive.entries().unwrap() {
        let entry = entry.unwrap();
        let path = entry.path().unwrap().to_string_lossy().into_owned();
        let Some(inside) = path.strip_prefix("ctx/") else {
            continue;
        };
        let inside = inside.trim_end_matches('/');
        if inside.is_empty() {
            continue;
        }
        let kind = match entry.header().entry_type() {
            tar::EntryType::Directory => "dir".to_string(),
            tar::EntryType::Symlink => format!(
                "link → {}",
                entry.link_name().unwrap().unwrap_or_default().display()
            ),
            _ => "file".to_string(),
        };
        listing.insert(inside.to_string(), kind);
    }
    listing
}

fn remove_image(tag: &str) {
    let _ = Command::new("docker")
        .args(["rmi", "--force", tag])
        .output();
}
