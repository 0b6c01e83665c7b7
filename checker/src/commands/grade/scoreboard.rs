//! The scoreboards `grade` writes: Markdown for reading, CSV for spreadsheets. Learner names
//! come from folder names, which a learner chooses: each is kept lossless and single-line
//! ([`learner_name`]), escaped for the table it goes in, and made safe for spreadsheets.

use std::ffi::OsStr;

use super::{Grade, GradeStatus};

/// A folder name as a learner's name: lossless and on one line. Bytes that are not UTF-8
/// become `\xNN` (two such names no longer merge into one `x�`), control characters
/// `\n`, `\t` or `\u{NN}`, and a backslash itself `\\`, so no two folders share a name.
pub fn learner_name(folder: &OsStr) -> String {
    let mut out = String::new();
    for chunk in folder.as_encoded_bytes().utf8_chunks() {
        for c in chunk.valid().chars() {
            match c {
                '\\' => out.push_str("\\\\"),
                '\n' => out.push_str("\\n"),
                '\t' => out.push_str("\\t"),
                c if c.is_control() => out.push_str(&format!("\\u{{{:x}}}", c as u32)),
                c => out.push(c),
            }
        }
        for byte in chunk.invalid() {
            out.push_str(&format!("\\x{byte:02X}"));
        }
    }
    out
}

/// The scoreboard: one row per learner, one column per exercise, as Markdown; a note under
/// it for every submission flagged (a linked folder, a Dockerfile another learner handed in
/// too, a name another folder has in another Unicode form).
pub fn scoreboard_markdown(grades: &[Grade]) -> String {
    let (learners, exercises) = axes(grades);
    let mut out = format!(
        "| Learner | {} | Passed |\n|---|{}---:|\n",
        exercises.join(" | "),
        "---|".repeat(exercises.len())
    );
    for learner in &learners {
        let row: Vec<&Grade> = exercises
            .iter()
            .filter_map(|e| {
                grades
                    .iter()
                    .find(|g| &g.learner == learner && &g.exercise == e)
            })
            .collect();
        let cells: Vec<String> = row
            .iter()
            .map(|g| {
                let mark = if g.flags.is_empty() { "" } else { " ⚑" };
                match g.status {
                    GradeStatus::Passed => format!("✔ {}/{}{mark}", g.goals_met, g.goals_total),
                    GradeStatus::Failed => format!("✘ {}/{}{mark}", g.goals_met, g.goals_total),
                    other => format!("⚠ {other}{mark}"),
                }
            })
            .collect();
        let passed = row
            .iter()
            .filter(|g| g.status == GradeStatus::Passed)
            .count();
        out.push_str(&format!(
            "| {} | {} | {passed} |\n",
            markdown_text(learner),
            cells.join(" | ")
        ));
    }
    let flagged: Vec<&Grade> = grades.iter().filter(|g| !g.flags.is_empty()).collect();
    if !flagged.is_empty() {
        out.push_str("\n⚑ Flagged for a look:\n\n");
        for g in flagged {
            out.push_str(&format!(
                "- {} {}: {}\n",
                markdown_text(&g.learner),
                g.exercise,
                markdown_text(&g.flags.join("; "))
            ));
        }
    }
    out
}

/// The same as CSV, one row per learner and exercise, for spreadsheets.
pub fn scoreboard_csv(grades: &[Grade]) -> String {
    let mut out = String::from(
        "learner,exercise,status,goals_met,goals_total,image_bytes,seconds,message,flags\n",
    );
    for g in grades {
        out.push_str(&format!(
            "{},{},{},{},{},{},{:.1},{},{}\n",
            csv(&g.learner),
            csv(&g.exercise),
            g.status,
            g.goals_met,
            g.goals_total,
            g.image_size.map(|s| s.to_string()).unwrap_or_default(),
            g.seconds,
            csv(g.message.as_deref().unwrap_or("")),
            csv(&g.flags.join("; "))
        ));
    }
    out
}

/// A CSV field, quoted when it must be, and never a formula: a field a spreadsheet would
/// evaluate (starting with `=`, `+`, `-`, `@`, a tab or a carriage return, OWASP's list) is
/// prefixed with `'`, which spreadsheets show as text.
fn csv(field: &str) -> String {
    let field = if field.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{field}")
    } else {
        field.to_string()
    };
    if field.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", field.replace('"', "\"\""))
    } else {
        field
    }
}

/// Text for a line of Markdown: what would start markup, end a table cell (`|`) or make
/// two names look alike (a `\` shown or not) is escaped; a line break is a blank.
fn markdown_text(text: &str) -> String {
    let mut out = String::new();
    for c in text.chars() {
        if matches!(
            c,
            '\\' | '*' | '_' | '`' | '[' | ']' | '<' | '>' | '#' | '|'
        ) {
            out.push('\\');
        }
        if c == '\n' || c == '\r' {
            out.push(' ');
        } else {
            out.push(c);
        }
    }
    out
}

fn axes(grades: &[Grade]) -> (Vec<String>, Vec<String>) {
    let mut learners: Vec<String> = grades.iter().map(|g| g.learner.clone()).collect();
    learners.sort();
    learners.dedup();
    let mut exercises: Vec<String> = grades.iter().map(|g| g.exercise.clone()).collect();
    exercises.sort();
    exercises.dedup();
    (learners, exercises)
}

/// A grade of `met` of 5 goals, as the scoreboard tests (here and in `grade`) need one.
#[cfg(test)]
pub(crate) fn sample_grade(
    learner: &str,
    exercise: &str,
    status: GradeStatus,
    met: usize,
) -> Grade {
    Grade {
        learner: learner.into(),
        exercise: exercise.into(),
        status,
        goals_met: met,
        goals_total: 5,
        image_size: None,
        message: (status == GradeStatus::Error)
            .then(|| "Dockerfile:3: does not parse, \"FORM\"".to_string()),
        seconds: 1.0,
        goals: std::collections::BTreeMap::new(),
        flags: vec![],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use super::sample_grade as grade;

    #[test]
    fn scoreboards_have_a_row_per_learner_and_quote_csv() {
        let grades = vec![
            grade("alice", "01-a", GradeStatus::Passed, 5),
            grade("alice", "02-b", GradeStatus::Failed, 3),
            grade("bob", "01-a", GradeStatus::Error, 0),
            grade("bob", "02-b", GradeStatus::TimedOut, 0),
        ];
        let md = scoreboard_markdown(&grades);
        assert!(md.contains("| alice | ✔ 5/5 | ✘ 3/5 | 1 |"), "{md}");
        assert!(md.contains("| bob | ⚠ error | ⚠ timed-out | 0 |"), "{md}");
        assert!(!md.contains("Flagged"), "{md}");
        let csv = scoreboard_csv(&grades);
        assert!(
            csv.contains(
                "bob,01-a,error,0,5,,1.0,\"Dockerfile:3: does not parse, \"\"FORM\"\"\",\n"
            ),
            "{csv}"
        );
    }

    #[test]
    fn a_formula_in_a_name_or_message_reaches_the_csv_as_text() {
        for name in ["=HYPERLINK(\"http://x\")", "+1", "-2+3", "@SUM(A1)", "\tx"] {
            let mut g = grade(name, "01-a", GradeStatus::Error, 0);
            g.message = Some(name.to_string());
            let csv = scoreboard_csv(&[g]);
            let row = csv.lines().nth(1).unwrap();
            // Each field starts with `'` (inside quotes where it needs quoting).
            assert!(row.starts_with('\'') || row.starts_with("\"'"), "{row}");
            assert!(
                !row.contains(",=") && !row.contains(",+") && !row.contains(",@"),
                "{row}"
            );
        }
    }

    #[cfg(unix)]
    #[test]
    fn names_stay_lossless_and_tables_whole() {
        use std::os::unix::ffi::OsStrExt;
        let a = learner_name(OsStr::from_bytes(b"x\xff"));
        let b = learner_name(OsStr::from_bytes(b"x\xfe"));
        assert_eq!((a.as_str(), b.as_str()), ("x\\xFF", "x\\xFE"));
        assert_eq!(learner_name(OsStr::new("a\\xFF")), "a\\\\xFF");
        assert_eq!(learner_name(OsStr::new("eve\nmallory")), "eve\\nmallory");
        let grades = vec![
            grade(&a, "01-a", GradeStatus::Passed, 5),
            grade(&b, "01-a", GradeStatus::Failed, 1),
            grade("x|y", "01-a", GradeStatus::Passed, 5),
        ];
        let md = scoreboard_markdown(&grades);
        assert!(md.contains("| x\\\\xFF | ✔ 5/5 | 1 |"), "{md}");
        assert!(md.contains("| x\\\\xFE | ✘ 1/5 | 0 |"), "{md}");
        assert!(md.contains("| x\\|y | ✔ 5/5 | 1 |"), "{md}");
        // Every row has the header's number of cells.
        for line in md.lines().filter(|l| l.starts_with('|')) {
            assert_eq!(line.replace("\\|", "").matches('|').count(), 4, "{line}");
        }
    }

    #[test]
    fn a_flagged_submission_is_marked_and_explained() {
        let mut g = grade("dave", "02-b", GradeStatus::Error, 0);
        g.flags = vec!["the folder is a link to ../carol/02-b".into()];
        let md = scoreboard_markdown(&[g.clone()]);
        assert!(md.contains("⚠ error ⚑"), "{md}");
        assert!(
            md.contains("- dave 02-b: the folder is a link to ../carol/02-b"),
            "{md}"
        );
        assert!(scoreboard_csv(&[g]).contains(",the folder is a link to ../carol/02-b\n"));
    }
}
