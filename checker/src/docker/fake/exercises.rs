//! Exercises of the repository's workbook as the fake engine builds them: the base images
//! they start from, and what each build produces, decided by the Dockerfile's text and the
//! build's arguments as a real build's result is. For tests of the pipeline on the real
//! exercises (`exercise.toml`, Dockerfiles, context) without a daemon.

use std::path::{Path, PathBuf};

use super::{dir, dockerfile_of, file, sized, FakeApp, FakeEngine, FakeImage, ScriptedBuild};
use crate::docker::api::BuildRequest;
use crate::workbook::exercise::Exercise;
use crate::workbook::Workbook;

/// The repository's `exercises/` folder.
pub fn repository_exercises() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join("exercises")
}

/// A workbook in a temporary folder holding copies of the named exercises (`01-…` names,
/// in full), which a test may edit; removed with the folder.
pub fn workbook_with(names: &[&str]) -> (tempfile::TempDir, Workbook) {
    let root = tempfile::tempdir().expect("a temporary folder");
    for name in names {
        copy_folder(
            &repository_exercises().join(name),
            &root.path().join("exercises").join(name),
        );
    }
    let workbook = Workbook {
        root: root.path().to_path_buf(),
    };
    (root, workbook)
}

fn copy_folder(from: &Path, to: &Path) {
    for entry in walkdir::WalkDir::new(from) {
        let entry = entry.expect("the exercise folder reads");
        let target = to.join(entry.path().strip_prefix(from).expect("inside"));
        if entry.file_type().is_dir() {
            std::fs::create_dir_all(&target).expect("a folder is made");
        } else {
            std::fs::copy(entry.path(), &target).expect("a file is copied");
        }
    }
}

/// An exercise of the repository's workbook, as it is (not to be edited).
pub fn exercise(name: &str) -> Exercise {
    Exercise::load(&repository_exercises().join(name)).expect("the exercise loads")
}

/// `debian:<tag>`: a root user, a shell, the C library; `bookworm` bigger than `-slim`.
pub fn debian(tag: &str) -> FakeImage {
    let docs = if tag.ends_with("slim") { 0 } else { 400_000 };
    FakeImage::scratch()
        .layer(
            &format!("# debian.sh --arch 'amd64' out/ '{tag}'"),
            [
                file("etc/passwd", "root:x:0:0:root:/root:/bin/bash\n"),
                file("etc/debian_version", "12.8\n"),
                sized("bin/bash", 1_200),
                sized("bin/sh", 120),
                sized("usr/lib/x86_64-linux-gnu/libc.so.6", 200_000),
                sized("usr/share/doc/all", docs),
            ],
        )
        .cmd(&["bash"])
}

/// Puts `debian:bookworm` and `debian:bookworm-slim` on the engine.
fn debian_bases(fake: &FakeEngine) {
    for tag in ["bookworm", "bookworm-slim"] {
        fake.add_image(&format!("debian:{tag}"), debian(tag));
    }
}

const APT_GCC: &str = "RUN /bin/sh -c apt-get update && apt-get install -y --no-install-recommends gcc libc6-dev && rm -rf /var/lib/apt/lists/* # buildkit";

/// Debian with gcc installed, as the exercises' build stages make it.
fn with_gcc(base: &FakeImage) -> FakeImage {
    FakeImage::on(base).layer(
        APT_GCC,
        [
            sized("usr/bin/gcc", 2_500_000),
            file("usr/bin/cc", "gcc"),
            // What apt leaves: the packages goal reads dpkg's database, not file names.
            file(
                "var/lib/dpkg/status",
                "Package: gcc\nStatus: install ok installed\n\nPackage: gcc-12\nStatus: install ok installed\n",
            ),
        ],
    )
}

/// Exercise 01 (`01-static-binary`): the starter is one Debian stage with gcc, 2.7 MB here;
/// a Dockerfile with a `FROM scratch` stage makes the solution's 20 kB image.
pub fn static_binary(fake: &FakeEngine) {
    debian_bases(fake);
    fake.on_build(|request| {
        if !request.tag.contains("/01-static-binary:") {
            return None;
        }
        let build = if dockerfile_of(request).contains("FROM scratch") {
            let image = FakeImage::scratch()
                .layer("COPY /hello /hello # buildkit", [sized("hello", 20_000)])
                .user("10001:10001")
                .entrypoint(&["/hello"])
                .app(FakeApp::prints("Hello, world\n"));
            ScriptedBuild::image(
                image,
                &[
                    ("[internal] load build context", false),
                    ("[build 1/5] FROM docker.io/library/debian:bookworm", true),
                    ("[build 2/5] RUN apt-get update && apt-get install -y", true),
                    ("[build 3/5] WORKDIR /src", true),
                    ("[build 4/5] COPY hello.c .", true),
                    (
                        "[build 5/5] RUN gcc -static -O2 -s -Wall -o /hello hello.c",
                        false,
                    ),
                    ("[stage-1 1/1] COPY --from=build /hello /hello", false),
                ],
            )
        } else {
            let image = with_gcc(&debian("bookworm"))
                .layer("WORKDIR /src", [dir("src")])
                .layer(
                    "COPY hello.c . # buildkit",
                    [file("src/hello.c", "int main")],
                )
                .layer(
                    "RUN /bin/sh -c gcc -O2 -Wall -o /hello hello.c # buildkit",
                    [sized("hello", 16_000)],
                )
                .entrypoint(&["/hello"])
                .app(FakeApp::prints("Hello, world\n"));
            ScriptedBuild::image(
                image,
                &[
                    ("[1/5] FROM docker.io/library/debian:bookworm", true),
                    ("[2/5] RUN apt-get update && apt-get install -y", true),
                    ("[3/5] WORKDIR /src", true),
                    ("[4/5] COPY hello.c .", true),
                    ("[5/5] RUN gcc -O2 -Wall -o /hello hello.c", false),
                ],
            )
        };
        Some(build)
    });
}

/// Exercise 11 (`11-build-args`): the final stage's base is `debian:${DEBIAN_TAG}` where the
/// Dockerfile says so (else bookworm-slim), and the app prints the version the build stage
/// saw: the build argument where that stage declares `ARG APP_VERSION`, nothing where it
/// uses `$APP_VERSION` undeclared (the app then exits 1), 1.4.2 where it is typed in.
pub fn build_args(fake: &FakeEngine) {
    debian_bases(fake);
    fake.on_build(|request| {
        if !request.tag.contains("/11-build-args:") {
            return None;
        }
        Some(about_build(request))
    });
}

fn about_build(request: &BuildRequest) -> ScriptedBuild {
    let dockerfile = dockerfile_of(request);
    let argument = |name: &str, default: &str| {
        request
            .build_args
            .get(name)
            .cloned()
            .unwrap_or_else(|| default.to_string())
    };
    let tag = if dockerfile.contains("FROM debian:${DEBIAN_TAG}") {
        argument("DEBIAN_TAG", "bookworm-slim")
    } else {
        "bookworm-slim".to_string()
    };
    let version = if dockerfile.contains("\nARG APP_VERSION\n") {
        argument("APP_VERSION", "1.4.2")
    } else if dockerfile.contains("$APP_VERSION") {
        String::new()
    } else {
        "1.4.2".to_string()
    };
    let app = if version.is_empty() {
        FakeApp::Exits {
            exit_code: 1,
            stdout: String::new(),
            stderr: "about: APP_VERSION is empty\n".into(),
        }
    } else {
        FakeApp::prints(&format!("about {version} on debian:{tag} (Debian 12.8)\n"))
    };
    let binary = format!("about {version}");
    let image = FakeImage::on(&debian(&tag))
        .env("BASE_IMAGE", &format!("debian:{tag}"))
        .layer(
            "COPY /about /usr/local/bin/about # buildkit",
            [file("usr/local/bin/about", binary)],
        )
        .user("10001:10001")
        .entrypoint(&["/usr/local/bin/about"])
        .app(app);
    ScriptedBuild::image(
        image,
        &[
            (
                "[build 5/5] RUN gcc -O2 -Wall -DAPP_VERSION -o /about about.c",
                false,
            ),
            (
                "[stage-1 2/2] COPY --from=build /about /usr/local/bin/about",
                false,
            ),
        ],
    )
}

/// The step of exercise 07 that downloads the Go modules, as BuildKit names it.
pub const GO_MOD_DOWNLOAD: &str = "[build 7/9] RUN go mod download";

/// Exercise 07 (`07-cache-order`): a Go server on scratch. After a change to `src/main.go`
/// (the cache-reuse probe's), `go mod download` comes from the cache only where the
/// Dockerfile copies go.mod and go.sum before it, not the whole folder.
pub fn cache_order(fake: &FakeEngine) {
    debian_bases(fake);
    fake.on_build(|request| {
        if !request.tag.contains("/07-cache-order:") {
            return None;
        }
        let changed_sources = request.context.overlay.contains_key("src/main.go");
        let modules_first = dockerfile_of(request).contains("COPY go.mod go.sum ./");
        let image = FakeImage::scratch()
            .layer("COPY /server /server # buildkit", [sized("server", 60_000)])
            .user("10001:10001")
            .entrypoint(&["/server"])
            .app(FakeApp::serves(
                8080,
                &[
                    ("/healthz", 200, "ok\n"),
                    (
                        "/slug/Build%20Fat,%20Ship%20Thin!",
                        200,
                        "build-fat-ship-thin\n",
                    ),
                ],
            ));
        Some(ScriptedBuild::image(
            image,
            &[
                ("[build 2/9] RUN apt-get update && apt-get install -y", true),
                (GO_MOD_DOWNLOAD, !changed_sources || modules_first),
                (
                    "[build 9/9] RUN CGO_ENABLED=0 go build -o /server ./src",
                    !changed_sources,
                ),
                (
                    "[stage-1 1/1] COPY --from=build /server /server",
                    !changed_sources,
                ),
            ],
        ))
    });
}
