//! The trust boundary: which stack settings come from where.
//!
//! Trusted: the server config and the repository's default branch (or a configured protected
//! branch). Untrusted: a pull request's head and any other branch. Everything that grants access
//! — a stack's directory binding, workspace, account and credentials, backend and var files,
//! workflow and its commands, apply requirements, approvals, enforcement, policy owners — is
//! taken from the trusted side. The head contributes only what is planned (its code) and, for
//! stacks the trusted side does not know, a name, a directory, `when_modified`, `depends_on`
//! and `autoplan`; such a stack gets the credentials and gate of the directory it points at (as
//! the server's account registry binds it), the built-in workflow, and nothing else.
//!
//! [`resolve`] merges the two `planguard.yaml`s into the effective [`RepoConfig`] the worker
//! plans and gates with, and lists what of the head it did not use. It reads no files and runs
//! nothing; `docs/security.md` is the prose version of this module.

use crate::serve::accounts::{Binding, Registry};
use crate::serve::domain::RepoName;
use crate::serve::repo_config::{
    Approvals, GateSettings, RepoConfig, StackConfig, StackCredentials, DEFAULT_WORKSPACE,
};
use crate::serve::workflow::{Workflows, DEFAULT_WORKFLOW};

/// What [`resolve`] needs.
pub struct Sources<'a> {
    pub repo: &'a RepoName,
    /// `planguard.yaml` on the trusted branch; `None` when it has none (or an invalid one).
    pub trusted: Option<&'a RepoConfig>,
    /// `planguard.yaml` at the PR's head (or the stacks discovered there).
    pub head: &'a RepoConfig,
    pub registry: &'a Registry,
    pub allow_custom_workflows: bool,
}

/// The effective configuration, and what of the head was not used (for the PR comment).
#[derive(Debug, Clone)]
pub struct Resolved {
    pub config: RepoConfig,
    pub ignored: Vec<String>,
}

/// Merges the trusted and the head configuration; see the module doc.
// Long on purpose: one pass over trusted then head stacks; every rule of what the head may change is in this one place on purpose.
pub fn resolve(s: &Sources<'_>) -> Resolved {
    let mut ignored = Vec::new();
    let mut stacks: Vec<StackConfig> = Vec::new();
    let builtin = Workflows::builtin();
    let trusted_stacks: &[StackConfig] = s.trusted.map_or(&[], |t| &t.stacks);

    for t in trusted_stacks {
        let mut stack = t.clone();
        stack.trusted = true;
        if let Some(h) = s.head.stack(&t.name) {
            if differs(t, h) {
                ignored.push(format!(
                    "changes to stack `{}` take effect once they are on the default branch",
                    t.name
                ));
            }
        }
        let custom = builtin.get(&stack.workflow.name) != Some(&stack.workflow);
        if custom && !s.allow_custom_workflows {
            stack.refused = Some(format!(
                "uses the custom workflow `{}`, and this server runs only the built-in \
                 workflows (`allow_custom_workflows` is off in the server config)",
                stack.workflow.name
            ));
        }
        bind(&mut stack, s);
        stacks.push(stack);
    }

    for h in &s.head.stacks {
        if trusted_stacks.iter().any(|t| t.name == h.name) {
            continue;
        }
        if let Some(t) = trusted_stacks.iter().find(|t| t.dir == h.dir) {
            ignored.push(format!(
                "stack `{}` points at `{}`, which is stack `{}` on the default branch; it is \
                 planned as `{}`",
                h.name, h.dir, t.name, t.name
            ));
            continue;
        }
        let workflow = builtin
            .get(DEFAULT_WORKFLOW)
            .cloned()
            .expect("the default workflow is built in");
        let mut stack = h.clone();
        stack.trusted = false;
        let mut dropped = Vec::new();
        if h.workflow != workflow {
            dropped.push("workflow");
        }
        if h.workspace != DEFAULT_WORKSPACE {
            dropped.push("workspace");
        }
        if !h.backend_config.is_empty() {
            dropped.push("backend_config");
        }
        if !h.var_files.is_empty() {
            dropped.push("var_files");
        }
        if h.account.has_credentials() || h.account.id.is_some() {
            dropped.push("account credentials");
        }
        if h.environment.is_some() {
            dropped.push("environment");
        }
        if h.apply_requirements != GateSettings::default().apply_requirements
            || h.approvals != Approvals::default()
            || !h.enforcement.is_empty()
        {
            dropped.push("gate settings");
        }
        if !dropped.is_empty() && !s.head.discovered {
            ignored.push(format!(
                "stack `{}` is new in this pull request, so it runs with the built-in workflow, \
                 the credentials and rules of its directory, and without its {}",
                h.name,
                dropped.join(", ")
            ));
        }
        stack.workflow = workflow;
        stack.workspace = DEFAULT_WORKSPACE.to_owned();
        stack.backend_config.clear();
        stack.var_files.clear();
        stack.environment = None;
        stack.account = crate::serve::repo_config::Account {
            name: h.account.name.clone(),
            ..Default::default()
        };
        let strict = GateSettings::default();
        stack.apply_requirements = strict.apply_requirements;
        stack.approvals = strict.approvals;
        stack.enforcement = strict.enforcement;
        bind(&mut stack, s);
        // The gate of a directory's account: at least as strict as every trusted stack that
        // account serves (a new stack cannot be an easier way into prod).
        if let Some(account) = stack.credentials.account.clone() {
            for t in stacks
                .iter()
                .filter(|t| t.trusted && t.credentials.account.as_ref() == Some(&account))
            {
                let mut gate = stack.gate_settings();
                gate.tighten(&t.gate_settings());
                stack.set_gate(gate);
            }
        }
        stacks.push(stack);
    }

    let mut config = RepoConfig {
        stacks,
        policy_owners: s
            .trusted
            .map(|t| t.policy_owners.clone())
            .unwrap_or_default(),
        discovered: s.trusted.is_none() && s.head.discovered,
    };
    // `depends_on` may only name stacks that exist; a head-only name that does not is dropped.
    let names: Vec<_> = config.stacks.iter().map(|s| s.name.clone()).collect();
    for stack in &mut config.stacks {
        stack.depends_on.retain(|d| names.contains(d));
    }
    Resolved { config, ignored }
}

/// Binds a stack to its account by directory and applies the account's gate floor.
fn bind(stack: &mut StackConfig, s: &Sources<'_>) {
    let inline = stack.account.has_credentials();
    match s
        .registry
        .bind(s.repo, &stack.dir, stack.account.name.as_deref())
    {
        Binding::Refused(why) => {
            stack
                .refused
                .get_or_insert(format!("stack `{}` {why}", stack.name));
            stack.credentials = StackCredentials::default();
        }
        Binding::None if inline && stack.trusted => {
            // Credentials written on the default branch's stack itself: its directory is
            // trusted, so they serve it (for plan and apply alike).
            let creds = stack.account.credentials();
            stack.credentials = StackCredentials {
                account: None,
                plan: creds.clone(),
                apply: creds,
            };
        }
        Binding::None => stack.credentials = StackCredentials::default(),
        Binding::Account(name) => {
            let account = s.registry.get(name).expect("bound to a known account");
            stack.credentials = StackCredentials {
                account: Some(name.to_owned()),
                plan: account.plan.clone(),
                apply: account.apply.clone(),
            };
            if account.id.is_some() {
                stack.account.id = account.id.clone();
            }
            let mut gate = stack.gate_settings();
            gate.tighten(&GateSettings {
                apply_requirements: Vec::new(),
                approvals: Approvals {
                    count: account.approvals.unwrap_or(0),
                    teams: account.teams.clone(),
                    codeowners: account.codeowners,
                },
                enforcement: Vec::new(),
            });
            stack.set_gate(gate);
        }
    }
}

/// Whether the head's definition of a trusted stack differs in anything but formatting.
fn differs(t: &StackConfig, h: &StackConfig) -> bool {
    t.dir != h.dir
        || t.workspace != h.workspace
        || t.account != h.account
        || t.backend_config != h.backend_config
        || t.var_files != h.var_files
        || t.workflow != h.workflow
        || t.when_modified != h.when_modified
        || t.depends_on != h.depends_on
        || t.autoplan != h.autoplan
        || t.apply_requirements != h.apply_requirements
        || t.approvals != h.approvals
        || t.enforcement != h.enforcement
        || t.environment != h.environment
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::serve::accounts::AccountSpec;
    use crate::serve::repo_config::Requirement;

    fn registry() -> Registry {
        let specs: BTreeMap<String, AccountSpec> = toml::from_str(
            r#"
[prod]
id = "222222222222"
dirs = ["stacks/prod/**"]
plan.env = { AWS_ACCESS_KEY_ID = "AKIAPRODPLAN" }
apply.env = { AWS_ACCESS_KEY_ID = "AKIAPRODAPPLY" }
codeowners = true
[dev]
id = "111111111111"
dirs = ["stacks/dev/**"]
plan.env = { AWS_ACCESS_KEY_ID = "AKIADEVPLAN" }
"#,
        )
        .unwrap();
        Registry::from_specs(specs).unwrap()
    }

    fn config(yaml: &str) -> RepoConfig {
        RepoConfig::parse(yaml, None, &Workflows::builtin()).unwrap_or_else(|e| panic!("{e}"))
    }

    const MAIN: &str = "
stacks:
  - name: dev
    dir: stacks/dev
    account: dev
    apply_requirements: [plan_fresh]
  - name: prod
    dir: stacks/prod
    account: prod
    approvals: { count: 2 }
";

    fn resolve_with(head: &str, custom: bool) -> Resolved {
        let repo: RepoName = "acme/infra".parse().unwrap();
        let registry = registry();
        let (trusted, head) = (config(MAIN), config(head));
        resolve(&Sources {
            repo: &repo,
            trusted: Some(&trusted),
            head: &head,
            registry: &registry,
            allow_custom_workflows: custom,
        })
    }

    #[test]
    fn the_head_cannot_give_a_trusted_stack_another_directory_or_account() {
        let r = resolve_with(
            "stacks:\n  - name: dev\n    dir: stacks/prod\n    account: prod\n    apply_requirements: []\n",
            false,
        );
        let dev = r.config.stack(&"dev".parse().unwrap()).unwrap();
        assert_eq!(dev.dir, "stacks/dev");
        assert_eq!(dev.credentials.account.as_deref(), Some("dev"));
        assert_eq!(dev.credentials.plan.env["AWS_ACCESS_KEY_ID"], "AKIADEVPLAN");
        assert_eq!(dev.apply_requirements, vec![Requirement::PlanFresh]);
        assert!(
            r.ignored.iter().any(|n| n.contains("stack `dev`")),
            "{:?}",
            r.ignored
        );
    }

    #[test]
    fn a_new_stack_gets_the_credentials_and_rules_of_its_directory() {
        let r = resolve_with(
            "stacks:\n  - name: sneaky\n    dir: stacks/prod/new\n    account: prod\n    apply_requirements: []\n    workflow: { plan: [init, plan, { run: \"cat /etc/passwd\" }, show, policy] }\n",
            true,
        );
        let s = r.config.stack(&"sneaky".parse().unwrap()).unwrap();
        assert!(!s.trusted);
        assert_eq!(
            s.workflow.name, DEFAULT_WORKFLOW,
            "a head-only stack never brings steps"
        );
        assert_eq!(s.credentials.account.as_deref(), Some("prod"));
        // prod's gate: every requirement, two approvals (from the trusted prod stack) and
        // code owners (from the account).
        assert_eq!(s.apply_requirements, Requirement::ALL.to_vec());
        assert_eq!(s.approvals.count, 2);
        assert!(s.approvals.codeowners);
        assert!(s.refused.is_none());
    }

    #[test]
    fn a_new_stack_naming_an_account_its_directory_is_not_bound_to_is_refused() {
        let r = resolve_with(
            "stacks:\n  - name: sneaky\n    dir: stacks/dev/x\n    account: prod\n",
            false,
        );
        let s = r.config.stack(&"sneaky".parse().unwrap()).unwrap();
        assert!(
            s.refused.as_deref().unwrap().contains("may only serve"),
            "{:?}",
            s.refused
        );
        assert!(s.credentials.plan.env.is_empty());
    }

    #[test]
    fn a_new_stack_on_a_trusted_directory_is_that_stack() {
        let r = resolve_with("stacks:\n  - name: other\n    dir: stacks/prod\n", false);
        assert!(r.config.stack(&"other".parse().unwrap()).is_none());
        assert!(r.ignored.iter().any(|n| n.contains("planned as `prod`")));
    }

    #[test]
    fn custom_workflows_need_the_server_to_allow_them() {
        let main = "workflows:\n  mine:\n    plan: [init, { run: \"echo hi\" }, plan, show, policy]\nstacks:\n  - name: dev\n    dir: stacks/dev\n    workflow: mine\n";
        let repo: RepoName = "acme/infra".parse().unwrap();
        let registry = registry();
        let trusted = config(main);
        for (allowed, refused) in [(false, true), (true, false)] {
            let r = resolve(&Sources {
                repo: &repo,
                trusted: Some(&trusted),
                head: &trusted,
                registry: &registry,
                allow_custom_workflows: allowed,
            });
            let dev = r.config.stack(&"dev".parse().unwrap()).unwrap();
            assert_eq!(dev.refused.is_some(), refused, "{:?}", dev.refused);
        }
    }
}
