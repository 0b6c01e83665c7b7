//! How text is laid out for a terminal: the width to fit, whether to colour, lines filled
//! word by word with their continuation lines under the column they belong to, and the
//! colours themselves (ANSI SGR, added after the filling so they take no room in it).
//! Widths are counted in characters: the checker's own marks and box drawing are one
//! column each, as is nearly everything a Dockerfile or a goal says.

/// The width to fit and whether to colour: the commands say, from the terminal they print
/// to (`ui::stdout_layout`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Layout {
    pub width: usize,
    pub colour: bool,
}

impl Layout {
    /// What a pipe, a file or a log gets: 80 columns, no colour.
    pub const PLAIN: Layout = Layout {
        width: 80,
        colour: false,
    };

    /// The narrowest a layout goes: below it a column's continuation would have no room.
    pub const MIN_WIDTH: usize = 40;

    pub fn new(width: usize, colour: bool) -> Layout {
        Layout {
            width: width.max(Layout::MIN_WIDTH),
            colour,
        }
    }

    /// `text` in `paint`'s colour when colouring, as it is otherwise.
    pub fn paint(&self, paint: Paint, text: &str) -> String {
        if !self.colour || text.is_empty() {
            return text.to_string();
        }
        format!("\x1b[{}m{text}\x1b[0m", paint.sgr())
    }

    /// `line` with its first `mark` painted: a verdict's ✔ or ✘ once the line is filled.
    pub fn paint_mark(&self, line: &str, mark: &str, paint: Paint) -> String {
        line.replacen(mark, &self.paint(paint, mark), 1)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Paint {
    Met,
    Missed,
    Warning,
    Heading,
    Faint,
}

impl Paint {
    fn sgr(self) -> &'static str {
        match self {
            Paint::Met => "32",
            Paint::Missed => "31",
            Paint::Warning => "33",
            Paint::Heading => "1",
            Paint::Faint => "2",
        }
    }
}

/// A piece of a word that has no room on any line is broken off at no shorter than this,
/// rather than started on the next line.
const MIN_PIECE: usize = 8;

/// `text` after `prefix`, in lines of at most `width` columns broken between words, every
/// line after the first indented by `indent` (at most half the width, so a continuation
/// always has room): the column the text belongs to. A word longer than a whole line (a
/// path, a URL) is broken where the line ends; each line break in `text` starts a new line
/// at `indent`. Spaces at a line's end are dropped.
pub fn fill(prefix: &str, text: &str, indent: usize, width: usize) -> Vec<String> {
    let mut filler = Filler {
        lines: Vec::new(),
        line: prefix.to_string(),
        len: prefix.chars().count(),
        empty: true,
        pad: " ".repeat(indent.min(width / 2)),
        width: width.max(2),
    };
    for (n, paragraph) in text.split('\n').enumerate() {
        if n > 0 {
            filler.next_line();
        }
        for word in paragraph.split_whitespace() {
            filler.word(word);
        }
    }
    filler.next_line();
    filler.lines
}

struct Filler {
    lines: Vec<String>,
    line: String,
    /// Columns `line` takes.
    len: usize,
    /// No word on `line` yet (only its prefix or indent).
    empty: bool,
    pad: String,
    width: usize,
}

impl Filler {
    fn next_line(&mut self) {
        let line = std::mem::replace(&mut self.line, self.pad.clone());
        self.lines.push(line.trim_end().to_string());
        self.len = self.pad.len();
        self.empty = true;
    }

    fn word(&mut self, word: &str) {
        let mut rest: Vec<char> = word.chars().collect();
        loop {
            let space = usize::from(!self.empty);
            if self.len + space + rest.len() <= self.width {
                self.push(space, &rest);
                return;
            }
            let room = self.width.saturating_sub(self.len + space);
            let fits_a_fresh_line = self.pad.len() + rest.len() <= self.width;
            if !self.empty && (fits_a_fresh_line || room < MIN_PIECE) || room == 0 {
                self.next_line();
                continue;
            }
            let piece = break_at(&rest[..room]);
            self.push(space, &rest[..piece]);
            rest.drain(..piece);
            self.next_line();
        }
    }

    fn push(&mut self, space: usize, chars: &[char]) {
        if space > 0 {
            self.line.push(' ');
        }
        self.line.extend(chars);
        self.len += space + chars.len();
        self.empty = false;
    }
}

/// How much of `room` (a word's start, as much of it as the line has room for) to put on
/// the line: up to its last `/` (a path breaks between its folders), else its last other
/// separator, else all of it.
fn break_at(room: &[char]) -> usize {
    let after = |separator: fn(&char) -> bool| {
        room.iter()
            .rposition(separator)
            .map(|at| at + 1)
            .filter(|piece| *piece >= MIN_PIECE)
    };
    after(|c| *c == '/')
        .or_else(|| after(|c| matches!(c, '-' | '_' | ',' | ':' | '@' | '=' | '&' | '?')))
        .unwrap_or(room.len())
}

/// The columns `line` takes on a terminal: its characters, less the colours' escapes.
pub fn visible_width(line: &str) -> usize {
    strip(line).chars().count()
}

/// `line` without its colours (ANSI CSI sequences).
pub fn strip(line: &str) -> String {
    let mut out = String::with_capacity(line.len());
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        if c == '\x1b' {
            if chars.next() == Some('[') {
                // Parameters and intermediates up to the final byte, a letter.
                for c in chars.by_ref() {
                    if c.is_ascii_alphabetic() {
                        break;
                    }
                }
            }
            continue;
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn continuation_lines_start_under_their_column() {
        let lines = fill(
            "  ✘ size  ",
            "12.4 MB, of which 11 MB is layer 2: RUN apt-get install gcc make",
            10,
            40,
        );
        assert_eq!(
            lines,
            [
                "  ✘ size  12.4 MB, of which 11 MB is",
                "          layer 2: RUN apt-get install",
                "          gcc make",
            ]
        );
    }

    #[test]
    fn a_word_longer_than_a_line_is_broken_where_the_line_ends() {
        let path = "/root/go/pkg/mod/cache/download/example.com/slugify/@v/v1.3.0.zip";
        let lines = fill("    ", &format!("wrote {path} there"), 4, 30);
        assert!(lines.iter().all(|l| l.chars().count() <= 30), "{lines:#?}");
        assert!(lines[1..].iter().all(|l| l.starts_with("    ")));
        assert_eq!(lines.concat().replace(' ', ""), format!("wrote{path}there"));
        assert_eq!(fill("", "", 4, 30), [""]);
        assert_eq!(fill("a: ", "one\ntwo", 2, 30), ["a: one", "  two"]);
    }

    #[test]
    fn colours_take_no_room_and_are_only_added_when_asked() {
        let colour = Layout::new(80, true);
        let painted = colour.paint_mark("  ✘ size", "✘", Paint::Missed);
        assert_eq!(painted, "  \x1b[31m✘\x1b[0m size");
        assert_eq!(visible_width(&painted), 8);
        assert_eq!(strip(&painted), "  ✘ size");
        assert_eq!(Layout::PLAIN.paint(Paint::Missed, "✘"), "✘");
        assert_eq!(Layout::new(10, false).width, Layout::MIN_WIDTH);
    }
}
