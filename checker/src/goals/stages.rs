//! `stages`: the Dockerfile has at least `min_stages` stages and the final stage depends on
//! at least `min_final_depends_on` other stages (directly or through other stages) that do
//! work for it, and the final stage compiles nothing itself. A stage counts when it runs
//! something (RUN, or ADD of remote content) and what the final image copies from it was
//! made there: a `FROM scratch AS dummy` with a COPY from the context, or a stage whose
//! only copy is a file of its base image (`/etc/debian_version`), splits nothing. A
//! compiled program (ELF, Java class or archive) that a RUN of the final stage made means
//! the app is built where it ships, whatever stage sits beside it.

use serde::{Deserialize, Serialize};

use super::{Goal, Kind, Verdict};
use crate::facts::inventory::FileOrigin;
use crate::facts::Measurements;

#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Stages {
    #[serde(default)]
    pub min_stages: Option<usize>,
    #[serde(default)]
    pub min_final_depends_on: Option<usize>,
}

impl Kind for Stages {
    fn validate(&self, at: &str) -> Result<(), String> {
        if self.min_stages.is_none() && self.min_final_depends_on.is_none() {
            return Err(format!(
                "{at}: set `min_stages`, `min_final_depends_on` or both"
            ));
        }
        Ok(())
    }
    fn target(&self) -> String {
        let mut target = Vec::new();
        if let Some(n) = self.min_stages {
            target.push(format!("≥ {n} stages"));
        }
        if let Some(n) = self.min_final_depends_on {
            target.push(format!("final stage depends on ≥ {n}"));
        }
        target.join(", ")
    }
    fn judge(&self, goal: &Goal, _: &[Goal], m: &Measurements) -> Verdict {
        let idle = idle_stages(m);
        let stage_count = m.stage_count.saturating_sub(idle.len() - m.idle_dependencies.len());
        let stages_ok = self.min_stages.is_none_or(|n| stage_count >= n);
        let working = m.final_depends_on.saturating_sub(idle.len());
        let deps_ok = self.min_final_depends_on.is_none_or(|n| working >= n);
        let compiled: Vec<&FileOrigin> = m
            .inventory
            .as_ref()
            .map(|i| i.compiled_in_final_stage())
            .unwrap_or_default();
        let measured = format!(
            "{} stage{}, final stage depends on {}{}",
            m.stage_count,
            if m.stage_count == 1 { "" } else { "s" },
            m.final_depends_on,
            if idle.is_empty() {
                String::new()
            } else {
                format!(" ({} of them idle: {})", idle.len(), idle.join(", "))
            }
        );
        let v = Verdict::new(goal, stages_ok && deps_ok && compiled.is_empty(), measured, self.target());
        if let Some(program) = compiled.first() {
            let inventory = m.inventory.as_ref().expect("compiled programs come from it");
            return v.detail(format!(
                "the final stage builds the program itself: {} ({}) is {}; build it in a build stage and COPY --from what that stage made",
                program.path,
                crate::facts::format_mb(program.size),
                inventory.describe(program)
            ));
        }
        match (stages_ok, deps_ok) {
            (true, true) => v,
            (false, _) => v.detail(
                "build in one stage, then start a fresh FROM and COPY --from only what runs",
            ),
            (true, false) if !idle.is_empty() => v.detail(format!(
                "stage {} makes nothing the final stage uses: the final stage must COPY --from a stage what that stage built (compile, install, generate there), not files of its base image or of the context passed through",
                idle.join(", ")
            )),
            (true, false) => v.detail("the final stage copies nothing from the other stages"),
        }
    }
}

/// The stages the final stage depends on that do no work for it: those that run nothing
/// (from the stage graph), and those whose every file the final image copies from them is
/// their base image's or the context's (from the image's inventory).
fn idle_stages(m: &Measurements) -> Vec<String> {
    let mut idle = m.idle_dependencies.clone();
    if let Some(inventory) = &m.inventory {
        for stage in inventory.idle_copied_stages() {
            if !idle.iter().any(|s| s == stage) {
                idle.push(stage.to_string());
            }
        }
    }
    idle
}

#[cfg(test)]
mod judging {
    use crate::goals::verdict::testing::{goal, evaluate_goal, measured};
    use crate::goals::{GoalKind};

    #[test]
    fn stages_both_counts() {
        let kind = GoalKind::Stages(crate::goals::stages::Stages {
            min_stages: Some(2),
            min_final_depends_on: Some(1),
        });
        let mut m = measured();
        assert!(!evaluate_goal(&goal("stages", kind.clone()), &m).met);
        m.stage_count = 2;
        let v = evaluate_goal(&goal("stages", kind.clone()), &m);
        assert!(!v.met);
        assert!(v.detail.unwrap().contains("copies nothing"));
        m.final_depends_on = 1;
        let v = evaluate_goal(&goal("stages", kind.clone()), &m);
        assert!(v.met);
        assert_eq!(v.measured, "2 stages, final stage depends on 1");
        m.idle_dependencies = vec!["dummy".into()];
        let v = evaluate_goal(&goal("stages", kind), &m);
        assert!(!v.met, "a stage that runs nothing splits no work");
        assert_eq!(v.measured, "2 stages, final stage depends on 1 (1 of them idle: dummy)");
        assert!(v
            .detail
            .unwrap()
            .starts_with("stage dummy makes nothing the final stage uses"));
    }

    #[test]
    fn a_stage_whose_copies_are_its_base_images_files_is_idle() {
        use crate::facts::inventory::{
            Content, FileOrigin, Inventory, LayerOrigin, LayerSource, StageContribution,
        };
        let kind = GoalKind::Stages(crate::goals::stages::Stages {
            min_stages: Some(2),
            min_final_depends_on: Some(1),
        });
        let mut m = measured();
        m.stage_count = 2;
        m.final_depends_on = 1;
        // The red team's dummy: `COPY --from=noop /etc/debian_version /tmp/noop`, and the
        // program compiled by a RUN of the final stage.
        let run = LayerSource::Instruction {
            stage: "stage-1".into(),
            line: 9,
            keyword: "RUN".into(),
            text: "RUN javac Server.java".into(),
            from: None,
        };
        m.inventory = Some(Inventory {
            layers: vec![LayerOrigin { position: 1, source: run }],
            files: vec![FileOrigin {
                path: "/app/Server.class".into(),
                size: 4000,
                layer: 1,
                content: Content::Built,
                elf: false,
                raises: None,
            }],
            stage_contributions: [(
                "noop".to_string(),
                StageContribution {
                    files: 1,
                    bytes: 5,
                    made_there: 0,
                    programs: 0,
                },
            )]
            .into(),
            ..Inventory::default()
        });
        let v = evaluate_goal(&goal("stages", kind.clone()), &m);
        assert!(!v.met);
        assert_eq!(v.measured, "2 stages, final stage depends on 1 (1 of them idle: noop)");
        assert!(
            v.detail.as_deref().unwrap().starts_with(
                "the final stage builds the program itself: /app/Server.class (0.00 MB) is made during the build, by RUN in stage stage-1 (line 9)"
            ),
            "{v:?}"
        );
        // The program built elsewhere, the stage that built it counted: met.
        let inventory = m.inventory.as_mut().unwrap();
        inventory.files.clear();
        inventory.stage_contributions.get_mut("noop").unwrap().made_there = 1;
        assert!(evaluate_goal(&goal("stages", kind), &m).met);
    }
}
