//! `checker doctest`: build every Dockerfile snippet of the book marked `build=DIR`.

use std::process::ExitCode;

use super::snippets::*;
use crate::commands::Outcome;
use crate::error::CheckerError;
use crate::workbook::Workbook;
use std::collections::BTreeMap;
use std::path::PathBuf;

pub async fn doctest(workbook: &Workbook) -> Outcome {
    let engine = crate::commands::connect()
        .await?
        .with_size_cache(&workbook.root);
    let results = build_snippets(&engine, workbook).await?;
    let (mut built, mut failed, mut listed, mut unmarked) = (0, 0, 0, 0);
    for (snippet, outcome) in &results {
        let at = format!("{}:{}", snippet.file.display(), snippet.line);
        match outcome {
            SnippetOutcome::Built { seconds } => {
                built += 1;
                println!("✔ {at}  built ({seconds:.1} s)");
            }
            SnippetOutcome::Failed { message } => {
                failed += 1;
                println!("✘ {at}  {message}");
            }
            SnippetOutcome::Listed => {
                listed += 1;
                println!("· {at}  illustration, not built");
            }
            SnippetOutcome::Unmarked => {
                unmarked += 1;
                println!("✘ {at}  unmarked: write ```dockerfile build=<folder> or ```dockerfile illustration");
            }
        }
    }
    println!("\n{built} built, {failed} failed, {listed} illustrations, {unmarked} unmarked");
    Ok(if failed + unmarked == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

/// What `checker doctest` found for one snippet.
#[derive(Debug)]
pub enum SnippetOutcome {
    Built { seconds: f64 },
    Failed { message: String },
    Listed,
    Unmarked,
}

/// `checker doctest`: builds every snippet marked `build=DIR` with DIR as its context, lists
/// the illustrations, and reports unmarked blocks as errors.
pub async fn build_snippets(
    engine: &dyn crate::docker::api::EngineApi,
    workbook: &Workbook,
) -> Result<Vec<(Snippet, SnippetOutcome)>, CheckerError> {
    let mut out = Vec::new();
    for (n, snippet) in book_snippets(workbook)?.into_iter().enumerate() {
        let outcome = match &snippet.kind {
            SnippetKind::Illustration => SnippetOutcome::Listed,
            SnippetKind::Unmarked { .. } => SnippetOutcome::Unmarked,
            SnippetKind::Build { context } => {
                match build_snippet(engine, workbook, &snippet, context, n).await {
                    Ok(seconds) => SnippetOutcome::Built { seconds },
                    Err(e @ CheckerError::EngineUnreachable { .. }) => return Err(e),
                    Err(e) => SnippetOutcome::Failed {
                        message: e.to_string(),
                    },
                }
            }
        };
        out.push((snippet, outcome));
    }
    Ok(out)
}

async fn build_snippet(
    engine: &dyn crate::docker::api::EngineApi,
    workbook: &Workbook,
    snippet: &Snippet,
    context: &str,
    n: usize,
) -> Result<f64, CheckerError> {
    let dir = workbook.root.join(context);
    let here = PathBuf::from(format!("{}:{}", snippet.file.display(), snippet.line));
    if !dir.is_dir() {
        return Err(CheckerError::Snippet(format!(
            "{}: build={context} is not a folder of the workbook",
            here.display()
        )));
    }
    let graph =
        crate::docker::dockerfile::parse_stage_graph(&here, &snippet.text, &BTreeMap::new(), None)?;
    crate::build::ensure_base_images(engine, &here, &graph).await?;
    let dockerfile = ".doctest/Dockerfile";
    let context = crate::docker::context::Folder::with_overlay(
        &dir,
        BTreeMap::from([(dockerfile.to_string(), snippet.text.clone().into_bytes())]),
    );
    let scope = workbook.scope();
    let tag = format!(
        "{}-{scope}/doctest:{n}",
        crate::docker::api::IMAGE_REPOSITORY_PREFIX
    );
    let request = crate::docker::api::BuildRequest {
        context,
        dockerfile: dockerfile.to_string(),
        tag: tag.clone(),
        labels: BTreeMap::from([
            (
                crate::docker::api::OWNER_LABEL.to_string(),
                "true".to_string(),
            ),
            (
                crate::docker::api::EXERCISE_LABEL.to_string(),
                "doctest".to_string(),
            ),
            (crate::docker::api::SCOPE_LABEL.to_string(), scope),
        ]),
        build_args: BTreeMap::new(),
        secrets: BTreeMap::new(),
        target: None,
        no_cache: false,
    };
    // A snippet is built beside other builds (the test suite's, a learner's watch): when the
    // engine, not the snippet, failed it, it is built again, as a check's build is.
    let outcome =
        crate::build::build_again_if_the_engine_lost_it(engine, request, &mut crate::ui::Silent)
            .await?;
    engine.remove_image(&tag).await?;
    match outcome {
        Ok(o) => Ok(o.seconds),
        Err(f) => {
            let line = f
                .step
                .as_deref()
                .and_then(|s| graph.locate_step(s))
                .map(|l| snippet.line + l)
                .unwrap_or(snippet.line);
            Err(CheckerError::Snippet(format!(
                "{}:{line}: the build failed at {}: {}\n{}",
                snippet.file.display(),
                f.step.unwrap_or_default(),
                f.message,
                f.log_tail
            )))
        }
    }
}
