//! `checker doctest`: build every Dockerfile snippet of the book marked `build=DIR`.

use std::process::ExitCode;

use super::book;
use crate::commands::Outcome;
use crate::workbook::Workbook;

pub async fn doctest(workbook: &Workbook) -> Outcome {
    let engine = crate::commands::connect()
        .await?
        .with_size_cache(&workbook.root);
    let results = book::doctest(&engine, workbook).await?;
    let (mut built, mut failed, mut listed, mut unmarked) = (0, 0, 0, 0);
    for (snippet, outcome) in &results {
        let at = format!("{}:{}", snippet.file.display(), snippet.line);
        match outcome {
            book::SnippetOutcome::Built { seconds } => {
                built += 1;
                println!("✔ {at}  built ({seconds:.1} s)");
            }
            book::SnippetOutcome::Failed { message } => {
                failed += 1;
                println!("✘ {at}  {message}");
            }
            book::SnippetOutcome::Listed => {
                listed += 1;
                println!("· {at}  illustration, not built");
            }
            book::SnippetOutcome::Unmarked => {
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
