//! Which uid an image runs as, decided without starting it: the image config's `User`
//! (what USER left behind), resolved through the image's own /etc/passwd and /etc/group
//! exactly as Docker resolves it when the container starts.
//!
//! Docker's daemon resolves the user with moby/sys/user (runc's libcontainer/user before
//! it), whose rules differ from what a reader of passwd(5) expects, and a check that reads
//! the file otherwise passes images that run as root:
//! - each line is trimmed and split on `:`; a uid or gid field that is not a plain decimal
//!   number (`10001 `, `1e4`, empty) is read as **0**: `app:x:10001 :10001::/:/bin/false`
//!   makes `USER app` root;
//! - `#` does not start a comment in passwd (it does in group): `#app` is a user named so;
//! - the first line that matches wins; a numeric USER matches lines by uid, never by name;
//! - numbers are Go's `strconv.Atoi`: an optional sign, then digits (`+0` and `000` are 0);
//!   a uid outside 0..=2^31-1 stops the container from starting.

use serde::Serialize;

/// The outcome of resolving an image's user.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(tag = "outcome", rename_all = "kebab-case")]
pub enum ResolvedUser {
    /// A uid other than 0: the goal is met (as far as the user goes).
    NonRoot {
        uid: u32,
        written: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        gid: Option<u32>,
    },
    /// No USER applies to the image: the runtime's default, root.
    NoUser,
    /// `root`, `0`, `0:0`, or a name that /etc/passwd maps to uid 0; `why` says how, when the
    /// file reads otherwise to a person (a uid field Docker cannot read as a number).
    Root {
        written: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        why: Option<String>,
    },
    /// A name, but the image has no /etc/passwd (scratch, distroless-like bases).
    NoPasswd { name: String },
    /// A name the image's /etc/passwd lacks; `docker run` fails with "unable to find user".
    UnknownName { name: String },
    /// A number outside 0..=2147483647, or a group that cannot be found: the container
    /// does not start.
    CannotStart { written: String, reason: String },
}

impl ResolvedUser {
    pub fn is_non_root(&self) -> bool {
        matches!(self, ResolvedUser::NonRoot { .. })
    }

    /// One line for the report: what was measured and, if it fails, why.
    pub fn describe(&self) -> String {
        match self {
            ResolvedUser::NonRoot { uid, written, .. } if written == &uid.to_string() => {
                format!("uid {uid}")
            }
            ResolvedUser::NonRoot { uid, written, .. } => format!("`{written}` = uid {uid}"),
            ResolvedUser::NoUser => "no USER in the final image: it runs as root".into(),
            ResolvedUser::Root { written, why: None } => {
                format!("USER `{written}` is root (uid 0)")
            }
            ResolvedUser::Root {
                written,
                why: Some(why),
            } => format!("USER `{written}` is root (uid 0): {why}"),
            ResolvedUser::NoPasswd { name } => format!(
                "USER `{name}` is a name, but the image has no /etc/passwd to resolve it, so the container does not start (\"unable to find user {name}\"): add the user's line to /etc/passwd, or use a base that has it (distroless's `nonroot`)"
            ),
            ResolvedUser::UnknownName { name } => format!(
                "USER `{name}` is not in the image's /etc/passwd; `docker run` would fail with \"unable to find user {name}\""
            ),
            ResolvedUser::CannotStart { written, reason } => {
                format!("USER `{written}`: the container does not start ({reason})")
            }
        }
    }
}

/// The largest uid or gid Docker accepts (moby/sys/user's `maxID`).
const MAX_ID: i64 = (1 << 31) - 1;

/// Go's `strconv.Atoi`: an optional sign, then one or more decimal digits, nothing else.
/// `Err(true)`: digits, but too many for an int64 (Go's ErrRange); `Err(false)`: not a number.
fn atoi(text: &str) -> Result<i64, bool> {
    let digits = text.strip_prefix(['+', '-']).unwrap_or(text);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(false);
    }
    text.parse::<i64>().map_err(|_| true)
}

/// One line of /etc/passwd or /etc/group as moby/sys/user reads it: the name and the id
/// field (field 2 of both), the id 0 when it does not read as a number.
struct Line<'a> {
    name: &'a str,
    id_field: &'a str,
    id: i64,
    /// passwd: the gid field; group: unused.
    gid: i64,
    /// group: the member list.
    members: Vec<&'a str>,
}

fn lines(text: &str, skip_comments: bool) -> Vec<Line<'_>> {
    text.split('\n')
        .map(|line| line.trim_matches(|c: char| c.is_whitespace()))
        .filter(|line| !(line.is_empty() || skip_comments && line.starts_with('#')))
        .map(|line| {
            let fields: Vec<&str> = line.split(':').collect();
            let field = |i: usize| fields.get(i).copied().unwrap_or("");
            let id_field = field(2);
            Line {
                name: field(0),
                id_field,
                id: atoi(id_field).unwrap_or(0),
                gid: atoi(field(3)).unwrap_or(0),
                members: field(3).split(',').filter(|m| !m.is_empty()).collect(),
            }
        })
        .collect()
}

/// A part of the user spec: a number, or a name.
enum Spec<'a> {
    Number(i64),
    Name(&'a str),
}

fn spec(part: &str) -> Result<Spec<'_>, String> {
    match atoi(part) {
        Ok(n) if (0..=MAX_ID).contains(&n) => Ok(Spec::Number(n)),
        Ok(_) | Err(true) => Err(format!(
            "`{part}` is outside the uids and gids Docker accepts, 0 to {MAX_ID}"
        )),
        Err(false) => Ok(Spec::Name(part)),
    }
}

/// Resolves the image config's `User` (`name`, `uid`, `name:group`, `uid:gid`) against the
/// image's /etc/passwd and /etc/group (None: the image has none), as Docker does.
pub fn resolve_user(config_user: &str, passwd: Option<&str>, group: Option<&str>) -> ResolvedUser {
    let written = config_user.trim();
    if written.is_empty() {
        return ResolvedUser::NoUser;
    }
    let (user_part, group_part) = written.split_once(':').unwrap_or((written, ""));
    let cannot_start = |reason: String| ResolvedUser::CannotStart {
        written: written.into(),
        reason,
    };
    let user = match spec(user_part) {
        Ok(user) => user,
        Err(reason) => return cannot_start(reason),
    };
    let entries = passwd.map(|p| lines(p, false)).unwrap_or_default();
    let matched = entries.iter().find(|line| match user {
        Spec::Number(uid) => line.id == uid,
        Spec::Name(name) => line.name == name,
    });
    let (uid, passwd_gid, odd_field) = match (&user, matched) {
        (_, Some(line)) => (
            line.id,
            line.gid,
            atoi(line.id_field).is_err().then_some(line),
        ),
        (Spec::Number(uid), None) => (*uid, 0, None),
        (Spec::Name(name), None) if passwd.is_none() => {
            return ResolvedUser::NoPasswd {
                name: name.to_string(),
            }
        }
        (Spec::Name(name), None) => {
            return ResolvedUser::UnknownName {
                name: name.to_string(),
            }
        }
    };
    let gid = match resolve_group(group_part, passwd_gid, group) {
        Ok(gid) => gid,
        Err(reason) => return cannot_start(reason),
    };
    // Docker hands the runtime `uint32(uid)`.
    match uid as u32 {
        0 => ResolvedUser::Root {
            written: written.into(),
            why: odd_field.map(|line| {
                format!(
                    "the /etc/passwd line of `{}` has the uid field `{}`, which Docker does not read as a number and takes as 0",
                    line.name, line.id_field
                )
            }),
        },
        uid => ResolvedUser::NonRoot {
            uid,
            written: written.into(),
            gid: Some(gid as u32),
        },
    }
}

/// The gid: the spec's group (a number, or a name /etc/group knows), else the passwd line's.
fn resolve_group(group_part: &str, passwd_gid: i64, group: Option<&str>) -> Result<i64, String> {
    if group_part.is_empty() {
        return Ok(passwd_gid);
    }
    let wanted = spec(group_part)?;
    let entries = group.map(|g| lines(g, true)).unwrap_or_default();
    let found = entries.iter().find(|line| match wanted {
        Spec::Number(gid) => line.id == gid,
        Spec::Name(name) => line.name == name,
    });
    match (wanted, found) {
        (_, Some(line)) => Ok(line.id),
        (Spec::Number(gid), None) => Ok(gid),
        (Spec::Name(name), None) => Err(format!("unable to find group {name}")),
    }
}

/// The groups `/etc/group` lists `name` as a member of (what Docker adds as supplementary
/// groups when USER names no group).
pub fn member_of<'a>(group: &'a str, name: &str) -> Vec<&'a str> {
    lines(group, true)
        .into_iter()
        .filter(|line| line.members.contains(&name))
        .map(|line| line.name)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const PASSWD: &str = "root:x:0:0:root:/root:/bin/bash\n# comment\napp:x:10001:10001::/home/app:/usr/sbin/nologin\ntoor:x:0:0::/:/bin/sh\n";

    fn non_root(uid: u32, written: &str, gid: u32) -> ResolvedUser {
        ResolvedUser::NonRoot {
            uid,
            written: written.into(),
            gid: Some(gid),
        }
    }

    fn root(written: &str) -> ResolvedUser {
        ResolvedUser::Root {
            written: written.into(),
            why: None,
        }
    }

    #[test]
    fn missing_user_is_root() {
        assert_eq!(resolve_user("", Some(PASSWD), None), ResolvedUser::NoUser);
        assert!(!resolve_user("  ", None, None).is_non_root());
    }

    #[test]
    fn numeric_forms() {
        assert_eq!(
            resolve_user("10001", None, None),
            non_root(10001, "10001", 0)
        );
        assert_eq!(
            resolve_user("10001:10001", None, None),
            non_root(10001, "10001:10001", 10001)
        );
        assert_eq!(resolve_user("0", None, None), root("0"));
        assert_eq!(resolve_user("0:0", Some(PASSWD), None), root("0:0"));
        // Go's Atoi: a sign and leading zeros are a number, so these are root too.
        assert_eq!(resolve_user("+0", None, None), root("+0"));
        assert_eq!(resolve_user("000", None, None), root("000"));
        // A numeric uid takes its passwd line's gid when USER names no group.
        assert_eq!(
            resolve_user("10001", Some(PASSWD), None),
            non_root(10001, "10001", 10001)
        );
    }

    #[test]
    fn numbers_docker_refuses_stop_the_container() {
        for written in ["-1", "2147483648", "99999999999999999999"] {
            assert!(
                matches!(
                    resolve_user(written, None, None),
                    ResolvedUser::CannotStart { .. }
                ),
                "{written}"
            );
        }
        // A group name the image's /etc/group lacks.
        let v = resolve_user("10001:staff", None, Some("root:x:0:\n"));
        assert!(v.describe().contains("unable to find group staff"), "{v:?}");
        // A numeric gid needs no entry.
        assert!(resolve_user("1000:50", None, None).is_non_root());
    }

    #[test]
    fn a_uid_field_docker_cannot_read_is_root() {
        // The red team's line: a space after the uid. Docker (moby/sys/user) reads the
        // field as 0, and the container runs as root.
        let passwd = "root:x:0:0:root:/root:/bin/sh\napp:x:10001 :10001::/:/nonexistent\n";
        let v = resolve_user("app", Some(passwd), None);
        assert!(!v.is_non_root(), "{v:?}");
        assert!(
            v.describe().contains("the uid field `10001 `"),
            "{}",
            v.describe()
        );
        // Other fields a person would read as a uid.
        for field in ["1e4", "", "0x2711", "10_001", "١٠٠٠١"] {
            let passwd = format!("app:x:{field}:10001::/:/bin/false\n");
            assert!(
                !resolve_user("app", Some(&passwd), None).is_non_root(),
                "`{field}`"
            );
        }
        // Whitespace around the whole line is trimmed, as Docker does: this one is 10001.
        let passwd = "  app:x:10001:10001::/:/bin/false  \r\n";
        assert!(resolve_user("app", Some(passwd), None).is_non_root());
    }

    #[test]
    fn the_first_matching_line_wins_and_hash_is_no_comment() {
        let passwd = "app:x:0:0::/:/bin/sh\napp:x:10001:10001::/:/bin/false\n";
        assert!(!resolve_user("app", Some(passwd), None).is_non_root());
        // `#app` is a user named so in passwd, not a comment.
        let passwd = "#app:x:0:0::/:/bin/sh\n";
        assert!(!resolve_user("#app", Some(passwd), None).is_non_root());
        // A numeric USER matches by uid: a line *named* 10001 with uid 0 does not apply.
        let passwd = "10001:x:0:0::/:/bin/sh\n";
        assert!(resolve_user("10001", Some(passwd), None).is_non_root());
    }

    #[test]
    fn distroless_nonroot_resolves_through_its_own_passwd() {
        // The /etc/passwd of gcr.io/distroless/*-debian12, as `checker images --offline`
        // writes it too.
        let distroless = "root:x:0:0:root:/root:/sbin/nologin\nnobody:x:65534:65534:nobody:/nonexistent:/sbin/nologin\nnonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin\n";
        let group = "root:x:0:\nnobody:x:65534:\nnonroot:x:65532:\n";
        assert_eq!(
            resolve_user("nonroot:nonroot", Some(distroless), Some(group)),
            non_root(65532, "nonroot:nonroot", 65532)
        );
        assert_eq!(
            resolve_user("nonroot", Some(distroless), Some(group)).describe(),
            "`nonroot` = uid 65532"
        );
        // The same name on scratch: nothing to resolve it with, and the advice says so.
        let v = resolve_user("nonroot", None, None);
        assert!(!v.is_non_root());
        assert!(
            v.describe().contains("unable to find user nonroot"),
            "{v:?}"
        );
    }

    #[test]
    fn names_resolve_through_passwd() {
        assert_eq!(
            resolve_user("app", Some(PASSWD), None),
            non_root(10001, "app", 10001)
        );
        assert_eq!(
            resolve_user("app:app", Some(PASSWD), Some("app:x:10001:\n")),
            non_root(10001, "app:app", 10001)
        );
        assert_eq!(resolve_user("root", Some(PASSWD), None), root("root"));
        assert_eq!(resolve_user("toor", Some(PASSWD), None), root("toor"));
    }

    #[test]
    fn names_that_cannot_resolve_each_have_their_reason() {
        assert_eq!(
            resolve_user("app", None, None),
            ResolvedUser::NoPasswd { name: "app".into() }
        );
        assert_eq!(
            resolve_user("nobody2", Some(PASSWD), None),
            ResolvedUser::UnknownName {
                name: "nobody2".into()
            }
        );
        assert!(resolve_user("nobody2", Some(PASSWD), None)
            .describe()
            .contains("unable to find user nobody2"));
        assert!(resolve_user("app", None, None)
            .describe()
            .contains("no /etc/passwd"));
        // partial names do not match
        assert!(!resolve_user("ap", Some(PASSWD), None).is_non_root());
    }

    #[test]
    fn group_membership_is_read_with_comments_skipped() {
        let group = "root:x:0:app\n#wheel:x:10:app\nstaff:x:50:app,bob\n";
        assert_eq!(member_of(group, "app"), vec!["root", "staff"]);
        assert_eq!(member_of(group, "bob"), vec!["staff"]);
    }
}
