//! Any text as a learner's Dockerfile: parsing it into a stage graph, and everything the
//! checker then asks of the graph, must return (a graph or a located error), never panic.

#![no_main]

use std::collections::BTreeMap;
use std::path::Path;

use checker::docker::dockerfile::parse_stage_graph;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let file = Path::new("Dockerfile");
    // A build arg that FROM lines may use, as the build-arg goal passes one.
    let args = BTreeMap::from([("DEBIAN_TAG".to_string(), "bookworm-slim".to_string())]);
    let Ok(graph) = parse_stage_graph(file, text, &args, None) else {
        return;
    };
    exercise(&graph);
    // Every stage as `--target`, as the test-stage goal builds one.
    for name in graph.stages.iter().filter_map(|s| s.name.clone()) {
        if let Ok(graph) = parse_stage_graph(file, text, &args, Some(&name)) {
            exercise(&graph);
        }
    }
});

fn exercise(graph: &checker::docker::dockerfile::StageGraph) {
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
