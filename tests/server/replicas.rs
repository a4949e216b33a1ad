//! Several replicas on one PostgreSQL database, end to end: the servers share nothing but the
//! database (each has its own data directory and working copies) and one GitHub fake.
//!
//! - Any replica accepts any webhook and each delivery is handled exactly once, whichever
//!   replica receives it (or its replay), with exactly one planguard comment per PR however
//!   many replicas update it at once.
//! - When the replica running a plan is killed (`SIGKILL`, the real binary), another replica
//!   takes the job over once its lease expires, without a restart, and the plan finishes; the
//!   plan is then applied from a third replica, from the plan file kept in the database.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use serde_json::{json, Value};

use planguard::serve::domain::PrNumber;
use planguard::serve::store::{Job, JobKind, JobState};

use crate::fake_tofu::{plan_creating, FakeTofu, FAKE_PLAN};
use crate::world::{standard_yaml, Options, Replica, World, REPO};

/// Server config of a world on a fresh PostgreSQL database with a short lease (so a dead
/// replica's jobs are taken over within seconds).
fn on_postgres(tag: &str, lease_secs: u64, more_top: &str) -> String {
    let db = crate::common::postgres::fresh_database(tag);
    format!("database = \"{db}\"\n{more_top}\n[limits]\njob_lease_secs = {lease_secs}\n")
}

fn queued_job(answer: &(u16, Value)) -> i64 {
    assert_eq!(answer.0, 202, "{answer:?}");
    answer.1["job"]
        .as_i64()
        .unwrap_or_else(|| panic!("{answer:?}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn three_replicas_handle_200_concurrent_deliveries_exactly_once() {
    const PRS: u64 = 10;
    const DELIVERIES: u64 = 200;
    // One stack per PR, so the PRs' plans run side by side (a stack's lock would queue them).
    let stacks: String = (1..=PRS)
        .map(|n| format!("  - name: s{n}\n    dir: stacks/s{n}\n"))
        .collect();
    let tofu = Arc::new(FakeTofu::new());
    let w = Arc::new(
        World::start(Options {
            runner: Some(tofu.clone()),
            extra_config: on_postgres("three_replicas", 3, ""),
            planguard_yaml: Some(format!("version: 1\nstacks:\n{stacks}")),
            main_files: (1..=PRS)
                .map(|n| (format!("stacks/s{n}/main.tf"), "# stack\n".to_owned()))
                .collect(),
            ..Default::default()
        })
        .await,
    );
    w.github.set_permission("alice", "write");
    let b = w.add_replica("b").await;
    let c = w.add_replica("c").await;
    let urls = [w.url.clone(), b.url.clone(), c.url.clone()];
    let mut heads = BTreeMap::new();
    for pr in 1..=PRS {
        let branch = format!("f{pr}");
        let dir = format!("stacks/s{pr}");
        let plan = plan_creating("terraform_data.store", json!({ "pr": pr }));
        let head = w.push(
            &branch,
            pr,
            &[
                (&format!("{dir}/main.tf"), &format!("# stack of PR {pr}\n")),
                (&format!("{dir}/{FAKE_PLAN}"), &plan),
            ],
            &branch,
        );
        let url = &urls[pr as usize % 3];
        let payload = w.pr_payload("opened", pr, &branch, &head, "alice");
        w.github.set_pr(
            pr,
            crate::github::FakePr {
                head: head.clone(),
                author: "alice".into(),
                open: true,
                mergeable: Some(true),
                mergeable_state: "blocked".into(),
            },
        );
        queued_job(
            &w.deliver_to(url, "pull_request", &format!("open-{pr}"), &payload)
                .await,
        );
        heads.insert(pr, head);
    }
    w.settle().await;

    // 200 comments at once, round-robin over the replicas, each also replayed at once to the
    // next replica (GitHub redelivers with the same delivery id).
    let mut sends = Vec::new();
    for n in 0..DELIVERIES {
        let pr = 1 + n % PRS;
        let payload = w.comment_payload(pr, "alice", "planguard plan");
        let delivery = format!("comment-{n}");
        for hop in 0..2 {
            let (w, url) = (w.clone(), urls[(n + hop) as usize % 3].clone());
            let (payload, delivery) = (payload.clone(), delivery.clone());
            sends.push(tokio::spawn(async move {
                let answer = w
                    .deliver_to(&url, "issue_comment", &delivery, &payload)
                    .await;
                (delivery, answer)
            }));
        }
    }
    let mut jobs = BTreeMap::new();
    let mut duplicates = 0;
    for send in sends {
        let (delivery, answer) = send.await.unwrap();
        match answer.0 {
            202 => assert!(
                jobs.insert(delivery, queued_job(&answer)).is_none(),
                "a delivery queued twice"
            ),
            200 => {
                assert_eq!(answer.1["status"], "duplicate", "{answer:?}");
                duplicates += 1;
            }
            _ => panic!("{answer:?}"),
        }
    }
    assert_eq!((jobs.len(), duplicates), (DELIVERIES as usize, 200));
    w.settle().await;

    let mut owners = BTreeSet::new();
    for (delivery, id) in &jobs {
        let job = w.services.store.job(*id).await.unwrap().unwrap();
        assert_eq!(
            (job.state, job.attempts, job.interruptions),
            (JobState::Done, 1, 0),
            "{delivery} was not handled exactly once: {job:?}"
        );
        owners.extend(job.owner);
    }
    assert_eq!(
        owners.len(),
        3,
        "every replica handled deliveries: {owners:?}"
    );
    for (pr, head) in &heads {
        let ours: Vec<_> = w
            .github
            .comments(*pr)
            .into_iter()
            .filter(|c| c.body.starts_with("<!-- planguard:pr-comment -->"))
            .collect();
        assert_eq!(ours.len(), 1, "PR {pr} has one planguard comment");
        let check = &w.github.checks(head)[&format!("planguard/plan: s{pr}")];
        assert_eq!(check["conclusion"], "success", "PR {pr}: {check}");
    }
}

#[test]
fn a_killed_replicas_plan_finishes_on_another_and_is_applied_from_a_third() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(4)
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let dir = tempfile::tempdir().unwrap();
        // A plan that runs long enough to be killed mid-run.
        let extra = "    workflow:\n      plan: [{run: \"sleep 3\"}, init, plan, show, policy]";
        let mut w = World::start(Options {
            planguard_yaml: Some(standard_yaml(dir.path(), extra)),
            extra_config: on_postgres("killed_replica", 2, "allow_custom_workflows = true"),
            workers: 1,
            ..Default::default()
        })
        .await;
        for user in ["alice", "bob"] {
            w.github.set_permission(user, "write");
        }
        let network_tf = "stacks/network/main.tf";
        let network = std::fs::read_to_string(crate::common::testdata(&format!(
            "server/repo/{network_tf}"
        )))
        .unwrap();
        let head = w.push(
            "change",
            10,
            &[(network_tf, &format!("{network}\n# replicas\n"))],
            "network change",
        );

        // Replica a is the real binary: only it is running when the plan starts.
        let binary = w.hand_over_to_binary().await;
        let mut a = binary.spawn_as("a");
        w.wait_ready().await;
        let (status, _) = w.open_pr(10, "change", &head, "alice").await;
        assert_eq!(status, 202);
        w.wait_for("the plan to start on a", |g| {
            g.checks(&head)
                .get("planguard/plan: network")
                .is_some_and(|c| c["status"] == "in_progress")
        })
        .await;
        let b = w.add_replica("b").await;
        a.kill().unwrap();
        a.wait().unwrap();

        // Nobody restarts a: b takes the plan over when a's lease expires.
        w.wait_for("the plan to finish on b", |g| {
            g.checks(&head)
                .get("planguard/plan: network")
                .is_some_and(|c| c["conclusion"] == "success")
        })
        .await;
        // The check is completed just before the job's row ends: wait for the row.
        let started = std::time::Instant::now();
        let taken = loop {
            let job = taken_over_plan(&b).await;
            if job.state != JobState::Running {
                break job;
            }
            assert!(started.elapsed().as_secs() < 60, "the plan job never ended");
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        };
        assert_eq!(
            (taken.owner.as_deref(), taken.interruptions, taken.state),
            (Some("b"), 1, JobState::Done)
        );

        // The plan is applied from c, which never planned: its plan file comes from the
        // database, hash-checked.
        let mut b = b;
        b.stop().await;
        let c = w.add_replica("c").await;
        w.url = c.url.clone();
        w.approve(10, "bob", &head).await;
        let (status, answer) = w
            .deliver_to(
                &c.url,
                "issue_comment",
                "apply-from-c",
                &w.comment_payload(10, "alice", "planguard apply"),
            )
            .await;
        assert_eq!(status, 202, "{answer}");
        let started = std::time::Instant::now();
        while !w
            .github
            .checks(&head)
            .get("planguard/apply: network")
            .is_some_and(|c| c["conclusion"].is_string())
        {
            if started.elapsed() > std::time::Duration::from_secs(40) {
                panic!(
                    "no apply: {:#?}\n{:#?}\n{:#?}",
                    w.replies(10),
                    w.github.checks(&head),
                    w.audit(10)
                );
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        let apply = &w.github.checks(&head)["planguard/apply: network"];
        assert_eq!(
            apply["conclusion"],
            "success",
            "{}\n{:#?}",
            apply["output"],
            w.replies(10)
        );
        let planned = c
            .services
            .store
            .latest_plan(
                &REPO.parse().unwrap(),
                PrNumber(10),
                &"network".parse().unwrap(),
            )
            .await
            .unwrap()
            .expect("b's plan is in the database");
        let audit = w.audit(10);
        assert!(
            audit.iter().any(|e| e.action == "apply"
                && e.outcome == "applied"
                && e.plan_hash.as_deref() == Some(planned.plan_hash.as_str())),
            "the apply used b's plan: {audit:#?}"
        );
        assert_eq!(
            w.pr_comment(10)
                .matches("<!-- planguard:pr-comment -->")
                .count(),
            1
        );
    });
}

/// The plan job of `network` in the killed-replica scenario (the few first job ids), as the
/// store has it now.
async fn taken_over_plan(r: &Replica) -> Job {
    for id in 1..20 {
        if let Some(job) = r.services.store.job(id).await.unwrap() {
            if job.kind == JobKind::Plan
                && job.stack.as_ref().is_some_and(|s| s.as_str() == "network")
            {
                return job;
            }
        }
    }
    panic!("no plan job of network");
}
