//! `image-size`: the final image is at most `max_mb` MB.

use serde::{Deserialize, Serialize};

use super::settings::check_positive;
use super::verdict::biggest_layer_hint;
use super::{Goal, Kind, Verdict};
use crate::facts::{format_mb, mb, Measurements};

/// Sizes are uncompressed layer bytes as `docker image inspect` reports them (`.Size`), in
/// decimal megabytes as `docker images` prints them.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ImageSize {
    pub max_mb: f64,
}

impl Kind for ImageSize {
    fn validate(&self, at: &str) -> Result<(), String> {
        check_positive(at, "max_mb", self.max_mb)
    }
    fn target(&self) -> String {
        format!("≤ {} MB", self.max_mb)
    }
    fn threshold(&self) -> Option<String> {
        Some(format!("{} MB", self.max_mb))
    }
    fn judge(&self, goal: &Goal, _: &[Goal], m: &Measurements) -> Verdict {
        let size = mb(m.image_size);
        let v = Verdict::new(goal, size <= self.max_mb, format_mb(m.image_size), self.target())
            .values(size, self.max_mb);
        if size <= self.max_mb {
            v
        } else {
            v.detail(biggest_layer_hint(m))
        }
    }
}
