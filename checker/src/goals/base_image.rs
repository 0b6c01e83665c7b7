//! `base-image`: the final image is built on `image`: its first layers are that image's
//! layers, shared. A stage's whole filesystem copied onto `FROM scratch` flattens the base
//! into one new layer (every pull downloads it again, no other image shares it, and what
//! the messy stage left behind comes along); a final stage on another base misses too.

use serde::{Deserialize, Serialize};

use super::{Goal, Kind, Probe, Verdict};
use crate::error::CheckerError;
use crate::facts::{Measurements, ProbeOutcome};

#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct BaseImage {
    pub image: String,
}

/// How many layers `image` and `base` begin with in common.
pub fn shared_prefix(image: &[String], base: &[String]) -> usize {
    image.iter().zip(base).take_while(|(a, b)| a == b).count()
}

impl Kind for BaseImage {
    fn validate(&self, at: &str) -> Result<(), String> {
        if self.image.trim().is_empty() || self.image.eq_ignore_ascii_case("scratch") {
            return Err(format!(
                "{at}: `image` must name an image with layers, not `{}`",
                self.image
            ));
        }
        Ok(())
    }
    fn target(&self) -> String {
        format!("built on {}", self.image)
    }
    /// Compares the final image's layers with the base image's.
    async fn probe(
        &self,
        _goal: &Goal,
        probe: &mut Probe<'_>,
    ) -> Result<Option<ProbeOutcome>, CheckerError> {
        if !probe.engine.image_exists(&self.image).await? {
            probe.engine.pull(&self.image, &mut |_| {}).await.map_err(|detail| {
                CheckerError::EngineReply(format!("pulling {}: {detail}", self.image))
            })?;
        }
        let base = probe.engine.inspect(&self.image).await?.diff_ids;
        let image = probe.engine.inspect(probe.image).await?.diff_ids;
        Ok(Some(ProbeOutcome::BaseImage {
            base_layers: base.len(),
            shared: shared_prefix(&image, &base),
        }))
    }
    fn judge(&self, goal: &Goal, _: &[Goal], m: &Measurements) -> Verdict {
        let target = self.target();
        let Some(ProbeOutcome::BaseImage { base_layers, shared }) = m.probes.get(&goal.id) else {
            return Verdict::new(goal, false, "not measured".into(), target);
        };
        let met = *base_layers > 0 && shared == base_layers;
        let measured = if met {
            format!("shares its {base_layers} layer{}", if *base_layers == 1 { "" } else { "s" })
        } else {
            format!("shares {shared} of its {base_layers} layers")
        };
        let v = Verdict::new(goal, met, measured, target);
        if met {
            return v;
        }
        v.detail(format!(
            "start the final stage FROM {} and clean up in the RUN that makes the mess: copying a stage's whole filesystem onto scratch (or another base) ships the base again as a layer no other image shares, and keeps what that stage left behind",
            self.image
        ))
    }
}

#[cfg(test)]
mod judging {
    use super::*;
    use crate::goals::verdict::testing::{evaluate_goal, goal, measured};
    use crate::goals::GoalKind;

    #[test]
    fn the_base_layers_must_begin_the_image() {
        let ids = |s: &[&str]| s.iter().map(|x| x.to_string()).collect::<Vec<_>>();
        assert_eq!(shared_prefix(&ids(&["a", "b", "c"]), &ids(&["a", "b"])), 2);
        assert_eq!(shared_prefix(&ids(&["x", "b"]), &ids(&["a", "b"])), 0);
        let g = goal(
            "base",
            GoalKind::BaseImage(BaseImage {
                image: "debian:bookworm-slim".into(),
            }),
        );
        let mut m = measured();
        m.probes.insert(
            "base".into(),
            ProbeOutcome::BaseImage {
                base_layers: 1,
                shared: 0,
            },
        );
        let v = evaluate_goal(&g, &m);
        assert!(!v.met);
        assert_eq!(v.measured, "shares 0 of its 1 layers");
        assert!(v.detail.unwrap().starts_with("start the final stage FROM debian:bookworm-slim"));
        m.probes.insert(
            "base".into(),
            ProbeOutcome::BaseImage {
                base_layers: 1,
                shared: 1,
            },
        );
        assert!(evaluate_goal(&g, &m).met);
        assert!(BaseImage { image: "scratch".into() }.validate("g").is_err());
    }
}
