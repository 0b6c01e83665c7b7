//! Files read on a learner's behalf, opened as what they claim to be.
//!
//! A hand-in is untrusted input to the grader: its `Dockerfile` may be a link to
//! `/proc/self/environ` (whose text a parse error would then quote into `grades.json`), a FIFO
//! that blocks `open()` forever (and with it a grading worker, whose timeout can never fire
//! because the blocked call never yields), or a link to `/dev/zero`. So every such file is
//! opened here: resolved, and refused unless it stays inside its folder; opened without
//! blocking and without following a last link (what was checked is what is read); refused
//! unless it is a regular file; read up to a bound. The checker's own state files (progress,
//! result cache, the docker CLI's config) go through [`read_regular`]: not confined to a
//! folder, but never a FIFO or a device and never unbounded.

use std::io::Read;
use std::path::{Path, PathBuf};

use crate::error::CheckerError;

/// Reads `file`, which must resolve (links followed) to a regular file inside `folder`, of at
/// most `max_bytes`. `Ok(None)`: there is no such file.
pub fn read_inside(
    folder: &Path,
    file: &Path,
    max_bytes: u64,
) -> Result<Option<Vec<u8>>, CheckerError> {
    let real = match std::fs::canonicalize(file) {
        Ok(real) => real,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(CheckerError::io(file, e)),
    };
    let folder_real = std::fs::canonicalize(folder).map_err(|e| CheckerError::io(folder, e))?;
    if !real.starts_with(&folder_real) {
        return Err(refused(
            file,
            format!(
                "leads to {}, outside {}; only files inside the exercise folder are read",
                real.display(),
                folder.display()
            ),
        ));
    }
    read_opened(file, &real, Links::Refuse, max_bytes).map(Some)
}

/// Reads `file` (links followed), which must be a regular file of at most `max_bytes`.
/// `Ok(None)`: there is no such file.
pub fn read_regular(file: &Path, max_bytes: u64) -> Result<Option<Vec<u8>>, CheckerError> {
    match read_opened(file, file, Links::Follow, max_bytes) {
        Err(CheckerError::Io { source, .. })
            if source
                .as_deref()
                .and_then(|s| s.downcast_ref::<std::io::Error>())
                .is_some_and(|e| e.kind() == std::io::ErrorKind::NotFound) =>
        {
            Ok(None)
        }
        other => other.map(Some),
    }
}

/// [`read_regular`] as text; invalid UTF-8 is an error naming the file.
pub fn read_regular_text(file: &Path, max_bytes: u64) -> Result<Option<String>, CheckerError> {
    read_regular(file, max_bytes)?
        .map(|bytes| text(file, bytes))
        .transpose()
}

/// `std::fs::read_to_string` for the checker's own state files (progress, the result cache,
/// the docker CLI's config and contexts): the same errors (`NotFound`, `InvalidData` for bad
/// UTF-8), and one more, for a FIFO, a device or a file over `max_bytes`, saying which.
pub fn read_to_string(file: &Path, max_bytes: u64) -> std::io::Result<String> {
    let opened = open_regular(file)?;
    let mut text = String::new();
    opened.take(max_bytes + 1).read_to_string(&mut text)?;
    if text.len() as u64 > max_bytes {
        return Err(std::io::Error::other(format!(
            "larger than {}, the most this file may be",
            human_bytes(max_bytes)
        )));
    }
    Ok(text)
}

/// Opens `file` (links followed: these may be links, a dotfiles repository's config.json)
/// without blocking, and checks that it is a regular file.
pub fn open_regular(file: &Path) -> std::io::Result<std::fs::File> {
    open_regular_file(file, Links::Follow)
}

/// Opens `file`, a context file found in the learner's folder by a walk that did not follow
/// links, to send its content: without blocking and without following a link (one swapped in
/// since the walk would lead outside the folder), and only if it is still a regular file.
pub fn open_regular_not_a_link(file: &Path) -> std::io::Result<std::fs::File> {
    open_regular_file(file, Links::Refuse)
}

/// Opens `file` without blocking, following a last link or not, and checks that it is a
/// regular file.
fn open_regular_file(file: &Path, links: Links) -> std::io::Result<std::fs::File> {
    let opened = open_without_blocking(file, links)?;
    let kind = opened.metadata()?.file_type();
    if !kind.is_file() {
        return Err(std::io::Error::other(format!(
            "is {}, not a regular file",
            describe(kind)
        )));
    }
    Ok(opened)
}

/// The most one of the checker's own state files may be: the largest, a class's progress
/// file or the docker CLI's config, is a few hundred KB.
pub const MAX_STATE_FILE_BYTES: u64 = 16 * 1024 * 1024;

/// The bytes as UTF-8 text, or an error naming `file` and the offset of the first bad byte
/// (never the bytes themselves).
pub fn text(file: &Path, bytes: Vec<u8>) -> Result<String, CheckerError> {
    String::from_utf8(bytes).map_err(|e| {
        refused(
            file,
            format!(
                "not UTF-8 text (invalid byte at offset {})",
                e.utf8_error().valid_up_to()
            ),
        )
    })
}

/// Opens `real` (named `shown` in errors) without blocking, checks that it is a regular
/// file, and reads at most `max_bytes` of it.
fn read_opened(
    shown: &Path,
    real: &Path,
    links: Links,
    max_bytes: u64,
) -> Result<Vec<u8>, CheckerError> {
    let opened = open_without_blocking(real, links).map_err(|e| CheckerError::io(shown, e))?;
    let kind = opened
        .metadata()
        .map_err(|e| CheckerError::io(shown, e))?
        .file_type();
    if !kind.is_file() {
        return Err(refused(
            shown,
            format!("is {}, not a regular file", describe(kind)),
        ));
    }
    let mut bytes = Vec::new();
    // One byte past the bound tells "exactly the bound" from "more".
    opened
        .take(max_bytes + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| CheckerError::io(shown, e))?;
    if bytes.len() as u64 > max_bytes {
        return Err(refused(
            shown,
            format!(
                "larger than {}, the most this file may be; is this the right file?",
                human_bytes(max_bytes)
            ),
        ));
    }
    Ok(bytes)
}

#[derive(Clone, Copy, PartialEq)]
enum Links {
    Follow,
    /// The path was resolved and checked already: a link there now was swapped in since.
    Refuse,
}

#[cfg(unix)]
fn open_without_blocking(path: &Path, links: Links) -> std::io::Result<std::fs::File> {
    use std::os::unix::fs::OpenOptionsExt;
    // O_NONBLOCK: opening a FIFO returns at once instead of waiting for a writer (the file
    // type is checked next, and a FIFO refused).
    let mut flags = rustix::fs::OFlags::NONBLOCK;
    if links == Links::Refuse {
        flags |= rustix::fs::OFlags::NOFOLLOW;
    }
    std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(flags.bits() as i32)
        .open(path)
}

#[cfg(not(unix))]
fn open_without_blocking(path: &Path, _links: Links) -> std::io::Result<std::fs::File> {
    std::fs::File::open(path)
}

fn describe(kind: std::fs::FileType) -> &'static str {
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        if kind.is_fifo() {
            return "a FIFO (named pipe)";
        }
        if kind.is_socket() {
            return "a socket";
        }
        if kind.is_char_device() || kind.is_block_device() {
            return "a device";
        }
    }
    if kind.is_dir() {
        "a folder"
    } else if kind.is_symlink() {
        "a link"
    } else {
        "not a file"
    }
}

fn human_bytes(bytes: u64) -> String {
    if bytes >= 1024 * 1024 {
        format!("{} MiB", bytes / (1024 * 1024))
    } else {
        format!("{} KiB", bytes / 1024)
    }
}

fn refused(file: &Path, reason: String) -> CheckerError {
    CheckerError::Refused {
        file: PathBuf::from(file),
        reason,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn folder() -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("Dockerfile"), "FROM scratch\n").unwrap();
        dir
    }

    #[test]
    fn a_regular_file_inside_is_read_and_a_missing_one_is_none() {
        let dir = folder();
        let read = read_inside(dir.path(), &dir.path().join("Dockerfile"), 100).unwrap();
        assert_eq!(read.unwrap(), b"FROM scratch\n");
        assert!(read_inside(dir.path(), &dir.path().join("nope"), 100)
            .unwrap()
            .is_none());
        assert!(read_regular(&dir.path().join("nope"), 100)
            .unwrap()
            .is_none());
    }

    #[cfg(unix)]
    #[test]
    fn a_link_inside_is_followed_and_one_out_is_refused_without_reading_it() {
        let dir = folder();
        let outside = tempfile::tempdir().unwrap();
        std::fs::write(outside.path().join("secret"), "MY_API_TOKEN=x").unwrap();
        std::os::unix::fs::symlink("Dockerfile", dir.path().join("inside")).unwrap();
        std::os::unix::fs::symlink(outside.path().join("secret"), dir.path().join("out")).unwrap();
        std::os::unix::fs::symlink("/proc/self/environ", dir.path().join("environ")).unwrap();
        let inside = read_inside(dir.path(), &dir.path().join("inside"), 100).unwrap();
        assert_eq!(inside.unwrap(), b"FROM scratch\n");
        for name in ["out", "environ"] {
            let err = read_inside(dir.path(), &dir.path().join(name), 100)
                .unwrap_err()
                .to_string();
            assert!(err.contains("outside"), "{err}");
            assert!(!err.contains("MY_API_TOKEN"), "{err}");
        }
    }

    #[cfg(unix)]
    #[test]
    fn a_fifo_a_device_and_a_folder_are_refused_at_once() {
        let dir = folder();
        let fifo = dir.path().join("fifo");
        rustix::fs::mkfifoat(
            rustix::fs::CWD,
            &fifo,
            rustix::fs::Mode::from_raw_mode(0o600),
        )
        .unwrap();
        let err = read_inside(dir.path(), &fifo, 100).unwrap_err().to_string();
        assert!(err.contains("FIFO"), "{err}");
        let err = read_regular(&fifo, 100).unwrap_err().to_string();
        assert!(err.contains("FIFO"), "{err}");
        // The checker's own state files (a progress file made a FIFO hung `list`).
        let err = read_to_string(&fifo, 100).unwrap_err().to_string();
        assert!(err.contains("FIFO"), "{err}");
        let err = read_regular(Path::new("/dev/zero"), 100)
            .unwrap_err()
            .to_string();
        assert!(err.contains("a device"), "{err}");
        std::fs::create_dir(dir.path().join("sub")).unwrap();
        let err = read_inside(dir.path(), &dir.path().join("sub"), 100)
            .unwrap_err()
            .to_string();
        assert!(err.contains("a folder"), "{err}");
    }

    #[test]
    fn a_file_over_its_bound_is_refused_and_one_at_it_is_read() {
        let dir = folder();
        let file = dir.path().join("Dockerfile");
        assert_eq!(
            read_inside(dir.path(), &file, 13).unwrap().unwrap().len(),
            13
        );
        let err = read_inside(dir.path(), &file, 12).unwrap_err().to_string();
        assert!(err.contains("larger than"), "{err}");
    }

    #[test]
    fn invalid_text_names_the_offset_not_the_bytes() {
        let err = text(Path::new("Dockerfile"), b"FROM a\xff secret".to_vec())
            .unwrap_err()
            .to_string();
        assert!(err.contains("offset 6") && !err.contains("secret"), "{err}");
    }
}
