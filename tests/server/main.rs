//! End-to-end scenarios of `planguard serve`: real git, real SQLite, the real
//! `tofu`/`terraform`, the server in-process on 127.0.0.1, and the GitHub fake.

#[path = "../common/mod.rs"]
mod common;
mod engine;
mod fake_tofu;
mod fast;
mod gate;
mod github;
mod github_fixes;
mod http;
mod masking;
mod replay;
mod replicas;
mod sandbox;
mod store;
mod trust;
mod world;

use planguard::serve::store::JobState;
use world::{standard_yaml, Options, World};

const NETWORK_TF: &str = "stacks/network/main.tf";
const DATA_TF: &str = "stacks/data/main.tf";

fn touched(path: &str, note: &str) -> String {
    let original =
        std::fs::read_to_string(common::testdata(&format!("server/repo/{path}"))).unwrap();
    format!("{original}\n# {note}\n")
}

/// Pushes a commit touching both stacks on `branch` (PR `pr`); returns it.
fn push_both(w: &World, branch: &str, pr: u64, note: &str) -> String {
    w.push(
        branch,
        pr,
        &[
            (NETWORK_TF, &touched(NETWORK_TF, note)),
            (DATA_TF, &touched(DATA_TF, note)),
        ],
        &format!("touch both stacks ({note})"),
    )
}

fn check<'a>(
    checks: &'a std::collections::BTreeMap<String, serde_json::Value>,
    name: &str,
) -> &'a serde_json::Value {
    checks
        .get(name)
        .unwrap_or_else(|| panic!("no check {name:?}; have {:?}", checks.keys()))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn pr_opened_plans_both_stacks_with_one_comment_and_check_runs() {
    let w = World::start(Options::default()).await;
    let head = push_both(&w, "feature", 1, "v2");
    let (status, body) = w.open_pr(1, "feature", &head, "alice").await;
    assert_eq!(status, 202, "{body}");
    w.settle().await;

    let comments = w.github.comments(1);
    assert_eq!(
        comments.len(),
        1,
        "one planguard comment per PR: {comments:#?}"
    );
    let comment = w.pr_comment(1);
    insta::assert_snapshot!("pr_opened_comment", w.scrub(&comment));

    let checks = w.github.checks(&head);
    for stack in ["network", "data"] {
        let c = check(&checks, &format!("planguard/plan: {stack}"));
        assert_eq!(
            (c["status"].as_str(), c["conclusion"].as_str()),
            (Some("completed"), Some("success")),
            "{c}"
        );
    }
    let policy = check(&checks, "planguard/policy");
    assert_eq!(
        policy["conclusion"], "failure",
        "the data stack breaks two policies: {policy}"
    );
    let notes = policy["output"]["annotations"].as_array().unwrap();
    assert!(
        notes.iter().any(|a| a["path"] == DATA_TF
            && a["title"] == "tfdata-public"
            && a["start_line"].as_u64().unwrap() > 1),
        "findings are annotated on the resource's line: {notes:#?}"
    );

    // Nothing sensitive left the server: the variable marked sensitive, the stacks'
    // credentials, the webhook secret.
    for call in w.github.calls() {
        let text = call.body.to_string();
        for secret in [
            "hunter2-very-secret",
            "AKIANETWORKEXAMPLE01",
            "AKIADATAEXAMPLE00002",
            world::SECRET,
        ] {
            assert!(
                !text.contains(secret),
                "{secret} was posted in {} {}",
                call.method,
                call.path
            );
        }
    }
    // The App authenticated with an installation token, minted once and cached.
    assert_eq!(w.github.with(|s| s.tokens_issued), 1);

    let audit = w.audit(1);
    let planned: Vec<_> = audit
        .iter()
        .filter(|e| e.action == "plan")
        .map(|e| e.stack.clone().unwrap())
        .collect();
    assert_eq!(planned.len(), 2, "{audit:#?}");
    // The plan file, its JSON and the findings are stored per (repo, PR, stack, SHA).
    for stack in ["network", "data"] {
        let plan = w
            .services
            .store
            .latest_plan(
                &"acme/infra".parse().unwrap(),
                planguard::serve::domain::PrNumber(1),
                &stack.parse().unwrap(),
            )
            .await
            .unwrap()
            .unwrap();
        assert_eq!(plan.sha.as_str(), head);
        assert!(std::path::Path::new(&plan.plan_file).exists());
        assert!(std::fs::read_to_string(&plan.plan_json)
            .unwrap()
            .contains("terraform_data"));
        assert_eq!(plan.plan_hash.len(), 64);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_push_that_touches_one_stack_replans_only_that_stack() {
    let w = World::start(Options::default()).await;
    let first = push_both(&w, "feature", 1, "v2");
    w.open_pr(1, "feature", &first, "alice").await;
    w.settle().await;
    let comment_ids: Vec<u64> = w.github.comments(1).iter().map(|c| c.id).collect();

    let second = w.push(
        "feature",
        1,
        &[(NETWORK_TF, &touched(NETWORK_TF, "v3"))],
        "network only",
    );
    let (status, _) = w.push_pr(1, "feature", &first, &second, "alice").await;
    assert_eq!(status, 202);
    w.settle().await;

    let stacks = w
        .services
        .store
        .stacks(
            &"acme/infra".parse().unwrap(),
            planguard::serve::domain::PrNumber(1),
        )
        .await
        .unwrap();
    let sha_of = |name: &str| {
        stacks
            .iter()
            .find(|s| s.stack.as_str() == name)
            .unwrap()
            .sha
            .to_string()
    };
    assert_eq!(
        sha_of("network"),
        second,
        "network was re-planned at the new head"
    );
    assert_eq!(
        sha_of("data"),
        first,
        "data was not touched by the push and was not re-planned"
    );
    let audit = w.audit(1);
    assert_eq!(audit.iter().filter(|e| e.action == "plan").count(), 3);
    assert_eq!(
        w.github
            .comments(1)
            .iter()
            .map(|c| c.id)
            .collect::<Vec<_>>(),
        comment_ids,
        "the same comment was updated in place"
    );
    assert!(
        w.pr_comment(1).contains(&second[..7]),
        "the comment shows the new head"
    );
    let checks = w.github.checks(&second);
    assert!(checks.contains_key("planguard/plan: network"));
    assert!(!checks.contains_key("planguard/plan: data"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_second_pr_on_a_locked_stack_is_told_and_queued_until_the_lock_frees() {
    let w = World::start(Options::default()).await;
    let one = w.push(
        "one",
        1,
        &[(NETWORK_TF, &touched(NETWORK_TF, "from PR 1"))],
        "pr 1",
    );
    w.open_pr(1, "one", &one, "alice").await;
    w.settle().await;
    let two = w.push(
        "two",
        2,
        &[(NETWORK_TF, &touched(NETWORK_TF, "from PR 2"))],
        "pr 2",
    );
    w.open_pr(2, "two", &two, "bob").await;
    w.settle().await;

    let waiting = w.pr_comment(2);
    assert!(
        waiting.contains("#1") && waiting.contains("https://github.com/acme/infra/pull/1"),
        "PR 2 is told which PR holds the lock, with a link:\n{waiting}"
    );
    insta::assert_snapshot!("locked_stack_comment", w.scrub(&waiting));
    let counts = w.services.store.job_counts().await.unwrap();
    assert_eq!(
        counts[&JobState::Waiting],
        1,
        "queued, not dropped: {counts:?}"
    );

    w.close_pr(1, "one", &one, "alice", true).await;
    w.settle().await;
    w.wait_for("PR 2's plan", |g| {
        g.checks(&two)
            .get("planguard/plan: network")
            .is_some_and(|c| c["conclusion"] == "success")
    })
    .await;
    assert!(
        !w.pr_comment(2).contains("locked by"),
        "{}",
        w.pr_comment(2)
    );
    let lock = w
        .services
        .store
        .lock(&planguard::serve::store::LockKey {
            repo: "acme/infra".parse().unwrap(),
            stack: "network".parse().unwrap(),
            workspace: "default".into(),
        })
        .await
        .unwrap()
        .unwrap();
    assert_eq!(lock.pr.0, 2, "the lock passed to PR 2");
    // PR 1's working copies and plans are gone.
    assert!(!w.data_dir.join("work/acme/infra/1").exists());
    assert!(!w.data_dir.join("plans/acme/infra/1").exists());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_invalid_planguard_yaml_is_reported_on_the_pr() {
    let w = World::start(Options::default()).await;
    let broken = "version: 1\nstacks:\n  - name: network\n    dir: ../outside\n    colour: blue\n";
    let head = w.push(
        "bad-config",
        3,
        &[("planguard.yaml", broken)],
        "break the config",
    );
    w.open_pr(3, "bad-config", &head, "alice").await;
    w.settle().await;
    let comment = w.pr_comment(3);
    insta::assert_snapshot!("invalid_config_comment", w.scrub(&comment));
    assert!(comment.contains("colour"), "{comment}");
    assert!(comment.contains("../outside"), "{comment}");
    assert_eq!(
        w.github.checks(&head)["planguard/plan"]["conclusion"],
        "failure"
    );
    assert_eq!(
        w.get("/healthz", None).await.0,
        200,
        "the bot did not crash"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_tofu_syntax_error_is_an_error_comment_and_a_failed_check_without_a_crash() {
    let w = World::start(Options::default()).await;
    let head = w.push(
        "typo",
        4,
        &[
            (DATA_TF, "resource \"terraform_data\" \"x\" {\n  input = \n"),
            (NETWORK_TF, &touched(NETWORK_TF, "ok")),
        ],
        "typo",
    );
    w.open_pr(4, "typo", &head, "alice").await;
    w.settle().await;
    let checks = w.github.checks(&head);
    let data = check(&checks, "planguard/plan: data");
    assert_eq!(data["conclusion"], "failure", "{data}");
    assert_eq!(
        check(&checks, "planguard/plan: network")["conclusion"],
        "success"
    );
    let comment = w.pr_comment(4);
    assert!(
        comment.contains("Error"),
        "the failing step's output is shown:\n{comment}"
    );
    assert!(
        comment.contains("init") || comment.contains("plan"),
        "{comment}"
    );
    assert_eq!(w.get("/readyz", None).await.0, 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bad_signature_gets_401_and_nothing_is_queued() {
    let w = World::start(Options::default()).await;
    let payload = w.pr_payload("opened", 5, "x", &w.main_sha(), "mallory");
    let body = serde_json::to_vec(&payload).unwrap();
    let wrong = planguard::serve::webhook::sign(b"not-the-secret", &body);
    for sig in [Some(wrong.as_str()), None, Some("sha256=zz")] {
        let (status, answer) = w
            .post_raw("pull_request", "evil-1", sig, body.clone())
            .await;
        assert_eq!(status, 401, "{answer}");
    }
    let counts = w.services.store.job_counts().await.unwrap();
    assert_eq!(
        counts.values().sum::<u64>(),
        0,
        "nothing was stored: {counts:?}"
    );
    // The same delivery id is still usable: nothing about it was recorded.
    let (status, _) = w.deliver_as("pull_request", "evil-1", &payload).await;
    assert_eq!(status, 202);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_duplicate_delivery_is_processed_once() {
    let w = World::start(Options::default()).await;
    let head = w.push(
        "dup",
        6,
        &[(NETWORK_TF, &touched(NETWORK_TF, "dup"))],
        "dup",
    );
    w.github.set_pr(
        6,
        github::FakePr {
            head: head.clone(),
            author: "alice".into(),
            open: true,
            mergeable: Some(true),
            mergeable_state: "clean".into(),
        },
    );
    let payload = w.pr_payload("opened", 6, "dup", &head, "alice");
    let first = w
        .deliver_as("pull_request", "same-delivery", &payload)
        .await;
    let again = w
        .deliver_as("pull_request", "same-delivery", &payload)
        .await;
    assert_eq!(first.0, 202);
    assert_eq!(
        (again.0, again.1["status"].as_str()),
        (200, Some("duplicate"))
    );
    w.settle().await;
    let audit = w.audit(6);
    assert_eq!(audit.iter().filter(|e| e.action == "plan").count(), 1);
    assert_eq!(w.github.comments(6).len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn unreachable_github_is_retried_and_nothing_is_lost() {
    let w = World::start(Options::default()).await;
    let head = w.push(
        "flaky",
        7,
        &[(NETWORK_TF, &touched(NETWORK_TF, "flaky"))],
        "flaky",
    );
    w.github.with(|s| s.fail_next = 2);
    w.open_pr(7, "flaky", &head, "alice").await;
    w.wait_for("the comment after GitHub recovers", |g| {
        !g.comments(7).is_empty()
    })
    .await;
    w.settle().await;
    assert!(w.pr_comment(7).contains("network"));
    assert_eq!(
        w.github.comments(7).len(),
        1,
        "no duplicate comment after retries"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn each_tofu_process_sees_only_its_stacks_credentials() {
    let dir = tempfile::tempdir().unwrap();
    let extra = "    workflow:\n      plan: [{run: \"env > env.txt\"}, init, plan, show, policy]";
    let yaml = standard_yaml(dir.path(), extra);
    let w = World::start(Options {
        planguard_yaml: Some(yaml),
        extra_config: "allow_custom_workflows = true".into(),
        ..Default::default()
    })
    .await;
    let head = push_both(&w, "env", 8, "env");
    w.open_pr(8, "env", &head, "alice").await;
    w.settle().await;
    let env = std::fs::read_to_string(
        w.data_dir
            .join("work/acme/infra/8/network/stacks/network/env.txt"),
    )
    .unwrap();
    assert!(
        env.contains("AWS_ACCESS_KEY_ID=AKIANETWORKEXAMPLE01"),
        "{env}"
    );
    assert!(
        !env.contains("AKIADATAEXAMPLE00002"),
        "another stack's credentials leaked:\n{env}"
    );
    assert!(
        !env.contains(world::SECRET),
        "the webhook secret leaked:\n{env}"
    );
    assert!(
        !env.contains("BEGIN RSA PRIVATE KEY") && !env.contains("RUST_") && !env.contains("CARGO"),
        "{env}"
    );
    let keys: Vec<&str> = env
        .lines()
        .filter_map(|l| l.split_once('='))
        .map(|(k, _)| k)
        .collect();
    for k in &keys {
        assert!(
            ["PATH", "HOME", "TMPDIR", "LANG", "PWD", "SHLVL", "_", "OLDPWD"].contains(k)
                || k.starts_with("TF_")
                || k.starts_with("PLANGUARD_")
                || k.starts_with("AWS_")
                || ["CHECKPOINT_DISABLE", "PLANFILE", "SHOWFILE"].contains(k),
            "unexpected variable {k} in a step's environment"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn fork_prs_are_not_planned_automatically() {
    let w = World::start(Options::default()).await;
    let head = w.push(
        "fork",
        9,
        &[(NETWORK_TF, &touched(NETWORK_TF, "fork"))],
        "fork",
    );
    let mut payload = w.pr_payload("opened", 9, "fork", &head, "stranger");
    payload["pull_request"]["head"]["repo"]["full_name"] = serde_json::json!("stranger/infra");
    w.deliver("pull_request", &payload).await;
    w.settle().await;
    let replies = w.replies(9);
    assert_eq!(replies.len(), 1, "{replies:#?}");
    assert!(replies[0].contains("fork"), "{}", replies[0]);
    assert!(w.github.checks(&head).is_empty(), "nothing was planned");
    assert!(
        !w.data_dir.join("work/acme/infra/9").exists(),
        "the fork's code was not even fetched"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn health_readiness_and_metrics() {
    let w = World::start(Options::default()).await;
    assert_eq!(w.get("/healthz", None).await.0, 200);
    assert_eq!(w.get("/readyz", None).await.0, 200);
    let payload = serde_json::json!({"zen": "Keep it logically awesome.", "hook_id": 1});
    let (status, body) = w.deliver("ping", &payload).await;
    assert_eq!((status, body["status"].as_str()), (200, Some("ignored")));
    let (status, text) = w.get("/metrics", None).await;
    assert_eq!(status, 200);
    for needle in [
        "planguard_webhooks_total{event=\"ping\",outcome=\"ignored\"} 1",
        "planguard_queue_depth 0",
        "planguard_jobs{state=\"queued\"} 0",
        "planguard_webhook_ack_seconds_count 1",
    ] {
        assert!(text.contains(needle), "{needle} missing from:\n{text}");
    }
}

#[test]
fn a_restart_mid_job_finishes_the_job() {
    // A real process: the server is killed with SIGKILL while a stack's step runs, and the
    // job finishes after a restart.
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let dir = tempfile::tempdir().unwrap();
        let extra = "    workflow:\n      plan: [{run: \"sleep 4\"}, init, plan, show, policy]";
        let w = World::start(Options {
            planguard_yaml: Some(standard_yaml(dir.path(), extra)),
            extra_config: "allow_custom_workflows = true".into(),
            workers: 1,
            ..Default::default()
        })
        .await;
        // This world's in-process server is only used to build fixtures: the real binary
        // runs the scenario on its config.
        let mut w = w;
        let binary = w.hand_over_to_binary().await;
        let spawn = || binary.spawn();
        let mut server = spawn();
        w.wait_ready().await;
        let head = w.push(
            "slow",
            10,
            &[(NETWORK_TF, &touched(NETWORK_TF, "slow"))],
            "slow",
        );
        let (status, _) = w.open_pr(10, "slow", &head, "alice").await;
        assert_eq!(status, 202);
        w.wait_for("the plan to start", |g| {
            g.checks(&head)
                .get("planguard/plan: network")
                .is_some_and(|c| c["status"] == "in_progress")
        })
        .await;
        server.kill().unwrap();
        server.wait().unwrap();
        assert!(
            w.github.checks(&head)["planguard/plan: network"]["status"] == "in_progress",
            "the kill came mid-plan"
        );
        let mut server = spawn();
        w.wait_ready().await;
        w.wait_for("the plan to finish after the restart", |g| {
            g.checks(&head)
                .get("planguard/plan: network")
                .is_some_and(|c| c["conclusion"] == "success")
        })
        .await;
        server.kill().unwrap();
        server.wait().unwrap();
        assert!(w.pr_comment(10).contains("network"));
        let replies = w.replies(10);
        assert!(
            replies
                .iter()
                .any(|r| r.contains("planguard restarted") && r.contains("the plan of `network`")),
            "the resumed work is reported on the PR: {replies:#?}"
        );
    });
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn token_mode_reports_commit_statuses_instead_of_check_runs() {
    let w = World::start(Options {
        token_mode: true,
        ..Default::default()
    })
    .await;
    let head = push_both(&w, "feature", 11, "token");
    w.open_pr(11, "feature", &head, "alice").await;
    w.settle().await;
    assert!(
        w.github.checks(&head).is_empty(),
        "no check runs without an App"
    );
    let statuses = w.github.with(|s| s.statuses.clone());
    let last = |context: &str| {
        statuses
            .iter()
            .rev()
            .find(|s| s["context"] == context && s["sha"] == head.as_str())
            .unwrap_or_else(|| panic!("no status {context}: {statuses:#?}"))
            .clone()
    };
    assert_eq!(last("planguard/plan: network")["state"], "success");
    assert_eq!(last("planguard/policy")["state"], "failure");
    assert_eq!(w.github.comments(11).len(), 1);
    assert_eq!(
        w.github.with(|s| s.tokens_issued),
        0,
        "no App installation token in token mode"
    );
    for call in w.github.calls() {
        assert!(
            !call.body.to_string().contains(world::TOKEN),
            "the token was posted in {}",
            call.path
        );
    }
}
