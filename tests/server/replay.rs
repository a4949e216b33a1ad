//! Comment commands act once, and only as they were written: a replayed, deleted, edited or
//! outdated `planguard apply` comment applies nothing.

use serde_json::{json, Value};

use crate::common;
use crate::world::{Options, World};

const NETWORK_TF: &str = "stacks/network/main.tf";
const APPLY_CHECK: &str = "planguard/apply: network";

/// `alice` opens PRs; `bob` and `carol` may write (and so apply and approve).
async fn world() -> World {
    let w = World::start(Options::default()).await;
    for user in ["alice", "bob", "carol"] {
        w.github.set_permission(user, "write");
    }
    w
}

fn network(note: &str) -> String {
    let original =
        std::fs::read_to_string(common::testdata(&format!("server/repo/{NETWORK_TF}"))).unwrap();
    format!("{original}\n# {note}\n")
}

/// Opens PR `pr` changing the network stack and waits for its plan; returns the head.
async fn planned_pr(w: &World, pr: u64) -> String {
    let head = w.push("f", pr, &[(NETWORK_TF, &network("a"))], "network change");
    let (status, body) = w.open_pr(pr, "f", &head, "alice").await;
    assert_eq!(status, 202, "{body}");
    w.settle().await;
    head
}

/// Delivers a comment payload under a fresh delivery id (a replay when sent again).
async fn deliver(w: &World, payload: &Value) {
    let (status, body) = w.deliver("issue_comment", payload).await;
    assert_eq!(status, 202, "{body}");
    w.settle().await;
}

fn comment_id(payload: &Value) -> u64 {
    payload["comment"]["id"].as_u64().unwrap()
}

/// How many stacks the audit log says were applied.
fn applied(w: &World, pr: u64) -> usize {
    w.audit(pr)
        .iter()
        .filter(|e| e.action == "apply" && e.outcome == "applied")
        .count()
}

/// The calls that ran or reported an apply: apply check runs and apply replies.
fn apply_calls(w: &World) -> usize {
    w.github
        .calls()
        .iter()
        .filter(|c| {
            c.body["name"].as_str() == Some(APPLY_CHECK)
                || c.body["body"]
                    .as_str()
                    .is_some_and(|b| b.contains("planguard: apply by"))
        })
        .count()
}

fn last_reply(w: &World, pr: u64) -> String {
    w.replies(pr).pop().unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_replayed_apply_comment_does_not_apply_after_an_approval() {
    let w = world().await;
    let head = planned_pr(&w, 1).await;
    // bob asks before anyone approved: refused.
    let apply = w.comment_payload(1, "bob", "planguard apply");
    deliver(&w, &apply).await;
    assert!(
        last_reply(&w, 1).contains("apply refused"),
        "{:?}",
        w.replies(1)
    );

    // An approval arrives; the captured delivery is sent again under a new delivery id.
    w.approve(1, "carol", &head).await;
    let replies = w.replies(1).len();
    deliver(&w, &apply).await;
    assert_eq!(applied(&w, 1), 0, "the replay applied: {:#?}", w.audit(1));
    assert!(!w.github.checks(&head).contains_key(APPLY_CHECK));
    assert!(!w.state_file(1, "network").exists());
    assert_eq!(w.replies(1).len(), replies, "a replay gets no reply");
    let outcome = format!(
        "refused: replay of comment {} (it was acted on already)",
        comment_id(&apply)
    );
    assert!(
        w.audit(1)
            .iter()
            .any(|e| e.action == "apply" && e.actor == "bob" && e.outcome == outcome),
        "{:#?}",
        w.audit(1)
    );

    // bob's new comment applies.
    deliver(&w, &w.comment_payload(1, "bob", "planguard apply")).await;
    assert!(
        last_reply(&w, 1).contains(":rocket: `network` applied"),
        "{:?}",
        w.replies(1)
    );
    assert_eq!(applied(&w, 1), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_replayed_apply_comment_does_not_apply_a_second_time() {
    let w = world().await;
    let first = planned_pr(&w, 2).await;
    w.approve(2, "carol", &first).await;
    let apply = w.comment_payload(2, "bob", "planguard apply");
    deliver(&w, &apply).await;
    assert!(last_reply(&w, 2).contains(":rocket: `network` applied"));
    assert_eq!(applied(&w, 2), 1);
    let calls = apply_calls(&w);
    assert!(calls > 0);

    // A new commit is planned and approved; the old apply comment is delivered again.
    let second = w.push("f", 2, &[(NETWORK_TF, &network("b"))], "second change");
    w.push_pr(2, "f", &first, &second, "alice").await;
    w.settle().await;
    w.approve(2, "carol", &second).await;
    let replies = w.replies(2).len();
    for _ in 0..2 {
        deliver(&w, &apply).await;
    }
    assert_eq!(applied(&w, 2), 1, "{:#?}", w.audit(2));
    assert_eq!(apply_calls(&w), calls, "no apply ran or was reported again");
    assert!(!w.github.checks(&second).contains_key(APPLY_CHECK));
    assert_eq!(w.replies(2).len(), replies);
    let replays = w
        .audit(2)
        .iter()
        .filter(|e| e.outcome.starts_with("refused: replay of comment"))
        .count();
    assert_eq!(replays, 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_apply_comment_deleted_or_edited_before_the_job_ran_is_refused() {
    let w = world().await;
    let head = planned_pr(&w, 3).await;
    w.approve(3, "carol", &head).await;

    let deleted = w.comment_payload(3, "bob", "planguard apply");
    w.github.delete_user_comment(comment_id(&deleted));
    deliver(&w, &deleted).await;
    let reply = last_reply(&w, 3);
    insta::assert_snapshot!("apply_refused_comment_deleted", reply);

    let edited = w.comment_payload(3, "bob", "planguard apply");
    w.github
        .edit_user_comment(comment_id(&edited), "never mind, wrong PR");
    deliver(&w, &edited).await;
    let reply = last_reply(&w, 3);
    insta::assert_snapshot!("apply_refused_comment_edited", reply);

    assert_eq!(applied(&w, 3), 0);
    assert!(!w.github.checks(&head).contains_key(APPLY_CHECK));
    let outcomes: Vec<String> = w
        .audit(3)
        .into_iter()
        .filter(|e| e.action == "apply")
        .map(|e| e.outcome)
        .collect();
    assert_eq!(
        outcomes,
        vec![
            format!("refused: comment {} was deleted", comment_id(&deleted)),
            format!("refused: comment {} was edited", comment_id(&edited)),
        ]
    );

    // An edit that leaves the command as it was changes nothing.
    let kept = w.comment_payload(3, "bob", "planguard apply");
    w.github
        .edit_user_comment(comment_id(&kept), "planguard apply");
    deliver(&w, &kept).await;
    assert!(
        last_reply(&w, 3).contains(":rocket: `network` applied"),
        "{:?}",
        w.replies(3)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_apply_comment_older_than_the_newest_plan_is_refused() {
    let w = world().await;
    let first = planned_pr(&w, 4).await;
    // bob's apply was posted a minute ago; its delivery only comes after a newer plan.
    let mut late = w.comment_payload(4, "bob", "planguard apply");
    let earlier = (chrono::Utc::now() - chrono::Duration::seconds(60))
        .to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    w.github.with(|s| {
        let c = s.user_comments.get_mut(&comment_id(&late)).unwrap();
        c["created_at"] = json!(earlier);
        c["updated_at"] = json!(earlier);
    });
    late["comment"]["created_at"] = json!(earlier);
    late["comment"]["updated_at"] = json!(earlier);
    let second = w.push("f", 4, &[(NETWORK_TF, &network("b"))], "second change");
    w.push_pr(4, "f", &first, &second, "alice").await;
    w.settle().await;
    w.approve(4, "carol", &second).await;

    deliver(&w, &late).await;
    let reply = last_reply(&w, 4);
    insta::assert_snapshot!("apply_refused_older_than_plan", reply);
    assert!(reply.contains("comment `planguard apply` again"), "{reply}");
    assert_eq!(applied(&w, 4), 0);
    assert!(!w.github.checks(&second).contains_key(APPLY_CHECK));
    assert!(w.audit(4).iter().any(|e| e.action == "apply"
        && e.outcome
            == format!(
                "refused: comment {} is older than the newest plan",
                comment_id(&late)
            )));

    // A new apply comment applies the plan it was written after.
    deliver(&w, &w.comment_payload(4, "bob", "planguard apply")).await;
    assert!(
        last_reply(&w, 4).contains(":rocket: `network` applied"),
        "{:?}",
        w.replies(4)
    );
}
