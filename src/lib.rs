//! planguard: policy checks for OpenTofu/Terraform plans, and a GitHub PR bot built on them.
//!
//! The library holds everything; the `planguard` binary only parses arguments and maps the
//! outcome to an exit code. It has two halves.
//!
//! The check half (`planguard check`, `test`, `policies`) is synchronous and needs no network,
//! database, git or async runtime:
//!
//! - [`plan`]: reading `show -json` output into a typed model, and recognising wrong inputs.
//! - [`policy`]: loading Rego policies (the embedded library and the user's), evaluating them
//!   with regorus, and running Rego unit tests.
//! - [`catalogue`]: the built-in library's policies, by id and family.
//! - [`check`]: the `check` use case: plans in, a [`check::Report`] out.
//! - [`redact`]: removing sensitive values before anything is printed or posted.
//! - [`suggest`]: "did you mean ...?" for every name a user can mistype.
//! - [`render`]: the report formats (text, JSON, Markdown, SARIF, JUnit, GitHub annotations).
//!
//! The serve half, [`serve`] (`planguard serve`, behind the default `serve` feature), holds
//! everything with HTTP, SQL, git and processes, and depends on the check half, never the other
//! way round.

pub mod catalogue;
pub mod check;
pub mod cli;
pub mod plan;
pub mod policy;
pub mod redact;
pub mod render;
#[cfg(feature = "serve")]
pub mod serve;
pub mod suggest;
