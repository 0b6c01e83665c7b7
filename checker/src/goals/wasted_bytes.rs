//! `wasted-bytes`: bytes that layers keep although a later layer overwrites or deletes them,
//! counted as dive counts them, at most `max_mb` MB.

use serde::{Deserialize, Serialize};

use super::{Goal, Kind, Probe, Verdict};
use crate::docker::contents::{self, Entry};
use crate::docker::waste;
use crate::error::CheckerError;
use crate::facts::{format_mb, mb, Measurements, ProbeOutcome};

#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct WastedBytes {
    pub max_mb: f64,
}

impl Kind for WastedBytes {
    fn validate(&self, at: &str) -> Result<(), String> {
        let max_mb = self.max_mb;
        if !(max_mb.is_finite() && max_mb >= 0.0) {
            return Err(format!(
                "{at}: `max_mb` must be a number of MB, 0 or more, not {max_mb}"
            ));
        }
        Ok(())
    }
    fn target(&self) -> String {
        format!("≤ {} MB wasted", self.max_mb)
    }
    fn threshold(&self) -> Option<String> {
        Some(format!("{} MB", self.max_mb))
    }
    /// Exports the main image and counts what its layers hide.
    async fn probe(
        &self,
        _goal: &Goal,
        probe: &mut Probe<'_>,
    ) -> Result<Option<ProbeOutcome>, CheckerError> {
        let contents = contents::contents_of(probe.engine, probe.image).await?;
        let layers = waste::changes(&contents.layers, Entry::change);
        let w = waste::count(&layers);
        Ok(Some(ProbeOutcome::WastedBytes {
            bytes: w.bytes,
            top: w.top,
        }))
    }
    fn judge(&self, goal: &Goal, _: &[Goal], m: &Measurements) -> Verdict {
        let target = self.target();
        let Some(ProbeOutcome::WastedBytes { bytes, top }) = m.probes.get(&goal.id) else {
            return Verdict::new(goal, false, "not measured".into(), target);
        };
        let wasted = mb(*bytes);
        let v = Verdict::new(
            goal,
            wasted <= self.max_mb,
            format!("{} wasted", format_mb(*bytes)),
            target,
        )
        .values(wasted, self.max_mb);
        if wasted <= self.max_mb || top.is_empty() {
            return v;
        }
        let list: Vec<String> = top
            .iter()
            .take(3)
            .map(|(p, b)| format!("/{p} ({})", format_mb(*b)))
            .collect();
        v.detail(format!(
            "kept in one layer, hidden by a later one: {} — clean up in the same RUN that made them",
            list.join(", ")
        ))
    }
}

#[cfg(test)]
mod judging {
    use crate::facts::ProbeOutcome;
    use crate::goals::verdict::testing::{goal, evaluate_goal, measured};
    use crate::goals::{GoalKind};

    #[test]
    fn wasted_bytes_name_the_worst_paths() {
        let g = goal(
            "waste",
            GoalKind::WastedBytes(crate::goals::wasted_bytes::WastedBytes { max_mb: 1.0 }),
        );
        let mut m = measured();
        m.probes.insert(
            "waste".into(),
            ProbeOutcome::WastedBytes {
                bytes: 45_000_000,
                top: vec![("var/lib/apt/lists/x_Packages".into(), 40_000_000)],
            },
        );
        let v = evaluate_goal(&g, &m);
        assert!(!v.met);
        assert_eq!(v.measured, "45.0 MB wasted");
        assert!(v.detail.unwrap().starts_with(
            "kept in one layer, hidden by a later one: /var/lib/apt/lists/x_Packages (40.0 MB)"
        ));
        m.probes.insert(
            "waste".into(),
            ProbeOutcome::WastedBytes {
                bytes: 20_000,
                top: vec![],
            },
        );
        assert!(evaluate_goal(&g, &m).met);
    }
}
