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
//!
//! The server (`planguard serve`), built from the same pieces:
//!
//! - [`domain`]: the typed values (repository, PR, commit, stack) parsed at the edge.
//! - [`server`]: configuration, the HTTP surface (webhooks, health, metrics, audit) and launch.
//! - [`webhook`]: signature verification and parsing deliveries into domain events.
//! - [`repo_config`] and [`workflow`]: `planguard.yaml`, stacks, and their step pipelines.
//! - [`accounts`]: the server's registry of credentials, bound to directories; [`trust`]: which
//!   settings come from the default branch and which from a pull request's head.
//! - [`command`]: `planguard ...` PR comment commands; [`gate`]: the apply requirements.
//! - [`store`]: durable jobs, locks, plans and the audit log (SQLite behind a trait).
//! - [`vcs`]: the GitHub seam (comments, check runs, reviews, permissions).
//! - [`runner`]: working copies and `tofu` processes, isolated per stack.
//! - [`worker`]: claiming jobs and carrying them out.

pub mod accounts;
pub mod catalogue;
pub mod check;
pub mod cli;
pub mod codeowners;
pub mod command;
pub mod domain;
pub mod enforcement;
pub mod gate;
pub mod plan;
pub mod policy;
pub mod redact;
pub mod render;
pub mod repo_config;
pub mod runner;
pub mod server;
pub mod store;
pub mod trust;
pub mod vcs;
pub mod webhook;
pub mod worker;
pub mod workflow;
