//! `checker graph`: a Dockerfile's stage graph as text (a box a stage, a lane from each edge's
//! source to its row), Mermaid or JSON.

use std::collections::BTreeMap;
use std::process::ExitCode;

use super::Outcome;
use crate::docker::dockerfile;
use crate::error::CheckerError;

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum GraphFormat {
    /// Boxes and arrows, for the terminal.
    Text,
    /// Mermaid flowchart source, for the book and Markdown.
    Mermaid,
    /// The stages and their edges as JSON, for tools.
    Json,
}

pub fn graph(
    file: &std::path::Path,
    format: GraphFormat,
    build_args: &[String],
    target: Option<&str>,
) -> Outcome {
    let text = dockerfile::read_named_dockerfile(file)?;
    let mut args = BTreeMap::new();
    for a in build_args {
        let (k, v) = a
            .split_once('=')
            .ok_or_else(|| CheckerError::Usage(format!("--build-arg `{a}` is not NAME=VALUE")))?;
        args.insert(k.to_string(), v.to_string());
    }
    let graph = dockerfile::parse_stage_graph(file, &text, &args, target)?;
    match format {
        GraphFormat::Text => print!("{}", crate::report::stage_graph::draw(&graph)),
        GraphFormat::Mermaid => print!("{}", graph.to_mermaid()),
        GraphFormat::Json => println!(
            "{}",
            serde_json::to_string_pretty(&graph).expect("graph serializes")
        ),
    }
    Ok(ExitCode::SUCCESS)
}
