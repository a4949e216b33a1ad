//! The apply gate, policy approvals and comment commands, end to end.

use crate::common;
use crate::world::{standard_yaml, Options, World};

const NETWORK_TF: &str = "stacks/network/main.tf";
const DATA_TF: &str = "stacks/data/main.tf";

/// The gate's world: `sec-lead` owns policies, `tfdata-public` is hard-mandatory, `bob` and
/// `carol` may write, `dave` may only read.
async fn gated(yaml: Option<String>) -> World {
    let w = World::start(Options {
        planguard_yaml: yaml,
        // The default branch's workflows may use `run:` steps (the slow-plan scenarios do).
        extra_config: r#"allow_custom_workflows = true
[policy_owners]
users = ["sec-lead"]

[[enforcement]]
policies = ["tfdata-public"]
level = "hard-mandatory"
"#
        .into(),
        ..Default::default()
    })
    .await;
    for (user, perm) in [
        ("alice", "write"),
        ("bob", "write"),
        ("carol", "write"),
        ("sec-lead", "write"),
        ("dave", "read"),
    ] {
        w.github.set_permission(user, perm);
    }
    w
}

fn network(note: &str) -> String {
    let original =
        std::fs::read_to_string(common::testdata(&format!("server/repo/{NETWORK_TF}"))).unwrap();
    format!("{original}\n# {note}\n")
}

/// The data stack with only a soft-mandatory finding (unencrypted, not public).
fn data_soft(note: &str) -> String {
    std::fs::read_to_string(common::testdata(&format!("server/repo/{DATA_TF}")))
        .unwrap()
        .replace("\"public-read\"", "\"private\"")
        + &format!("\n# {note}\n")
}

/// The data stack with no finding at all.
fn data_clean() -> String {
    data_soft("clean").replace("encrypted = false", "encrypted = true")
}

fn last_reply(w: &World, pr: u64) -> String {
    w.replies(pr).pop().unwrap_or_default()
}

async fn comment_and_settle(w: &World, pr: u64, user: &str, body: &str) -> String {
    let (status, answer) = w.comment(pr, user, body).await;
    assert_eq!(status, 202, "{answer}");
    w.settle().await;
    last_reply(w, pr)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn apply_without_approval_is_refused_listing_what_is_missing() {
    let w = gated(None).await;
    let head = w.push("f", 1, &[(NETWORK_TF, &network("a"))], "network change");
    w.open_pr(1, "f", &head, "alice").await;
    w.settle().await;
    let reply = comment_and_settle(&w, 1, "bob", "planguard apply").await;
    insta::assert_snapshot!("apply_refused_without_approval", w.scrub(&reply));
    assert!(reply.contains("**approved**"), "{reply}");
    assert!(
        !w.github
            .checks(&head)
            .contains_key("planguard/apply: network"),
        "nothing was applied"
    );
    assert!(w
        .audit(1)
        .iter()
        .any(|e| e.action == "apply" && e.outcome.starts_with("refused: approved")));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_authors_own_approval_does_not_count_and_anothers_does() {
    let w = gated(None).await;
    let head = w.push("f", 2, &[(NETWORK_TF, &network("a"))], "network change");
    w.open_pr(2, "f", &head, "alice").await;
    w.settle().await;
    w.approve(2, "alice", &head).await;
    let reply = comment_and_settle(&w, 2, "alice", "planguard apply").await;
    assert!(
        reply.contains("@alice's own approval does not count"),
        "{reply}"
    );

    w.approve(2, "bob", &head).await;
    let reply = comment_and_settle(&w, 2, "alice", "planguard apply").await;
    assert!(reply.contains(":rocket: `network` applied"), "{reply}");
    assert_eq!(
        w.github.checks(&head)["planguard/apply: network"]["conclusion"],
        "success"
    );
    assert!(
        w.state_file(2, "network").exists(),
        "terraform applied to the stack's own state"
    );
    // Applied stacks cannot be applied again until re-planned.
    let again = comment_and_settle(&w, 2, "alice", "planguard apply -p network").await;
    assert!(again.contains("was applied already"), "{again}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_approval_before_a_new_push_is_stale_and_the_push_is_replanned() {
    let w = gated(None).await;
    let first = w.push("f", 3, &[(NETWORK_TF, &network("a"))], "one");
    w.open_pr(3, "f", &first, "alice").await;
    w.settle().await;
    w.approve(3, "bob", &first).await;
    let second = w.push("f", 3, &[(NETWORK_TF, &network("b"))], "two");
    w.push_pr(3, "f", &first, &second, "alice").await;
    w.settle().await;
    let reply = comment_and_settle(&w, 3, "bob", "planguard apply").await;
    insta::assert_snapshot!("apply_refused_stale_approval", w.scrub(&reply));
    assert!(reply.contains("stale"), "{reply}");
    let planned: Vec<String> = w
        .audit(3)
        .iter()
        .filter(|e| e.action == "plan")
        .filter_map(|e| e.sha.clone())
        .collect();
    assert_eq!(planned, vec![first, second], "the push was re-planned");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_soft_mandatory_finding_blocks_until_an_owner_approves_it() {
    let w = gated(None).await;
    let head = w.push("f", 4, &[(DATA_TF, &data_soft("a"))], "unencrypted data");
    w.open_pr(4, "f", &head, "alice").await;
    w.settle().await;
    w.approve(4, "bob", &head).await;
    let refused = comment_and_settle(&w, 4, "bob", "planguard apply -p data").await;
    assert!(
        refused.contains("`tfdata-encrypted` is soft-mandatory"),
        "{refused}"
    );
    assert!(
        refused.contains("@sec-lead"),
        "the refusal says who may approve: {refused}"
    );

    let not_owner = comment_and_settle(&w, 4, "carol", "planguard approve_policies -p data").await;
    insta::assert_snapshot!("approval_by_a_non_owner", w.scrub(&not_owner));
    let still = comment_and_settle(&w, 4, "bob", "planguard apply -p data").await;
    assert!(still.contains("apply refused"), "{still}");

    let approved = comment_and_settle(
        &w,
        4,
        "sec-lead",
        "planguard approve_policies -p data --policy tfdata-encrypted",
    )
    .await;
    assert!(
        approved.contains("@sec-lead approved `tfdata-encrypted` in `data`"),
        "{approved}"
    );
    assert!(
        w.pr_comment(4).contains("approved by @sec-lead"),
        "{}",
        w.pr_comment(4)
    );
    assert_eq!(
        w.github.checks(&head)["planguard/policy"]["conclusion"],
        "success"
    );
    let applied = comment_and_settle(&w, 4, "bob", "planguard apply -p data").await;
    assert!(applied.contains(":rocket: `data` applied"), "{applied}");

    // The approval was bound to that plan: a new plan with the finding needs a new approval.
    let second = w.push("f", 4, &[(DATA_TF, &data_soft("b"))], "again");
    w.push_pr(4, "f", &head, &second, "alice").await;
    w.settle().await;
    w.approve(4, "bob", &second).await;
    let refused = comment_and_settle(&w, 4, "bob", "planguard apply -p data").await;
    assert!(
        refused.contains("`tfdata-encrypted` is soft-mandatory"),
        "{refused}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_hard_mandatory_finding_cannot_be_overridden() {
    let w = gated(None).await;
    let original =
        std::fs::read_to_string(common::testdata(&format!("server/repo/{DATA_TF}"))).unwrap();
    let head = w.push(
        "f",
        5,
        &[(DATA_TF, &format!("{original}\n# public\n"))],
        "public data",
    );
    w.open_pr(5, "f", &head, "alice").await;
    w.settle().await;
    let reply = comment_and_settle(&w, 5, "sec-lead", "planguard approve_policies -p data").await;
    insta::assert_snapshot!("hard_mandatory_approval", w.scrub(&reply));
    assert!(
        reply.contains("`tfdata-public` in `data` is hard-mandatory and cannot be overridden"),
        "{reply}"
    );
    w.approve(5, "bob", &head).await;
    let refused = comment_and_settle(&w, 5, "bob", "planguard apply -p data").await;
    assert!(
        refused.contains("`tfdata-public` is hard-mandatory in `data`: it cannot be overridden"),
        "{refused}"
    );
    assert!(
        !refused.contains("tfdata-encrypted"),
        "the soft finding was approved: {refused}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_commenter_without_write_access_is_refused() {
    let w = gated(None).await;
    let head = w.push("f", 6, &[(NETWORK_TF, &network("a"))], "network change");
    w.open_pr(6, "f", &head, "alice").await;
    w.settle().await;
    w.approve(6, "bob", &head).await;
    for cmd in ["planguard apply", "planguard unlock", "planguard cancel"] {
        let reply = comment_and_settle(&w, 6, "dave", cmd).await;
        assert!(
            reply.contains("@dave cannot") && reply.contains("write permission"),
            "{cmd}: {reply}"
        );
    }
    insta::assert_snapshot!("apply_refused_no_permission", w.scrub(&w.replies(6)[0]));
    assert!(!w
        .github
        .checks(&head)
        .contains_key("planguard/apply: network"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn stacks_apply_in_depends_on_order_and_a_failure_skips_dependents() {
    let w = gated(None).await;
    let head = w.push(
        "f",
        7,
        &[(NETWORK_TF, &network("a")), (DATA_TF, &data_clean())],
        "both",
    );
    w.open_pr(7, "f", &head, "alice").await;
    w.settle().await;
    w.approve(7, "bob", &head).await;
    let reply = comment_and_settle(&w, 7, "bob", "planguard apply").await;
    assert!(
        reply.contains("`network` applied") && reply.contains("`data` applied"),
        "{reply}"
    );
    let order: Vec<String> = w
        .audit(7)
        .iter()
        .filter(|e| e.action == "apply" && e.outcome == "applied")
        .filter_map(|e| e.stack.clone())
        .collect();
    assert_eq!(order, vec!["network", "data"], "network before data");

    // A network change whose apply fails: data is not applied.
    let failing = format!(
        "{}\nresource \"terraform_data\" \"boom\" {{\n  provisioner \"local-exec\" {{\n    command = \"echo provisioning failed; exit 3\"\n  }}\n}}\n",
        network("b")
    );
    let second = w.push(
        "f",
        7,
        &[
            (NETWORK_TF, &failing),
            (DATA_TF, &(data_clean() + "\n# b\n")),
        ],
        "break network apply",
    );
    w.push_pr(7, "f", &head, &second, "alice").await;
    w.settle().await;
    w.approve(7, "bob", &second).await;
    let reply = comment_and_settle(&w, 7, "bob", "planguard apply").await;
    insta::assert_snapshot!("apply_failure_skips_dependents", w.scrub(&reply));
    assert!(reply.contains(":boom: `network` failed"), "{reply}");
    assert!(
        reply.contains(":fast_forward: `data` skipped: `network` did not apply"),
        "{reply}"
    );
    let checks = w.github.checks(&second);
    assert_eq!(checks["planguard/apply: network"]["conclusion"], "failure");
    assert_eq!(checks["planguard/apply: data"]["conclusion"], "skipped");
    assert!(
        w.pr_comment(7).contains("provisioning failed"),
        "the failing output is shown"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn cancel_kills_a_long_plan_and_releases_the_stack() {
    let dir = tempfile::tempdir().unwrap();
    let marker = dir.path().join("survived");
    let extra = format!(
        "    workflow:\n      plan: [{{run: \"sleep 30; touch {}\"}}, init, plan, show, policy]",
        marker.display()
    );
    let w = gated(Some(standard_yaml(dir.path(), &extra))).await;
    let head = w.push("f", 8, &[(NETWORK_TF, &network("slow"))], "slow");
    w.open_pr(8, "f", &head, "alice").await;
    w.wait_for("the plan to start", |g| {
        g.checks(&head)
            .get("planguard/plan: network")
            .is_some_and(|c| c["status"] == "in_progress")
    })
    .await;
    let started = std::time::Instant::now();
    let reply = comment_and_settle(&w, 8, "bob", "planguard cancel").await;
    assert!(
        started.elapsed() < std::time::Duration::from_secs(20),
        "cancel did not wait for the step"
    );
    assert!(reply.contains("1 running job(s) killed"), "{reply}");
    let key = planguard::serve::store::LockKey {
        repo: "acme/infra".parse().unwrap(),
        stack: "network".parse().unwrap(),
        workspace: "default".into(),
    };
    assert!(
        w.services.store.lock(&key).await.unwrap().is_none(),
        "the stack is released"
    );
    assert!(w.pr_comment(8).contains("cancelled"), "{}", w.pr_comment(8));
    assert!(!marker.exists(), "the step's process group was killed");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn every_action_is_in_the_audit_api() {
    let w = gated(None).await;
    let head = w.push("f", 9, &[(DATA_TF, &data_soft("a"))], "data");
    w.open_pr(9, "f", &head, "alice").await;
    w.settle().await;
    comment_and_settle(&w, 9, "sec-lead", "planguard approve_policies").await;
    w.approve(9, "bob", &head).await;
    comment_and_settle(&w, 9, "bob", "planguard apply").await;
    comment_and_settle(&w, 9, "bob", "planguard unlock").await;
    comment_and_settle(&w, 9, "bob", "planguard cancel").await;
    w.close_pr(9, "f", &head, "alice", true).await;
    w.settle().await;

    assert_eq!(w.get("/api/audit?pr=9", None).await.0, 401);
    assert_eq!(w.get("/api/audit?pr=9", Some("wrong")).await.0, 401);
    let (status, body) = w
        .get("/api/audit?repo=acme/infra&pr=9", Some("audit-token-123"))
        .await;
    assert_eq!(status, 200, "{body}");
    let v: serde_json::Value = serde_json::from_str(&body).unwrap();
    let entries = v["entries"].as_array().unwrap();
    let actions: std::collections::BTreeSet<&str> = entries
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    for a in ["plan", "approve_policies", "apply", "unlock", "cancel"] {
        assert!(
            actions.contains(a),
            "{a} missing from the audit log: {body}"
        );
    }
    let apply = entries.iter().find(|e| e["action"] == "apply").unwrap();
    for key in [
        "actor",
        "at",
        "repo",
        "pr",
        "stack",
        "sha",
        "plan_hash",
        "outcome",
    ] {
        assert!(!apply[key].is_null(), "audit entries carry {key}: {apply}");
    }
    let (_, other) = w
        .get("/api/audit?repo=acme/other", Some("audit-token-123"))
        .await;
    assert_eq!(
        serde_json::from_str::<serde_json::Value>(&other).unwrap()["entries"],
        serde_json::json!([])
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_pr_cannot_relax_the_rules_that_gate_it() {
    // The PR switches its own apply requirements off and makes its author a policy owner;
    // the gate reads planguard.yaml from the base branch, so neither counts.
    let dir = tempfile::tempdir().unwrap();
    let w = gated(None).await;
    let relaxed = standard_yaml(&w.state_dir, "    apply_requirements: []")
        + "policy_owners: {users: [alice]}\n";
    let _ = dir;
    let head = w.push(
        "f",
        10,
        &[
            (NETWORK_TF, &network("a")),
            (DATA_TF, &data_soft("a")),
            ("planguard.yaml", &relaxed),
        ],
        "relax",
    );
    w.open_pr(10, "f", &head, "alice").await;
    w.settle().await;
    let approve = comment_and_settle(&w, 10, "alice", "planguard approve_policies").await;
    assert!(approve.contains("not a policy owner"), "{approve}");
    let reply = comment_and_settle(&w, 10, "alice", "planguard apply").await;
    assert!(
        reply.contains("apply refused") && reply.contains("**approved**"),
        "{reply}"
    );
    assert!(reply.contains("**policies_passed**"), "{reply}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_approval_by_someone_without_write_access_does_not_count() {
    let w = gated(None).await;
    let head = w.push("f", 11, &[(NETWORK_TF, &network("a"))], "network change");
    w.open_pr(11, "f", &head, "alice").await;
    w.settle().await;
    w.approve(11, "dave", &head).await;
    let reply = comment_and_settle(&w, 11, "bob", "planguard apply").await;
    assert!(
        reply.contains("@dave may not approve this stack"),
        "{reply}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_job_that_fails_for_good_is_reported_on_the_pr() {
    let w = gated(None).await;
    // A head commit that does not exist (force-pushed away before planguard fetched it).
    let gone = "0123456789abcdef0123456789abcdef01234567";
    w.push("f", 12, &[(NETWORK_TF, &network("a"))], "network change");
    w.open_pr(12, "f", gone, "alice").await;
    w.settle().await;
    let reply = last_reply(&w, 12);
    assert!(
        reply.contains("could not finish") && reply.contains("force-pushed"),
        "{reply}"
    );
}
