//! Reports: one exporter per output format behind one trait, so a new format (JUnit,
//! Markdown) is one more file here and nothing else changes.

mod json;
mod junit;
pub mod layout;
mod markdown;
pub mod stage_graph;
mod text;

use serde::Serialize;

use crate::check::{Checked, VerifyResult};

/// Facts about the run that every format may show.
#[derive(Debug, Clone, Serialize)]
pub struct RunInfo {
    pub checker_version: &'static str,
    /// "Docker Engine 28.5.2 (API 1.51, containerd image store)".
    pub engine: String,
    /// The same engine's facts and the endpoint it was reached at; null when the engine
    /// could not say.
    pub engine_info: Option<crate::docker::engine_info::EngineInfo>,
}

pub trait Exporter {
    /// The report of `checker check`: every exercise named, in order, checked or not.
    fn check(&self, info: &RunInfo, outcomes: &[Checked]) -> String;
    fn verify(&self, info: &RunInfo, results: &[VerifyResult]) -> String;
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Text,
    Json,
    Junit,
    Markdown,
}

/// The exporter of `format`, its text laid out for a pipe: 80 columns, no colour.
pub fn exporter(format: Format) -> Box<dyn Exporter> {
    exporter_for(format, layout::Layout::PLAIN)
}

/// The exporter of `format`, the text report fitted to `layout` (the other formats are read
/// by programs and are the same whatever the terminal).
pub fn exporter_for(format: Format, layout: layout::Layout) -> Box<dyn Exporter> {
    match format {
        Format::Text => Box::new(text::Text { layout }),
        Format::Json => Box::new(json::Json),
        Format::Junit => Box::new(junit::Junit),
        Format::Markdown => Box::new(markdown::Markdown),
    }
}
