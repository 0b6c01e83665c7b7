//! The fuzz targets' committed corpus (`fuzz/corpus/`), replayed through the same checks
//! the targets run (`checker::fuzz_checks`): every input the fuzzer ever kept, crashes it
//! found among them, stays answered without a panic. The fuzzer itself runs outside this
//! suite (`fuzz/README.md`).

use std::path::Path;

fn replay(target: &str, check: fn(&[u8])) {
    let folder = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fuzz/corpus")
        .join(target);
    let mut replayed = 0;
    for entry in std::fs::read_dir(&folder).expect("the committed corpus") {
        let path = entry.unwrap().path();
        let input = std::fs::read(&path).unwrap();
        let outcome = std::panic::catch_unwind(|| check(&input));
        assert!(outcome.is_ok(), "{} panicked", path.display());
        replayed += 1;
    }
    assert!(
        replayed >= 10,
        "{target}: only {replayed} seeds in {}",
        folder.display()
    );
}

#[test]
fn the_stage_graph_corpus_parses_without_a_panic() {
    replay("stage_graph", checker::fuzz_checks::stage_graph);
}

#[test]
fn the_dockerignore_corpus_keeps_what_it_does_not_skip() {
    replay("dockerignore", checker::fuzz_checks::dockerignore);
}
