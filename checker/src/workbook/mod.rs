//! The workbook on disk: the folder that holds `exercises/`, each exercise's
//! `exercise.toml` (`exercise`), the learner's progress (`progress`), restoring a starter
//! (`reset`), and the one rule for which exercise comes next.

pub mod exercise;
pub mod progress;
pub mod reset;
pub mod result_cache;

use std::path::{Path, PathBuf};

use crate::error::CheckerError;
use exercise::Exercise;
use progress::ProgressFile;

/// The workbook: the folder that holds `exercises/`.
#[derive(Debug, Clone)]
pub struct Workbook {
    pub root: PathBuf,
}

impl Workbook {
    /// Finds the workbook from `start` upwards (like git finds its repository), so the checker
    /// works from any folder inside it.
    pub fn discover(start: &Path) -> Result<Workbook, CheckerError> {
        let start = start.canonicalize().unwrap_or_else(|_| start.to_path_buf());
        for dir in start.ancestors() {
            if dir.join("exercises").is_dir() {
                return Ok(Workbook {
                    root: dir.to_path_buf(),
                });
            }
        }
        Err(CheckerError::NoWorkbook { start })
    }

    pub fn exercises_dir(&self) -> PathBuf {
        self.root.join("exercises")
    }

    /// The scope in this checkout's image tags and labels (see `exercise::checkout_scope`).
    pub fn scope(&self) -> String {
        exercise::folder_scope(&self.exercises_dir())
    }

    /// The exercise folders in the order the book teaches them: the order of their pages
    /// in `src/SUMMARY.md`, the book's table of contents, so that "the next exercise" is the
    /// one the learner has just read about. Exercises the book does not list (a workbook
    /// without the book, an author's new exercise) follow, by name.
    pub fn exercise_dirs(&self) -> Result<Vec<PathBuf>, CheckerError> {
        let mut dirs = self.exercise_dirs_by_name()?;
        let summary = self.root.join("src").join("SUMMARY.md");
        if let Ok(text) = std::fs::read_to_string(&summary) {
            let order = book_order(&text);
            dirs.sort_by_key(|d| {
                let name = d.file_name().and_then(|n| n.to_str()).unwrap_or_default();
                order.iter().position(|o| o == name).unwrap_or(usize::MAX)
            });
        }
        Ok(dirs)
    }

    /// The exercise folders by name (their names start with a number).
    fn exercise_dirs_by_name(&self) -> Result<Vec<PathBuf>, CheckerError> {
        let dir = self.exercises_dir();
        let entries = std::fs::read_dir(&dir).map_err(|e| CheckerError::Io {
            path: dir.clone(),
            message: e.to_string(),
            source: Some(Box::new(e)),
        })?;
        let mut dirs: Vec<PathBuf> = entries
            .filter_map(|e| e.ok())
            .map(|e| e.path())
            .filter(|p| p.join("exercise.toml").is_file())
            .collect();
        dirs.sort();
        Ok(dirs)
    }

    pub fn exercise_names(&self) -> Result<Vec<String>, CheckerError> {
        Ok(self
            .exercise_dirs()?
            .iter()
            .filter_map(|p| p.file_name().and_then(|n| n.to_str()).map(str::to_string))
            .collect())
    }

    /// Loads every exercise; the first invalid one is an error naming its file and key.
    pub fn exercises(&self) -> Result<Vec<Exercise>, CheckerError> {
        self.exercise_dirs()?
            .iter()
            .map(|d| Exercise::load(d))
            .collect()
    }

    /// Loads every exercise, in order, each on its own: a broken `exercise.toml` is an
    /// error in its place that spoils none of the others.
    pub fn each_exercise(&self) -> Result<Vec<Result<Exercise, CheckerError>>, CheckerError> {
        Ok(self
            .exercise_dirs()?
            .iter()
            .map(|d| Exercise::load(d))
            .collect())
    }

    /// Loads the named exercise, or says which names exist.
    pub fn exercise(&self, name: &str) -> Result<Exercise, CheckerError> {
        let names = self.exercise_names()?;
        // Accept the number alone (`01`, `1`) as a shorthand for the full name.
        let found = names.iter().find(|n| *n == name).or_else(|| {
            let number = name.trim_start_matches('0');
            names.iter().find(|n| {
                n.split('-').next().map(|p| p.trim_start_matches('0')) == Some(number)
                    && !number.is_empty()
            })
        });
        match found {
            Some(n) => Exercise::load(&self.exercises_dir().join(n)),
            None => Err(CheckerError::UnknownExercise {
                name: name.to_string(),
                suggestions: closest_names(name, &names),
                known: names,
            }),
        }
    }
}

/// The exercises whose pages the book's table of contents links (`exercises/<name>.md`),
/// in the order it lists them.
fn book_order(summary: &str) -> Vec<String> {
    use comrak::nodes::NodeValue;
    let arena = comrak::Arena::new();
    let root = comrak::parse_document(&arena, summary, &comrak::Options::default());
    let mut order = Vec::new();
    for node in root.descendants() {
        if let NodeValue::Link(link) = &node.data.borrow().value {
            let page = link.url.trim_start_matches("./");
            if let Some(name) = page
                .strip_prefix("exercises/")
                .and_then(|p| p.strip_suffix(".md"))
                .filter(|n| !n.contains('/'))
            {
                if !order.iter().any(|o| o == name) {
                    order.push(name.to_string());
                }
            }
        }
    }
    order
}

/// The names in `known` a mistyped `name` most likely meant, closest first (at most three):
/// those within a few edits of it (a third of its length, at least one and at most three),
/// compared with the whole name and with the name without its number (`static-binary` for
/// `01-static-binary`, as a learner may leave the number out); then those that contain it
/// whole (`static`) or have a word within a few edits of it (`statc`).
pub fn closest_names(name: &str, known: &[String]) -> Vec<String> {
    let typed = name.trim().to_lowercase();
    if typed.is_empty() {
        return Vec::new();
    }
    let allowed = (typed.chars().count() / 3).clamp(1, 3);
    let mut close: Vec<(usize, &String)> = known
        .iter()
        .filter_map(|k| {
            let k_lower = k.to_lowercase();
            let bare = k_lower.split_once('-').map_or(k_lower.as_str(), |(_, b)| b);
            let edits = strsim::damerau_levenshtein(&typed, &k_lower)
                .min(strsim::damerau_levenshtein(&typed, bare));
            // One word of it (`statc` for `static`), only from three letters on: "to" is
            // one edit from "go", and no reason to suggest it.
            let word = (typed.chars().count() >= 3).then(|| {
                let words = bare.split('-');
                words.map(|w| strsim::damerau_levenshtein(&typed, w)).min()
            });
            let word = word.flatten().filter(|e| *e <= allowed);
            if edits <= allowed {
                Some((edits, k))
            } else if typed.chars().count() >= 3 && k_lower.contains(&typed) {
                // Contained whole, or a word of it near: after every near miss of the
                // whole name, as a longer way round.
                Some((allowed + 1, k))
            } else {
                word.map(|edits| (allowed + 1 + edits, k))
            }
        })
        .collect();
    // Stable: equally close names keep the workbook's order.
    close.sort_by_key(|(edits, _)| *edits);
    close.into_iter().take(3).map(|(_, k)| k.clone()).collect()
}

/// The one rule for "the next exercise": the first of `names`, in order, that is not done.
pub fn first_pending<'a>(
    progress: &ProgressFile,
    names: impl IntoIterator<Item = &'a str>,
) -> Option<&'a str> {
    names.into_iter().find(|n| !progress.is_passing(n))
}

impl Workbook {
    /// The exercise `check` and `watch` take when none is named: the first pending one, or
    /// the last when every one is done; None when the workbook has no exercises.
    pub fn next_exercise(&self) -> Result<Option<String>, CheckerError> {
        let progress = ProgressFile::load(&self.root)?;
        let names = self.exercise_names()?;
        let next = first_pending(&progress, names.iter().map(String::as_str))
            .or(names.last().map(String::as_str));
        Ok(next.map(str::to_string))
    }
}

#[cfg(test)]
mod tests {
    fn known() -> Vec<String> {
        [
            "01-static-binary",
            "02-cache-mounts",
            "07-distroless",
            "11-build-args",
        ]
        .map(String::from)
        .to_vec()
    }

    #[test]
    fn a_typo_suggests_the_name_it_missed() {
        let close = |n: &str| super::closest_names(n, &known());
        assert_eq!(close("01-static-binray"), vec!["01-static-binary"]);
        assert_eq!(close("01-statc-binary"), vec!["01-static-binary"]);
        // The number left out, or a typo in the rest.
        assert_eq!(close("static-binary"), vec!["01-static-binary"]);
        assert_eq!(close("distrolss"), vec!["07-distroless"]);
        assert_eq!(close("Build-Args"), vec!["11-build-args"]);
    }

    #[test]
    fn a_part_of_a_name_suggests_the_names_holding_it() {
        assert_eq!(
            super::closest_names("static", &known()),
            vec!["01-static-binary"]
        );
        let close = |n: &str| super::closest_names(n, &known());
        assert_eq!(close("statc"), vec!["01-static-binary"]);
        assert_eq!(close("mount"), vec!["02-cache-mounts"]);
        assert!(
            close("to").is_empty(),
            "two letters are too little for a word"
        );
        assert_eq!(
            super::closest_names("-b", &known()),
            Vec::<String>::new(),
            "two characters are too little to go on"
        );
    }

    #[test]
    fn nothing_close_suggests_nothing() {
        assert!(super::closest_names("kubernetes", &known()).is_empty());
        assert!(super::closest_names("", &known()).is_empty());
        assert!(super::closest_names("99", &known()).is_empty());
    }

    #[test]
    fn the_closest_come_first_and_at_most_three() {
        let known: Vec<String> = ["01-aaaa", "02-aaab", "03-aabb", "04-abbb", "05-aaaa"]
            .map(String::from)
            .to_vec();
        assert_eq!(
            super::closest_names("aaaa", &known),
            vec!["01-aaaa", "05-aaaa", "02-aaab"]
        );
    }

    #[test]
    fn the_error_says_did_you_mean() {
        let e = crate::error::CheckerError::UnknownExercise {
            name: "statc".into(),
            known: known(),
            suggestions: vec!["01-static-binary".into()],
        };
        assert!(
            e.to_string().starts_with(
                "no exercise named `statc`; did you mean `01-static-binary`? The exercises are: 01-"
            ),
            "{e}"
        );
        let e = crate::error::CheckerError::UnknownExercise {
            name: "x".into(),
            known: known(),
            suggestions: vec!["a".into(), "b".into(), "c".into()],
        };
        assert!(
            e.to_string().contains("did you mean `a`, `b` or `c`?"),
            "{e}"
        );
        let e = crate::error::CheckerError::UnknownExercise {
            name: "x".into(),
            known: known(),
            suggestions: Vec::new(),
        };
        assert!(
            e.to_string()
                .starts_with("no exercise named `x`; the exercises are: 01-"),
            "{e}"
        );
    }

    #[test]
    fn the_book_order_is_the_order_of_exercise_pages_in_the_summary() {
        let summary = "# Summary\n\n[Introduction](introduction.md)\n\n\
            - [Anatomy](anatomy.md)\n  - [Exercise 12: cleanup](exercises/12-layer-cleanup.md)\n\
            - [Multi-stage](multi-stage.md)\n  - [Exercise 01](./exercises/01-static-binary.md)\n\
            - [Results](measured-results.md)\n  - [again](exercises/12-layer-cleanup.md)\n";
        assert_eq!(
            super::book_order(summary),
            vec!["12-layer-cleanup", "01-static-binary"]
        );
    }

    #[test]
    fn exercises_follow_the_book_then_the_rest_by_name() {
        let dir = tempfile::tempdir().unwrap();
        for name in ["01-a", "02-b", "03-c"] {
            let d = dir.path().join("exercises").join(name);
            std::fs::create_dir_all(&d).unwrap();
            std::fs::write(d.join("exercise.toml"), "").unwrap();
        }
        let workbook = super::Workbook {
            root: dir.path().to_path_buf(),
        };
        let names = |w: &super::Workbook| w.exercise_names().unwrap();
        assert_eq!(names(&workbook), vec!["01-a", "02-b", "03-c"]);
        std::fs::create_dir_all(dir.path().join("src")).unwrap();
        std::fs::write(
            dir.path().join("src/SUMMARY.md"),
            "- [C](exercises/03-c.md)\n- [A](exercises/01-a.md)\n",
        )
        .unwrap();
        assert_eq!(names(&workbook), vec!["03-c", "01-a", "02-b"]);
    }
}
