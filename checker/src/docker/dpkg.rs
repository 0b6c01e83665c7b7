//! dpkg's status database (`/var/lib/dpkg/status`, or distroless's `status.d/` with one
//! stanza per file): RFC 822-like stanzas separated by blank lines. Only installed packages
//! count: a removed package keeps a stanza (`deinstall ok config-files`) until purged.

use crate::facts::packages::Package;

/// The installed packages of a status text, in its order.
pub fn installed(text: &str) -> Vec<Package> {
    text.split("\n\n").filter_map(parse_stanza).collect()
}

fn parse_stanza(stanza: &str) -> Option<Package> {
    // Fields, with continuation lines (starting with a space) joined to their field.
    let mut fields: Vec<(String, String)> = Vec::new();
    for line in stanza.lines() {
        if line.starts_with([' ', '\t']) {
            if let Some((_, value)) = fields.last_mut() {
                value.push(' ');
                value.push_str(line.trim());
            }
        } else if let Some((key, value)) = line.split_once(':') {
            fields.push((key.trim().to_ascii_lowercase(), value.trim().to_string()));
        }
    }
    let field = |key: &str| {
        fields
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    };
    let name = field("package")?.to_string();
    // "install ok installed", "hold ok installed"; distroless's status.d may leave it out.
    if let Some(status) = field("status") {
        if status.split_whitespace().last() != Some("installed") {
            return None;
        }
    }
    let mut depends = Vec::new();
    for key in ["pre-depends", "depends"] {
        if let Some(value) = field(key) {
            depends.extend(relations(value));
        }
    }
    let provides = field("provides")
        .map(|v| relations(v).into_iter().flatten().collect())
        .unwrap_or_default();
    Some(Package {
        name,
        depends,
        provides,
    })
}

/// `a (>= 1), b:any | c` → `[[a], [b, c]]`.
fn relations(value: &str) -> Vec<Vec<String>> {
    value
        .split(',')
        .map(|requirement| {
            requirement
                .split('|')
                .filter_map(|alternative| {
                    let name = alternative.split(['(', '[', '<']).next()?.trim();
                    let name = name.split(':').next()?.trim();
                    (!name.is_empty()).then(|| name.to_string())
                })
                .collect::<Vec<_>>()
        })
        .filter(|alternatives| !alternatives.is_empty())
        .collect()
}

/// The files a package's `*.md5sums` list names: (MD5, absolute path), and the package's
/// name from the list's own file name (`info/libc6:amd64.md5sums` → `libc6`).
pub fn md5sums(list_path: &str, text: &str) -> (String, Vec<([u8; 16], String)>) {
    let file = list_path.rsplit('/').next().unwrap_or(list_path);
    let package = file
        .trim_end_matches(".md5sums")
        .split(':')
        .next()
        .unwrap_or_default()
        .to_string();
    let files = text
        .lines()
        .filter_map(|line| {
            // `<32 hex digits>  <path without its leading slash>`
            let (hex, path) = line.split_once(char::is_whitespace)?;
            let md5 = parse_md5(hex)?;
            Some((
                md5,
                format!("/{}", path.trim_start().trim_start_matches('/')),
            ))
        })
        .collect();
    (package, files)
}

/// The configuration files each installed package of a status text ships, with their MD5
/// (dpkg lists them in `Conffiles:`, not in the package's `*.md5sums`): (package, MD5, path).
pub fn conffiles(text: &str) -> Vec<(String, [u8; 16], String)> {
    let mut found = Vec::new();
    for stanza in text.split("\n\n") {
        let Some(package) = stanza
            .lines()
            .find_map(|l| l.strip_prefix("Package:"))
            .map(|p| p.trim().to_string())
        else {
            continue;
        };
        let mut in_conffiles = false;
        for line in stanza.lines() {
            if line.starts_with([' ', '\t']) {
                if in_conffiles {
                    let mut words = line.split_whitespace();
                    if let (Some(path), Some(md5)) =
                        (words.next(), words.next().and_then(parse_md5))
                    {
                        found.push((package.clone(), md5, path.to_string()));
                    }
                }
            } else {
                in_conffiles = line.to_ascii_lowercase().starts_with("conffiles:");
            }
        }
    }
    found
}

fn parse_md5(hex: &str) -> Option<[u8; 16]> {
    if hex.len() != 32 {
        return None;
    }
    let mut md5 = [0u8; 16];
    for (i, byte) in md5.iter_mut().enumerate() {
        *byte = u8::from_str_radix(hex.get(i * 2..i * 2 + 2)?, 16).ok()?;
    }
    Some(md5)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn conffiles_are_read_from_the_status() {
        let status = "Package: base-files\nStatus: install ok installed\nConffiles:\n /etc/debian_version 0123456789abcdef0123456789abcdef\n /etc/host.conf ffffffffffffffffffffffffffffffff obsolete\nDescription: x\n more\n\nPackage: dash\nStatus: install ok installed\n";
        let found = conffiles(status);
        assert_eq!(found.len(), 2);
        assert_eq!(found[0].0, "base-files");
        assert_eq!(found[0].2, "/etc/debian_version");
        assert_eq!(found[1].1, [0xff; 16]);
    }

    #[test]
    fn a_packages_md5sums_name_its_files() {
        let (package, files) = md5sums(
            "var/lib/dpkg/info/busybox-static:amd64.md5sums",
            "0123456789abcdef0123456789abcdef  bin/busybox\nnot a line\nffffffffffffffffffffffffffffffff  usr/share/doc/busybox-static/copyright\n",
        );
        assert_eq!(package, "busybox-static");
        assert_eq!(files.len(), 2);
        assert_eq!(files[0].1, "/bin/busybox");
        assert_eq!(files[0].0[0], 0x01);
        assert_eq!(files[1].0, [0xff; 16]);
        assert_eq!(md5sums("status.d/libc6.md5sums", "").0, "libc6");
    }

    #[test]
    fn installed_packages_with_their_relations() {
        let text = "Package: python3\nStatus: install ok installed\nPre-Depends: python3-minimal (= 3.11.2-1+b1)\nDepends: python3.11 (>= 3.11.2-1~), libpython3-stdlib (= 3.11.2-1+b1)\nDescription: x\n more text\n\n\
Package: openssl\nStatus: deinstall ok config-files\n\n\
Package: mawk\nStatus: install ok installed\nProvides: awk\nDepends: libc6 (>= 2.34) | libc6.1:any,\n libreadline8\n";
        let packages = installed(text);
        assert_eq!(
            packages.len(),
            2,
            "a removed package's config files are no package"
        );
        assert_eq!(packages[0].name, "python3");
        assert_eq!(
            packages[0].depends,
            vec![
                vec!["python3-minimal".to_string()],
                vec!["python3.11".into()],
                vec!["libpython3-stdlib".into()]
            ]
        );
        assert_eq!(packages[1].provides, vec!["awk".to_string()]);
        assert_eq!(
            packages[1].depends,
            vec![
                vec!["libc6".to_string(), "libc6.1".into()],
                vec!["libreadline8".into()]
            ]
        );
    }

    #[test]
    fn a_distroless_stanza_without_status_counts_as_installed() {
        assert_eq!(
            installed("Package: libc6\nVersion: 2.36\n")[0].name,
            "libc6"
        );
        assert!(installed("not a stanza").is_empty());
    }
}
