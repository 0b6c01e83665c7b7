//! `packages`: what dpkg's database in the final image says is installed, not which files
//! happen to be there. Deleting `javac` or `/usr/bin/openssl` leaves the package listed
//! (and the rest of its files in place); the database tells what really ships.
//!
//! - `absent`: name patterns (`*` matches any run of characters) no installed package may
//!   match: the build toolchain (`openjdk-*-jdk*`, `nodejs`, `gcc*`).
//! - `needed_by` with `base`: every installed package is one the base image already has, or
//!   one the named packages need (their `Depends`/`Pre-Depends`, followed through): what
//!   apt adds beyond that is what they only recommend or suggest.

use std::collections::{BTreeMap, BTreeSet};

use regex::Regex;
use serde::{Deserialize, Serialize};

use super::{Goal, Kind, Probe, Verdict};
use crate::docker::api::EngineApi;
use crate::docker::{contents, dpkg};
use crate::error::CheckerError;
use crate::docker::dockerfile::{Base, StageGraph};
use crate::facts::inventory::{Content, FileOrigin};
use crate::facts::packages::Package;
use crate::facts::{Measurements, ProbeOutcome};

#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Packages {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub absent: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub needed_by: Vec<String>,
    /// The image the final stage is meant to start from; its packages are allowed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub base: Option<String>,
}

/// `openjdk-*-jdk*` as an anchored regex; package names hold no other special character.
fn glob(pattern: &str) -> Regex {
    let body = regex::escape(pattern).replace(r"\*", ".*");
    Regex::new(&format!("^{body}$")).expect("an escaped pattern is a valid regex")
}

impl Kind for Packages {
    fn validate(&self, at: &str) -> Result<(), String> {
        if self.absent.is_empty() && self.needed_by.is_empty() {
            return Err(format!("{at}: set `absent`, `needed_by` or both"));
        }
        if self.needed_by.is_empty() != self.base.is_none() {
            return Err(format!(
                "{at}: `needed_by` and `base` go together: the packages the image may hold are the base's and what `needed_by` needs"
            ));
        }
        let valid = |p: &String| {
            !p.is_empty()
                && p.chars()
                    .all(|c| c.is_ascii_alphanumeric() || "+-.*".contains(c))
        };
        if let Some(p) = self.absent.iter().chain(&self.needed_by).find(|p| !valid(p)) {
            return Err(format!(
                "{at}: `{p}` is no package name (letters, digits, + - . and * only)"
            ));
        }
        Ok(())
    }
    fn target(&self) -> String {
        let mut target = Vec::new();
        if !self.absent.is_empty() {
            target.push(format!("no package or file of: {}", self.absent.join(", ")));
        }
        if let Some(base) = &self.base {
            target.push(format!(
                "only what {} needs on top of {base}",
                self.needed_by.join(", ")
            ));
        }
        target.join("; ")
    }
    /// Reads dpkg's database of the final image (and of the base, when the goal names one).
    async fn probe(
        &self,
        _goal: &Goal,
        probe: &mut Probe<'_>,
    ) -> Result<Option<ProbeOutcome>, CheckerError> {
        let installed = installed_in(probe.engine, probe.image).await?;
        let base = match &self.base {
            Some(base) => Some(
                installed_in(probe.engine, base)
                    .await?
                    .into_iter()
                    .map(|p| p.name)
                    .collect(),
            ),
            None => None,
        };
        let named = named_in_apt_installs(probe.graph);
        Ok(Some(ProbeOutcome::Packages {
            installed,
            base,
            named,
        }))
    }
    fn judge(&self, goal: &Goal, _: &[Goal], m: &Measurements) -> Verdict {
        let target = self.target();
        let Some(ProbeOutcome::Packages {
            installed,
            base,
            named,
        }) = m.probes.get(&goal.id)
        else {
            return Verdict::new(goal, false, "not measured".into(), target);
        };
        let patterns: Vec<Regex> = self.absent.iter().map(|p| glob(p)).collect();
        let is_denied = |name: &str| patterns.iter().any(|r| r.is_match(name));
        let denied: Vec<&str> = installed
            .iter()
            .filter(|p| is_denied(&p.name))
            .map(|p| p.name.as_str())
            .collect();
        if !denied.is_empty() {
            return Verdict::new(goal, false, format!("installed: {}", denied.join(", ")), target)
                .detail(format!(
                    "dpkg still lists {} in the final image: deleting a few of its files leaves the package and the rest of them; install it in a build stage and COPY --from only what that stage built",
                    denied.join(", ")
                ));
        }
        if let Some(verdict) = self.denied_by_content(goal, m, &is_denied) {
            return verdict;
        }
        let Some(base) = base else {
            return Verdict::new(goal, true, format!("{} packages, none of them denied", installed.len()), target);
        };
        if installed.is_empty() && !base.is_empty() {
            return Verdict::new(goal, false, "no dpkg database".into(), target).detail(format!(
                "the image has no dpkg database although {} has one: keep /var/lib/dpkg, the record of what the image holds",
                self.base.as_deref().unwrap_or_default()
            ));
        }
        let mut roots = self.needed_by.clone();
        roots.extend(named.iter().cloned());
        roots.sort();
        roots.dedup();
        let extra = beyond_needs(installed, base, &roots);
        if extra.is_empty() {
            return Verdict::new(
                goal,
                true,
                format!("{} packages, each in the base, asked for, or needed", installed.len()),
                target,
            );
        }
        let shown: Vec<&str> = extra.iter().take(8).map(String::as_str).collect();
        let more = extra.len() - shown.len();
        Verdict::new(
            goal,
            false,
            format!(
                "{} package{} nothing needs: {}{}",
                extra.len(),
                if extra.len() == 1 { "" } else { "s" },
                shown.join(", "),
                if more > 0 { format!(" and {more} more") } else { String::new() }
            ),
            target,
        )
        .detail(format!(
            "nothing the Dockerfile installs ({}) needs these: apt added them as recommended or suggested, and dpkg lists them as installed. Install with --no-install-recommends (deleting their files leaves the packages)",
            roots.join(", ")
        ))
    }
}

impl Packages {
    /// A denied package's files shipped whatever dpkg's status says: under another name,
    /// copied out of a build stage, or installed and deleted in a later layer (which still
    /// ships them). Known by content, from the package lists of every stage and layer.
    fn denied_by_content(
        &self,
        goal: &Goal,
        m: &Measurements,
        is_denied: &dyn Fn(&str) -> bool,
    ) -> Option<Verdict> {
        let inventory = m.inventory.as_ref()?;
        let shipped: Vec<&FileOrigin> = inventory.package_files(is_denied).collect();
        let first = shipped.first()?;
        let mut packages: Vec<&str> = shipped
            .iter()
            .filter_map(|f| match &f.content {
                Content::Package { name, .. }
                | Content::Base {
                    package: Some(name),
                    ..
                } => Some(name.as_str()),
                _ => None,
            })
            .collect();
        packages.sort();
        packages.dedup();
        let bytes: u64 = shipped.iter().map(|f| f.size).sum();
        let hidden = shipped
            .iter()
            .filter(|f| inventory.file(&f.path).is_none_or(|live| live != **f))
            .count();
        let mut detail = format!(
            "{} {} of {} ship in the image ({}), though dpkg's status in the image does not list {}: {} is {}",
            shipped.len(),
            if shipped.len() == 1 { "file" } else { "files" },
            packages.join(", "),
            crate::facts::format_mb(bytes),
            if packages.len() == 1 { "it" } else { "them" },
            first.path,
            inventory.describe(first)
        );
        if hidden > 0 {
            detail.push_str(&format!(
                ". {hidden} of them a later layer deleted, which leaves them in the layer that wrote them"
            ));
        }
        detail.push_str(". Install the tool in a build stage and COPY --from only what it built");
        Some(
            Verdict::new(
                goal,
                false,
                format!("ships files of {}", packages.join(", ")),
                self.target(),
            )
            .detail(detail),
        )
    }
}

/// The packages `apt-get install` / `apt install` names in the RUN instructions of the
/// stages the final image is made of (variables and options left out).
pub fn named_in_apt_installs(graph: &StageGraph) -> Vec<String> {
    let mut stage = graph.target;
    let mut chain = vec![stage];
    while let Base::Stage(parent) = graph.stages[stage].base {
        if chain.contains(&parent) {
            break;
        }
        chain.push(parent);
        stage = parent;
    }
    let mut named: Vec<String> = chain
        .iter()
        .flat_map(|&s| &graph.stages[s].steps)
        .filter(|step| step.keyword == "RUN")
        .flat_map(|step| apt_install_arguments(&step.text))
        .collect();
    named.sort();
    named.dedup();
    named
}

/// The package names of every `apt-get install` or `apt install` in a shell command.
fn apt_install_arguments(command: &str) -> Vec<String> {
    let words: Vec<&str> = command
        .split(|c: char| c.is_whitespace() || c == '\\')
        .filter(|w| !w.is_empty())
        .collect();
    let mut names = Vec::new();
    let mut i = 0;
    while i < words.len() {
        let is_apt = matches!(words[i], "apt-get" | "apt" | "/usr/bin/apt-get" | "/usr/bin/apt");
        let install_at = is_apt
            .then(|| words[i + 1..].iter().take_while(|w| w.starts_with('-') || **w == "install").position(|w| *w == "install"))
            .flatten();
        let Some(offset) = install_at else {
            i += 1;
            continue;
        };
        i += offset + 2;
        while i < words.len() && !matches!(words[i], "&&" | "||" | ";" | "|") {
            let word = words[i].trim_end_matches(';');
            let name = word.split(['=', ':']).next().unwrap_or_default();
            let is_name = !word.starts_with('-')
                && !name.is_empty()
                && name.chars().all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c));
            if is_name {
                names.push(name.to_string());
            }
            if word.len() != words[i].len() {
                break;
            }
            i += 1;
        }
    }
    names
}

async fn installed_in(engine: &dyn EngineApi, image: &str) -> Result<Vec<Package>, CheckerError> {
    let contents = contents::contents_of(engine, image).await?;
    Ok(contents
        .filesystem()
        .dpkg_status
        .iter()
        .flat_map(|t| dpkg::installed(t))
        .collect())
}

/// The installed packages that are neither in `base` nor needed (followed through Depends
/// and Pre-Depends, an alternative or a virtual package met by whatever installed package
/// satisfies it) by the installed packages of `roots`; sorted.
pub fn beyond_needs(installed: &[Package], base: &[String], roots: &[String]) -> Vec<String> {
    let by_name: BTreeMap<&str, &Package> =
        installed.iter().map(|p| (p.name.as_str(), p)).collect();
    // What satisfies a name: the package of that name, and every package providing it.
    let mut satisfies: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for p in installed {
        satisfies.entry(&p.name).or_default().push(&p.name);
        for v in &p.provides {
            satisfies.entry(v).or_default().push(&p.name);
        }
    }
    let mut needed: BTreeSet<&str> = BTreeSet::new();
    let mut todo: Vec<&str> = roots
        .iter()
        .filter_map(|r| by_name.get(r.as_str()).map(|p| p.name.as_str()))
        .collect();
    while let Some(name) = todo.pop() {
        if !needed.insert(name) {
            continue;
        }
        for requirement in &by_name[name].depends {
            for alternative in requirement {
                if let Some(providers) = satisfies.get(alternative.as_str()) {
                    todo.extend(providers.iter().copied());
                }
            }
        }
    }
    let base: BTreeSet<&str> = base.iter().map(String::as_str).collect();
    let mut extra: Vec<String> = installed
        .iter()
        .map(|p| p.name.as_str())
        .filter(|n| !needed.contains(n) && !base.contains(n))
        .map(str::to_string)
        .collect();
    extra.sort();
    extra.dedup();
    extra
}

#[cfg(test)]
mod judging {
    use super::*;
    use crate::goals::verdict::testing::{evaluate_goal, goal, measured};
    use crate::goals::GoalKind;

    fn package(name: &str, depends: &[&[&str]], provides: &[&str]) -> Package {
        Package {
            name: name.into(),
            depends: depends
                .iter()
                .map(|alts| alts.iter().map(|a| a.to_string()).collect())
                .collect(),
            provides: provides.iter().map(|p| p.to_string()).collect(),
        }
    }

    fn outcome(installed: Vec<Package>, base: Option<&[&str]>) -> Measurements {
        let mut m = measured();
        m.probes.insert(
            "pkgs".into(),
            ProbeOutcome::Packages {
                installed,
                base: base.map(|b| b.iter().map(|n| n.to_string()).collect()),
                named: vec![],
            },
        );
        m
    }

    #[test]
    fn a_denied_package_is_caught_whatever_files_remain() {
        let g = goal(
            "pkgs",
            GoalKind::Packages(Packages {
                absent: vec!["openjdk-*-jdk*".into(), "nodejs".into()],
                needed_by: vec![],
                base: None,
            }),
        );
        let m = outcome(
            vec![
                package("openjdk-17-jre-headless", &[], &[]),
                package("openjdk-17-jdk-headless", &[&["openjdk-17-jre-headless"]], &[]),
            ],
            None,
        );
        let v = evaluate_goal(&g, &m);
        assert!(!v.met);
        assert_eq!(v.measured, "installed: openjdk-17-jdk-headless");
        assert!(v.detail.unwrap().contains("install it in a build stage"));
        let m = outcome(vec![package("openjdk-17-jre-headless", &[], &[])], None);
        assert!(evaluate_goal(&g, &m).met, "the JRE is no JDK");
        assert!(evaluate_goal(&g, &outcome(vec![], None)).met, "scratch has no packages");
        assert!(glob("nodejs").is_match("nodejs") && !glob("nodejs").is_match("nodejs-doc"));
    }

    #[test]
    fn recommends_are_what_neither_the_base_nor_the_roots_need() {
        let g = goal(
            "pkgs",
            GoalKind::Packages(Packages {
                absent: vec![],
                needed_by: vec!["python3".into()],
                base: Some("debian:bookworm-slim".into()),
            }),
        );
        let core = vec![
            package("libc6", &[], &[]),
            package("python3", &[&["python3.11"], &["python3-minimal"]], &[]),
            package("python3.11", &[&["libexpat1"], &["media-types", "mime-support"]], &[]),
            package("python3-minimal", &[], &[]),
            package("libexpat1", &[&["libc6"]], &[]),
            package("mailcap-ish", &[], &["media-types"]),
        ];
        let base: &[&str] = &["libc6"];
        let v = evaluate_goal(&g, &outcome(core.clone(), Some(base)));
        assert!(v.met, "{v:?}");
        let mut messy = core.clone();
        messy.push(package("openssl", &[&["libc6"]], &[]));
        messy.push(package("ca-certificates", &[&["openssl"]], &[]));
        let v = evaluate_goal(&g, &outcome(messy, Some(base)));
        assert!(!v.met);
        assert_eq!(v.measured, "2 packages nothing needs: ca-certificates, openssl");
        assert!(v.detail.unwrap().contains("--no-install-recommends"));
        let v = evaluate_goal(&g, &outcome(vec![], Some(base)));
        assert!(!v.met, "a deleted dpkg database hides nothing");
        assert_eq!(v.measured, "no dpkg database");
    }

    #[test]
    fn a_package_the_dockerfile_names_is_wanted_and_what_it_needs() {
        // Exercise 12 with tini installed on purpose as PID 1: the learner asked for it.
        let g = goal(
            "pkgs",
            GoalKind::Packages(Packages {
                absent: vec![],
                needed_by: vec!["python3".into()],
                base: Some("debian:bookworm-slim".into()),
            }),
        );
        let installed = vec![
            package("libc6", &[], &[]),
            package("python3", &[], &[]),
            package("tini", &[&["libc6"]], &[]),
            package("libtini-extra", &[], &[]),
        ];
        let mut m = outcome(installed, Some(&["libc6"]));
        let v = evaluate_goal(&g, &m);
        assert_eq!(v.measured, "2 packages nothing needs: libtini-extra, tini");
        if let Some(ProbeOutcome::Packages { named, .. }) = m.probes.get_mut("pkgs") {
            *named = vec!["python3".into(), "tini".into()];
        }
        let v = evaluate_goal(&g, &m);
        assert_eq!(v.measured, "1 package nothing needs: libtini-extra");
        assert!(v.detail.unwrap().contains("(python3, tini)"));
    }

    #[test]
    fn apt_install_lines_name_their_packages() {
        let named = apt_install_arguments(
            "apt-get update && apt-get install -y --no-install-recommends python3 tini=0.19.0-1 \\\n    libfoo1:amd64 && rm -rf /var/lib/apt/lists/*; apt -qq install nginx; apt-get update",
        );
        assert_eq!(named, vec!["python3", "tini", "libfoo1", "nginx"]);
        assert!(apt_install_arguments("apt-get install -y $PACKAGES").is_empty());
        assert!(apt_install_arguments("echo apt-get update").is_empty());
    }

    #[test]
    fn a_denied_package_s_files_are_found_under_any_name_and_in_hidden_layers() {
        use crate::facts::inventory::{Inventory, LayerOrigin, LayerSource};
        let g = goal(
            "pkgs",
            GoalKind::Packages(Packages {
                absent: vec!["busybox*".into()],
                needed_by: vec![],
                base: None,
            }),
        );
        let mut m = outcome(vec![], None);
        let busybox = FileOrigin {
            path: "/usr/local/bin/x".into(),
            size: 2_000_000,
            layer: 1,
            content: Content::Package {
                name: "busybox-static".into(),
                at: Some("/bin/busybox".into()),
            },
            elf: true,
            raises: None,
        };
        m.inventory = Some(Inventory {
            layers: vec![LayerOrigin {
                position: 1,
                source: LayerSource::Instruction {
                    stage: "stage-1".into(),
                    line: 12,
                    keyword: "COPY".into(),
                    text: String::new(),
                    from: Some("tools".into()),
                },
            }],
            files: vec![busybox.clone()],
            ..Inventory::default()
        });
        let v = evaluate_goal(&g, &m);
        assert!(!v.met);
        assert_eq!(v.measured, "ships files of busybox-static");
        assert!(
            v.detail.as_deref().unwrap().starts_with(
                "1 file of busybox-static ship in the image (2.00 MB), though dpkg's status in the image does not list it: /usr/local/bin/x is package busybox-static's /bin/busybox, by COPY --from=tools in stage stage-1 (line 12)"
            ),
            "{v:?}"
        );
        // Installed, then deleted by a later layer: still shipped, and said so.
        let inventory = m.inventory.as_mut().unwrap();
        inventory.files.clear();
        inventory.hidden.push(busybox);
        let v = evaluate_goal(&g, &m);
        assert!(v.detail.unwrap().contains("1 of them a later layer deleted"));
    }

    #[test]
    fn settings_are_checked() {
        let p = |absent: &[&str], needed_by: &[&str], base: Option<&str>| Packages {
            absent: absent.iter().map(|s| s.to_string()).collect(),
            needed_by: needed_by.iter().map(|s| s.to_string()).collect(),
            base: base.map(String::from),
        };
        assert!(p(&[], &[], None).validate("g").is_err());
        assert!(p(&[], &["python3"], None).validate("g").is_err());
        assert!(p(&["gcc["], &[], None).validate("g").unwrap_err().contains("`gcc[`"));
        assert!(p(&["gcc*"], &["python3"], Some("debian:bookworm-slim")).validate("g").is_ok());
    }
}
