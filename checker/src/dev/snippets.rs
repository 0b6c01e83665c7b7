//! The Dockerfile snippets of the book: every fenced Dockerfile block, with its mark
//! (`build=DIR`, `illustration`, or none) and where it is.

use std::path::{Path, PathBuf};

use crate::error::CheckerError;
use crate::workbook::Workbook;

/// A fenced Dockerfile block in the book.
#[derive(Debug, Clone, PartialEq)]
pub struct Snippet {
    pub file: PathBuf,
    pub line: usize,
    pub text: String,
    pub kind: SnippetKind,
}

#[derive(Debug, Clone, PartialEq)]
pub enum SnippetKind {
    /// Built with this folder (relative to the workbook) as the context.
    Build { context: String },
    /// Shown, not built.
    Illustration,
    /// Neither: an error, so no snippet is silently skipped.
    Unmarked { info: String },
}

/// The fenced `dockerfile` blocks of one Markdown text (comrak's CommonMark parser, so
/// indented fences, longer fences and fences inside lists count exactly as mdBook sees them).
pub fn snippets(file: &Path, markdown: &str) -> Vec<Snippet> {
    use comrak::nodes::NodeValue;
    let arena = comrak::Arena::new();
    let root = comrak::parse_document(&arena, markdown, &comrak::Options::default());
    let mut out = Vec::new();
    for node in root.descendants() {
        let data = node.data.borrow();
        let NodeValue::CodeBlock(block) = &data.value else {
            continue;
        };
        let mut words = block.info.split_whitespace();
        if !words
            .next()
            .is_some_and(|w| w.eq_ignore_ascii_case("dockerfile"))
        {
            continue;
        }
        let rest: Vec<&str> = words.collect();
        let kind = if let Some(context) = rest.iter().find_map(|w| w.strip_prefix("build=")) {
            SnippetKind::Build {
                context: context.to_string(),
            }
        } else if rest.contains(&"illustration") {
            SnippetKind::Illustration
        } else {
            SnippetKind::Unmarked {
                info: block.info.clone(),
            }
        };
        out.push(Snippet {
            file: file.to_path_buf(),
            line: data.sourcepos.start.line,
            text: block.literal.clone(),
            kind,
        });
    }
    out
}

/// Every snippet under `src/`, in file order.
pub fn book_snippets(workbook: &Workbook) -> Result<Vec<Snippet>, CheckerError> {
    let src = workbook.root.join("src");
    let mut files: Vec<PathBuf> = walkdir::WalkDir::new(&src)
        .into_iter()
        .filter_map(|e| e.ok())
        .map(|e| e.into_path())
        .filter(|p| p.extension().is_some_and(|x| x == "md"))
        .collect();
    files.sort();
    let mut out = Vec::new();
    for file in files {
        let text = std::fs::read_to_string(&file).map_err(|e| CheckerError::io(&file, e))?;
        out.extend(snippets(
            file.strip_prefix(&workbook.root).unwrap_or(&file),
            &text,
        ));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn snippets_are_found_with_their_marks_and_lines() {
        let md = "# T\n\n```dockerfile build=exercises/01-static-binary\nFROM scratch\n```\n\ntext\n\n```dockerfile illustration\nFROM --platform=$BUILDPLATFORM golang\n```\n\n- item\n\n  ```Dockerfile\n  FROM x\n  ```\n\n```console\n$ docker build .\n```\n";
        let s = snippets(Path::new("src/x.md"), md);
        assert_eq!(s.len(), 3);
        assert_eq!(
            (s[0].line, &s[0].kind),
            (
                3,
                &SnippetKind::Build {
                    context: "exercises/01-static-binary".into()
                }
            )
        );
        assert_eq!(s[0].text, "FROM scratch\n");
        assert_eq!((s[1].line, &s[1].kind), (9, &SnippetKind::Illustration));
        assert_eq!(
            (s[2].line, &s[2].kind),
            (
                15,
                &SnippetKind::Unmarked {
                    info: "Dockerfile".into()
                }
            )
        );
    }
}
