//! The trust boundary, end to end: a pull request's author who may push branches and open
//! PRs, but not approve or apply, tries each attack a tester made work against an earlier
//! planguard. Every attack must be refused, with a comment that says why, and nothing of a
//! secret may reach GitHub.

use crate::common;
use crate::world::{Options, World};

const NETWORK_TF: &str = "stacks/network/main.tf";
const DATA_TF: &str = "stacks/data/main.tf";

/// Credentials of the server's account registry (never in a repository).
const NETWORK_PLAN_KEY: &str = "AKIANETWORKPLAN00001";
const NETWORK_APPLY_KEY: &str = "AKIANETWORKAPPLY0001";
const DATA_PLAN_KEY: &str = "AKIADATAPLAN00000002";
const DATA_APPLY_KEY: &str = "AKIADATAAPPLY0000002";

/// The registry: `network` serves `stacks/network`, `data` (the "prod" of these tests) serves
/// `stacks/data/**` and wants a code owner's approval. Each identity also sets
/// `TF_VAR_identity`, so a plan shows which credentials it ran with.
fn registry(extra: &str) -> String {
    format!(
        r#"{extra}
[accounts.network]
id = "111111111111"
dirs = ["stacks/network"]
plan.env = {{ AWS_ACCESS_KEY_ID = "{NETWORK_PLAN_KEY}", TF_VAR_identity = "network-plan" }}
apply.env = {{ AWS_ACCESS_KEY_ID = "{NETWORK_APPLY_KEY}", TF_VAR_identity = "network-apply" }}

[accounts.data]
id = "222222222222"
dirs = ["stacks/data/**"]
plan.env = {{ AWS_ACCESS_KEY_ID = "{DATA_PLAN_KEY}", TF_VAR_identity = "data-plan" }}
apply.env = {{ AWS_ACCESS_KEY_ID = "{DATA_APPLY_KEY}", TF_VAR_identity = "data-apply" }}
codeowners = true
"#
    )
}

/// The default branch's planguard.yaml: both stacks name their registry account. Each keeps its
/// local state in its own working copy (sandboxed steps can write nowhere else).
fn main_yaml(_state: &std::path::Path, network_extra: &str) -> String {
    format!(
        r#"version: 1
stacks:
  - name: network
    dir: stacks/network
    account: network
    apply_requirements: [approved]
    backend_config:
      path: ./network.tfstate
{network_extra}
  - name: data
    dir: stacks/data
    account: data
    backend_config:
      path: ./data.tfstate
"#
    )
}

const CODEOWNERS: &str = "/stacks/data/ @data-owner\n/stacks/elsewhere/ @bob\n";

/// A world with the registry, CODEOWNERS on main, and `bob`, `carol` and `data-owner` who may
/// write. `yaml` gets the state directory (as the `{STATE}` placeholder).
async fn world(extra_config: &str, yaml: impl FnOnce(&std::path::Path) -> String) -> World {
    let w = World::start(Options {
        planguard_yaml: Some(yaml(std::path::Path::new("{STATE}"))),
        extra_config: registry(extra_config),
        main_files: vec![(".github/CODEOWNERS".into(), CODEOWNERS.into())],
        ..Default::default()
    })
    .await;
    for user in ["alice", "bob", "carol", "data-owner", "mallory"] {
        w.github.set_permission(user, "write");
    }
    w
}

/// A `.tf` file that puts the identity a plan ran with into the plan.
fn who_tf() -> String {
    "variable \"identity\" {\n  type    = string\n  default = \"none\"\n}\n\nresource \"terraform_data\" \"who\" {\n  input = var.identity\n}\n".into()
}

fn touched(path: &str, note: &str) -> String {
    let original =
        std::fs::read_to_string(common::testdata(&format!("server/repo/{path}"))).unwrap();
    format!("{original}\n# {note}\n")
}

/// Whether an apply wrote state in a stack's working copy (`dir` is the stack's directory).
fn applied(w: &World, pr: u64, stack: &str, dir: &str, file: &str) -> bool {
    w.data_dir
        .join(format!("work/acme/infra/{pr}/{stack}/{dir}/{file}"))
        .exists()
}

/// The stored plan JSON of a stack (what the identity of its plan was).
async fn plan_json(w: &World, pr: u64, stack: &str) -> String {
    let plan = w
        .services
        .store
        .latest_plan(
            &"acme/infra".parse().unwrap(),
            planguard::serve::domain::PrNumber(pr),
            &stack.parse().unwrap(),
        )
        .await
        .unwrap()
        .unwrap_or_else(|| panic!("no plan of {stack}"));
    std::fs::read_to_string(plan.plan_json).unwrap()
}

/// Nothing any call to GitHub carried contains one of `secrets`.
fn nothing_posted(w: &World, secrets: &[&str]) {
    for call in w.github.calls() {
        let text = call.body.to_string();
        for s in secrets {
            assert!(
                !text.contains(s),
                "{s} was posted in {} {}",
                call.method,
                call.path
            );
        }
    }
}

async fn comment_and_settle(w: &World, pr: u64, user: &str, body: &str) -> String {
    let (status, answer) = w.comment(pr, user, body).await;
    assert_eq!(status, 202, "{answer}");
    w.settle().await;
    w.replies(pr).pop().unwrap_or_default()
}

const ALL_KEYS: [&str; 4] = [
    NETWORK_PLAN_KEY,
    NETWORK_APPLY_KEY,
    DATA_PLAN_KEY,
    DATA_APPLY_KEY,
];

/// Attack 1: a PR that only edits planguard.yaml adds a stack whose workflow has `run:` steps
/// that read other stacks' credentials. The steps never run: a new stack gets the built-in
/// workflow, whatever the server allows.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_new_stacks_run_steps_from_the_head_never_run() {
    let w = world("allow_custom_workflows = true", |s| main_yaml(s, "")).await;
    let marker = w.tmp.path().join("pwned");
    let yaml = main_yaml(&w.state_dir, "")
        + &format!(
            "  - name: thief\n    dir: stacks/network\n    workspace: other\n    workflow:\n      plan: [{{run: \"env > {m}; cat /proc/*/environ >> {m}\"}}, init, plan, show, policy]\n  - name: thief2\n    dir: stacks/thief\n    workflow:\n      plan: [{{run: \"env > {m}\"}}, init, plan, show, policy]\n",
            m = marker.display()
        );
    let head = w.push(
        "f",
        1,
        &[
            ("planguard.yaml", &yaml),
            ("stacks/thief/main.tf", &touched(NETWORK_TF, "thief")),
        ],
        "add stacks",
    );
    w.open_pr(1, "f", &head, "mallory").await;
    w.settle().await;
    assert!(!marker.exists(), "a step from the PR's head ran");
    let replies = w.replies(1).join("\n");
    assert!(
        replies.contains("stack `thief` points at `stacks/network`, which is stack `network`"),
        "{replies}"
    );
    assert!(
        replies.contains(
            "stack `thief2` is new in this pull request, so it runs with the built-in workflow"
        ),
        "{replies}"
    );
    // thief2 planned with the built-in workflow and no credentials (no account serves its dir).
    let json = plan_json(&w, 1, "thief2").await;
    assert!(json.contains("terraform_data"), "{json}");
    nothing_posted(&w, &ALL_KEYS);
}

/// Attack 3: the head gives stack `network` the data account, directory and backend. It is
/// planned as the default branch defines it, with its own plan identity, and applying it still
/// needs the default branch's approval.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_head_cannot_move_a_stack_to_another_account_or_directory() {
    let w = world("", |s| main_yaml(s, "")).await;
    let evil = format!(
        "version: 1\nstacks:\n  - name: network\n    dir: stacks/data\n    account: data\n    apply_requirements: []\n    backend_config:\n      path: {}/data.tfstate\n",
        w.state_dir.display()
    );
    let head = w.push(
        "f",
        2,
        &[
            ("planguard.yaml", &evil),
            ("stacks/network/who.tf", &who_tf()),
            ("stacks/data/who.tf", &who_tf()),
        ],
        "move network onto data",
    );
    w.open_pr(2, "f", &head, "mallory").await;
    w.settle().await;
    let json = plan_json(&w, 2, "network").await;
    assert!(
        json.contains("network-plan"),
        "network planned with its own plan identity"
    );
    assert!(
        !json.contains("data-plan") && !json.contains("network-apply"),
        "{json}"
    );
    assert!(
        json.contains("\"vpc\""),
        "the network directory was planned"
    );
    let replies = w.replies(2).join("\n");
    assert!(
        replies
            .contains("changes to stack `network` take effect once they are on the default branch"),
        "{replies}"
    );
    let reply = comment_and_settle(&w, 2, "mallory", "planguard apply -p network").await;
    assert!(
        reply.contains("apply refused") && reply.contains("**approved**"),
        "{reply}"
    );
    assert!(!applied(
        &w,
        2,
        "network",
        "stacks/network",
        "network.tfstate"
    ));
    assert!(!applied(&w, 2, "network", "stacks/data", "data.tfstate"));
    nothing_posted(&w, &ALL_KEYS);
}

/// Attack 4a: a stack only the head declares, in the data account's directories, gets the data
/// account's gate: one approval from anyone with write access is not enough; data's code owner
/// must approve. And its plan never sees apply credentials.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_new_stack_in_a_protected_directory_needs_that_directorys_code_owner() {
    let w = world("", |s| main_yaml(s, "")).await;
    let yaml = main_yaml(&w.state_dir, "")
        + "  - name: sneaky\n    dir: stacks/data/sneaky\n    account: data\n    apply_requirements: [plan_fresh]\n";
    let head = w.push(
        "f",
        3,
        &[
            ("planguard.yaml", &yaml),
            ("stacks/data/sneaky/main.tf", &who_tf()),
        ],
        "a new stack in data",
    );
    w.open_pr(3, "f", &head, "mallory").await;
    w.settle().await;
    let json = plan_json(&w, 3, "sneaky").await;
    assert!(
        json.contains("data-plan"),
        "the directory's account serves it: {json}"
    );
    assert!(
        !json.contains("data-apply"),
        "plan steps never see apply credentials"
    );
    w.approve(3, "carol", &head).await;
    let reply = comment_and_settle(&w, 3, "carol", "planguard apply -p sneaky").await;
    insta::assert_snapshot!("new_stack_needs_code_owner", w.scrub(&reply));
    assert!(reply.contains("from a code owner: @data-owner"), "{reply}");
    w.approve(3, "data-owner", &head).await;
    let reply = comment_and_settle(&w, 3, "carol", "planguard apply -p sneaky").await;
    assert!(reply.contains(":rocket: `sneaky` applied"), "{reply}");
    nothing_posted(&w, &ALL_KEYS);
}

/// Attack 4b: a stack that names an account whose directories do not hold it is refused.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_stack_naming_an_account_that_may_not_serve_its_directory_is_refused() {
    let w = world("", |s| main_yaml(s, "")).await;
    let yaml = main_yaml(&w.state_dir, "")
        + "  - name: sneaky\n    dir: stacks/elsewhere\n    account: data\n";
    let head = w.push(
        "f",
        4,
        &[
            ("planguard.yaml", &yaml),
            ("stacks/elsewhere/main.tf", &who_tf()),
        ],
        "borrow data's account",
    );
    w.open_pr(4, "f", &head, "mallory").await;
    w.settle().await;
    let comment = w.pr_comment(4);
    assert!(
        comment
            .contains("stack `sneaky` names account `data`, which may only serve `stacks/data/**`"),
        "{comment}"
    );
    let checks = w.github.checks(&head);
    assert_eq!(checks["planguard/plan: sneaky"]["conclusion"], "failure");
    nothing_posted(&w, &ALL_KEYS);
}

/// Attack 4c: a PR opened against an attacker-pushed branch whose planguard.yaml drops every
/// apply requirement cannot apply: gate rules come from the default branch, and only PRs into
/// trusted branches apply.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_pr_against_an_untrusted_base_cannot_apply() {
    let w = world("", |s| main_yaml(s, "")).await;
    let lax = main_yaml(&w.state_dir, "").replace(
        "    account: data\n",
        "    account: data\n    apply_requirements: []\n",
    );
    let base = w.push("evil-base", 90, &[("planguard.yaml", &lax)], "lax rules");
    let head = w.push("f", 5, &[(DATA_TF, &touched(DATA_TF, "x"))], "change data");
    w.github.set_pr(
        5,
        crate::github::FakePr {
            head: head.clone(),
            author: "mallory".into(),
            open: true,
            mergeable: Some(true),
            mergeable_state: "clean".into(),
        },
    );
    let mut payload = w.pr_payload("opened", 5, "f", &head, "mallory");
    payload["pull_request"]["base"]["ref"] = serde_json::json!("evil-base");
    payload["pull_request"]["base"]["sha"] = serde_json::json!(base);
    w.deliver("pull_request", &payload).await;
    w.settle().await;
    let reply = comment_and_settle(&w, 5, "mallory", "planguard apply -p data").await;
    assert!(
        reply.contains("merges into `evil-base`, which is neither the default branch `main`"),
        "{reply}"
    );
    assert!(
        !w.state_dir.join("data.tfstate").exists(),
        "nothing was applied"
    );
}

/// Attack 4d: an inline plan step that applies. Custom workflows are off by default, so a
/// stack whose (trusted) workflow is custom is refused, and the head's inline workflow for an
/// existing stack is ignored: nothing is applied on autoplan.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_inline_plan_step_that_applies_never_runs() {
    let w = world("", |s| main_yaml(s, "")).await;
    let evil = main_yaml(
        &w.state_dir,
        "    workflow:\n      plan:\n        - init\n        - plan: \"{bin} apply -auto-approve -input=false -no-color\"\n        - plan\n        - show\n        - policy\n",
    );
    let head = w.push(
        "f",
        6,
        &[
            ("planguard.yaml", &evil),
            (NETWORK_TF, &touched(NETWORK_TF, "x")),
        ],
        "apply on plan",
    );
    w.open_pr(6, "f", &head, "mallory").await;
    w.settle().await;
    assert!(
        !applied(&w, 6, "network", "stacks/network", "network.tfstate"),
        "the plan applied"
    );
    // On the default branch, a custom workflow needs the server's permission.
    let w = world("", |s| {
        main_yaml(
            s,
            "    workflow:\n      plan: [init, plan, {run: \"true\"}, show, policy]\n",
        )
    })
    .await;
    let head = w.push("f", 7, &[(NETWORK_TF, &touched(NETWORK_TF, "y"))], "touch");
    w.open_pr(7, "f", &head, "alice").await;
    w.settle().await;
    let comment = w.pr_comment(7);
    assert!(
        comment.contains("`allow_custom_workflows` is off"),
        "{comment}"
    );
}

/// Attack 4e: a (trusted, allowed) workflow plans, shows, then plans again with other values
/// before `policy`. planguard checks and stores the final plan file, so the policies judge
/// exactly what an apply would apply.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_policies_judge_the_plan_that_is_applied() {
    let w = world("allow_custom_workflows = true", |s| {
        main_yaml(
            s,
            "    workflow:\n      plan:\n        - init\n        - plan\n        - show\n        - run: \"terraform plan -input=false -no-color -var acl=public-read -out=$PLANFILE\"\n        - policy\n",
        )
    })
    .await;
    let tf = "variable \"acl\" {\n  type    = string\n  default = \"private\"\n}\n\nresource \"terraform_data\" \"bucket\" {\n  input = { name = \"b\", acl = var.acl, encrypted = true, tags = { cost_center = \"x\" } }\n}\n";
    let head = w.push("f", 8, &[("stacks/network/bucket.tf", tf)], "a bucket");
    w.open_pr(8, "f", &head, "alice").await;
    w.settle().await;
    let json = plan_json(&w, 8, "network").await;
    assert!(
        json.contains("public-read"),
        "the stored plan is the final one"
    );
    let comment = w.pr_comment(8);
    assert!(
        comment.contains("tfdata-public"),
        "the policy judged the final plan: {comment}"
    );
    // The stored plan file hashes to what the store recorded.
    let plan = w
        .services
        .store
        .latest_plan(
            &"acme/infra".parse().unwrap(),
            planguard::serve::domain::PrNumber(8),
            &"network".parse().unwrap(),
        )
        .await
        .unwrap()
        .unwrap();
    let bytes = std::fs::read(&plan.plan_file).unwrap();
    assert_eq!(
        hex::encode(<sha2::Sha256 as sha2::Digest>::digest(&bytes)),
        plan.plan_hash
    );
}

/// Attack 2 (files): a committed symbolic link used as a var file pointing at a server file is
/// refused before any step runs, and the file's content is never posted.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_var_file_that_links_outside_the_checkout_is_refused() {
    let w = world("", |s| main_yaml(s, "    var_files: [extra.tfvars]\n")).await;
    let key = common::testdata("server/test-app-key.pem");
    let head = w.push("f", 9, &[(NETWORK_TF, &touched(NETWORK_TF, "z"))], "touch");
    // Replace the var file with a link to the App's private key, as a commit would.
    let link = w.work.join("stacks/network/extra.tfvars");
    crate::world::git(&w.work, &["checkout", "-q", "f"]);
    std::os::unix::fs::symlink(&key, &link).unwrap();
    crate::world::git(&w.work, &["add", "-A"]);
    crate::world::git(&w.work, &["commit", "-qm", "link"]);
    let head2 = crate::world::git(&w.work, &["rev-parse", "HEAD"]);
    crate::world::git(&w.work, &["push", "-qf", "origin", "f:refs/heads/f"]);
    crate::world::git(&w.work, &["push", "-qf", "origin", "f:refs/pull/9/head"]);
    crate::world::git(&w.work, &["checkout", "-q", "main"]);
    let _ = head;
    w.open_pr(9, "f", &head2, "mallory").await;
    w.settle().await;
    let comment = w.pr_comment(9);
    assert!(
        comment.contains("var file `extra.tfvars` leaves the repository"),
        "{comment}"
    );
    let key_text = std::fs::read_to_string(&key).unwrap();
    let line = key_text.lines().nth(1).unwrap();
    nothing_posted(&w, &[line]);
}
