//! Installed Debian packages as dpkg's database lists them: what the package goals judge.

use serde::Serialize;

/// One installed package: its name, what it needs and what it stands in for.
#[derive(Debug, Clone, Serialize, serde::Deserialize, PartialEq, Eq, PartialOrd, Ord)]
pub struct Package {
    pub name: String,
    /// `Pre-Depends` and `Depends`: each element one requirement, met by any of its
    /// alternatives (`a | b`), version and architecture qualifiers left out.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub depends: Vec<Vec<String>>,
    /// The virtual packages it provides (`Provides`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub provides: Vec<String>,
}
