//! `checker reset`: the learner's Dockerfile becomes the starter again; what they had is kept
//! as a backup beside it.

use std::path::{Path, PathBuf};

use crate::error::CheckerError;

/// What a reset did, for the caller to tell the learner.
#[derive(Debug, PartialEq, Eq)]
pub enum Reset {
    /// The Dockerfile already was the starter: nothing written.
    AlreadyStarter,
    /// The Dockerfile is the starter now; `backup` is where what it was is kept (none when
    /// there was no Dockerfile).
    Restored { backup: Option<PathBuf> },
}

/// Makes `learner` a copy of `starter`, writing only inside `learner`'s folder.
///
/// The new Dockerfile is written to a temporary file beside it and renamed over it: a rename
/// replaces a symlink itself (never the file it points to, which may be anywhere), and a
/// reader (or a second reset) sees the old file or the new one, never a half-written or empty
/// one. What the learner had is kept under a fresh backup name, created without replacing
/// anything: a regular file as the bytes compared with the starter, with the file's own
/// permissions (a temporary file's are 0600), a symlink as the same link, so nothing outside
/// the folder is read into it.
pub fn reset(learner: &Path, starter: &Path) -> Result<Reset, CheckerError> {
    let folder = learner.parent().ok_or_else(|| {
        CheckerError::Usage(format!("{}: not inside a folder", learner.display()))
    })?;
    let pristine = read_starter(starter)?;
    let backup = match std::fs::symlink_metadata(learner) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
        Err(e) => return Err(CheckerError::io(learner, e)),
        Ok(meta) if meta.file_type().is_symlink() => {
            let target = std::fs::read_link(learner).map_err(|e| CheckerError::io(learner, e))?;
            Some(keep(learner, |candidate| {
                std::os::unix::fs::symlink(&target, candidate)
            })?)
        }
        Ok(meta) if meta.is_file() => {
            let current = std::fs::read(learner).map_err(|e| CheckerError::io(learner, e))?;
            if current == pristine {
                return Ok(Reset::AlreadyStarter);
            }
            Some(keep(learner, |candidate| {
                write_new(folder, candidate, &current, mode_of(&meta))
            })?)
        }
        // A folder, FIFO or device where the Dockerfile should be: reading could block and
        // replacing could destroy something that is not a Dockerfile.
        Ok(_) => {
            return Err(CheckerError::Io {
                path: learner.to_path_buf(),
                message: "not a regular file or a symlink; move it away and run reset again".into(),
                source: None,
            })
        }
    };
    let mut temp = tempfile::Builder::new()
        .prefix(".Dockerfile.reset-")
        .tempfile_in(folder)
        .map_err(|e| CheckerError::io(folder, e))?;
    std::io::Write::write_all(&mut temp, &pristine)
        .map_err(|e| CheckerError::io(temp.path(), e))?;
    // A temporary file is private (0600); the Dockerfile is as readable as the starter.
    if let Ok(meta) = std::fs::metadata(starter) {
        let _ = temp.as_file().set_permissions(meta.permissions());
    }
    temp.persist(learner)
        .map_err(|e| CheckerError::io(learner, e.error))?;
    Ok(Reset::Restored { backup })
}

/// The starter, which must be a regular file of the exercise (not a link that could copy a
/// file from elsewhere into the learner's Dockerfile), of a Dockerfile's size at most.
fn read_starter(starter: &Path) -> Result<Vec<u8>, CheckerError> {
    let meta = std::fs::symlink_metadata(starter).map_err(|e| CheckerError::io(starter, e))?;
    if !meta.is_file() {
        return Err(CheckerError::Io {
            path: starter.to_path_buf(),
            message: "the starter must be a regular file, not a link or anything else".into(),
            source: None,
        });
    }
    let folder = starter.parent().unwrap_or(Path::new("."));
    Ok(crate::docker::dockerfile::read_dockerfile(folder, starter)?.into_bytes())
}

/// Creates a backup of `learner` with `make`, which must fail with `AlreadyExists` rather
/// than replace a file; the next name is tried until one is free, so two resets in the same
/// second each keep their own backup.
fn keep(
    learner: &Path,
    make: impl Fn(&Path) -> std::io::Result<()>,
) -> Result<PathBuf, CheckerError> {
    let stamp = chrono::Local::now().format("%Y%m%d-%H%M%S");
    for n in 1.. {
        let name = match n {
            1 => format!("Dockerfile.backup-{stamp}"),
            n => format!("Dockerfile.backup-{stamp}-{n}"),
        };
        let candidate = learner.with_file_name(name);
        match make(&candidate) {
            Ok(()) => return Ok(candidate),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(CheckerError::io(&candidate, e)),
        }
    }
    unreachable!("an unbounded range ends only by returning")
}

/// The permission bits of the learner's Dockerfile, for its backup: read, write and execute
/// for each class, and none of setuid, setgid or sticky, which a copy has no use for.
fn mode_of(meta: &std::fs::Metadata) -> std::fs::Permissions {
    use std::os::unix::fs::PermissionsExt;
    std::fs::Permissions::from_mode(meta.permissions().mode() & 0o777)
}

/// Writes `bytes` to `path` with `permissions` only if `path` does not exist, and only ever
/// complete: through a temporary file in `folder` that is linked to `path` at the end. The
/// permissions are set on the temporary file's own handle, never through a path that could
/// have become a link.
fn write_new(
    folder: &Path,
    path: &Path,
    bytes: &[u8],
    permissions: std::fs::Permissions,
) -> std::io::Result<()> {
    let mut temp = tempfile::Builder::new()
        .prefix(".Dockerfile.backup-")
        .tempfile_in(folder)?;
    std::io::Write::write_all(&mut temp, bytes)?;
    temp.as_file().set_permissions(permissions)?;
    temp.persist_noclobber(path)
        .map(|_| ())
        .map_err(|e| e.error)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::Arc;

    const STARTER: &str = "FROM debian:bookworm\nRUN apt-get update\n";

    fn exercise() -> (tempfile::TempDir, PathBuf, PathBuf) {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("starter")).unwrap();
        let starter = dir.path().join("starter/Dockerfile");
        std::fs::write(&starter, STARTER).unwrap();
        let learner = dir.path().join("Dockerfile");
        (dir, learner, starter)
    }

    fn backups(dir: &Path) -> Vec<PathBuf> {
        std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| {
                p.file_name()
                    .unwrap()
                    .to_string_lossy()
                    .starts_with("Dockerfile.backup-")
            })
            .collect()
    }

    /// The backup is the learner's file with its mode (not a temporary file's 0600); a
    /// Dockerfile that is a link is kept as the same link, and the file it points to (here
    /// outside the folder) is neither read into the backup nor changed.
    #[test]
    fn the_backup_keeps_the_files_mode_and_a_link_stays_a_link() {
        use std::os::unix::fs::PermissionsExt;
        let mode = |p: &Path| std::fs::symlink_metadata(p).unwrap().permissions().mode() & 0o7777;
        for wanted in [0o644, 0o640, 0o755, 0o600] {
            let (dir, learner, starter) = exercise();
            std::fs::write(&learner, "FROM scratch\n").unwrap();
            std::fs::set_permissions(&learner, std::fs::Permissions::from_mode(wanted)).unwrap();
            let Reset::Restored {
                backup: Some(backup),
            } = reset(&learner, &starter).unwrap()
            else {
                panic!("a backup is kept");
            };
            assert_eq!(mode(&backup), wanted, "{wanted:o}");
            assert_eq!(std::fs::read_to_string(&backup).unwrap(), "FROM scratch\n");
            assert_eq!(backups(dir.path()), [backup]);
        }
        let (dir, learner, starter) = exercise();
        std::fs::write(&learner, "FROM scratch\n").unwrap();
        std::fs::set_permissions(&learner, std::fs::Permissions::from_mode(0o4755)).unwrap();
        let Reset::Restored {
            backup: Some(backup),
        } = reset(&learner, &starter).unwrap()
        else {
            panic!("a backup is kept");
        };
        assert_eq!(mode(&backup), 0o755, "no setuid on a copy");
        drop(dir);

        let (dir, learner, starter) = exercise();
        let outside = tempfile::tempdir().unwrap();
        let elsewhere = outside.path().join("secret");
        std::fs::write(&elsewhere, "not the learner's").unwrap();
        std::fs::set_permissions(&elsewhere, std::fs::Permissions::from_mode(0o600)).unwrap();
        std::os::unix::fs::symlink(&elsewhere, &learner).unwrap();
        let Reset::Restored {
            backup: Some(backup),
        } = reset(&learner, &starter).unwrap()
        else {
            panic!("a backup is kept");
        };
        assert_eq!(std::fs::read_link(&backup).unwrap(), elsewhere);
        assert_eq!(
            std::fs::read_to_string(&elsewhere).unwrap(),
            "not the learner's"
        );
        assert_eq!(
            mode(&elsewhere),
            0o600,
            "the linked file's mode is untouched"
        );
        assert!(!std::fs::symlink_metadata(&learner)
            .unwrap()
            .file_type()
            .is_symlink());
        assert_eq!(std::fs::read_to_string(&learner).unwrap(), STARTER);
        drop(dir);
    }

    /// Issue 11: resets running at once (two terminals, `watch` and a reset) must never
    /// leave an empty backup, and a reader never sees a half-written Dockerfile.
    #[test]
    fn concurrent_resets_never_leave_an_empty_file() {
        let (dir, learner, starter) = exercise();
        let mine = "FROM scratch\n# my attempt, which is longer than nothing\n".repeat(50);
        let stop = Arc::new(AtomicBool::new(false));
        let empty_reads = {
            let (learner, stop) = (learner.clone(), stop.clone());
            std::thread::spawn(move || {
                let mut empty = 0;
                while !stop.load(Ordering::Relaxed) {
                    if let Ok(bytes) = std::fs::read(&learner) {
                        empty += usize::from(bytes.is_empty());
                    }
                }
                empty
            })
        };
        for _ in 0..150 {
            // Atomically, so that only a reset could ever show an empty file.
            let temp = dir.path().join("mine.tmp");
            std::fs::write(&temp, &mine).unwrap();
            std::fs::rename(&temp, &learner).unwrap();
            let resets: Vec<_> = (0..3)
                .map(|_| {
                    let (learner, starter) = (learner.clone(), starter.clone());
                    std::thread::spawn(move || reset(&learner, &starter))
                })
                .collect();
            for r in resets {
                r.join().unwrap().unwrap();
            }
            assert_eq!(std::fs::read_to_string(&learner).unwrap(), STARTER);
        }
        stop.store(true, Ordering::Relaxed);
        assert_eq!(
            empty_reads.join().unwrap(),
            0,
            "a reader saw an empty Dockerfile"
        );
        let kept = backups(dir.path());
        assert!(!kept.is_empty());
        for b in kept {
            let text = std::fs::read_to_string(&b).unwrap();
            assert!(text == mine, "{}: {} bytes", b.display(), text.len());
        }
    }
}
