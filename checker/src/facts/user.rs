//! Which uid an image runs as, decided without starting it: the image config's `User`
//! (what USER left behind), resolved through the image's own /etc/passwd when it is a name,
//! which is exactly what the runtime does when the container starts.

use serde::Serialize;

/// The outcome of resolving an image's user.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(tag = "outcome", rename_all = "kebab-case")]
pub enum ResolvedUser {
    /// A uid other than 0: the goal is met.
    NonRoot { uid: u32, written: String },
    /// No USER applies to the image: the runtime's default, root.
    NoUser,
    /// `root`, `0`, `0:0` or a name that /etc/passwd maps to uid 0.
    Root { written: String },
    /// A name, but the image has no /etc/passwd (scratch, distroless-like bases).
    NoPasswd { name: String },
    /// A name the image's /etc/passwd lacks; `docker run` fails with "unable to find user".
    UnknownName { name: String },
}

impl ResolvedUser {
    pub fn is_non_root(&self) -> bool {
        matches!(self, ResolvedUser::NonRoot { .. })
    }

    /// One line for the report: what was measured and, if it fails, why.
    pub fn describe(&self) -> String {
        match self {
            ResolvedUser::NonRoot { uid, written } if written == &uid.to_string() => format!("uid {uid}"),
            ResolvedUser::NonRoot { uid, written } => format!("`{written}` = uid {uid}"),
            ResolvedUser::NoUser => "no USER in the final image: it runs as root".into(),
            ResolvedUser::Root { written } => format!("USER `{written}` is root (uid 0)"),
            ResolvedUser::NoPasswd { name } => format!(
                "USER `{name}` is a name, but the image has no /etc/passwd to resolve it: use a numeric uid such as 10001"
            ),
            ResolvedUser::UnknownName { name } => format!(
                "USER `{name}` is not in the image's /etc/passwd; `docker run` would fail with \"unable to find user {name}\""
            ),
        }
    }
}

/// Resolves the image config's `User` (`name`, `uid`, `name:group`, `uid:gid`) against the
/// image's /etc/passwd (None when the image has none).
pub fn resolve_user(config_user: &str, passwd: Option<&str>) -> ResolvedUser {
    let written = config_user.trim();
    if written.is_empty() {
        return ResolvedUser::NoUser;
    }
    let user_part = written.split(':').next().unwrap_or_default();
    if let Ok(uid) = user_part.parse::<u32>() {
        // A numeric uid needs no passwd entry: the runtime uses it as is.
        return if uid == 0 {
            ResolvedUser::Root {
                written: written.into(),
            }
        } else {
            ResolvedUser::NonRoot {
                uid,
                written: written.into(),
            }
        };
    }
    let Some(passwd) = passwd else {
        return ResolvedUser::NoPasswd {
            name: user_part.into(),
        };
    };
    match passwd_uid(passwd, user_part) {
        Some(0) => ResolvedUser::Root {
            written: written.into(),
        },
        Some(uid) => ResolvedUser::NonRoot {
            uid,
            written: written.into(),
        },
        None => ResolvedUser::UnknownName {
            name: user_part.into(),
        },
    }
}

/// The uid of `name` in passwd(5) text (`name:x:uid:gid:gecos:home:shell`).
fn passwd_uid(passwd: &str, name: &str) -> Option<u32> {
    passwd
        .lines()
        .filter(|l| !l.trim_start().starts_with('#'))
        .find_map(|line| {
            let mut fields = line.split(':');
            (fields.next()? == name).then_some(())?;
            fields.nth(1)?.trim().parse().ok()
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    const PASSWD: &str = "root:x:0:0:root:/root:/bin/bash\n# comment\napp:x:10001:10001::/home/app:/usr/sbin/nologin\ntoor:x:0:0::/:/bin/sh\n";

    #[test]
    fn missing_user_is_root() {
        assert_eq!(resolve_user("", Some(PASSWD)), ResolvedUser::NoUser);
        assert!(!resolve_user("  ", None).is_non_root());
    }

    #[test]
    fn numeric_forms() {
        assert_eq!(
            resolve_user("10001", None),
            ResolvedUser::NonRoot {
                uid: 10001,
                written: "10001".into()
            }
        );
        assert_eq!(
            resolve_user("10001:10001", None),
            ResolvedUser::NonRoot {
                uid: 10001,
                written: "10001:10001".into()
            }
        );
        assert_eq!(
            resolve_user("0", None),
            ResolvedUser::Root {
                written: "0".into()
            }
        );
        assert_eq!(
            resolve_user("0:0", Some(PASSWD)),
            ResolvedUser::Root {
                written: "0:0".into()
            }
        );
        // a numeric uid with a named group still runs as that uid
        assert!(resolve_user("1000:staff", None).is_non_root());
    }

    #[test]
    fn distroless_nonroot_resolves_through_its_own_passwd() {
        // The /etc/passwd of gcr.io/distroless/*-debian12, as `checker images --offline`
        // writes it too.
        let distroless = "root:x:0:0:root:/root:/sbin/nologin\nnobody:x:65534:65534:nobody:/nonexistent:/sbin/nologin\nnonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin\n";
        assert_eq!(
            resolve_user("nonroot:nonroot", Some(distroless)),
            ResolvedUser::NonRoot {
                uid: 65532,
                written: "nonroot:nonroot".into()
            }
        );
        assert_eq!(
            resolve_user("nonroot", Some(distroless)).describe(),
            "`nonroot` = uid 65532"
        );
        // The same name on scratch: nothing to resolve it with.
        assert!(!resolve_user("nonroot", None).is_non_root());
    }

    #[test]
    fn names_resolve_through_passwd() {
        assert_eq!(
            resolve_user("app", Some(PASSWD)),
            ResolvedUser::NonRoot {
                uid: 10001,
                written: "app".into()
            }
        );
        assert_eq!(
            resolve_user("app:app", Some(PASSWD)),
            ResolvedUser::NonRoot {
                uid: 10001,
                written: "app:app".into()
            }
        );
        assert_eq!(
            resolve_user("root", Some(PASSWD)),
            ResolvedUser::Root {
                written: "root".into()
            }
        );
        assert_eq!(
            resolve_user("toor", Some(PASSWD)),
            ResolvedUser::Root {
                written: "toor".into()
            }
        );
    }

    #[test]
    fn names_that_cannot_resolve_each_have_their_reason() {
        assert_eq!(
            resolve_user("app", None),
            ResolvedUser::NoPasswd { name: "app".into() }
        );
        assert_eq!(
            resolve_user("nobody2", Some(PASSWD)),
            ResolvedUser::UnknownName {
                name: "nobody2".into()
            }
        );
        assert!(resolve_user("nobody2", Some(PASSWD))
            .describe()
            .contains("unable to find user nobody2"));
        assert!(resolve_user("app", None)
            .describe()
            .contains("no /etc/passwd"));
        // `# comment` lines and partial names do not match
        assert!(!resolve_user("ap", Some(PASSWD)).is_non_root());
    }
}
