//! Everything that talks to, or reads the formats of, Docker: what the pipeline asks of an
//! engine (`api`), the engine that answers (`engine`, the only user of bollard) and, in
//! tests, one that answers from memory (`fake`); what a run made and must undo if it is
//! dropped (`ledger`); where the engine is (`endpoint`, `engine_info`), the build context
//! served over a BuildKit session (`context`, `dockerignore`, `session`), Dockerfiles
//! (`dockerfile`), image archives (`oci`, `waste`, `contents`), and a secret looked for in them in every form
//! (`secret_search`).

pub mod api;
pub mod contents;
pub mod context;
pub mod dockerfile;
pub mod dockerignore;
pub mod dpkg;
pub mod endpoint;
pub mod engine;
pub mod engine_info;
#[cfg(test)]
pub mod fake;
pub mod ledger;
pub mod oci;
pub mod secret_search;
pub mod session;
pub mod waste;
