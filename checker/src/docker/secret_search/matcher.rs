//! Finding a secret's needles in a stream fed chunk by chunk, in bounded memory: the flat
//! view of each chunk (ASCII whitespace left out) is searched with the tail of the last
//! one, so a needle cut by a chunk's end, or by a line break, is still found.

use std::collections::BTreeSet;

use super::{Form, Needles};

/// Appends `chunk` to `flat` without its blanks (space, tab, line ends). This runs over
/// every byte of an image, in debug builds too: the blanks are found with memchr (optimised
/// even there), and the loops turn once a blank, not once a byte.
pub(super) fn flatten_into(chunk: &[u8], flat: &mut Vec<u8>) {
    let start = flat.len();
    // Room for the whole chunk, made by one copy (`resize` fills it a byte at a time in a
    // debug build); then the runs between blanks are copied down into it.
    flat.extend_from_slice(chunk);
    let out = &mut flat[start..];
    let (mut from, mut at) = (0, 0);
    for blank in memchr::memchr3_iter(b' ', b'\n', b'\t', chunk) {
        let run = blank - from;
        out[at..at + run].copy_from_slice(&chunk[from..blank]);
        at += run;
        from = blank + 1;
    }
    let run = chunk.len() - from;
    out[at..at + run].copy_from_slice(&chunk[from..]);
    at += run;
    let kept = squeeze_out(&mut out[..at], b'\r');
    flat.truncate(start + kept);
}

/// Moves the bytes of `bytes` other than `byte` to its start, in order; returns how many.
fn squeeze_out(bytes: &mut [u8], byte: u8) -> usize {
    let Some(first) = memchr::memchr(byte, bytes) else {
        return bytes.len();
    };
    let (mut kept, mut from) = (first, first + 1);
    while let Some(next) = memchr::memchr(byte, &bytes[from..]) {
        bytes.copy_within(from..from + next, kept);
        kept += next;
        from += next + 1;
    }
    bytes.copy_within(from.., kept);
    kept + (bytes.len() - from)
}

/// The forms of one secret found so far in one stream.
pub struct Matcher<'n> {
    needles: &'n Needles,
    /// The flat view: the last chunk's bytes that may begin a needle the next one ends,
    /// then the next chunk's.
    window: Vec<u8>,
    found: BTreeSet<Form>,
}

impl<'n> Matcher<'n> {
    pub(super) fn new(needles: &'n Needles) -> Matcher<'n> {
        Matcher {
            needles,
            window: Vec::new(),
            found: BTreeSet::new(),
        }
    }

    /// Looks at the next bytes of the stream.
    pub fn feed(&mut self, chunk: &[u8]) {
        let carried = self.window.len();
        flatten_into(chunk, &mut self.window);
        if self.window.len() == carried {
            return;
        }
        self.needles.search_flat(&self.window, &mut self.found);
        // A needle that begins in the last `longest - 1` bytes may end in the next chunk.
        let keep = self
            .needles
            .longest
            .saturating_sub(1)
            .min(self.window.len());
        let from = self.window.len() - keep;
        self.window.copy_within(from.., 0);
        self.window.truncate(keep);
    }

    /// The forms found in everything fed so far.
    pub fn found(&self) -> &BTreeSet<Form> {
        &self.found
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &[u8] = b"wb15-2ca86d868e1dabf159be2becf5c6661fd6e0f8ca";

    #[test]
    fn a_needle_cut_by_every_chunk_boundary_is_found() {
        let needles = Needles::new(SECRET).unwrap();
        let mut stream = vec![0x5a; 300];
        stream.extend_from_slice(SECRET);
        stream.extend(std::iter::repeat_n(0x5a, 300));
        for size in [1, 2, 7, 45, 64, 4096] {
            let mut m = needles.matcher();
            for chunk in stream.chunks(size) {
                m.feed(chunk);
            }
            assert_eq!(m.found(), &BTreeSet::from([Form::Raw]), "chunks of {size}");
        }
    }

    #[test]
    fn whitespace_alone_between_chunks_keeps_the_tail() {
        let needles = Needles::new(SECRET).unwrap();
        let mut m = needles.matcher();
        m.feed(&SECRET[..20]);
        m.feed(b"\n\n  \t");
        m.feed(&SECRET[20..]);
        assert_eq!(m.found(), &BTreeSet::from([Form::Raw]));
    }

    #[test]
    fn blanks_of_every_kind_are_left_out_wherever_they_are() {
        let mut flat = b"kept".to_vec();
        flatten_into(b" a\tb\r\nc  d\r\r\n\n", &mut flat);
        assert_eq!(flat, b"keptabcd");
        flatten_into(b"\r", &mut flat);
        flatten_into(b"", &mut flat);
        flatten_into(b"e\rf", &mut flat);
        assert_eq!(flat, b"keptabcdef");
    }

    #[test]
    fn the_window_stays_bounded() {
        let needles = Needles::new(SECRET).unwrap();
        let mut m = needles.matcher();
        for _ in 0..64 {
            m.feed(&[0x41; 1 << 16]);
        }
        assert!(m.window.len() < needles.longest, "{}", m.window.len());
        assert!(m.found().is_empty());
    }
}
