//! Wasted bytes, counted the way dive counts them: a path that more than one layer touches
//! (writes, overwrites, or deletes with a whiteout) wastes the size of every version of it,
//! because each layer keeps its copy even when a later layer hides it.

use std::collections::BTreeMap;

use serde::Serialize;

/// One entry of a layer tar, as far as waste is concerned.
#[derive(Debug, Clone, PartialEq)]
pub enum Change {
    /// A regular file (or anything with content) of this many bytes.
    Write { path: String, size: u64 },
    /// `.wh.<name>`: the path (and everything under it) is deleted.
    Delete { path: String },
    /// `.wh..wh..opq` in a folder: everything earlier layers put under it is hidden.
    Opaque { dir: String },
}

#[derive(Debug, Clone, Serialize, PartialEq, Default)]
pub struct Waste {
    pub bytes: u64,
    /// The paths that waste most, largest first (at most ten).
    pub top: Vec<(String, u64)>,
}

/// Waste of an image given its layers' changes, base layer first.
pub fn count(layers: &[Vec<Change>]) -> Waste {
    // path → (sizes of its versions, number of layers that touched it)
    let mut history: BTreeMap<String, (u64, usize)> = BTreeMap::new();
    for layer in layers {
        let mut touched_here: BTreeMap<String, u64> = BTreeMap::new();
        for change in layer {
            match change {
                Change::Write { path, size } => {
                    *touched_here.entry(path.clone()).or_default() += size;
                }
                Change::Delete { path } | Change::Opaque { dir: path } => {
                    let prefix = format!("{path}/");
                    let hidden: Vec<String> = history
                        .keys()
                        .filter(|p| *p == path || p.starts_with(&prefix))
                        .filter(|p| !touched_here.contains_key(*p))
                        .cloned()
                        .collect();
                    for p in hidden {
                        touched_here.insert(p, 0);
                    }
                }
            }
        }
        for (path, size) in touched_here {
            let entry = history.entry(path).or_default();
            entry.0 += size;
            entry.1 += 1;
        }
    }
    let mut wasteful: Vec<(String, u64)> = history
        .into_iter()
        .filter(|(_, (size, layers))| *layers > 1 && *size > 0)
        .map(|(p, (size, _))| (p, size))
        .collect();
    let bytes = wasteful.iter().map(|(_, s)| s).sum();
    wasteful.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    wasteful.truncate(10);
    Waste {
        bytes,
        top: wasteful,
    }
}

/// How many files (anything but folders) the final filesystem shows.
pub fn visible_files(layers: &[Vec<Change>]) -> usize {
    let mut files = std::collections::BTreeSet::new();
    for layer in layers {
        // A layer's whiteouts hide what lower layers had, whatever their order in its tar;
        // then its own writes land.
        for change in layer {
            if let Change::Delete { path } | Change::Opaque { dir: path } = change {
                let prefix = format!("{path}/");
                files.retain(|p: &String| !(p.starts_with(&prefix) || p == path));
            }
        }
        for change in layer {
            if let Change::Write { path, .. } = change {
                files.insert(path.clone());
            }
        }
    }
    files.len()
}

/// The changes of every layer, base first, as the wasted-bytes count and the file count see
/// them, each entry seen through `change`: the layers as `contents::contents_of` reads them
/// once, with `contents::Entry::change` (waste knows no reader of layers; they know it).
pub fn changes<E>(layers: &[Vec<E>], change: impl Fn(&E) -> Change) -> Vec<Vec<Change>> {
    layers
        .iter()
        .map(|layer| layer.iter().map(&change).collect())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(path: &str, size: u64) -> Change {
        Change::Write {
            path: path.into(),
            size,
        }
    }

    #[test]
    fn a_file_deleted_in_a_later_layer_wastes_its_size() {
        let layers = vec![
            vec![write("usr/bin/gcc", 1000), write("etc/os-release", 10)],
            vec![
                write("var/lib/apt/lists/a", 500),
                write("var/lib/apt/lists/b", 300),
            ],
            vec![Change::Delete {
                path: "var/lib/apt/lists".into(),
            }],
        ];
        let w = count(&layers);
        assert_eq!(w.bytes, 800);
        assert_eq!(
            w.top,
            vec![
                ("var/lib/apt/lists/a".to_string(), 500),
                ("var/lib/apt/lists/b".to_string(), 300)
            ]
        );
    }

    #[test]
    fn an_overwritten_file_wastes_every_version_like_dive() {
        let layers = vec![
            vec![write("var/lib/dpkg/status", 100)],
            vec![write("var/lib/dpkg/status", 120)],
        ];
        assert_eq!(count(&layers).bytes, 220);
    }

    #[test]
    fn one_layer_that_writes_and_cleans_up_wastes_nothing() {
        // What `RUN apt-get update && apt-get install … && rm -rf /var/lib/apt/lists/*` does:
        // the lists never reach a layer.
        let layers = vec![
            vec![write("etc/os-release", 10)],
            vec![write("usr/bin/gcc", 1000)],
        ];
        assert_eq!(count(&layers), Waste::default());
    }

    #[test]
    fn visible_files_follow_whiteouts() {
        let layers = vec![
            vec![write("a", 1), write("d/x", 1), write("d/y", 1)],
            vec![Change::Delete { path: "d".into() }, write("b", 1)],
            vec![write("e/z", 1), Change::Opaque { dir: "e".into() }],
        ];
        assert_eq!(visible_files(&layers), 3);
    }

    #[test]
    fn opaque_folders_hide_what_came_before() {
        let layers = vec![
            vec![write("app/old.js", 50), write("app/keep.js", 5)],
            vec![
                Change::Opaque { dir: "app".into() },
                write("app/new.js", 60),
            ],
        ];
        let w = count(&layers);
        assert_eq!(w.bytes, 55);
    }

    #[test]
    fn layer_tars_are_read_with_their_whiteouts() {
        let mut builder = tar::Builder::new(Vec::new());
        for (path, data) in [
            ("usr/bin/tool", &b"12345"[..]),
            ("var/lib/apt/lists/.wh.file", b""),
            ("app/.wh..wh..opq", b""),
        ] {
            let mut header = tar::Header::new_gnu();
            header.set_size(data.len() as u64);
            header.set_mode(0o644);
            header.set_cksum();
            builder.append_data(&mut header, path, data).unwrap();
        }
        let bytes = builder.into_inner().unwrap();
        assert_eq!(
            crate::docker::contents::read_layer(&mut bytes.as_slice())
                .unwrap()
                .iter()
                .map(|e| e.change())
                .collect::<Vec<_>>(),
            vec![
                write("usr/bin/tool", 5),
                Change::Delete {
                    path: "var/lib/apt/lists/file".into()
                },
                Change::Opaque { dir: "app".into() },
            ]
        );
    }
}
