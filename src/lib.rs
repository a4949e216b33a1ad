//! planguard: policy checks for OpenTofu/Terraform plans.
//!
//! The library holds everything; the `planguard` binary only parses arguments and maps the
//! outcome to an exit code. Modules, one concept each:
//!
//! - [`plan`]: reading `show -json` output into a typed model, and recognising wrong inputs.
//! - [`policy`]: loading Rego policies (the embedded library and the user's), evaluating them
//!   with regorus, and running Rego unit tests.
//! - [`check`]: the `check` use case: plans in, a [`check::Report`] out.
//! - [`render`]: the report formats (text, JSON, Markdown, SARIF, JUnit, GitHub annotations).
//! - [`redact`]: removing sensitive values before anything is printed or posted.

pub mod catalogue;
pub mod check;
pub mod cli;
pub mod plan;
pub mod policy;
pub mod redact;
pub mod render;
pub mod synth;
