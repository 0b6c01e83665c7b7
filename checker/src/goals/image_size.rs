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

#[cfg(test)]
mod judging {
    use crate::goals::verdict::shorten;
    use crate::facts::Layer;
    use crate::goals::verdict::testing::{goal, evaluate_goal, measured};
    use crate::goals::{GoalKind};

    #[test]
    fn image_size_names_the_biggest_layer_when_missed() {
        let mut m = measured();
        m.largest_layers = vec![Layer {
            position: 3,
            size: 380_000_000,
            created_by: "/bin/sh -c apt-get install -y golang-go".into(),
        }];
        let v = evaluate_goal(
            &goal(
                "size",
                GoalKind::ImageSize(crate::goals::image_size::ImageSize { max_mb: 40.0 }),
            ),
            &m,
        );
        assert!(!v.met);
        assert_eq!(v.measured, "412.3 MB");
        assert_eq!(v.target, "≤ 40 MB");
        assert_eq!(
            (v.measured_value, v.target_value),
            (Some(412.3), Some(40.0))
        );
        assert_eq!(
            v.detail.as_deref(),
            Some("380.0 MB of it is layer 3: apt-get install -y golang-go")
        );
        assert_eq!(
            shorten("RUN /bin/sh -c gcc -o /hello hello.c # buildkit", 100),
            "RUN gcc -o /hello hello.c"
        );
        assert_eq!(
            shorten("COPY /hello /hello # buildkit", 100),
            "COPY /hello /hello"
        );
        assert_eq!(shorten("", 100), "(base image)");
        assert_eq!(
            shorten("/bin/sh -c #(nop)  CMD [\"bash\"]", 100),
            "CMD [\"bash\"]"
        );
        assert_eq!(shorten("RUN make all", 4), "RUN …");
        m.image_size = 40_000_000;
        assert!(
            evaluate_goal(
                &goal(
                    "size",
                    GoalKind::ImageSize(crate::goals::image_size::ImageSize { max_mb: 40.0 })
                ),
                &m
            )
            .met,
            "the limit is inclusive"
        );
    }
}
