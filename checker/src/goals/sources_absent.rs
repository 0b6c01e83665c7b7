//! `sources-absent`: none of the exercise's source files (its code, its build scripts) is
//! anywhere in the final filesystem, found by content, whatever its path or name there. A
//! build's inputs belong in the build stage; the image ships what the build made of them.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::settings::check_relative;
use super::{Goal, Kind, Probe, Verdict};
use crate::docker::contents;
use crate::error::CheckerError;
use crate::facts::{Measurements, ProbeOutcome};

#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct SourcesAbsent {
    /// Files or folders (every file under them) of the exercise folder.
    pub sources: Vec<String>,
}

impl Kind for SourcesAbsent {
    fn validate(&self, at: &str) -> Result<(), String> {
        if self.sources.is_empty() {
            return Err(format!("{at}: `sources` must list at least one file or folder"));
        }
        self.sources
            .iter()
            .try_for_each(|s| check_relative(at, "sources", s))
    }
    fn target(&self) -> String {
        format!("no copy of: {}", self.sources.join(", "))
    }
    /// Hashes the exercise's sources and looks for each hash in the final filesystem.
    async fn probe(
        &self,
        goal: &Goal,
        probe: &mut Probe<'_>,
    ) -> Result<Option<ProbeOutcome>, CheckerError> {
        let mut hashes: BTreeMap<[u8; 32], String> = BTreeMap::new();
        for source in &self.sources {
            for relative in probe.files_under(goal, "sources", source)? {
                let bytes = probe.read(goal, "sources", &relative)?;
                // An empty file matches every empty file: it says nothing of what ships.
                if !bytes.is_empty() {
                    hashes.insert(contents::sha256(&bytes), relative);
                }
            }
        }
        let contents = contents::contents_of(probe.engine, probe.image).await?;
        let found = contents
            .filesystem()
            .files
            .iter()
            .filter_map(|(path, file)| {
                let source = hashes.get(file.sha256.as_ref()?)?;
                Some((source.clone(), format!("/{path}")))
            })
            .collect();
        Ok(Some(ProbeOutcome::Sources { found }))
    }
    fn judge(&self, goal: &Goal, _: &[Goal], m: &Measurements) -> Verdict {
        let target = self.target();
        let Some(ProbeOutcome::Sources { found }) = m.probes.get(&goal.id) else {
            return Verdict::new(goal, false, "not measured".into(), target);
        };
        if found.is_empty() {
            return Verdict::new(goal, true, "none found".into(), target);
        }
        let shown: Vec<String> = found
            .iter()
            .take(4)
            .map(|(source, at)| format!("{source} at {at}"))
            .collect();
        let more = found.len() - shown.len();
        Verdict::new(
            goal,
            false,
            format!(
                "{}{}",
                shown.join(", "),
                if more > 0 { format!(" and {more} more") } else { String::new() }
            ),
            target,
        )
        .detail("the build's inputs ship with the image: keep the sources and build scripts in the build stage and COPY --from only what the build wrote")
    }
}

#[cfg(test)]
mod judging {
    use super::*;
    use crate::goals::verdict::testing::{evaluate_goal, goal, measured};
    use crate::goals::GoalKind;

    #[test]
    fn sources_found_anywhere_are_named_with_where_they_are() {
        let g = goal(
            "no-sources",
            GoalKind::SourcesAbsent(SourcesAbsent {
                sources: vec!["build.js".into(), "site".into()],
            }),
        );
        let mut m = measured();
        m.probes.insert(
            "no-sources".into(),
            ProbeOutcome::Sources {
                found: vec![("build.js".into(), "/opt/b.js".into())],
            },
        );
        let v = evaluate_goal(&g, &m);
        assert!(!v.met);
        assert_eq!(v.measured, "build.js at /opt/b.js");
        assert!(v.detail.unwrap().contains("COPY --from only what the build wrote"));
        m.probes
            .insert("no-sources".into(), ProbeOutcome::Sources { found: vec![] });
        assert!(evaluate_goal(&g, &m).met);
        let bad = SourcesAbsent {
            sources: vec!["../x".into()],
        };
        assert!(bad.validate("g").is_err());
    }
}
