//! The stage graph drawn for a terminal: a box a stage (its name and base), the edges into
//! it (`COPY --from`, `RUN --mount from`) on the arrow above it, each `COPY --from` into the
//! image with the bytes it brought in, the image's stage in a heavy box, and stages the image
//! does not need (BuildKit skips them) said. Fits in 80 columns.

use crate::docker::dockerfile::{EdgeKind, Source, StageGraph};
use crate::facts::format_mb;

/// The widest a box may be, so the drawing (indented by the caller) fits in 80 columns.
const MAX_INNER: usize = 72;

pub fn draw(graph: &StageGraph) -> String {
    let needed = graph.dependencies(graph.target);
    let name_of = |source: &Source| match source {
        Source::Stage(i) => graph.stages[*i].label(),
        Source::Image(image) => image.clone(),
        Source::Scratch => "scratch".to_string(),
    };
    let boxes: Vec<(String, (String, String), Vec<String>)> = graph
        .stages
        .iter()
        .map(|stage| {
            let title = if stage.index == graph.target {
                format!("{} {} · the image", stage.index, stage.label())
            } else if needed.contains(&stage.index) {
                format!("{} {}", stage.index, stage.label())
            } else {
                format!(
                    "{} {} (not built for the image)",
                    stage.index,
                    stage.label()
                )
            };
            let from = graph
                .edges
                .iter()
                .find(|e| e.to == stage.index && e.kind == EdgeKind::From)
                .map(|e| name_of(&e.from))
                .unwrap_or_default();
            let body = (format!("FROM {from}"), format!("line {}", stage.line));
            let mut arrows = Vec::new();
            for edge in graph
                .edges
                .iter()
                .filter(|e| e.to == stage.index && e.kind != EdgeKind::From)
            {
                let arrow = match edge.bytes {
                    Some(bytes) => format!(
                        "{} {}: {} into the image",
                        edge.kind.label(),
                        name_of(&edge.from),
                        human_bytes(bytes)
                    ),
                    None => format!("{} {}", edge.kind.label(), name_of(&edge.from)),
                };
                if !arrows.contains(&arrow) {
                    arrows.push(arrow);
                }
            }
            (title, body, arrows)
        })
        .collect();
    let inner = boxes
        .iter()
        .map(|(title, (from, line), _)| {
            (title.chars().count() + 4).max(from.chars().count() + line.chars().count() + 4)
        })
        .max()
        .unwrap_or(0)
        .clamp(30, MAX_INNER);
    let mut out = String::new();
    for (index, (title, body, arrows)) in boxes.iter().enumerate() {
        if index > 0 {
            if arrows.is_empty() {
                out.push('\n');
            } else {
                for arrow in arrows {
                    out.push_str(&format!("   │ {}\n", fit(arrow, MAX_INNER + 2)));
                }
                out.push_str("   ▼\n");
            }
        } else {
            // The first stage's own edges (a COPY --from an image) go above it too.
            for arrow in arrows {
                out.push_str(&format!("   │ {}\n", fit(arrow, MAX_INNER + 2)));
            }
            if !arrows.is_empty() {
                out.push_str("   ▼\n");
            }
        }
        let heavy = graph.stages[index].index == graph.target;
        let [tl, h, tr, v, bl, br] = if heavy {
            ["┏", "━", "┓", "┃", "┗", "┛"]
        } else {
            ["┌", "─", "┐", "│", "└", "┘"]
        };
        // ┌─ title ───┐: the title and a space each side take `inner - 4` at most.
        let title = fit(title, inner - 4);
        let fill = inner - 3 - title.chars().count();
        out.push_str(&format!("{tl}{h} {title} {}{tr}\n", h.repeat(fill)));
        // │ FROM base      line N │: the line number on the right.
        let (from, line) = body;
        let from = fit(from, inner - 4 - line.chars().count());
        let gap = inner - 2 - from.chars().count() - line.chars().count();
        out.push_str(&format!("{v} {from}{}{line} {v}\n", " ".repeat(gap)));
        out.push_str(&format!("{bl}{}{br}\n", h.repeat(inner)));
    }
    out
}

/// `text` cut to `width` characters, an ellipsis marking the cut.
fn fit(text: &str, width: usize) -> String {
    if text.chars().count() <= width {
        text.to_string()
    } else {
        let mut cut: String = text.chars().take(width.saturating_sub(1)).collect();
        cut.push('…');
        cut
    }
}

/// Bytes as a learner reads them: `812 B`, `3.3 kB`, `12.40 MB`.
fn human_bytes(bytes: u64) -> String {
    match bytes {
        0..1_000 => format!("{bytes} B"),
        1_000..1_000_000 => format!("{:.1} kB", bytes as f64 / 1e3),
        _ => format_mb(bytes),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;
    use std::path::Path;

    fn graph(text: &str) -> StageGraph {
        crate::docker::dockerfile::parse_stage_graph(
            Path::new("Dockerfile"),
            text,
            &BTreeMap::new(),
            None,
        )
        .unwrap()
    }

    #[test]
    fn stages_are_boxes_and_copies_into_the_image_carry_their_bytes() {
        let mut g = graph(
            "FROM debian:bookworm AS build\nRUN make\n\
             FROM build AS debug\n\
             FROM scratch\nCOPY --from=build /hello /hello\n",
        );
        g.attribute_copied_bytes(&[(812_345, "COPY /hello /hello # buildkit".into())]);
        let drawn = draw(&g);
        assert_eq!(
            drawn,
            "\
┌─ 0 build ───────────────────────────┐
│ FROM debian:bookworm         line 1 │
└─────────────────────────────────────┘

┌─ 1 debug (not built for the image) ─┐
│ FROM build                   line 3 │
└─────────────────────────────────────┘
   │ COPY --from build: 812.3 kB into the image
   ▼
┏━ 2 stage-2 · the image ━━━━━━━━━━━━━┓
┃ FROM scratch                 line 4 ┃
┗━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━┛
"
        );
        assert!(drawn.lines().all(|l| l.chars().count() <= 80));
    }

    #[test]
    fn long_names_are_cut_to_fit_eighty_columns() {
        let long = format!("FROM registry.example.com/{}:1\n", "team/".repeat(30));
        let drawn = draw(&graph(&long));
        assert!(drawn.lines().all(|l| l.chars().count() <= 76), "{drawn}");
        assert!(drawn.contains('…'));
    }

    #[test]
    fn bytes_read_as_people_say_them() {
        assert_eq!(human_bytes(812), "812 B");
        assert_eq!(human_bytes(3_280), "3.3 kB");
        assert_eq!(human_bytes(12_400_000), "12.4 MB");
    }
}
