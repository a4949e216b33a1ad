//! The job engine's scenarios with a fake `tofu` ([`FakeTofu`]): the same server, store, git
//! and GitHub fake as the end-to-end tests, but steps take microseconds, so these run in
//! milliseconds and pin the engine's behaviour apart from the binary's.

use std::sync::Arc;
use std::time::Instant;

use serde_json::json;

use crate::fake_tofu::{plan_creating, FakeTofu, FAKE_PLAN};
use crate::world::{Options, World};

const NETWORK: &str = "stacks/network";
const DATA: &str = "stacks/data";

async fn fast_world() -> (World, Arc<FakeTofu>) {
    let tofu = Arc::new(FakeTofu::new());
    let w = World::start(Options {
        runner: Some(tofu.clone()),
        ..Default::default()
    })
    .await;
    for (user, perm) in [("alice", "write"), ("bob", "write"), ("carol", "write")] {
        w.github.set_permission(user, perm);
    }
    (w, tofu)
}

/// A commit on `branch` whose stack `dir` plans to create `terraform_data.store` with `input`.
pub(crate) fn push_plan(
    w: &World,
    branch: &str,
    pr: u64,
    dir: &str,
    input: serde_json::Value,
) -> String {
    let tf = format!("{dir}/main.tf");
    // The code changes with the plan, so every push touches the stack.
    let code = format!(
        "{}\n# {branch}: {input}\n",
        std::fs::read_to_string(crate::common::testdata(&format!("server/repo/{tf}"))).unwrap()
    );
    let plan = plan_creating("terraform_data.store", input);
    let json = format!("{dir}/{FAKE_PLAN}");
    w.push(branch, pr, &[(&tf, &code), (&json, &plan)], branch)
}

fn conclusion(w: &World, head: &str, check: &str) -> Option<String> {
    w.github
        .checks(head)
        .get(check)
        .map(|c| c["conclusion"].as_str().unwrap_or("").to_owned())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_finding_in_the_plan_blocks_and_is_reported() {
    let started = Instant::now();
    let (w, tofu) = fast_world().await;
    let head = push_plan(&w, "f", 1, DATA, json!({ "encrypted": false }));
    w.open_pr(1, "f", &head, "alice").await;
    w.settle().await;

    assert_eq!(
        conclusion(&w, &head, "planguard/plan: data").as_deref(),
        Some("success")
    );
    let comment = w.pr_comment(1);
    assert!(comment.contains("tfdata-encrypted"), "{comment}");
    assert!(
        comment.contains("terraform_data.store stores data unencrypted"),
        "{comment}"
    );
    assert_eq!(
        (tofu.count("init"), tofu.count("plan"), tofu.count("apply")),
        (1, 1, 0),
        "one stack planned, nothing applied: {:?}",
        tofu.calls()
    );
    assert!(
        tofu.calls().iter().all(|c| c.cwd.ends_with(DATA)),
        "every step ran in the data stack's working copy: {:?}",
        tofu.calls()
    );
    eprintln!("planned and reported in {:?}", started.elapsed());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_crashed_plan_is_an_error_on_the_pr_and_is_not_retried() {
    let (w, tofu) = fast_world().await;
    tofu.crash("plan");
    let head = push_plan(&w, "f", 1, NETWORK, json!({ "cidr": "10.0.0.0/16" }));
    w.open_pr(1, "f", &head, "alice").await;
    w.settle().await;

    assert_eq!(
        conclusion(&w, &head, "planguard/plan: network").as_deref(),
        Some("failure")
    );
    let comment = w.pr_comment(1);
    assert!(
        comment.contains("crashed (killed by signal 11)"),
        "{comment}"
    );
    assert_eq!(
        tofu.count("plan"),
        1,
        "a failed step is a result, not a retry"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_second_pr_on_a_locked_stack_waits_and_gets_the_lock_when_the_first_closes() {
    let (w, tofu) = fast_world().await;
    let one = push_plan(&w, "one", 1, NETWORK, json!({ "pr": 1 }));
    w.open_pr(1, "one", &one, "alice").await;
    w.settle().await;
    let two = push_plan(&w, "two", 2, NETWORK, json!({ "pr": 2 }));
    w.open_pr(2, "two", &two, "bob").await;
    w.settle().await;

    assert!(
        w.pr_comment(2).contains("#1"),
        "PR 2 is told who holds the lock:\n{}",
        w.pr_comment(2)
    );
    assert_eq!(tofu.count("plan"), 1, "PR 2 did not plan under PR 1's lock");

    w.close_pr(1, "one", &one, "alice", true).await;
    w.wait_for("PR 2's plan", |g| {
        g.checks(&two)
            .get("planguard/plan: network")
            .is_some_and(|c| c["conclusion"] == "success")
    })
    .await;
    assert_eq!(tofu.count("plan"), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn apply_reaches_tofu_only_through_the_gate() {
    let (w, tofu) = fast_world().await;
    let head = push_plan(&w, "f", 1, NETWORK, json!({ "cidr": "10.1.0.0/16" }));
    w.open_pr(1, "f", &head, "alice").await;
    w.settle().await;

    w.comment(1, "bob", "planguard apply").await;
    w.settle().await;
    let refused = w.replies(1).pop().unwrap_or_default();
    assert!(refused.contains("**approved**"), "{refused}");
    assert_eq!(tofu.count("apply"), 0, "refused before tofu");

    w.approve(1, "carol", &head).await;
    w.comment(1, "bob", "planguard apply").await;
    w.settle().await;
    assert_eq!(tofu.count("apply"), 1, "{:?}", tofu.calls());
    assert_eq!(
        conclusion(&w, &head, "planguard/apply: network").as_deref(),
        Some("success")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn cancel_stops_a_plan_that_is_running_and_a_new_push_plans_again() {
    let (w, tofu) = fast_world().await;
    tofu.hold_plans();
    let head = push_plan(&w, "f", 1, NETWORK, json!({ "v": 1 }));
    w.open_pr(1, "f", &head, "alice").await;
    w.wait_for("the plan to start", |g| {
        g.checks(&head)
            .get("planguard/plan: network")
            .is_some_and(|c| c["status"] == "in_progress")
    })
    .await;

    w.comment(1, "bob", "planguard cancel").await;
    w.settle().await;
    let reply = w.replies(1).pop().unwrap_or_default();
    assert!(reply.contains("1 running job(s) killed"), "{reply}");
    assert!(w.pr_comment(1).contains("cancelled"), "{}", w.pr_comment(1));
    assert_eq!(tofu.count("show"), 0, "the cancelled plan went no further");

    tofu.release_plans();
    let again = push_plan(&w, "f", 1, NETWORK, json!({ "v": 2 }));
    w.push_pr(1, "f", &head, &again, "alice").await;
    w.wait_for("the new push's plan", |g| {
        g.checks(&again)
            .get("planguard/plan: network")
            .is_some_and(|c| c["conclusion"] == "success")
    })
    .await;
}
