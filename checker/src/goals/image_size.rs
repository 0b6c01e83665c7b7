//! `image-size`: the final image is at most `max_mb` MB.

use serde::{Deserialize, Serialize};

use super::settings::check_positive;
use super::verdict::shorten;
use super::{Goal, GoalKind, Kind, Verdict};
use crate::facts::{format_mb, mb, Measurements, ProbeOutcome};

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
    fn judge(&self, goal: &Goal, all: &[Goal], m: &Measurements) -> Verdict {
        let size = mb(m.image_size);
        let v = Verdict::new(goal, size <= self.max_mb, format_mb(m.image_size), self.target())
            .values(size, self.max_mb);
        if size <= self.max_mb {
            v
        } else {
            let over = m.image_size.saturating_sub((self.max_mb * 1e6) as u64);
            v.detail(size_advice(m, all, over))
        }
    }
}

/// Where an image's avoidable bytes are, most telling first: a final stage on another base
/// than the exercise's `base-image` goal names (or the base itself, when it outweighs the
/// rest), bytes that later layers hide (the `wasted-bytes` goal's count), and the largest
/// layer the Dockerfile added. The base's own layers are never named as the layer to fix:
/// the final stage cannot shed them but by starting from something else.
///
/// When the base has a `-slim` tag on the engine whose saving alone covers `over` (the bytes
/// above the goal), that is the whole advice: the largest layer is then often what the app
/// needs (03's 225 MB JRE on full debian:bookworm), and naming it points the wrong way.
pub fn size_advice(m: &Measurements, all: &[Goal], over: u64) -> String {
    let mut advice = Vec::new();
    if let Some((base, slim)) = m.base.as_ref().and_then(|b| Some((b, b.slim.as_ref()?))) {
        let saving = base.size.saturating_sub(slim.size);
        if saving >= over && saving >= 1_000_000 {
            return format!(
                "{} of it is what {} has over {}: start the final stage FROM {} (about {} then)",
                format_mb(saving),
                base.image,
                slim.image,
                slim.image,
                format_mb(m.image_size - saving)
            );
        }
    }
    let declared_base = all.iter().find_map(|g| match &g.kind {
        GoalKind::BaseImage(b) => Some(b.image.as_str()),
        _ => None,
    });
    let base_layers = m.base.as_ref().map_or(0, |b| b.layers);
    let own = m.largest_layers.iter().find(|l| l.position > base_layers);
    if let Some(base) = &m.base {
        if declared_base.is_some_and(|d| d != base.image) {
            advice.push(format!(
                "{} of it is the final stage's base {}: start it FROM {}",
                format_mb(base.size),
                base.image,
                declared_base.unwrap_or_default()
            ));
        } else if declared_base.is_none() && own.is_none_or(|l| base.size > l.size) {
            advice.push(format!(
                "{} of it is the final stage's base {}: a smaller one (a -slim variant, distroless, scratch) may hold all the app needs",
                format_mb(base.size),
                base.image
            ));
        }
    }
    let waste = all.iter().find_map(|g| match m.probes.get(&g.id) {
        Some(ProbeOutcome::WastedBytes { bytes, top }) if *bytes >= 1_000_000 => Some((bytes, top)),
        _ => None,
    });
    if let Some((bytes, top)) = waste {
        let worst = top
            .first()
            .map(|(p, _)| format!(" (/{p}, …)"))
            .unwrap_or_default();
        advice.push(format!(
            "{} of it is files a later layer deletes or overwrites{worst}: delete them in the RUN that makes them",
            format_mb(*bytes)
        ));
    }
    if let Some(l) = own {
        advice.push(format!(
            "{} of it is layer {}: {}",
            format_mb(l.size),
            l.position,
            shorten(&l.created_by, 100)
        ));
    }
    advice.join("; ")
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

    #[test]
    fn size_advice_points_at_what_can_go_not_at_the_base() {
        use crate::facts::{BaseLayers, ProbeOutcome};
        use crate::goals::base_image::BaseImage;
        use crate::goals::wasted_bytes::WastedBytes;
        let size = goal(
            "size",
            GoalKind::ImageSize(crate::goals::image_size::ImageSize { max_mb: 125.0 }),
        );
        // Exercise 12's starter: the slim base is the largest layer, but what can go is
        // the package lists that a later layer deletes.
        let mut m = measured();
        m.image_size = 140_500_000;
        m.base = Some(BaseLayers {
            image: "debian:bookworm-slim".into(),
            layers: 1,
            size: 74_800_000,
            slim: None,
        });
        m.largest_layers = vec![
            Layer { position: 1, size: 74_800_000, created_by: String::new() },
            Layer { position: 3, size: 46_600_000, created_by: "RUN /bin/sh -c apt-get install -y python3 # buildkit".into() },
            Layer { position: 2, size: 19_000_000, created_by: "RUN /bin/sh -c apt-get update # buildkit".into() },
        ];
        m.probes.insert(
            "waste".into(),
            ProbeOutcome::WastedBytes { bytes: 22_400_000, top: vec![("var/lib/apt/lists/deb_Packages".into(), 9_000_000)] },
        );
        let waste = goal("waste", GoalKind::WastedBytes(WastedBytes { max_mb: 4.0 }));
        let base = goal("base", GoalKind::BaseImage(BaseImage { image: "debian:bookworm-slim".into() }));
        let all = vec![size.clone(), waste, base.clone()];
        let advice = crate::goals::evaluate(&all, &m)[0].detail.clone().unwrap();
        assert_eq!(
            advice,
            "22.4 MB of it is files a later layer deletes or overwrites (/var/lib/apt/lists/deb_Packages, …): delete them in the RUN that makes them; 46.6 MB of it is layer 3: RUN apt-get install -y python3"
        );
        // A full debian:bookworm final stage where the exercise builds on slim.
        m.probes.clear();
        m.base = Some(BaseLayers { image: "debian:bookworm".into(), layers: 1, size: 116_500_000, slim: None });
        let advice = crate::goals::evaluate(&[size.clone(), base], &m)[0].detail.clone().unwrap();
        assert!(
            advice.starts_with("116.5 MB of it is the final stage's base debian:bookworm: start it FROM debian:bookworm-slim"),
            "{advice}"
        );
        // No base goal: a base outweighing every layer of the Dockerfile's own is named as such.
        let advice = crate::goals::evaluate(std::slice::from_ref(&size), &m)[0].detail.clone().unwrap();
        assert!(advice.starts_with("116.5 MB of it is the final stage's base debian:bookworm: a smaller one"), "{advice}");
    }

    #[test]
    fn size_advice_names_the_slim_base_not_a_layer_the_app_needs() {
        use crate::facts::{BaseLayers, SlimSibling};
        // Exercise 03 answered with the JRE on full debian:bookworm: 341.3 MB against 330.
        // The JRE layer is the largest, but it is the floor; the base's extra is what can go.
        let size = goal(
            "size",
            GoalKind::ImageSize(crate::goals::image_size::ImageSize { max_mb: 330.0 }),
        );
        let mut m = measured();
        m.image_size = 341_300_000;
        m.base = Some(BaseLayers {
            image: "debian:bookworm".into(),
            layers: 1,
            size: 116_500_000,
            slim: Some(SlimSibling { image: "debian:bookworm-slim".into(), size: 74_800_000 }),
        });
        m.largest_layers = vec![
            Layer { position: 2, size: 224_800_000, created_by: "RUN /bin/sh -c apt-get install -y openjdk-17-jre-headless # buildkit".into() },
            Layer { position: 1, size: 116_500_000, created_by: String::new() },
        ];
        let advice = crate::goals::evaluate(std::slice::from_ref(&size), &m)[0].detail.clone().unwrap();
        assert_eq!(
            advice,
            "41.7 MB of it is what debian:bookworm has over debian:bookworm-slim: start the final stage FROM debian:bookworm-slim (about 299.6 MB then)"
        );
        // When slim alone would not reach the goal, the advice goes on to the layers.
        m.image_size = 400_000_000;
        let advice = crate::goals::evaluate(std::slice::from_ref(&size), &m)[0].detail.clone().unwrap();
        assert!(advice.contains("layer 2: RUN apt-get install -y openjdk-17-jre-headless"), "{advice}");
    }
}
