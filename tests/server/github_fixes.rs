//! GitHub Enterprise credentials on every call, paged reviews and check runs, stacks whose
//! names differ only in `/` against `__`, and the audit API's `limit`, end to end.
//!
//! The fake GitHub here, as in every scenario, answers `401` to a call without credentials and
//! pages its lists like GitHub; its URL (`http://127.0.0.1:PORT`) is not `api.github.com`,
//! as for a GitHub Enterprise Server.

use crate::common;
use crate::world::{standard_yaml, Options, World};

const NETWORK_TF: &str = "stacks/network/main.tf";
const DATA_TF: &str = "stacks/data/main.tf";

fn original(path: &str) -> String {
    std::fs::read_to_string(common::testdata(&format!("server/repo/{path}"))).unwrap()
}

fn network(note: &str) -> String {
    format!("{}\n# {note}\n", original(NETWORK_TF))
}

/// The network stack with one more resource whose input has `keys` entries: its plan diff
/// alone is about `keys * 45` characters.
fn network_with_big_input(keys: usize) -> String {
    let mut tf = original(NETWORK_TF);
    tf.push_str("\nresource \"terraform_data\" \"big\" {\n  input = {\n");
    for i in 0..keys {
        tf.push_str(&format!(
            "    key_{i:05} = \"value number {i:05} of the big input\"\n"
        ));
    }
    tf.push_str("  }\n}\n");
    tf
}

/// A world where `bob` and `carol` may write.
async fn world() -> World {
    let w = World::start(Options::default()).await;
    for user in ["alice", "bob", "carol"] {
        w.github.set_permission(user, "write");
    }
    w
}

async fn apply(w: &World, pr: u64) -> String {
    let (status, body) = w.comment(pr, "alice", "planguard apply").await;
    assert_eq!(status, 202, "{body}");
    w.settle().await;
    w.replies(pr).pop().unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_push_that_shrinks_a_split_comment_deletes_the_parts_with_credentials() {
    let w = world().await;
    let big = w.push(
        "big",
        21,
        &[(NETWORK_TF, &network_with_big_input(2500))],
        "a big input",
    );
    w.open_pr(21, "big", &big, "alice").await;
    w.settle().await;
    let parts = w.github.comments(21).len();
    assert!(
        parts >= 2,
        "the big plan's comment is split: {parts} part(s)"
    );

    let small = w.push("big", 21, &[(NETWORK_TF, &network("small"))], "small");
    w.push_pr(21, "big", &big, &small, "alice").await;
    w.settle().await;

    let unauthenticated = w.github.with(|s| s.unauthenticated.clone());
    assert!(
        unauthenticated.is_empty(),
        "calls without credentials: {unauthenticated:?}"
    );
    let deletes = w
        .github
        .calls()
        .into_iter()
        .filter(|c| c.method == "DELETE")
        .count();
    assert_eq!(deletes, parts - 1, "each surplus part is deleted once");
    let comments = w.github.comments(21);
    assert_eq!(comments.len(), 1, "one part is left: {comments:#?}");
    assert!(
        comments[0].body.contains(&small[..7]),
        "the comment shows the plan of the new head"
    );
    let planned: Vec<String> = w
        .audit(21)
        .iter()
        .filter(|e| e.action == "plan")
        .filter_map(|e| e.sha.clone())
        .collect();
    assert_eq!(planned, vec![big, small], "the new head was planned");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_approval_on_the_second_page_of_reviews_counts() {
    let w = world().await;
    let head = w.push("f", 22, &[(NETWORK_TF, &network("a"))], "network change");
    w.open_pr(22, "f", &head, "alice").await;
    w.settle().await;
    for _ in 0..149 {
        w.github.add_review(22, "carol", "COMMENTED", &head);
    }
    // The 150th review: on page 2 of 100.
    w.approve(22, "bob", &head).await;
    w.settle().await;

    let reply = apply(&w, 22).await;
    assert!(reply.contains(":rocket: `network` applied"), "{reply}");
    let review_pages = w
        .github
        .calls()
        .iter()
        .filter(|c| c.path == "/repos/acme/infra/pulls/22/reviews")
        .count();
    assert!(review_pages >= 2, "both pages of reviews were read");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_failing_check_run_past_the_first_hundred_holds_up_mergeable() {
    let w = world().await;
    let head = w.push("f", 23, &[(NETWORK_TF, &network("a"))], "network change");
    w.open_pr(23, "f", &head, "alice").await;
    w.settle().await;
    w.approve(23, "bob", &head).await;
    w.settle().await;
    // planguard's own check runs come first; these 130 follow, the failing one 121st of them.
    for i in 0..130 {
        let conclusion = if i == 120 { "failure" } else { "success" };
        w.github
            .add_foreign_check_run(&head, &format!("ci/check-{i:03}"), conclusion);
    }

    let reply = apply(&w, 23).await;
    assert!(reply.contains("Nothing was applied"), "{reply}");
    assert!(
        reply.contains("`ci/check-120` is failure"),
        "the refusal names the failing check: {reply}"
    );
    assert!(!w.state_file(23, "network").exists(), "nothing applied");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn more_reviews_than_planguard_reads_fail_the_apply_rather_than_judge_part() {
    let w = world().await;
    let head = w.push("f", 26, &[(NETWORK_TF, &network("a"))], "network change");
    w.open_pr(26, "f", &head, "alice").await;
    w.settle().await;
    // One review more than planguard reads (101 pages).
    w.github.add_review(26, "carol", "COMMENTED", &head);
    w.github.with(|s| {
        let one = s.reviews[&26][0].clone();
        s.reviews.insert(26, vec![one; 10_001]);
    });

    let reply = apply(&w, 26).await;
    assert!(
        reply.contains("GitHub lists more than 10000 items for GET reviews"),
        "{reply}"
    );
    assert!(!w.state_file(26, "network").exists(), "nothing applied");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn stacks_a_slash_b_and_a_double_underscore_b_get_their_own_directories() {
    let yaml = standard_yaml(std::path::Path::new("/state"), "")
        .replace("name: network", "name: a/b")
        .replace("name: data", "name: a__b")
        .replace("depends_on: [network]", "depends_on: [a/b]");
    let w = World::start(Options {
        planguard_yaml: Some(yaml),
        ..Default::default()
    })
    .await;
    let data = format!("{}\n# b\n", original(DATA_TF));
    let head = w.push(
        "f",
        24,
        &[(NETWORK_TF, &network("a")), (DATA_TF, &data)],
        "both stacks",
    );
    w.open_pr(24, "f", &head, "alice").await;
    w.settle().await;

    let pr_dir = |kind: &str| w.data_dir.join(kind).join("acme/infra/24");
    for kind in ["work", "plans"] {
        let mut names: Vec<String> = std::fs::read_dir(pr_dir(kind))
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            // `_source`, `_trusted`: planguard's own clones of the PR.
            .filter(|n| !n.starts_with('_'))
            .collect();
        names.sort();
        assert_eq!(names, ["a%2Fb", "a__b"], "{kind}");
    }
    let work = pr_dir("work");
    assert!(work.join("a%2Fb/stacks/network/main.tf").exists());
    assert!(work.join("a__b/stacks/data/main.tf").exists());
    let comment = w.pr_comment(24);
    for stack in ["a/b", "a__b"] {
        let check = &w.github.checks(&head)[&format!("planguard/plan: {stack}")];
        assert_eq!(
            check["conclusion"], "success",
            "{stack}: {check}\n{comment}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_audit_apis_limit_keeps_the_newest_entries_oldest_first() {
    let w = World::start(Options::default()).await;
    for i in 0..5 {
        w.services
            .store
            .audit(&planguard::serve::store::AuditEntry {
                id: 0,
                at: planguard::serve::store::now(),
                actor: "alice".into(),
                action: format!("action-{i}"),
                repo: "acme/infra".into(),
                pr: 25,
                stack: None,
                sha: None,
                plan_hash: None,
                outcome: "done".into(),
            })
            .await
            .unwrap();
    }
    let (status, body) = w
        .get(
            "/api/audit?repo=acme/infra&pr=25&limit=2",
            Some("audit-token-123"),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let v: serde_json::Value = serde_json::from_str(&body).unwrap();
    let actions: Vec<&str> = v["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(actions, ["action-3", "action-4"]);
}
