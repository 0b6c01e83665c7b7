//! Everything that talks to, or reads the formats of, Docker: the engine (`engine`, the only
//! user of bollard), where it is (`endpoint`, `engine_info`), the build context served over a
//! BuildKit session (`context`, `dockerignore`, `session`), Dockerfiles (`dockerfile`), and
//! image archives (`oci`, `waste`, `contents`), and a secret looked for in them in every form
//! (`secret_search`).

pub mod contents;
pub mod context;
pub mod dockerfile;
pub mod dockerignore;
pub mod dpkg;
pub mod endpoint;
pub mod engine;
pub mod engine_info;
pub mod oci;
pub mod secret_search;
pub mod session;
pub mod waste;
