//! The stage graph drawn for a terminal: a box a stage, in the Dockerfile's order, and inside
//! it a row an edge into it (`FROM`, `COPY --from`, `RUN --mount from`) with its line, each
//! `COPY --from` into the image with the bytes it brought in. An edge from a stage is a lane
//! in the gutter on the left that leaves the source's box at its bottom corner and enters the
//! target's box at the edge's row (`▶`), so fan-out, fan-in and diamonds show as they are,
//! whatever stands between the two boxes. An edge from an image or `scratch` has no lane:
//! the row names it. The image's stage is a heavy box; a stage the image does not need
//! (BuildKit skips it) says so, and the edges into it are dashed. Fits in 80 columns.

use std::collections::{BTreeMap, BTreeSet};

use crate::docker::dockerfile::{Edge, Source, Stage, StageGraph};
use crate::facts::format_mb;

/// The widest the drawing may be, gutter and boxes together: a terminal's 80 columns.
const WIDTH: usize = 80;

/// The narrowest inside of a box: room for a title and an edge with its line number.
const MIN_INNER: usize = 30;

/// Columns a lane takes: the lane, and a space that keeps it apart from the next one.
const LANE: usize = 2;

pub fn draw(graph: &StageGraph) -> String {
    let needed = graph.dependencies(graph.target);
    let boxes: Vec<StageBox> = graph
        .stages
        .iter()
        .map(|stage| StageBox::of(graph, &needed, stage))
        .collect();
    let tops = box_tops(&boxes);
    let mut lanes = lanes_of(&boxes, &tops);
    let mut columns = assign_columns(&mut lanes);
    if LANE * columns + 2 + MIN_INNER > WIDTH {
        // More edges at once than the gutter has room for (no real Dockerfile comes close):
        // no lanes, and the rows still name where each edge comes from.
        lanes.clear();
        columns = 0;
    }
    let gutter = LANE * columns;
    let inner = boxes
        .iter()
        .map(StageBox::width)
        .max()
        .unwrap_or(0)
        .clamp(MIN_INNER, WIDTH - 2 - gutter);
    let mut lines = Vec::new();
    for (k, stage_box) in boxes.iter().enumerate() {
        if k > 0 {
            // A line between boxes, where only lanes pass, so that boxes read apart.
            lines.push(String::new());
        }
        lines.extend(stage_box.lines(inner));
    }
    let mut out = String::new();
    for (y, line) in lines.iter().enumerate() {
        let (cells, join) = gutter_at(y, &lanes, gutter);
        let mut drawn: String = cells.into_iter().collect();
        let mut chars = line.chars();
        if let (Some(join), Some(border)) = (join, line.chars().next()) {
            chars.next();
            drawn.push(join.border(border));
        }
        drawn.extend(chars);
        out.push_str(drawn.trim_end());
        out.push('\n');
    }
    out
}

/// What the drawing shows of one stage: its title, whether the image needs it, and a row an
/// edge into it.
struct StageBox {
    title: String,
    heavy: bool,
    built: bool,
    rows: Vec<Row>,
}

/// One edge into a stage: what it is, its line, and the stage it comes from (none for an
/// image or `scratch`, which have no box).
struct Row {
    text: String,
    line: String,
    source: Option<usize>,
}

impl StageBox {
    fn of(graph: &StageGraph, needed: &BTreeSet<usize>, stage: &Stage) -> StageBox {
        let heavy = stage.index == graph.target;
        let built = heavy || needed.contains(&stage.index);
        let title = if heavy {
            format!("{} {} · the image", stage.index, stage.label())
        } else if built {
            format!("{} {}", stage.index, stage.label())
        } else {
            format!(
                "{} {} (not built for the image)",
                stage.index,
                stage.label()
            )
        };
        let mut rows: Vec<Row> = Vec::new();
        for edge in graph.edges.iter().filter(|e| e.to == stage.index) {
            let row = Row {
                text: edge_text(graph, edge),
                line: format!("line {}", edge.line),
                source: match edge.from {
                    Source::Stage(i) if i < stage.index => Some(i),
                    _ => None,
                },
            };
            // Two mounts of one stage in one RUN are one edge to the reader.
            if !rows
                .iter()
                .any(|r| r.text == row.text && r.line == row.line)
            {
                rows.push(row);
            }
        }
        StageBox {
            title,
            heavy,
            built,
            rows,
        }
    }

    /// The inside width this box asks for: its title, or its widest row with its line.
    fn width(&self) -> usize {
        self.rows
            .iter()
            .map(|r| r.text.chars().count() + r.line.chars().count() + 4)
            .fold(self.title.chars().count() + 4, usize::max)
    }

    /// How many lines the box takes: its borders and its rows.
    fn height(&self) -> usize {
        self.rows.len() + 2
    }

    /// The box, `inner` wide inside; heavy for the image's stage.
    fn lines(&self, inner: usize) -> Vec<String> {
        let [tl, h, tr, v, bl, br] = if self.heavy {
            ["┏", "━", "┓", "┃", "┗", "┛"]
        } else {
            ["┌", "─", "┐", "│", "└", "┘"]
        };
        let mut out = Vec::new();
        // ┌─ title ───┐: the title and a space each side take `inner - 4` at most.
        let title = fit(&self.title, inner - 4);
        let fill = inner - 3 - title.chars().count();
        out.push(format!("{tl}{h} {title} {}{tr}", h.repeat(fill)));
        for row in &self.rows {
            // │ COPY --from build      line N │: the line number on the right.
            let line = &row.line;
            let text = fit(&row.text, inner - 4 - line.chars().count());
            let gap = inner - 2 - text.chars().count() - line.chars().count();
            out.push(format!("{v} {text}{}{line} {v}", " ".repeat(gap)));
        }
        out.push(format!("{bl}{}{br}", h.repeat(inner)));
        out
    }
}

/// How a row says an edge: its kind and source, and for a `COPY --from` into the image the
/// bytes it brought in.
fn edge_text(graph: &StageGraph, edge: &Edge) -> String {
    let source = source_name(graph, &edge.from);
    match edge.bytes {
        Some(bytes) => format!(
            "{} {source}: {} into the image",
            edge.kind.label(),
            human_bytes(bytes)
        ),
        None => format!("{} {source}", edge.kind.label()),
    }
}

/// The first line of each box: the boxes one under the other, a line between two.
fn box_tops(boxes: &[StageBox]) -> Vec<usize> {
    let mut tops = Vec::new();
    let mut y = 0;
    for stage_box in boxes {
        tops.push(y);
        y += stage_box.height() + 1;
    }
    tops
}

/// The edges from one stage into a later one, all of them on one lane: from the line of the
/// source's bottom border down to the rows of the target it enters.
struct Lane {
    start: usize,
    /// The lines of the target's rows this lane enters, top to bottom.
    taps: Vec<usize>,
    /// Into a stage the image does not need: an edge BuildKit does not follow.
    dashed: bool,
    column: usize,
}

impl Lane {
    fn end(&self) -> usize {
        self.taps.last().copied().unwrap_or(self.start)
    }

    fn active(&self, y: usize) -> bool {
        self.start <= y && y <= self.end()
    }
}

/// A lane for each pair of stages with edges between them, in no column yet.
fn lanes_of(boxes: &[StageBox], tops: &[usize]) -> Vec<Lane> {
    let mut lanes: BTreeMap<(usize, usize), Lane> = BTreeMap::new();
    for (target, stage_box) in boxes.iter().enumerate() {
        for (r, row) in stage_box.rows.iter().enumerate() {
            let Some(source) = row.source else { continue };
            let lane = lanes.entry((source, target)).or_insert_with(|| Lane {
                start: tops[source] + boxes[source].height() - 1,
                taps: Vec::new(),
                dashed: !stage_box.built,
                column: 0,
            });
            lane.taps.push(tops[target] + 1 + r);
        }
    }
    lanes.into_values().collect()
}

/// Puts each lane in a column of the gutter, a column reused once its lane has ended; the
/// longer of two lanes that start together goes further left, so that the shorter one does
/// not cross it. Returns how many columns there are.
fn assign_columns(lanes: &mut [Lane]) -> usize {
    lanes.sort_by_key(|l| (l.start, std::cmp::Reverse(l.end())));
    let mut ends: Vec<usize> = Vec::new();
    for lane in lanes.iter_mut() {
        lane.column = match ends.iter().position(|&end| end < lane.start) {
            Some(c) => c,
            None => {
                ends.push(0);
                ends.len() - 1
            }
        };
        ends[lane.column] = lane.end();
    }
    ends.len()
}

/// How a line of the gutter meets the box beside it.
#[derive(Clone, Copy)]
enum Join {
    /// Lanes leave the box's bottom corner.
    Leaves,
    /// A lane enters the box at this row.
    Enters,
}

impl Join {
    /// The box's left border, joined to the lanes.
    fn border(self, border: char) -> char {
        match (self, border) {
            (Join::Leaves, '┗') => '┺',
            (Join::Leaves, _) => '┴',
            (Join::Enters, _) => '▶',
        }
    }
}

/// Line `y` of the gutter, `width` columns: the lanes passing, and the lanes that leave or
/// enter the box beside it. A lane crossed by another's horizontal stays unbroken, so a
/// crossing never reads as a joint: lanes join only at corners and tees.
fn gutter_at(y: usize, lanes: &[Lane], width: usize) -> (Vec<char>, Option<Join>) {
    let mut cells = vec![' '; width];
    for lane in lanes.iter().filter(|l| l.active(y)) {
        cells[LANE * lane.column] = if lane.dashed { '┆' } else { '│' };
    }
    let leaving: Vec<&Lane> = lanes.iter().filter(|l| l.start == y).collect();
    if let Some(leftmost) = leaving.iter().map(|l| l.column).min() {
        for (c, cell) in cells.iter_mut().enumerate().skip(LANE * leftmost) {
            // A stretch is dashed only when every lane it carries is.
            let solid = leaving.iter().any(|l| LANE * l.column < c && !l.dashed);
            if leaving.iter().any(|l| LANE * l.column == c) {
                *cell = if c == LANE * leftmost { '┌' } else { '┬' };
            } else if *cell == ' ' {
                *cell = if solid { '─' } else { '╌' };
            }
        }
        return (cells, Some(Join::Leaves));
    }
    let Some(lane) = lanes.iter().find(|l| l.taps.contains(&y)) else {
        return (cells, None);
    };
    for cell in cells.iter_mut().skip(LANE * lane.column + 1) {
        if *cell == ' ' {
            *cell = if lane.dashed { '╌' } else { '─' };
        }
    }
    cells[LANE * lane.column] = if y == lane.end() { '└' } else { '├' };
    (cells, Some(Join::Enters))
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
        graph_for(text, None)
    }

    fn graph_for(text: &str, target: Option<&str>) -> StageGraph {
        crate::docker::dockerfile::parse_stage_graph(
            Path::new("Dockerfile"),
            text,
            &BTreeMap::new(),
            target,
        )
        .unwrap()
    }

    /// The edges a reader follows in `drawn`: from each `▶` left along its line to the
    /// lane's corner, up the lane to where it leaves a box, right to that box's corner and up
    /// to its title. Each as (source stage, target stage, the row entered without its line
    /// number), in the order the rows are drawn.
    fn edges_drawn(drawn: &str) -> Vec<(usize, usize, String)> {
        let grid: Vec<Vec<char>> = drawn.lines().map(|l| l.chars().collect()).collect();
        let at = |y: usize, x: usize| grid[y].get(x).copied().unwrap_or(' ');
        let mut found = Vec::new();
        for (y, line) in grid.iter().enumerate() {
            let Some(x) = line.iter().position(|&c| c == '▶') else {
                continue;
            };
            let target = box_index(&grid, y, x);
            let row: String = line[x + 1..].iter().collect();
            let row = row.trim_end_matches(['│', '┃', ' ']);
            let row = row.rsplit_once("  line ").map_or(row, |(r, _)| r).trim();
            let mut c = x - 1;
            while "─╌│┆".contains(at(y, c)) {
                c -= 1;
            }
            assert!("└├".contains(at(y, c)), "line {y}: no corner\n{drawn}");
            let mut top = y - 1;
            while "│┆├".contains(at(top, c)) {
                top -= 1;
            }
            assert!("┌┬".contains(at(top, c)), "line {y}: no start\n{drawn}");
            let mut bx = c + 1;
            while "─╌┬│┆".contains(at(top, bx)) {
                bx += 1;
            }
            assert!("┴┺".contains(at(top, bx)), "line {y}: no source\n{drawn}");
            found.push((box_index(&grid, top, bx), target, row.to_string()));
        }
        found
    }

    /// The index of the stage whose box has its left border at column `x` on line `y`: the
    /// first word of the title above.
    fn box_index(grid: &[Vec<char>], y: usize, x: usize) -> usize {
        let top = (0..y)
            .rev()
            .find(|&t| "┌┏".contains(grid[t][x]))
            .expect("a box above");
        let title: String = grid[top][x + 2..].iter().collect();
        title.split_whitespace().next().unwrap().parse().unwrap()
    }

    /// A drawing as a test writes it: from the line after the opening quote, so that the
    /// first line keeps its indent.
    fn shown(text: &str) -> &str {
        text.strip_prefix('\n').unwrap()
    }

    fn edge(from: usize, to: usize, row: &str) -> (usize, usize, String) {
        (from, to, row.to_string())
    }

    fn fits(drawn: &str) {
        for line in drawn.lines() {
            assert!(line.chars().count() <= WIDTH, "{line}\n{drawn}");
        }
    }

    #[test]
    fn one_stage_from_an_image_is_one_box_and_no_lane() {
        let drawn = draw(&graph("FROM debian:bookworm\nRUN true\n"));
        assert_eq!(
            drawn,
            shown(
                "
┏━ 0 stage-0 · the image ━━━━━━┓
┃ FROM debian:bookworm  line 1 ┃
┗━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━┛
"
            )
        );
        assert!(edges_drawn(&drawn).is_empty());
    }

    #[test]
    fn a_copy_into_the_image_is_a_lane_from_its_stage_with_its_bytes() {
        let mut g = graph(
            "FROM debian:bookworm AS build\nRUN make\n\
             FROM scratch\nCOPY --from=build /hello /hello\n",
        );
        g.attribute_copied_bytes(&[(812_345, "COPY /hello /hello # buildkit".into())]);
        let drawn = draw(&g);
        assert_eq!(
            drawn,
            shown(
                "
  ┌─ 0 build ──────────────────────────────────────────┐
  │ FROM debian:bookworm                        line 1 │
┌─┴────────────────────────────────────────────────────┘
│
│ ┏━ 1 stage-1 · the image ━━━━━━━━━━━━━━━━━━━━━━━━━━━━┓
│ ┃ FROM scratch                                line 3 ┃
└─▶ COPY --from build: 812.3 kB into the image  line 4 ┃
  ┗━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━┛
"
            )
        );
        assert_eq!(
            edges_drawn(&drawn),
            [edge(0, 1, "COPY --from build: 812.3 kB into the image")]
        );
    }

    #[test]
    fn a_chain_of_froms_goes_box_to_box() {
        let drawn = draw(&graph("FROM alpine AS a\nFROM a AS b\nFROM b AS c\n"));
        assert_eq!(
            edges_drawn(&drawn),
            [edge(0, 1, "FROM a"), edge(1, 2, "FROM b")]
        );
        fits(&drawn);
    }

    const EXERCISE_10_SOLUTION: &str = "\
FROM debian:bookworm AS base
RUN go build std
FROM base AS server
RUN go build ./server
FROM base AS healthcheck
RUN go build ./healthcheck
FROM scratch
COPY --from=server /out/server /server
COPY --from=healthcheck /out/healthcheck /healthcheck
";

    #[test]
    fn exercise_10s_solution_fans_out_from_base_and_in_to_the_image() {
        let mut g = graph(EXERCISE_10_SOLUTION);
        g.attribute_copied_bytes(&[
            (4_100_000, "COPY /out/server /server # buildkit".into()),
            (
                2_300_000,
                "COPY /out/healthcheck /healthcheck # buildkit".into(),
            ),
        ]);
        let drawn = draw(&g);
        assert_eq!(
            drawn,
            shown(
                "
    ┌─ 0 base ────────────────────────────────────────────────┐
    │ FROM debian:bookworm                             line 1 │
┌─┬─┴─────────────────────────────────────────────────────────┘
│ │
│ │ ┌─ 1 server ──────────────────────────────────────────────┐
│ └─▶ FROM base                                        line 3 │
│ ┌─┴─────────────────────────────────────────────────────────┘
│ │
│ │ ┌─ 2 healthcheck ─────────────────────────────────────────┐
└─│─▶ FROM base                                        line 5 │
┌─│─┴─────────────────────────────────────────────────────────┘
│ │
│ │ ┏━ 3 stage-3 · the image ━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━┓
│ │ ┃ FROM scratch                                     line 7 ┃
│ └─▶ COPY --from server: 4.10 MB into the image       line 8 ┃
└───▶ COPY --from healthcheck: 2.30 MB into the image  line 9 ┃
    ┗━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━┛
"
            )
        );
        assert_eq!(
            edges_drawn(&drawn),
            [
                edge(0, 1, "FROM base"),
                edge(0, 2, "FROM base"),
                edge(1, 3, "COPY --from server: 4.10 MB into the image"),
                edge(2, 3, "COPY --from healthcheck: 2.30 MB into the image"),
            ]
        );
    }

    #[test]
    fn two_copies_from_one_stage_share_its_lane_and_keep_their_own_bytes() {
        let mut g = graph(
            "FROM debian:bookworm AS build\nRUN make\n\
             FROM scratch\nCOPY --from=build /out/a /a\nCOPY --from=build /out/b /b\n",
        );
        g.attribute_copied_bytes(&[
            (5_000, "COPY /out/a /a # buildkit".into()),
            (700, "COPY /out/b /b # buildkit".into()),
        ]);
        let drawn = draw(&g);
        assert_eq!(
            edges_drawn(&drawn),
            [
                edge(0, 1, "COPY --from build: 5.0 kB into the image"),
                edge(0, 1, "COPY --from build: 700 B into the image"),
            ]
        );
        // One lane: it tees into the first copy and turns into the second.
        assert!(drawn.contains("├─▶ COPY --from build: 5.0 kB"), "{drawn}");
        assert!(drawn.contains("└─▶ COPY --from build: 700 B"), "{drawn}");
    }

    #[test]
    fn a_copy_past_an_unbuilt_test_stage_comes_from_build_not_from_test() {
        let drawn = draw(&graph(
            "FROM debian:bookworm AS build\nRUN make\n\
             FROM build AS test\nRUN make test\n\
             FROM scratch\nCOPY --from=build /roman /roman\n",
        ));
        assert_eq!(
            drawn,
            shown(
                "
    ┌─ 0 build ──────────────────────────┐
    │ FROM debian:bookworm        line 1 │
┌─┬─┴────────────────────────────────────┘
│ ┆
│ ┆ ┌─ 1 test (not built for the image) ─┐
│ └╌▶ FROM build                  line 3 │
│   └────────────────────────────────────┘
│
│   ┏━ 2 stage-2 · the image ━━━━━━━━━━━━┓
│   ┃ FROM scratch                line 5 ┃
└───▶ COPY --from build           line 6 ┃
    ┗━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━┛
"
            )
        );
        assert_eq!(
            edges_drawn(&drawn),
            [edge(0, 1, "FROM build"), edge(0, 2, "COPY --from build")]
        );
    }

    #[test]
    fn a_test_stage_the_image_copies_from_is_built_and_solid() {
        let drawn = draw(&graph(
            "FROM debian:bookworm AS build\nRUN make\n\
             FROM build AS test\nRUN make test\n\
             FROM scratch\nCOPY --from=test /roman /roman\n",
        ));
        assert_eq!(
            edges_drawn(&drawn),
            [edge(0, 1, "FROM build"), edge(1, 2, "COPY --from test")]
        );
        assert!(!drawn.contains("not built"), "{drawn}");
        assert!(!drawn.contains('┆') && !drawn.contains('╌'), "{drawn}");
    }

    #[test]
    fn a_diamond_joins_again_in_the_stage_after_its_branches() {
        let drawn = draw(&graph(
            "FROM node:22 AS base\n\
             FROM base AS deps\nRUN npm ci\n\
             FROM base AS build\nRUN npm run build\n\
             FROM build AS app\nCOPY --from=deps /app/node_modules node_modules\n",
        ));
        assert_eq!(
            edges_drawn(&drawn),
            [
                edge(0, 1, "FROM base"),
                edge(0, 2, "FROM base"),
                edge(2, 3, "FROM build"),
                edge(1, 3, "COPY --from deps"),
            ]
        );
        fits(&drawn);
    }

    #[test]
    fn a_wide_fan_out_and_fan_in_draws_every_edge_within_80_columns() {
        let mut text = String::from("FROM golang:1.23 AS base\n");
        let tools = ["alpha", "bravo", "charlie", "delta", "echo"];
        for tool in tools {
            text.push_str(&format!("FROM base AS {tool}\nRUN go build ./{tool}\n"));
        }
        text.push_str("FROM scratch\n");
        for tool in tools {
            text.push_str(&format!("COPY --from={tool} /out/{tool} /{tool}\n"));
        }
        let drawn = draw(&graph(&text));
        fits(&drawn);
        let mut expected = Vec::new();
        for (i, _) in tools.iter().enumerate() {
            expected.push(edge(0, i + 1, "FROM base"));
        }
        for (i, tool) in tools.iter().enumerate() {
            expected.push(edge(i + 1, 6, &format!("COPY --from {tool}")));
        }
        assert_eq!(edges_drawn(&drawn), expected);
    }

    #[test]
    fn a_mount_from_a_stage_is_an_edge_of_its_own_kind() {
        let drawn = draw(&graph(
            "FROM alpine:3 AS certs\nRUN apk add ca-certificates\n\
             FROM debian:bookworm\n\
             RUN --mount=type=bind,from=certs,source=/etc/ssl,target=/ssl cp -r /ssl /etc/ssl\n",
        ));
        assert_eq!(edges_drawn(&drawn), [edge(0, 1, "RUN --mount from certs")]);
    }

    #[test]
    fn images_and_scratch_are_named_on_their_rows_with_no_lane() {
        let drawn = draw(&graph(
            "FROM scratch AS empty\n\
             FROM debian:bookworm\nCOPY --from=busybox:1.36 /bin/busybox /bin/\n\
             COPY --from=empty / /\n",
        ));
        assert_eq!(edges_drawn(&drawn), [edge(0, 1, "COPY --from empty")]);
        assert!(drawn.contains("│ FROM scratch "), "{drawn}");
        assert!(drawn.contains("┃ FROM debian:bookworm "), "{drawn}");
        assert!(drawn.contains("┃ COPY --from busybox:1.36 "), "{drawn}");
    }

    #[test]
    fn long_names_are_cut_to_fit_eighty_columns_and_keep_their_lanes() {
        let long = "a".repeat(90);
        let text = format!(
            "FROM registry.example.com/{}:1 AS {long}\nRUN true\n\
             FROM scratch\nCOPY --from={long} /x /x\n",
            "team/".repeat(30)
        );
        let drawn = draw(&graph(&text));
        fits(&drawn);
        assert!(drawn.contains('…'));
        let edges = edges_drawn(&drawn);
        assert_eq!(edges.len(), 1, "{drawn}");
        assert_eq!((edges[0].0, edges[0].1), (0, 1));
    }

    #[test]
    fn stages_after_the_target_are_unbuilt_and_leave_the_heavy_box() {
        let drawn = draw(&graph_for(
            "FROM debian:bookworm AS build\nRUN make\n\
             FROM build AS release\n\
             FROM release AS debug\nRUN apt-get install gdb\n",
            Some("release"),
        ));
        assert_eq!(
            edges_drawn(&drawn),
            [edge(0, 1, "FROM build"), edge(1, 2, "FROM release")]
        );
        assert!(drawn.contains("┺━━"), "{drawn}");
        assert!(
            drawn.contains("2 debug (not built for the image)"),
            "{drawn}"
        );
        assert!(drawn.contains("└╌▶ FROM release"), "{drawn}");
    }

    #[test]
    fn more_lanes_than_the_gutter_holds_leave_the_rows_to_name_the_sources() {
        let mut text = String::new();
        for i in 0..40 {
            text.push_str(&format!("FROM scratch AS s{i}\nCOPY f{i} /\n"));
        }
        text.push_str("FROM scratch\n");
        for i in 0..40 {
            text.push_str(&format!("COPY --from=s{i} / /{i}\n"));
        }
        let drawn = draw(&graph(&text));
        fits(&drawn);
        assert!(edges_drawn(&drawn).is_empty());
        assert!(drawn.contains("┃ COPY --from s39 "), "{drawn}");
    }

    #[test]
    fn bytes_read_as_people_say_them() {
        assert_eq!(human_bytes(812), "812 B");
        assert_eq!(human_bytes(3_280), "3.3 kB");
        assert_eq!(human_bytes(12_400_000), "12.4 MB");
    }
}
