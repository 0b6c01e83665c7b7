//! What the final image holds, file by file, and where each file came from: the layer that
//! wrote it (the base image's, or an instruction of a stage, its line), and by content the
//! Debian package it belongs to, the build-context file it copies, or neither (a build
//! made it). Names and paths say little: a toolchain copied under another name, a package
//! whose dpkg entry was cut out, a "stage" that only copies a file of its base image are
//! all told apart by content and by the layer that brought them.
//!
//! Plain data, filled in by `provenance.rs`; the goals judge it, the reports show it.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// Who made a layer of the final image.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "made_by", rename_all = "kebab-case")]
pub enum LayerSource {
    /// One of the layers of the image the final stage starts from.
    Base { image: String },
    /// An instruction of the Dockerfile. `from` is the stage a `COPY --from` copies from.
    Instruction {
        stage: String,
        line: usize,
        keyword: String,
        text: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        from: Option<String>,
    },
    /// Not matched to an instruction: what the image's history says.
    Unknown { created_by: String },
}

/// One layer of the final image.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LayerOrigin {
    /// 1-based, base layers first.
    pub position: usize,
    pub source: LayerSource,
}

/// What a file's content is, whatever its name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "content", rename_all = "kebab-case")]
pub enum Content {
    /// A file of a base image (the one its layer's stage starts from), and the package of
    /// the base it belongs to, where dpkg's lists say.
    Base {
        image: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        package: Option<String>,
    },
    /// A file a Debian package installs; `at` is where the package puts it, when the file
    /// is somewhere else.
    Package {
        name: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        at: Option<String>,
    },
    /// A copy of a file of the build context (the exercise folder): `source`, its path there.
    Context { source: String },
    /// None of those: something run during the build made it.
    Built,
}

/// One file of the final image (or one a later layer hid, which still ships in its layer).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FileOrigin {
    /// Absolute path in the image.
    pub path: String,
    pub size: u64,
    /// The layer that wrote it (1-based position).
    pub layer: usize,
    #[serde(flatten)]
    pub content: Content,
    /// An ELF executable or library.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub elf: bool,
    /// Runs as root whoever starts it: setuid or setgid root, or file capabilities that
    /// give root's powers (in words: "setuid root", "capabilities cap_setuid").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub raises: Option<String>,
}

/// The final image's files by origin, and the files later layers hid.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Inventory {
    pub layers: Vec<LayerOrigin>,
    /// Every regular file of the final filesystem, in path order.
    pub files: Vec<FileOrigin>,
    /// Package files a layer wrote and a later layer deleted or replaced: gone from the
    /// filesystem, still in the image's layers (and its size).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub hidden: Vec<FileOrigin>,
    /// The stages the final stage copies from, and what each brought that was made there
    /// (built, or installed by a package): a stage whose copies are only its base image's
    /// files or the context's brings nothing the final stage could not have itself.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub stage_contributions: BTreeMap<String, StageContribution>,
    /// What the container's command runs, as files of the image.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub program: Option<Program>,
}

/// The files a container of the image runs.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Program {
    /// ENTRYPOINT then CMD.
    pub argv: Vec<String>,
    /// The file the first word names, found through PATH and links (None: the image has
    /// no such file).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub executable: Option<String>,
    /// The first file or folder of the image the other words name (what an interpreter
    /// such as java, node or python runs).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub argument: Option<String>,
}

/// Where the program an app goal talks to must come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ProgramRule {
    /// Made by the build from the exercise's sources (where it is made is the `stages`
    /// goal's business).
    Built,
    /// One of the exercise's own files, or built from them.
    Source,
}

/// What a `COPY --from` of one stage brought into the final image.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct StageContribution {
    pub files: usize,
    pub bytes: u64,
    /// Files made in the stage (built, or installed there from a package).
    pub made_there: usize,
    /// Of those, compiled programs (ELF executables and libraries).
    #[serde(default)]
    pub programs: usize,
}

impl StageContribution {
    pub fn contributes(&self) -> bool {
        self.made_there > 0
    }
}

impl Inventory {
    pub fn layer(&self, position: usize) -> Option<&LayerSource> {
        self.layers
            .iter()
            .find(|l| l.position == position)
            .map(|l| &l.source)
    }

    /// The final filesystem's file at `path` (absolute).
    pub fn file(&self, path: &str) -> Option<&FileOrigin> {
        self.files
            .binary_search_by(|f| f.path.as_str().cmp(path))
            .ok()
            .map(|i| &self.files[i])
    }

    /// The files (shipped or hidden) whose content a package matching `denied` installs.
    pub fn package_files<'a>(
        &'a self,
        denied: impl Fn(&str) -> bool + 'a,
    ) -> impl Iterator<Item = &'a FileOrigin> + 'a {
        self.files
            .iter()
            .chain(&self.hidden)
            .filter(move |f| match &f.content {
                Content::Package { name, .. }
                | Content::Base {
                    package: Some(name),
                    ..
                } => denied(name),
                _ => false,
            })
    }

    /// Compiled programs (ELF executables and libraries, Java classes and archives, wasm)
    /// that a RUN of the final image's own stages made: the app built where it ships,
    /// whatever a build stage beside it does.
    pub fn compiled_in_final_stage(&self) -> Vec<&FileOrigin> {
        self.files
            .iter()
            .filter(|f| f.content == Content::Built && f.size > 0 && is_program(f))
            .filter(|f| {
                matches!(self.layer(f.layer),
                    Some(LayerSource::Instruction { keyword, from: None, .. }) if keyword == "RUN")
            })
            .collect()
    }

    /// The stages copied from whose every copied file is their base image's or the
    /// context's: they make nothing the final stage could not have itself.
    pub fn idle_copied_stages(&self) -> Vec<&str> {
        self.stage_contributions
            .iter()
            .filter(|(_, c)| !c.contributes())
            .map(|(stage, _)| stage.as_str())
            .collect()
    }

    /// Why the program the container runs is not the one the rule asks for (None: it is, or
    /// there is nothing to tell): e.g. `sh -c 'echo …'` answers, and no file built from the
    /// exercise's sources runs.
    pub fn program_problem(&self, rule: ProgramRule) -> Option<String> {
        let program = self.program.as_ref()?;
        let is_tool =
            |f: &FileOrigin| matches!(f.content, Content::Package { .. } | Content::Base { .. });
        let executable = program.executable.as_deref().and_then(|p| self.file(p));
        let app_files: Vec<&FileOrigin> = match executable {
            Some(file) if !is_tool(file) => vec![file],
            _ => match program.argument.as_deref() {
                Some(path) => {
                    let folder = format!("{}/", path.trim_end_matches('/'));
                    self.files
                        .iter()
                        .filter(|f| f.path == path || f.path.starts_with(&folder))
                        .collect()
                }
                None => Vec::new(),
            },
        };
        let accepted = |f: &&FileOrigin| match rule {
            ProgramRule::Built => f.content == Content::Built && f.size > 0,
            ProgramRule::Source => matches!(f.content, Content::Built | Content::Context { .. }),
        };
        if app_files.iter().any(accepted) {
            return None;
        }
        let command = quote_command(&program.argv);
        let runs = match (executable, &program.executable) {
            (Some(file), _) => format!("{} is {}", file.path, self.describe(file)),
            (None, Some(path)) => format!("{path} is no file of the image"),
            (None, None) => "its first word is no file of the image".to_string(),
        };
        let given = match (app_files.first(), &program.argument) {
            (Some(file), _) if executable.is_none_or(|e| e.path != file.path) => {
                format!("; {} is {}", file.path, self.describe(file))
            }
            (None, Some(path)) => format!("; {path} holds no file"),
            _ => String::new(),
        };
        let wanted = match rule {
            ProgramRule::Built => "a program the build made from the exercise's sources",
            ProgramRule::Source => "the exercise's own program",
        };
        Some(format!(
            "the container runs {command}: {runs}{given}. What answers must be {wanted}"
        ))
    }

    /// The stages copied from that gave the image no program they built: what a stage
    /// building "in parallel" must do to count.
    pub fn stages_without_programs(&self) -> Vec<&str> {
        self.stage_contributions
            .iter()
            .filter(|(_, c)| c.programs == 0)
            .map(|(stage, _)| stage.as_str())
            .collect()
    }

    /// Where a file came from, in words: "built in stage build (COPY --from=build, line 12)".
    pub fn describe(&self, file: &FileOrigin) -> String {
        let content = match &file.content {
            Content::Base {
                image,
                package: None,
            } => format!("a file of {image}"),
            Content::Base {
                image,
                package: Some(package),
            } => format!("package {package}'s, a file of {image}"),
            Content::Package { name, at: None } => format!("package {name}'s"),
            Content::Package { name, at: Some(at) } => format!("package {name}'s {at}"),
            Content::Context { source } => format!("a copy of the build context's {source}"),
            Content::Built => "made during the build".to_string(),
        };
        match self.layer(file.layer) {
            Some(LayerSource::Instruction {
                stage,
                line,
                keyword,
                from,
                ..
            }) => {
                let via = match from {
                    Some(from) => format!("{keyword} --from={from}"),
                    None => keyword.clone(),
                };
                format!("{content}, by {via} in stage {stage} (line {line})")
            }
            Some(LayerSource::Base { image }) if !matches!(file.content, Content::Base { .. }) => {
                format!("{content}, in a layer of {image}")
            }
            _ => content,
        }
    }

    /// Files and bytes by origin, largest first: one row per base image, per package, per
    /// instruction that made files itself, per stage copied from.
    pub fn by_origin(&self) -> Vec<OriginRow> {
        let mut rows: BTreeMap<String, OriginRow> = BTreeMap::new();
        for file in &self.files {
            let origin = match (&file.content, self.layer(file.layer)) {
                (Content::Base { image, .. }, _) => format!("base image {image}"),
                (Content::Package { name, .. }, _) => format!("package {name}"),
                (Content::Context { .. }, _) => "the build context".to_string(),
                (
                    Content::Built,
                    Some(LayerSource::Instruction {
                        stage,
                        from: Some(from),
                        line,
                        ..
                    }),
                ) => {
                    format!("built in stage {from}, copied by stage {stage} (line {line})")
                }
                (
                    Content::Built,
                    Some(LayerSource::Instruction {
                        stage,
                        line,
                        keyword,
                        ..
                    }),
                ) => {
                    format!("made by {keyword} in stage {stage} (line {line})")
                }
                (Content::Built, _) => "made during the build".to_string(),
            };
            let row = rows.entry(origin.clone()).or_insert(OriginRow {
                origin,
                files: 0,
                bytes: 0,
            });
            row.files += 1;
            row.bytes += file.size;
        }
        let mut rows: Vec<OriginRow> = rows.into_values().collect();
        rows.sort_by(|a, b| b.bytes.cmp(&a.bytes).then(a.origin.cmp(&b.origin)));
        rows
    }

    /// The largest files whose content a package installs elsewhere: a tool under another
    /// name or in another place.
    pub fn foreign_files(&self, count: usize) -> Vec<&FileOrigin> {
        let mut foreign: Vec<&FileOrigin> = self
            .files
            .iter()
            .filter(|f| matches!(&f.content, Content::Package { at: Some(_), .. }))
            .collect();
        foreign.sort_by(|a, b| b.size.cmp(&a.size).then(a.path.cmp(&b.path)));
        foreign.truncate(count);
        foreign
    }
}

/// A command as a shell would show it, cut short.
fn quote_command(argv: &[String]) -> String {
    let words: Vec<String> = argv
        .iter()
        .map(|w| {
            if w.contains(char::is_whitespace) || w.is_empty() {
                format!("'{w}'")
            } else {
                w.clone()
            }
        })
        .collect();
    let line = words.join(" ");
    let short: String = line.chars().take(80).collect();
    format!(
        "`{}{}`",
        short,
        if short.len() < line.len() { "…" } else { "" }
    )
}

/// A compiled program, by what it is rather than where it is.
fn is_program(file: &FileOrigin) -> bool {
    file.elf
        || [".jar", ".class", ".wasm"]
            .iter()
            .any(|ext| file.path.to_ascii_lowercase().ends_with(ext))
}

/// One row of [`Inventory::by_origin`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OriginRow {
    pub origin: String,
    pub files: usize,
    pub bytes: u64,
}

/// Capabilities that give root's powers: every one but binding low ports
/// (`cap_net_bind_service`, what a non-root web server legitimately asks for).
pub fn capabilities_that_raise(raw: &[u8]) -> Vec<&'static str> {
    // vfs_cap_data: magic_etc (le32), then (permitted, inheritable) for the low 32
    // capabilities, and for revisions 2 and 3 the high 32.
    let word = |i: usize| {
        raw.get(i * 4..i * 4 + 4)
            .map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]) as u64)
            .unwrap_or(0)
    };
    let permitted = word(1) | (word(3) << 32);
    const NET_BIND_SERVICE: usize = 10;
    CAPABILITY_NAMES
        .iter()
        .enumerate()
        .filter(|(bit, _)| *bit != NET_BIND_SERVICE && permitted & (1 << bit) != 0)
        .map(|(_, name)| *name)
        .collect()
}

/// Linux capability names by bit (linux/capability.h).
const CAPABILITY_NAMES: [&str; 41] = [
    "cap_chown",
    "cap_dac_override",
    "cap_dac_read_search",
    "cap_fowner",
    "cap_fsetid",
    "cap_kill",
    "cap_setgid",
    "cap_setuid",
    "cap_setpcap",
    "cap_linux_immutable",
    "cap_net_bind_service",
    "cap_net_broadcast",
    "cap_net_admin",
    "cap_net_raw",
    "cap_ipc_lock",
    "cap_ipc_owner",
    "cap_sys_module",
    "cap_sys_rawio",
    "cap_sys_chroot",
    "cap_sys_ptrace",
    "cap_sys_pacct",
    "cap_sys_admin",
    "cap_sys_boot",
    "cap_sys_nice",
    "cap_sys_resource",
    "cap_sys_time",
    "cap_sys_tty_config",
    "cap_mknod",
    "cap_lease",
    "cap_audit_write",
    "cap_audit_control",
    "cap_setfcap",
    "cap_mac_override",
    "cap_mac_admin",
    "cap_syslog",
    "cap_wake_alarm",
    "cap_block_suspend",
    "cap_audit_read",
    "cap_perfmon",
    "cap_bpf",
    "cap_checkpoint_restore",
];

#[cfg(test)]
mod tests {
    use super::*;

    fn file(path: &str, size: u64, layer: usize, content: Content) -> FileOrigin {
        FileOrigin {
            path: path.into(),
            size,
            layer,
            content,
            elf: false,
            raises: None,
        }
    }

    fn instruction(stage: &str, line: usize, keyword: &str, from: Option<&str>) -> LayerSource {
        LayerSource::Instruction {
            stage: stage.into(),
            line,
            keyword: keyword.into(),
            text: String::new(),
            from: from.map(str::to_string),
        }
    }

    pub(super) fn sample() -> Inventory {
        let base = "gcr.io/distroless/static-debian12:nonroot".to_string();
        Inventory {
            layers: vec![
                LayerOrigin {
                    position: 1,
                    source: LayerSource::Base {
                        image: base.clone(),
                    },
                },
                LayerOrigin {
                    position: 2,
                    source: instruction("stage-1", 12, "COPY", Some("build")),
                },
                LayerOrigin {
                    position: 3,
                    source: instruction("stage-1", 13, "COPY", Some("tools")),
                },
            ],
            files: vec![
                file(
                    "/etc/app.conf",
                    10,
                    2,
                    Content::Context {
                        source: "app.conf".into(),
                    },
                ),
                file(
                    "/etc/passwd",
                    500,
                    1,
                    Content::Base {
                        image: base,
                        package: None,
                    },
                ),
                file(
                    "/usr/local/bin/x",
                    2_000_000,
                    3,
                    Content::Package {
                        name: "busybox-static".into(),
                        at: Some("/bin/busybox".into()),
                    },
                ),
                file("/worldclock", 2_230_000, 2, Content::Built),
            ],
            ..Inventory::default()
        }
    }

    #[test]
    fn a_file_is_described_by_content_and_by_the_layer_that_brought_it() {
        let inv = sample();
        let busybox = inv.file("/usr/local/bin/x").unwrap();
        assert_eq!(
            inv.describe(busybox),
            "package busybox-static's /bin/busybox, by COPY --from=tools in stage stage-1 (line 13)"
        );
        assert_eq!(
            inv.describe(inv.file("/worldclock").unwrap()),
            "made during the build, by COPY --from=build in stage stage-1 (line 12)"
        );
        assert_eq!(inv.foreign_files(5), vec![busybox]);
        assert_eq!(
            inv.package_files(|name| name.starts_with("busybox"))
                .count(),
            1
        );
    }

    #[test]
    fn an_app_answered_by_a_shell_is_not_the_exercise_s_program() {
        let mut inv = sample();
        inv.files.push(file(
            "/usr/bin/dash",
            120_000,
            1,
            Content::Package {
                name: "dash".into(),
                at: None,
            },
        ));
        inv.files.sort_by(|a, b| a.path.cmp(&b.path));
        inv.program = Some(Program {
            argv: vec!["/bin/sh".into(), "-c".into(), "echo about 1.4.2".into()],
            executable: Some("/usr/bin/dash".into()),
            argument: None,
        });
        let why = inv.program_problem(ProgramRule::Built).unwrap();
        assert!(
            why.starts_with("the container runs `/bin/sh -c 'echo about 1.4.2'`: /usr/bin/dash is package dash's"),
            "{why}"
        );
        // The program a build stage made, copied in: what the rule asks.
        inv.program = Some(Program {
            argv: vec!["/worldclock".into()],
            executable: Some("/worldclock".into()),
            argument: None,
        });
        assert_eq!(inv.program_problem(ProgramRule::Built), None);
        // A context file is the exercise's source, not a build's output.
        inv.program = Some(Program {
            argv: vec!["/usr/bin/dash".into(), "/etc/app.conf".into()],
            executable: Some("/usr/bin/dash".into()),
            argument: Some("/etc/app.conf".into()),
        });
        assert!(inv.program_problem(ProgramRule::Built).is_some());
        assert_eq!(inv.program_problem(ProgramRule::Source), None);
    }

    #[test]
    fn files_and_bytes_add_up_by_origin_largest_first() {
        let rows = sample().by_origin();
        let origins: Vec<&str> = rows.iter().map(|r| r.origin.as_str()).collect();
        assert_eq!(
            origins,
            vec![
                "built in stage build, copied by stage stage-1 (line 12)",
                "package busybox-static",
                "base image gcr.io/distroless/static-debian12:nonroot",
                "the build context",
            ]
        );
        assert_eq!(rows.iter().map(|r| r.files).sum::<usize>(), 4);
    }

    #[test]
    fn only_capabilities_beyond_binding_low_ports_raise() {
        // magic_etc revision 2, permitted = cap_net_bind_service only.
        let mut raw = vec![0u8; 20];
        raw[0..4].copy_from_slice(&0x0200_0001u32.to_le_bytes());
        raw[4..8].copy_from_slice(&(1u32 << 10).to_le_bytes());
        assert!(capabilities_that_raise(&raw).is_empty());
        raw[4..8].copy_from_slice(&((1u32 << 10) | (1 << 7)).to_le_bytes());
        assert_eq!(capabilities_that_raise(&raw), vec!["cap_setuid"]);
        // A high capability (bit 38, cap_perfmon) in the second word.
        raw[4..8].copy_from_slice(&0u32.to_le_bytes());
        raw[12..16].copy_from_slice(&(1u32 << 6).to_le_bytes());
        assert_eq!(capabilities_that_raise(&raw), vec!["cap_perfmon"]);
    }
}

#[cfg(test)]
mod round_trip {
    #[test]
    fn an_inventory_reads_back_what_it_wrote() {
        let inventory = super::tests::sample();
        let text = serde_json::to_string(&inventory).unwrap();
        let back: super::Inventory =
            serde_json::from_str(&text).unwrap_or_else(|e| panic!("{e}: {text}"));
        assert_eq!(back, inventory);
    }
}
