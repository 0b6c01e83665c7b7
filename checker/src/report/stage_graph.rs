//! The stage graph drawn for a terminal: a box a stage (its name and base), the edges into
//! it (`COPY --from`, `RUN --mount from`) on the arrow above it, each `COPY --from` into the
//! image with the bytes it brought in, the image's stage in a heavy box, and stages the image
//! does not need (BuildKit skips them) said. Fits in 80 columns.

use std::collections::BTreeSet;

use crate::docker::dockerfile::{EdgeKind, Source, Stage, StageGraph};
use crate::facts::format_mb;

/// The widest a box may be, so the drawing (indented by the caller) fits in 80 columns.
const MAX_INNER: usize = 72;

pub fn draw(graph: &StageGraph) -> String {
    let needed = graph.dependencies(graph.target);
    let boxes: Vec<StageBox> = graph
        .stages
        .iter()
        .map(|stage| StageBox::of(graph, &needed, stage))
        .collect();
    let inner = boxes
        .iter()
        .map(StageBox::width)
        .max()
        .unwrap_or(0)
        .clamp(30, MAX_INNER);
    let mut out = String::new();
    for (index, stage_box) in boxes.iter().enumerate() {
        out.push_str(&arrows_above(&stage_box.arrows, index == 0));
        let heavy = graph.stages[index].index == graph.target;
        out.push_str(&stage_box.draw(inner, heavy));
    }
    out
}

/// What the drawing shows of one stage: its title, its `FROM` and line, and the edges into
/// it other than its `FROM`, once each.
struct StageBox {
    title: String,
    from: String,
    line: String,
    arrows: Vec<String>,
}

impl StageBox {
    fn of(graph: &StageGraph, needed: &BTreeSet<usize>, stage: &Stage) -> StageBox {
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
            .map(|e| source_name(graph, &e.from))
            .unwrap_or_default();
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
                    source_name(graph, &edge.from),
                    human_bytes(bytes)
                ),
                None => format!("{} {}", edge.kind.label(), source_name(graph, &edge.from)),
            };
            if !arrows.contains(&arrow) {
                arrows.push(arrow);
            }
        }
        StageBox {
            title,
            from: format!("FROM {from}"),
            line: format!("line {}", stage.line),
            arrows,
        }
    }

    /// The inside width this box asks for: its title, or its `FROM` and line side by side.
    fn width(&self) -> usize {
        (self.title.chars().count() + 4)
            .max(self.from.chars().count() + self.line.chars().count() + 4)
    }

    /// The box, `inner` wide inside; heavy for the image's stage.
    fn draw(&self, inner: usize, heavy: bool) -> String {
        let [tl, h, tr, v, bl, br] = if heavy {
            ["┏", "━", "┓", "┃", "┗", "┛"]
        } else {
            ["┌", "─", "┐", "│", "└", "┘"]
        };
        let mut out = String::new();
        // ┌─ title ───┐: the title and a space each side take `inner - 4` at most.
        let title = fit(&self.title, inner - 4);
        let fill = inner - 3 - title.chars().count();
        out.push_str(&format!("{tl}{h} {title} {}{tr}\n", h.repeat(fill)));
        // │ FROM base      line N │: the line number on the right.
        let line = &self.line;
        let from = fit(&self.from, inner - 4 - line.chars().count());
        let gap = inner - 2 - from.chars().count() - line.chars().count();
        out.push_str(&format!("{v} {from}{}{line} {v}\n", " ".repeat(gap)));
        out.push_str(&format!("{bl}{}{br}\n", h.repeat(inner)));
        out
    }
}

/// The edges into a stage, drawn on the arrow above its box; between two boxes with none,
/// an empty line (the first box's own edges, a `COPY --from` an image, go above it too).
fn arrows_above(arrows: &[String], first: bool) -> String {
    if arrows.is_empty() {
        return if first { String::new() } else { "\n".into() };
    }
    let mut out = String::new();
    for arrow in arrows {
        out.push_str(&format!("   │ {}\n", fit(arrow, MAX_INNER + 2)));
    }
    out.push_str("   ▼\n");
    out
}

/// How the drawing names where an edge comes from: a stage by its label, an image by its
/// name.
fn source_name(graph: &StageGraph, source: &Source) -> String {
    match source {
        Source::Stage(i) => graph.stages[*i].label(),
        Source::Image(image) => image.clone(),
        Source::Scratch => "scratch".to_string(),
    }
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
