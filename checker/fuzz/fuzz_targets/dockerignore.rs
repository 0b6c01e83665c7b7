//! A `.dockerignore` and paths of a build context: compiling the file must return a matcher
//! or an error naming its line, never panic; and the walker's shortcut must never drop a file
//! the matcher keeps (a directory it may skip holds nothing that is not excluded).
//!
//! Input: the `.dockerignore` text, a NUL byte, then one context path per line.

#![no_main]

use checker::docker::dockerignore::DockerIgnore;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
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
});
