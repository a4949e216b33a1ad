//! The job engine end to end: one pull request with many stacks neither floods the queue nor
//! starves another PR, and an apply killed by a restart is reported as interrupted.

use std::time::Duration;

use crate::world::{standard_yaml, Options, World};

const STACKS: usize = 30;
const LIMIT: usize = 20;

/// A stack of one built-in `terraform_data` resource (no provider download).
fn tiny_stack(note: &str) -> String {
    format!(
        "terraform {{\n  backend \"local\" {{}}\n}}\n\nresource \"terraform_data\" \"x\" {{\n  input = \"{note}\"\n}}\n"
    )
}

fn many_stacks_yaml() -> String {
    let mut yaml = String::from("version: 1\nstacks:\n");
    for i in 0..STACKS {
        yaml.push_str(&format!("  - {{ name: s{i}, dir: stacks/s{i} }}\n"));
    }
    yaml
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_pr_with_many_stacks_neither_floods_the_queue_nor_starves_another_pr() {
    let w = World::start(Options {
        planguard_yaml: Some(many_stacks_yaml()),
        workers: 2,
        extra_config: format!("[limits]\nmax_plans_per_event = {LIMIT}"),
        main_files: (0..STACKS)
            .map(|i| (format!("stacks/s{i}/main.tf"), tiny_stack("main")))
            .collect(),
        ..Default::default()
    })
    .await;
    let files: Vec<(String, String)> = (0..STACKS)
        .map(|i| (format!("stacks/s{i}/main.tf"), tiny_stack("pr 1")))
        .collect();
    let refs: Vec<(&str, &str)> = files
        .iter()
        .map(|(p, t)| (p.as_str(), t.as_str()))
        .collect();
    let head1 = w.push("many", 1, &refs, "touch every stack");
    w.open_pr(1, "many", &head1, "alice").await;
    w.wait_for("PR 1's plans to start", |g| {
        g.checks(&head1)
            .values()
            .any(|c| c["status"] == "in_progress")
    })
    .await;
    // A stack PR 1 did not get queued, so no lock stands between the two.
    let head2 = w.push(
        "one",
        2,
        &[("stacks/s29/main.tf", &tiny_stack("pr 2"))],
        "touch one stack",
    );
    w.open_pr(2, "one", &head2, "bob").await;
    w.settle().await;

    let plans = |pr| -> Vec<i64> {
        w.audit(pr)
            .into_iter()
            .filter(|e| e.action == "plan")
            .map(|e| e.id)
            .collect()
    };
    let (first, second) = (plans(1), plans(2));
    assert_eq!(first.len(), LIMIT, "nothing beyond the limit is planned");
    assert_eq!(second.len(), 1);
    let after = first.iter().filter(|&&id| id > second[0]).count();
    assert!(
        after >= LIMIT / 2,
        "PR 2's plan waited behind PR 1's queue: only {after} of PR 1's {LIMIT} plans finished after it"
    );
    assert_eq!(
        w.github.checks(&head2)["planguard/plan: s29"]["conclusion"],
        "success"
    );

    let checks = w.github.checks(&head1);
    assert!(checks.contains_key("planguard/plan: s19"));
    assert!(
        !checks.contains_key("planguard/plan: s20"),
        "no check for a stack beyond the limit"
    );
    let limit_replies: Vec<String> = w
        .replies(1)
        .into_iter()
        .filter(|r| r.contains("too many stacks to plan at once"))
        .collect();
    assert_eq!(limit_replies.len(), 1, "{limit_replies:#?}");
    assert!(
        limit_replies[0].contains(&format!(
            "This would plan {STACKS} stacks, but planguard queues at most {LIMIT} plans"
        )) && limit_replies[0].contains(&format!("`limits.max_plans_per_event` = {LIMIT}"))
            && limit_replies[0].contains("`s20`")
            && limit_replies[0].contains("`[limits]`"),
        "{}",
        limit_replies[0]
    );
    assert!(w.replies(2).iter().all(|r| !r.contains("too many stacks")));
}

#[test]
fn an_apply_killed_by_a_restart_is_reported_as_interrupted() {
    // A real process, killed with SIGKILL while `network` applies (a slow apply step).
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let dir = tempfile::tempdir().unwrap();
        let extra = "    workflow:\n      plan: [init, plan, show, policy]\n      apply: [{run: \"sleep 5\"}, apply]";
        let mut w = World::start(Options {
            planguard_yaml: Some(standard_yaml(dir.path(), extra)),
            extra_config: "allow_custom_workflows = true".into(),
            workers: 1,
            ..Default::default()
        })
        .await;
        w.github.set_permission("bob", "write");
        w.github.set_permission("alice", "write");
        // The in-process server only builds fixtures: the real binary runs the scenario.
        let binary = w.hand_over_to_binary().await;
        let spawn = || Server(binary.spawn());
        let mut server = spawn();
        w.wait_ready().await;
        let network = std::fs::read_to_string(crate::common::testdata(
            "server/repo/stacks/network/main.tf",
        ))
        .unwrap();
        let head = w.push(
            "apply",
            10,
            &[("stacks/network/main.tf", &format!("{network}\n# apply\n"))],
            "network change",
        );
        w.open_pr(10, "apply", &head, "alice").await;
        w.wait_for("the plan", |g| {
            g.checks(&head)
                .get("planguard/plan: network")
                .is_some_and(|c| c["conclusion"] == "success")
        })
        .await;
        w.approve(10, "bob", &head).await;
        w.comment(10, "alice", "planguard apply -p network").await;
        w.wait_for("the apply to start", |g| {
            g.checks(&head)
                .get("planguard/apply: network")
                .is_some_and(|c| c["status"] == "in_progress")
        })
        .await;
        tokio::time::sleep(Duration::from_millis(500)).await;
        assert!(
            w.pr_comment(10).contains(":hourglass: applying"),
            "an applying stack shows as applying:\n{}",
            w.pr_comment(10)
        );
        server.kill();

        let mut server = spawn();
        w.wait_ready().await;
        w.wait_for("the apply check to fail", |g| {
            g.checks(&head)
                .get("planguard/apply: network")
                .is_some_and(|c| c["conclusion"] == "failure")
        })
        .await;
        w.wait_for("the restart notice", |g| {
            g.comments(10)
                .iter()
                .any(|c| c.body.contains("planguard restarted"))
        })
        .await;
        let notice = w
            .replies(10)
            .into_iter()
            .find(|r| r.contains("planguard restarted"))
            .unwrap();
        assert!(
            notice.contains("interrupted while applying `network`")
                && notice.contains("apply failed")
                && notice.contains("planguard plan"),
            "{notice}"
        );
        let comment = w.pr_comment(10);
        assert!(comment.contains("apply failed"), "{comment}");
        assert!(!comment.contains("Queued:"), "{comment}");
        assert!(
            w.audit(10).iter().any(|e| e.action == "apply"
                && e.stack.as_deref() == Some("network")
                && e.outcome == "failed: interrupted by a restart"),
            "{:#?}",
            w.audit(10)
        );
        let before = w.github.comments(10).len();
        w.comment(10, "alice", "planguard apply").await;
        w.wait_for("the answer to apply", |g| g.comments(10).len() > before)
            .await;
        let answer = w.replies(10).pop().unwrap();
        assert!(
            answer.contains("`network` failed or was interrupted")
                && answer.contains("planguard plan"),
            "{answer}"
        );
        server.kill();
    });
}

/// The server process, killed (SIGKILL) when dropped, so a failing test leaves none behind.
struct Server(std::process::Child);

impl Server {
    fn kill(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.kill();
    }
}
