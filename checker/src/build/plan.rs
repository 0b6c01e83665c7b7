//! What one build is: a `Plan` (the variation a probe asks for) and what it `Built`; and the
//! `Builder` through which goals build again without knowing the exercise they belong to.

use std::collections::BTreeMap;
use std::future::Future;
use std::pin::Pin;

use crate::docker::dockerfile::StageGraph;
use crate::docker::engine::BuildStep;
use crate::error::CheckerError;

pub struct Built {
    pub graph: StageGraph,
    pub steps: Vec<BuildStep>,
    pub seconds: f64,
    pub context_bytes: u64,
    /// Context-relative paths of everything sent as the build context.
    pub context_files: Vec<String>,
}

/// What to build, beyond the exercise and variant: the probes of some goals build a
/// variation (another target, a changed file, no cache) under a tag of their own.
#[derive(Default)]
pub struct Plan {
    pub target: Option<String>,
    pub replacements: BTreeMap<String, Vec<u8>>,
    pub no_cache: bool,
    /// Appended to the variant in the tag (`workbook/<exercise>:<variant>-<suffix>`).
    pub tag_suffix: Option<String>,
    /// Build arguments on top of the exercise's own.
    pub build_args: BTreeMap<String, String>,
}

impl Plan {
    /// The tag this plan builds under, given the exercise's own tag for the variant.
    pub fn tag(&self, image: &str) -> String {
        match &self.tag_suffix {
            Some(suffix) => format!("{image}-{suffix}"),
            None => image.to_string(),
        }
    }
}

/// Builds variations of one exercise's Dockerfile (the probes of some goals need them).
pub trait Builder: Sync {
    /// The tag `plan` builds under.
    fn tag(&self, plan: &Plan) -> String;
    /// Builds `plan` (quietly: the caller reports what it builds and why).
    fn build<'a>(
        &'a self,
        plan: &'a Plan,
    ) -> Pin<Box<dyn Future<Output = Result<Built, CheckerError>> + Send + 'a>>;
}
