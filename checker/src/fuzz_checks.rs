//! What the fuzz targets (`fuzz/fuzz_targets/`) check of one input, here so that the same
//! checks also replay the committed corpus (`fuzz/corpus/`) in the test suite
//! (`tests/offline/fuzz_corpus.rs`) on the stable toolchain, in milliseconds. The fuzzer
//! itself (nightly, cargo-fuzz) runs by hand or in a scheduled job (`fuzz/README.md`): a
//! crash it finds is fixed with a unit test and its input joins the corpus.

use std::collections::BTreeMap;
use std::path::Path;

use crate::docker::dockerfile::{parse_stage_graph, StageGraph};
use crate::docker::dockerignore::DockerIgnore;

/// Any text as a learner's Dockerfile: parsing it into a stage graph, and everything the
/// checker then asks of the graph, must return (a graph or a located error), never panic.
pub fn stage_graph(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let file = Path::new("Dockerfile");
    // A build arg that FROM lines may use, as the build-arg goal passes one.
    let args = BTreeMap::from([("DEBIAN_TAG".to_string(), "bookworm-slim".to_string())]);
    let Ok(graph) = parse_stage_graph(file, text, &args, None) else {
        return;
    };
    ask_everything(&graph);
    // Every stage as `--target`, as the test-stage goal builds one.
    for name in graph.stages.iter().filter_map(|s| s.name.clone()) {
        if let Ok(graph) = parse_stage_graph(file, text, &args, Some(&name)) {
            ask_everything(&graph);
        }
    }
}

fn ask_everything(graph: &StageGraph) {
    for stage in 0..graph.stages.len() {
        graph.direct_dependencies(stage);
        graph.dependencies(stage);
        graph.independent_dependencies(stage);
    }
    graph.external_images();
    graph.users_outside_target();
    graph.to_mermaid();
    // Step names as BuildKit prints them, for every step of every stage, and one past the end.
    for stage in &graph.stages {
        let total = stage.steps.len() + 1;
        for position in 1..=total + 1 {
            let name = format!("[{} {position}/{total}] RUN x", stage.label());
            graph.locate_step(&name);
            graph.locate_step(&format!("[{position}/{total}] COPY . ."));
        }
    }
}

/// A `.dockerignore` and paths of a build context (the ignore file, a NUL byte, then one
/// context path per line): compiling the file must return a matcher or an error naming its
/// line, never panic; and the walker's shortcut must never drop a file the matcher keeps (a
/// directory it may skip holds nothing that is not excluded).
pub fn dockerignore(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let (ignore_file, paths) = text.split_once('\0').unwrap_or((text, ""));
    let Ok(ignore) = DockerIgnore::parse(ignore_file) else {
        return;
    };
    // Paths as the context walker gives them: relative, '/'-separated, nothing to clean.
    let paths: Vec<&str> = paths
        .lines()
        .filter(|p| {
            p.split('/')
                .all(|part| !part.is_empty() && part != "." && part != "..")
        })
        .collect();
    for dir in &paths {
        let excluded = ignore.excludes(dir);
        if !ignore.can_skip_dir(dir) {
            continue;
        }
        assert!(excluded, "{dir:?} may be skipped but is not excluded");
        for path in &paths {
            let below = path
                .strip_prefix(dir)
                .is_some_and(|rest| rest.starts_with('/'));
            if below {
                assert!(
                    ignore.excludes(path),
                    "{dir:?} may be skipped, yet {path:?} below it is kept"
                );
            }
        }
    }
}
