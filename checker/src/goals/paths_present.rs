//! `paths-present`: every one of these paths exists in the final image. A path without a
//! leading `/` is the app's: it is looked for in the image's working folder (WORKDIR), so
//! `dist/server.js` is found whether the app lives in /app or /usr/src/app.

use serde::{Deserialize, Serialize};

use super::{Goal, Kind, Verdict};
use crate::facts::Measurements;

#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct PathsPresent {
    pub paths: Vec<String>,
}

impl Kind for PathsPresent {
    fn validate(&self, at: &str) -> Result<(), String> {
        if self.paths.is_empty() {
            return Err(format!("{at}: `paths` must list at least one path"));
        }
        if let Some(p) = self
            .paths
            .iter()
            .find(|p| p.is_empty() || p.split('/').any(|c| c == ".."))
        {
            return Err(format!(
                "{at}: path `{p}` must be absolute, or inside the image's working folder"
            ));
        }
        Ok(())
    }
    fn target(&self) -> String {
        format!("present: {}", self.paths.join(", "))
    }
    fn paths(&self) -> &[String] {
        &self.paths
    }
    fn judge(&self, goal: &Goal, _: &[Goal], m: &Measurements) -> Verdict {
        let missing: Vec<&str> = self
            .paths
            .iter()
            .filter(|p| !present(m, p))
            .map(String::as_str)
            .collect();
        let measured = if missing.is_empty() {
            "all present".to_string()
        } else {
            format!("missing: {}", missing.join(", "))
        };
        Verdict::new(goal, missing.is_empty(), measured, self.target())
    }
}

/// Whether `path` exists in the image: an absolute one as the engine answered, a relative
/// one in the image's working folder, from its inventory.
fn present(m: &Measurements, path: &str) -> bool {
    if path.starts_with('/') {
        return m.paths.get(path).copied().unwrap_or(false);
    }
    let (Some(inventory), Some(command)) = (&m.inventory, &m.command) else {
        return false;
    };
    let workdir = command.working_dir.trim_end_matches('/');
    let full = format!("{workdir}/{}", path.trim_end_matches('/'));
    let folder = format!("{full}/");
    inventory.file(&full).is_some() || inventory.files.iter().any(|f| f.path.starts_with(&folder))
}
