//! One layer tar searched for a secret: every file's content, name, link target and
//! extended attributes; and inside every compressed file (gzip, zlib, bzip2, xz, zstd) and
//! archive (tar, zip and jar, jmod), one inside another, within [`Bounds`]. A single
//! streaming pass: a file is read once, its bytes searched as they are while a decoder
//! reads them; only a zip is copied aside (in memory, or on disk past a few MiB), because
//! a zip is read from its end.
//!
//! A damaged compressed file or archive is searched as far as it decodes, and its bytes as
//! they are: what no decoder can read cannot hold the secret in a form anyone reads back
//! either. What the bounds leave unread is listed (`Findings::unsearched`): the goal cannot
//! say "nowhere" of a file it did not open.

use std::cell::Cell;
use std::collections::BTreeSet;
use std::io::{self, BufRead, Read, Seek};

use zip::CompressionMethod;

use super::{Form, Matcher, Needles};

/// How far a search opens what it finds. Real images stay far inside them (a toolchain's
/// test data nests three deep at most); a bomb, a quine zip or an archive larger than any
/// exercise's meet them, and are then named as not searched.
#[derive(Debug, Clone, Copy)]
pub struct Bounds {
    /// Compressed streams and archives opened one inside another, below a layer's files.
    pub depth: usize,
    /// Bytes one decoded stream (a compressed file, a zip entry) may yield.
    pub stream_bytes: u64,
    /// Bytes every decoder of one image's search may yield in all: the time bound (about
    /// 10 s of decoding and searching).
    pub decoded_bytes: u64,
    /// Bytes of one zip copied aside to be read.
    pub zip_bytes: u64,
    /// Entries of one zip opened.
    pub zip_entries: usize,
    /// Memory one xz decoder may take (its dictionary), in KiB; `xz -9` takes 64 MiB.
    pub xz_memory_kib: u32,
}

pub const BOUNDS: Bounds = Bounds {
    depth: 6,
    stream_bytes: 1 << 30,
    decoded_bytes: 4 << 30,
    zip_bytes: 1 << 30,
    zip_entries: 100_000,
    xz_memory_kib: 256 * 1024,
};

/// The bounds of one image's search, and how much decoding it has done: shared by the
/// search of each of its layers.
pub struct Budget {
    bounds: Bounds,
    decoded: Cell<u64>,
}

impl Budget {
    pub fn new(bounds: Bounds) -> Budget {
        Budget {
            bounds,
            decoded: Cell::new(0),
        }
    }
}

/// One place the secret was found: a path in the layer ("app/.env.production"; inside a
/// compressed file "data/key.gz (gzip)", inside an archive "srv/app.jar → key.txt"), and
/// the form it is in there. A path that holds a form of the secret shows `‹secret›` instead.
#[derive(Debug, Clone, PartialEq)]
pub struct Hit {
    pub place: String,
    pub form: Form,
}

impl std::fmt::Display for Hit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} in {}", self.form.name(), self.place)
    }
}

/// What one layer's search found.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Findings {
    /// The first [`KEPT`] hits, each file once per form, at the deepest place it was seen.
    pub hits: Vec<Hit>,
    /// Hits beyond those.
    pub more_hits: usize,
    /// What the bounds left unread, with why: "data/big.gz (gzip): more than 1024 MiB…".
    pub unsearched: Vec<String>,
    pub more_unsearched: usize,
}

/// Hits and unsearched places kept per layer: a verdict shows a few; the rest are counted.
pub const KEPT: usize = 8;

/// Bytes read at once.
const CHUNK: usize = 256 * 1024;

/// Bytes of a file looked at to tell what it is (a tar's magic is at 257).
const HEAD: u64 = 512;

/// A zip copied aside stays in memory up to this size, and goes to a file beyond.
const ZIP_IN_MEMORY: usize = 8 << 20;

/// Searches one layer tar: each entry's name and attributes, its content, and what the
/// content holds. An error reading the tar itself is returned.
pub fn search_layer(
    tar: &mut dyn Read,
    needles: &Needles,
    budget: &Budget,
) -> io::Result<Findings> {
    let mut walk = Walk {
        needles,
        budget,
        findings: Findings::default(),
        buffer: vec![0; CHUNK],
    };
    let mut archive = tar::Archive::new(tar);
    for entry in archive.entries()? {
        let mut entry = entry?;
        let path = entry_path(&entry);
        walk.headers(&mut entry, &path)?;
        let (_, read) = walk.member(&mut entry, &path, 0);
        read?;
    }
    Ok(walk.findings)
}

fn entry_path<R: Read>(entry: &tar::Entry<'_, R>) -> String {
    let path = String::from_utf8_lossy(&entry.path_bytes()).into_owned();
    path.trim_start_matches("./")
        .trim_start_matches('/')
        .to_string()
}

/// A compressed stream, known by its first bytes.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Codec {
    Gzip,
    /// zlib's own framing (git's loose objects, PNG's data, PDF streams).
    Zlib,
    Bzip2,
    Xz,
    Zstd,
}

/// What a file is, as far as the search opens it.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Container {
    Compressed(Codec),
    Tar,
    Zip,
}

impl Container {
    fn sniff(head: &[u8]) -> Option<Container> {
        let codec = if head.starts_with(&[0x1f, 0x8b, 0x08]) {
            Codec::Gzip
        } else if head.len() >= 2
            && head[0] == 0x78
            && matches!(head[1], 0x01 | 0x5e | 0x9c | 0xda)
            && u16::from_be_bytes([head[0], head[1]]).is_multiple_of(31)
        {
            Codec::Zlib
        } else if head.len() >= 10
            && head.starts_with(b"BZh")
            && (b'1'..=b'9').contains(&head[3])
            && head[4..10] == [0x31, 0x41, 0x59, 0x26, 0x53, 0x59]
        {
            Codec::Bzip2
        } else if head.starts_with(&[0xfd, b'7', b'z', b'X', b'Z', 0x00]) {
            Codec::Xz
        } else if crate::docker::oci::Compression::sniff(head)
            == crate::docker::oci::Compression::Zstd
        {
            Codec::Zstd
        } else if head.starts_with(b"PK\x03\x04")
            // A JDK's jmod: a 4-byte header, then a zip.
            || (head.starts_with(b"JM\x01\x00") && head[4..].starts_with(b"PK\x03\x04"))
        {
            return Some(Container::Zip);
        } else if head.len() >= 262 && &head[257..262] == b"ustar" {
            return Some(Container::Tar);
        } else {
            return None;
        };
        Some(Container::Compressed(codec))
    }
}

impl Codec {
    fn name(self) -> &'static str {
        match self {
            Codec::Gzip => "gzip",
            Codec::Zlib => "zlib",
            Codec::Bzip2 => "bzip2",
            Codec::Xz => "xz",
            Codec::Zstd => "zstd",
        }
    }

    /// The decoder of `compressed`; every stream of a multi-stream file is read.
    fn decoder<'r>(self, compressed: impl Read + 'r, bounds: &Bounds) -> Box<dyn Read + 'r> {
        match self {
            Codec::Gzip => Box::new(flate2::read::MultiGzDecoder::new(compressed)),
            Codec::Zlib => Box::new(flate2::read::ZlibDecoder::new(compressed)),
            Codec::Bzip2 => Box::new(bzip2::read::MultiBzDecoder::new(compressed)),
            Codec::Xz => Box::new(XzDecoder {
                source: io::BufReader::new(compressed),
                stream: lzma_rust2::XzStream::new_mem_limit(true, bounds.xz_memory_kib),
                ended: false,
            }),
            Codec::Zstd => Box::new(crate::docker::oci::ZstdFrames::new(io::BufReader::new(
                compressed,
            ))),
        }
    }
}

/// An xz decoder driven through lzma-rust2's push API: `XzStream` is not generic, so its
/// code is compiled, optimised, in its own crate; the generic `XzReader<R>` is compiled in
/// the checker's, and decoded ten times slower in a debug build.
struct XzDecoder<R: BufRead> {
    source: R,
    stream: lzma_rust2::XzStream,
    ended: bool,
}

impl<R: BufRead> Read for XzDecoder<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        use lzma_rust2::{Action, Status};
        if buf.is_empty() || self.ended {
            return Ok(0);
        }
        loop {
            let input = self.source.fill_buf()?;
            let last = input.is_empty();
            let action = if last { Action::Finish } else { Action::Run };
            let result = self.stream.process(input, buf, action)?;
            self.source.consume(result.bytes_consumed);
            if result.status == Status::StreamEnd {
                self.ended = true;
                return Ok(result.bytes_produced);
            }
            if result.bytes_produced > 0 {
                return Ok(result.bytes_produced);
            }
            if last && result.bytes_consumed == 0 {
                return Err(io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    "xz: the stream is cut short",
                ));
            }
        }
    }
}

/// Reads `inner` and searches every byte read, whoever reads it.
struct Tee<'s, 'n> {
    inner: &'s mut dyn Read,
    matcher: Matcher<'n>,
}

impl Read for Tee<'_, '_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.matcher.feed(&buf[..n]);
        Ok(n)
    }
}

/// A decoded stream, ended early once it or the whole search has yielded its bound.
struct Bounded<'b, R> {
    inner: R,
    budget: &'b Budget,
    yielded: u64,
    /// Why it was ended early, if it was.
    cut: Option<String>,
}

impl<'b, R: Read> Bounded<'b, R> {
    fn new(inner: R, budget: &'b Budget) -> Self {
        Bounded {
            inner,
            budget,
            yielded: 0,
            cut: None,
        }
    }
}

impl<R: Read> Read for Bounded<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let bounds = &self.budget.bounds;
        if self.yielded >= bounds.stream_bytes {
            self.cut = Some(format!(
                "more than {} MiB uncompressed, the rest not searched",
                bounds.stream_bytes >> 20
            ));
            return Ok(0);
        }
        if self.budget.decoded.get() >= bounds.decoded_bytes {
            self.cut = Some(format!(
                "not searched beyond its first {} bytes: the search had decompressed {} MiB, its bound",
                self.yielded,
                bounds.decoded_bytes >> 20
            ));
            return Ok(0);
        }
        let n = self.inner.read(buf)?;
        self.yielded += n as u64;
        self.budget
            .decoded
            .set(self.budget.decoded.get() + n as u64);
        Ok(n)
    }
}

struct Walk<'a> {
    needles: &'a Needles,
    budget: &'a Budget,
    findings: Findings,
    /// What files are read through to their end with: one buffer for the whole walk, as a
    /// layer has tens of thousands of files.
    buffer: Vec<u8>,
}

impl Walk<'_> {
    fn hit(&mut self, place: &str, form: Form) {
        if self.findings.hits.len() < KEPT {
            let place = self.needles.redact(place);
            self.findings.hits.push(Hit { place, form });
        } else {
            self.findings.more_hits += 1;
        }
    }

    fn unsearched(&mut self, place: &str, why: &str) {
        if self.findings.unsearched.len() < KEPT {
            let place = self.needles.redact(place);
            self.findings.unsearched.push(format!("{place}: {why}"));
        } else {
            self.findings.more_unsearched += 1;
        }
    }

    /// A layer entry's name, link target and extended attributes (PAX records): a file
    /// named after the secret, or an xattr holding it, ships it as surely as its content.
    fn headers<R: Read>(&mut self, entry: &mut tar::Entry<'_, R>, path: &str) -> io::Result<()> {
        let mut names = entry.path_bytes().into_owned();
        if let Some(link) = entry.link_name_bytes() {
            names.push(b'\n');
            names.extend_from_slice(&link);
        }
        for form in self.needles.find(&names) {
            self.hit(&format!("the name of {path}"), form);
        }
        let mut attributes = Vec::new();
        if let Some(records) = entry.pax_extensions()? {
            for record in records.flatten() {
                attributes.extend_from_slice(record.key_bytes());
                attributes.push(b'=');
                attributes.extend_from_slice(record.value_bytes());
                attributes.push(b'\n');
            }
        }
        for form in self.needles.find(&attributes) {
            self.hit(&format!("the attributes of {path}"), form);
        }
        Ok(())
    }

    /// Searches one file's content (`stream`) as it is, and inside it when it is a
    /// compressed file or an archive. Returns the forms found in it or in what it holds,
    /// and whether `stream` itself could be read to its end: an error decoding what it
    /// holds is no error of its own.
    fn member(
        &mut self,
        stream: &mut dyn Read,
        place: &str,
        depth: usize,
    ) -> (BTreeSet<Form>, io::Result<()>) {
        let mut tee = Tee {
            inner: stream,
            matcher: self.needles.matcher(),
        };
        let (inside, read) = {
            let mut head = Vec::with_capacity(HEAD as usize);
            let peeked = (&mut tee).take(HEAD).read_to_end(&mut head);
            let mut rest = io::Cursor::new(&head).chain(&mut tee);
            let inside = match (peeked, Container::sniff(&head)) {
                (Err(_), _) | (_, None) => BTreeSet::new(),
                (Ok(_), Some(_)) if depth >= self.budget.bounds.depth => {
                    let why = format!(
                        "nested more than {} compressed files or archives deep, not opened",
                        self.budget.bounds.depth
                    );
                    self.unsearched(place, &why);
                    BTreeSet::new()
                }
                (Ok(_), Some(Container::Compressed(codec))) => {
                    self.decoded(codec, &mut rest, place, depth)
                }
                (Ok(_), Some(Container::Tar)) => self.tar(&mut rest, place, depth),
                (Ok(_), Some(Container::Zip)) => self.zip(&mut rest, place, depth),
            };
            // What no decoder read is searched as it is, and the stream read to its end.
            (inside, drain(&mut rest, &mut self.buffer))
        };
        for form in tee.matcher.found() - &inside {
            self.hit(place, form);
        }
        let mut all = inside;
        all.extend(tee.matcher.found());
        (all, read)
    }

    /// A compressed file's content, decoded as far as it decodes and the bounds allow.
    fn decoded(
        &mut self,
        codec: Codec,
        compressed: &mut dyn Read,
        place: &str,
        depth: usize,
    ) -> BTreeSet<Form> {
        let place = format!("{place} ({})", codec.name());
        let mut decoded = Bounded::new(codec.decoder(compressed, &self.budget.bounds), self.budget);
        let (found, _) = self.member(&mut decoded, &place, depth + 1);
        if let Some(why) = decoded.cut {
            self.unsearched(&place, &why);
        }
        found
    }

    /// The files of a tar inside a file, each searched as a layer's are (their bytes have
    /// been searched already, as the tar's: this finds what they compress).
    fn tar(&mut self, stream: &mut dyn Read, place: &str, depth: usize) -> BTreeSet<Form> {
        let mut found = BTreeSet::new();
        let mut archive = tar::Archive::new(stream);
        let Ok(entries) = archive.entries() else {
            return found;
        };
        for entry in entries {
            let Ok(mut entry) = entry else { break };
            if entry.header().entry_type().is_gnu_sparse() {
                // Its data is in the tar's bytes, searched already; read as a file, its
                // holes would be gigabytes of zeros (Go's test data has a 60 GB one).
                continue;
            }
            let inner = format!("{place} → {}", entry_path(&entry));
            let (forms, read) = self.member(&mut entry, &inner, depth + 1);
            found.extend(forms);
            if read.is_err() {
                break;
            }
        }
        found
    }

    /// The entries of a zip (a jar, a jmod), each decoded by its own method. The zip is
    /// copied aside first: its directory is at its end.
    fn zip(&mut self, stream: &mut dyn Read, place: &str, depth: usize) -> BTreeSet<Form> {
        let bounds = self.budget.bounds;
        let mut copy = tempfile::SpooledTempFile::new(ZIP_IN_MEMORY);
        match io::copy(&mut stream.take(bounds.zip_bytes + 1), &mut copy) {
            Ok(bytes) if bytes <= bounds.zip_bytes => {}
            Ok(_) => {
                let why = format!(
                    "a zip of more than {} MiB, its entries not searched",
                    bounds.zip_bytes >> 20
                );
                self.unsearched(place, &why);
                return BTreeSet::new();
            }
            Err(_) => return BTreeSet::new(),
        }
        let archive = copy
            .rewind()
            .ok()
            .and_then(|()| zip::ZipArchive::new(copy).ok());
        let Some(mut archive) = archive else {
            return BTreeSet::new();
        };
        if archive.len() > bounds.zip_entries {
            let why = format!(
                "{} entries, only the first {} searched",
                archive.len(),
                bounds.zip_entries
            );
            self.unsearched(place, &why);
        }
        let mut found = BTreeSet::new();
        for i in 0..archive.len().min(bounds.zip_entries) {
            let Ok(file) = archive.by_index_raw(i) else {
                continue;
            };
            let inner = format!("{place} → {}", String::from_utf8_lossy(file.name_raw()));
            if file.encrypted() {
                self.unsearched(&inner, "encrypted, not searched");
                continue;
            }
            let method = file.compression();
            let Some(content) = zip_entry_decoder(method, file, &bounds) else {
                let why =
                    format!("compressed with a method the checker does not read ({method:?})");
                self.unsearched(&inner, &why);
                continue;
            };
            let mut content = Bounded::new(content, self.budget);
            let (forms, _) = self.member(&mut content, &inner, depth + 1);
            found.extend(forms);
            if let Some(why) = content.cut {
                self.unsearched(&inner, &why);
            }
        }
        found
    }
}

/// The decoder of a zip entry's raw data, for the methods zips in images use.
fn zip_entry_decoder<'r>(
    method: CompressionMethod,
    raw: impl Read + 'r,
    bounds: &Bounds,
) -> Option<Box<dyn Read + 'r>> {
    Some(if method == CompressionMethod::STORE {
        Box::new(raw)
    } else if method == CompressionMethod::DEFLATE {
        Box::new(flate2::read::DeflateDecoder::new(raw))
    } else if method == CompressionMethod::BZIP2 {
        Codec::Bzip2.decoder(raw, bounds)
    } else if method == CompressionMethod::ZSTD {
        Codec::Zstd.decoder(raw, bounds)
    } else if method == CompressionMethod::XZ {
        Codec::Xz.decoder(raw, bounds)
    } else {
        return None;
    })
}

/// Reads `stream` to its end.
fn drain(stream: &mut dyn Read, buffer: &mut [u8]) -> io::Result<()> {
    loop {
        match stream.read(buffer) {
            Ok(0) => return Ok(()),
            Ok(_) => {}
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use super::*;

    const SECRET: &[u8] = b"wb15-2ca86d868e1dabf159be2becf5c6661fd6e0f8ca";

    fn needles() -> Needles {
        Needles::new(SECRET).unwrap()
    }

    /// A tar of `files` (path, content).
    fn tar(files: &[(&str, &[u8])]) -> Vec<u8> {
        let mut builder = tar::Builder::new(Vec::new());
        for (path, data) in files {
            let mut header = tar::Header::new_gnu();
            header.set_size(data.len() as u64);
            header.set_mode(0o644);
            header.set_cksum();
            builder.append_data(&mut header, path, *data).unwrap();
        }
        builder.into_inner().unwrap()
    }

    fn search_with(layer: &[u8], bounds: Bounds) -> Findings {
        search_layer(&mut &layer[..], &needles(), &Budget::new(bounds)).unwrap()
    }

    fn search(layer: &[u8]) -> Findings {
        search_with(layer, BOUNDS)
    }

    fn places(findings: &Findings) -> Vec<String> {
        findings.hits.iter().map(Hit::to_string).collect()
    }

    /// Some text around the secret, as a file would hold it.
    fn key_file() -> Vec<u8> {
        let mut text = b"# the key\nDATA_KEY=".to_vec();
        text.extend_from_slice(SECRET);
        text.extend_from_slice(b"\n");
        text
    }

    fn gzip(data: &[u8]) -> Vec<u8> {
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        e.write_all(data).unwrap();
        e.finish().unwrap()
    }

    fn zlib(data: &[u8]) -> Vec<u8> {
        let mut e = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::best());
        e.write_all(data).unwrap();
        e.finish().unwrap()
    }

    fn bzip2(data: &[u8]) -> Vec<u8> {
        let mut e = bzip2::write::BzEncoder::new(Vec::new(), bzip2::Compression::default());
        e.write_all(data).unwrap();
        e.finish().unwrap()
    }

    fn xz(data: &[u8]) -> Vec<u8> {
        let mut w =
            lzma_rust2::XzWriter::new(Vec::new(), lzma_rust2::XzOptions::default()).unwrap();
        w.write_all(data).unwrap();
        w.finish().unwrap()
    }

    fn zstd(data: &[u8]) -> Vec<u8> {
        ruzstd::encoding::compress_to_vec(data, ruzstd::encoding::CompressionLevel::Fastest)
    }

    fn zip(files: &[(&str, &[u8])], method: CompressionMethod) -> Vec<u8> {
        let mut zip = zip::ZipWriter::new(io::Cursor::new(Vec::new()));
        let options = zip::write::SimpleFileOptions::default().compression_method(method);
        for (name, data) in files {
            zip.start_file(*name, options).unwrap();
            zip.write_all(data).unwrap();
        }
        zip.finish().unwrap().into_inner()
    }

    #[test]
    fn each_compressed_form_is_found_and_named_with_its_codec() {
        // Compressible, so that no codec stores it as it is (xz does, for a short text).
        let mut key = key_file();
        key.extend(std::iter::repeat_n(b'x', 4000));
        let cases: [(&str, Vec<u8>, &str); 5] = [
            ("data/key.gz", gzip(&key), "gzip"),
            ("data/key.zz", zlib(&key), "zlib"),
            ("data/key.bz2", bzip2(&key), "bzip2"),
            ("data/key.xz", xz(&key), "xz"),
            ("data/key.zst", zstd(&key), "zstd"),
        ];
        for (path, compressed, codec) in cases {
            // The compressed bytes alone do not hold the secret; zstd may keep literals as
            // they are, and then the place named is still the decoded content's.
            if codec != "zstd" {
                assert!(needles().find(&compressed).is_empty(), "{codec}");
            }
            let found = search(&tar(&[
                ("etc/hosts", b"127.0.0.1 localhost\n"),
                (path, &compressed),
            ]));
            assert_eq!(places(&found), vec![format!("raw in {path} ({codec})")]);
            assert!(found.unsearched.is_empty(), "{found:?}");
        }
    }

    #[test]
    fn archives_inside_compressed_files_are_opened_and_the_deepest_place_is_named() {
        let encoded =
            base64::Engine::encode(&base64::engine::general_purpose::STANDARD, key_file());
        let inner = tar(&[
            ("README", b"nothing here"),
            ("keys/key.b64", encoded.as_bytes()),
        ]);
        let found = search(&tar(&[("srv/bundle.tar.gz", &gzip(&inner))]));
        assert_eq!(
            places(&found),
            vec!["base64 in srv/bundle.tar.gz (gzip) → keys/key.b64"]
        );
        // A plain tar in a layer: the stored file, named once at its own path.
        let found = search(&tar(&[("srv/bundle.tar", &inner)]));
        assert_eq!(
            places(&found),
            vec!["base64 in srv/bundle.tar → keys/key.b64"]
        );
    }

    #[test]
    fn zip_and_jar_entries_are_decoded_whatever_their_method() {
        let hex = hex::encode(SECRET);
        for method in [CompressionMethod::STORE, CompressionMethod::DEFLATE] {
            let jar = zip(
                &[
                    ("META-INF/MANIFEST.MF", b"Manifest-Version: 1.0\n"),
                    ("BOOT-INF/classes/key.hex", hex.as_bytes()),
                ],
                method,
            );
            let found = search(&tar(&[("app/app.jar", &jar)]));
            assert_eq!(
                places(&found),
                vec!["hex in app/app.jar → BOOT-INF/classes/key.hex"],
                "{method:?}"
            );
            // A jmod: a 4-byte header, then the zip.
            let mut jmod = b"JM\x01\x00".to_vec();
            jmod.extend_from_slice(&jar);
            let found = search(&tar(&[("jmods/app.jmod", &jmod)]));
            assert_eq!(found.hits.len(), 1, "{found:?}");
        }
    }

    #[test]
    fn a_name_or_an_attribute_holding_the_secret_is_found_and_not_printed() {
        let mut builder = tar::Builder::new(Vec::new());
        let name = format!("tmp/{}", std::str::from_utf8(SECRET).unwrap());
        let mut header = tar::Header::new_gnu();
        header.set_size(0);
        header.set_cksum();
        builder.append_data(&mut header, &name, &b""[..]).unwrap();
        let xattr = [("SCHILY.xattr.user.key", SECRET)];
        builder.append_pax_extensions(xattr).unwrap();
        let mut header = tar::Header::new_ustar();
        header.set_size(2);
        header.set_cksum();
        builder
            .append_data(&mut header, "app/file", &b"ok"[..])
            .unwrap();
        let found = search(&builder.into_inner().unwrap());
        assert_eq!(
            places(&found),
            vec![
                "raw in the name of tmp/‹secret›",
                "raw in the attributes of app/file"
            ]
        );
    }

    #[test]
    fn nothing_is_found_in_a_layer_without_the_secret_or_with_a_near_miss() {
        let mut near = key_file();
        let at = near.len() - 2;
        near[at] ^= 1;
        let found = search(&tar(&[
            ("a", &near),
            ("b.gz", &gzip(&near)),
            ("c.jar", &zip(&[("x", &near)], CompressionMethod::DEFLATE)),
        ]));
        assert_eq!(found, Findings::default());
    }

    #[test]
    fn nesting_deeper_than_the_bound_is_named_not_searched() {
        let mut nested = key_file();
        for _ in 0..BOUNDS.depth + 1 {
            nested = gzip(&nested);
        }
        let found = search(&tar(&[("deep.gz", &nested)]));
        assert!(found.hits.is_empty(), "{found:?}");
        assert_eq!(found.unsearched.len(), 1, "{found:?}");
        assert!(
            found.unsearched[0].ends_with(
                "(gzip) (gzip): nested more than 6 compressed files or archives deep, not opened"
            ),
            "{found:?}"
        );
        // One level fewer is opened to the end.
        let mut nested = key_file();
        for _ in 0..BOUNDS.depth {
            nested = gzip(&nested);
        }
        let found = search(&tar(&[("deep.gz", &nested)]));
        assert_eq!(found.hits.len(), 1, "{found:?}");
    }

    #[test]
    fn a_stream_past_its_bound_is_cut_and_named() {
        let bounds = Bounds {
            stream_bytes: 1 << 20,
            ..BOUNDS
        };
        // 2 MiB of zeros, then the key: the key lies past the bound.
        let mut bomb = vec![0u8; 2 << 20];
        bomb.extend_from_slice(&key_file());
        let found = search_with(&tar(&[("bomb.gz", &gzip(&bomb))]), bounds);
        assert!(found.hits.is_empty(), "{found:?}");
        assert_eq!(
            found.unsearched,
            vec!["bomb.gz (gzip): more than 1 MiB uncompressed, the rest not searched"]
        );
        // Within the bound, the same file is searched to its end.
        let found = search_with(&tar(&[("bomb.gz", &gzip(&bomb))]), BOUNDS);
        assert_eq!(places(&found), vec!["raw in bomb.gz (gzip)"]);
    }

    #[test]
    fn the_whole_searchs_decoding_budget_holds_across_files_and_layers() {
        let bounds = Bounds {
            decoded_bytes: 1 << 20,
            ..BOUNDS
        };
        let filler = gzip(&vec![7u8; 900 << 10]);
        let key = gzip(&key_file());
        let budget = Budget::new(bounds);
        let first = tar(&[("filler.gz", &filler)]);
        let second = tar(&[("more.gz", &filler), ("key.gz", &key)]);
        let n = needles();
        assert_eq!(
            search_layer(&mut &first[..], &n, &budget).unwrap(),
            Findings::default()
        );
        let found = search_layer(&mut &second[..], &n, &budget).unwrap();
        assert!(found.hits.is_empty(), "{found:?}");
        assert_eq!(found.unsearched.len(), 2, "{found:?}");
        assert!(
            found.unsearched[1].starts_with("key.gz (gzip): not searched beyond its first 0 bytes"),
            "{found:?}"
        );
    }

    #[test]
    fn a_damaged_gzip_is_searched_as_far_as_it_decodes() {
        let mut text = key_file();
        text.extend(std::iter::repeat_n(b'x', 200_000));
        let mut damaged = gzip(&text);
        let cut = damaged.len() / 2;
        damaged.truncate(cut);
        let found = search(&tar(&[("log.gz", &damaged)]));
        assert_eq!(places(&found), vec!["raw in log.gz (gzip)"]);
    }

    #[test]
    fn an_encrypted_zip_entry_and_a_zip_past_its_bounds_are_named() {
        let mut encrypted = zip(&[("key", &key_file())], CompressionMethod::STORE);
        // Set the "encrypted" flag in the local and the central header.
        for signature in [&b"PK\x03\x04"[..], b"PK\x01\x02"] {
            let at = encrypted.windows(4).position(|w| w == signature).unwrap();
            let flags = at + if signature[2] == 3 { 6 } else { 8 };
            encrypted[flags] |= 1;
        }
        let found = search(&tar(&[("secret.zip", &encrypted)]));
        // Stored, so its bytes hold the key as they are: found at the zip itself.
        assert_eq!(places(&found), vec!["raw in secret.zip"]);
        assert_eq!(
            found.unsearched,
            vec!["secret.zip → key: encrypted, not searched"]
        );

        let many: Vec<(String, Vec<u8>)> =
            (0..5).map(|i| (format!("f{i}"), b"x".to_vec())).collect();
        let many: Vec<(&str, &[u8])> = many.iter().map(|(n, d)| (n.as_str(), &d[..])).collect();
        let bounds = Bounds {
            zip_entries: 3,
            ..BOUNDS
        };
        let found = search_with(
            &tar(&[("many.zip", &zip(&many, CompressionMethod::STORE))]),
            bounds,
        );
        assert_eq!(
            found.unsearched,
            vec!["many.zip: 5 entries, only the first 3 searched"]
        );
        let bounds = Bounds {
            zip_bytes: 100,
            ..BOUNDS
        };
        let found = search_with(
            &tar(&[("many.zip", &zip(&many, CompressionMethod::STORE))]),
            bounds,
        );
        assert_eq!(
            found.unsearched,
            vec!["many.zip: a zip of more than 0 MiB, its entries not searched"]
        );
    }

    #[test]
    fn hits_past_the_kept_ones_are_counted() {
        let key = key_file();
        let names: Vec<String> = (0..KEPT + 3).map(|i| format!("k{i}")).collect();
        let files: Vec<(&str, &[u8])> = names.iter().map(|n| (n.as_str(), &key[..])).collect();
        let found = search(&tar(&files));
        assert_eq!(found.hits.len(), KEPT);
        assert_eq!(found.more_hits, 3);
    }

    #[test]
    fn a_broken_layer_is_an_error() {
        let mut layer = tar(&[("a", &key_file())]);
        layer[0..100].fill(0xff);
        assert!(search_layer(&mut &layer[..], &needles(), &Budget::new(BOUNDS)).is_err());
    }
}
