//! The store story: one sequence of store calls per scenario, each run on SQLite and on
//! PostgreSQL (a throwaway server, see `tests/common/postgres.rs`), so both backends keep the
//! same promises: deliveries stored once, one stack never running twice, fair claims, leases
//! that let another replica take a dead one's jobs (and keep the dead one from ending them),
//! holds between replicas, plan files shared, retention.

use std::time::Duration;

use planguard::serve::domain::{CommitSha, PrNumber, RepoName, StackName};
use planguard::serve::store::{
    Accepted, Approval, ApprovalStore, AuditEntry, AuditFilter, AuditStore, Database,
    DeliveryStore, JobKind, JobState, JobStore, LockKey, LockOutcome, LockStore, NewJob,
    PlanRecord, PlanStore, PrRecord, ReportStore, SqlStore, Store, StoreError, StoreOptions,
};

/// Where a scenario's database lives; [`Fixture::replica`] opens it as one replica.
pub struct Fixture {
    database: Database,
    _dir: Option<tempfile::TempDir>,
}

impl Fixture {
    pub fn sqlite() -> Fixture {
        let dir = tempfile::tempdir().unwrap();
        Fixture {
            database: Database::Sqlite(dir.path().join("planguard.db")),
            _dir: Some(dir),
        }
    }

    pub fn postgres(tag: &str) -> Fixture {
        Fixture {
            database: Database::Postgres(crate::common::postgres::fresh_database(tag)),
            _dir: None,
        }
    }

    /// The store as replica `name` sees it, with a lease of `lease_secs`.
    pub async fn replica_with_lease(&self, name: &str, lease_secs: u64) -> SqlStore {
        let options = StoreOptions {
            replica: name.into(),
            lease: Duration::from_secs(lease_secs),
            max_connections: 4,
        };
        SqlStore::connect(&self.database, options)
            .await
            .expect("the store opens")
    }

    pub async fn replica(&self, name: &str) -> SqlStore {
        self.replica_with_lease(name, 60).await
    }
}

/// Runs a scenario on both backends, as `NAME::sqlite` and `NAME::postgres`.
macro_rules! on_both_backends {
    ($($name:ident),* $(,)?) => {$(
        mod $name {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                super::$name(super::Fixture::sqlite()).await
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                super::$name(super::Fixture::postgres(stringify!($name))).await
            }
        }
    )*};
}

on_both_backends!(
    a_delivery_is_stored_once,
    a_batch_queues_each_fresh_deliverys_own_job,
    a_comment_drives_one_job_only,
    one_stack_never_runs_twice_at_once,
    a_restart_requeues_interrupted_jobs,
    a_job_that_keeps_killing_its_server_fails_after_the_cap,
    an_interrupted_apply_is_never_run_again,
    a_job_that_panics_is_retried_then_failed,
    workers_are_shared_fairly_between_pull_requests,
    locks_belong_to_one_pr_and_waiting_jobs_wake_on_release,
    a_newer_push_supersedes_queued_plans_of_the_same_stack,
    plans_approvals_and_audit_round_trip,
    a_dead_replicas_job_is_taken_over_when_its_lease_expires,
    replicas_racing_for_jobs_never_run_one_twice,
    a_plan_file_saved_by_one_replica_is_read_by_another,
    retention_prunes_what_finished_long_ago_and_keeps_the_audit,
    a_replica_that_lost_its_claim_cannot_end_the_job,
    a_cancelled_job_stops_on_the_replica_running_it,
    holds_serialise_one_update_between_replicas,
);

fn repo() -> RepoName {
    "acme/infra".parse().unwrap()
}

fn sha(c: char) -> CommitSha {
    c.to_string().repeat(40).parse().unwrap()
}

fn stack(name: &str) -> StackName {
    name.parse().unwrap()
}

fn plan_job(pr: u64, stack: &str) -> NewJob {
    NewJob {
        kind: JobKind::Plan,
        repo: repo(),
        pr: PrNumber(pr),
        stack: Some(stack.parse().unwrap()),
        lock_key: Some(format!("acme/infra|{stack}|default")),
        payload: serde_json::json!({"stack": stack}),
    }
}

fn plan_record(pr: u64, c: char, hash: &str) -> PlanRecord {
    PlanRecord {
        repo: repo(),
        pr: PrNumber(pr),
        stack: stack("net"),
        sha: sha(c),
        plan_file: "p".into(),
        plan_json: "j".into(),
        plan_hash: hash.into(),
        report: "{}".into(),
        applied: false,
        created_at: 1,
    }
}

fn audit_entry(action: &str) -> AuditEntry {
    AuditEntry {
        id: 0,
        at: 1,
        actor: "alice".into(),
        action: action.into(),
        repo: "acme/infra".into(),
        pr: 3,
        stack: Some("net".into()),
        sha: None,
        plan_hash: None,
        outcome: "planned".into(),
    }
}

async fn a_delivery_is_stored_once(fx: Fixture) {
    let (a, b) = (fx.replica("a").await, fx.replica("b").await);
    let first = a
        .accept_delivery("d-1", "pull_request", Some(plan_job(1, "net")))
        .await
        .unwrap();
    assert!(matches!(first, Accepted::Queued(id) if id > 0));
    let again = b
        .accept_delivery("d-1", "pull_request", Some(plan_job(1, "net")))
        .await
        .unwrap();
    assert_eq!(
        again,
        Accepted::Duplicate,
        "a redelivery to another replica"
    );
    let batch = a
        .accept_deliveries(vec![
            ("d-2".into(), "push".into(), None),
            (
                "d-1".into(),
                "pull_request".into(),
                Some(plan_job(1, "net")),
            ),
        ])
        .await
        .unwrap();
    assert_eq!(batch, [Accepted::Queued(0), Accepted::Duplicate]);
    assert_eq!(a.job_counts().await.unwrap()[&JobState::Queued], 1);
}

async fn a_batch_queues_each_fresh_deliverys_own_job(fx: Fixture) {
    let s = fx.replica("a").await;
    s.accept_delivery("d-4", "pull_request", Some(plan_job(4, "old")))
        .await
        .unwrap();
    // Out of id order, with a delivery seen before, one without a job and one twice.
    let batch = s
        .accept_deliveries(vec![
            ("d-9".into(), "pull_request".into(), Some(plan_job(9, "c"))),
            ("d-3".into(), "pull_request".into(), Some(plan_job(3, "a"))),
            ("d-4".into(), "pull_request".into(), Some(plan_job(44, "x"))),
            ("d-5".into(), "push".into(), None),
            ("d-3".into(), "pull_request".into(), Some(plan_job(33, "y"))),
            ("d-7".into(), "pull_request".into(), Some(plan_job(7, "b"))),
        ])
        .await
        .unwrap();
    let mut queued = Vec::new();
    for accepted in &batch {
        queued.push(match accepted {
            Accepted::Queued(0) => "no job".to_owned(),
            Accepted::Queued(id) => {
                let job = s.job(*id).await.unwrap().expect("a queued job");
                format!("#{} {}", job.pr.0, job.stack.unwrap())
            }
            Accepted::Duplicate => "duplicate".to_owned(),
        });
    }
    assert_eq!(
        queued,
        ["#9 c", "#3 a", "duplicate", "no job", "duplicate", "#7 b"],
        "each delivery gets its own job, the first of a repeated id wins"
    );
    assert_eq!(s.job_counts().await.unwrap()[&JobState::Queued], 4);
}

async fn a_comment_drives_one_job_only(fx: Fixture) {
    let s = fx.replica("a").await;
    assert!(
        s.claim_comment(&repo(), 77, 1).await.unwrap(),
        "first claim"
    );
    assert!(
        s.claim_comment(&repo(), 77, 1).await.unwrap(),
        "a retry of the same job"
    );
    assert!(
        !s.claim_comment(&repo(), 77, 2).await.unwrap(),
        "a replay in another job"
    );
    let other: RepoName = "acme/other".parse().unwrap();
    assert!(
        s.claim_comment(&other, 77, 2).await.unwrap(),
        "ids are per repository"
    );
}

async fn one_stack_never_runs_twice_at_once(fx: Fixture) {
    let s = fx.replica("a").await;
    s.enqueue(plan_job(1, "net")).await.unwrap();
    s.enqueue(plan_job(2, "net")).await.unwrap();
    s.enqueue(plan_job(1, "data")).await.unwrap();
    let a = s.claim().await.unwrap().unwrap();
    let b = s.claim().await.unwrap().unwrap();
    assert_eq!(a.stack.as_ref().unwrap().as_str(), "net");
    assert_eq!(
        b.stack.unwrap().as_str(),
        "data",
        "the second net job must wait"
    );
    assert!(s.claim().await.unwrap().is_none());
    s.finish(&a, JobState::Done, None).await.unwrap();
    let c = s.claim().await.unwrap().unwrap();
    assert_eq!((c.pr, c.stack.unwrap().as_str()), (PrNumber(2), "net"));
}

async fn a_restart_requeues_interrupted_jobs(fx: Fixture) {
    {
        let s = fx.replica("a").await;
        s.enqueue(plan_job(1, "net")).await.unwrap();
        let job = s.claim().await.unwrap().unwrap();
        assert_eq!((job.attempts, job.owner.as_deref()), (1, Some("a")));
    }
    let other = fx.replica("b").await;
    assert!(
        other.recover(3, false).await.unwrap().is_empty(),
        "a live lease of another replica is left alone"
    );
    let s = fx.replica("a").await;
    let recovered = s.recover(3, true).await.unwrap();
    assert_eq!(recovered.len(), 1);
    assert_eq!(recovered[0].state, JobState::Queued);
    assert_eq!(recovered[0].interruptions, 1);
    let again = s.claim().await.unwrap().unwrap();
    assert_eq!(again.attempts, 2);
}

async fn a_job_that_keeps_killing_its_server_fails_after_the_cap(fx: Fixture) {
    let id = fx
        .replica("a")
        .await
        .enqueue(plan_job(1, "net"))
        .await
        .unwrap();
    for restart in 1..=3 {
        // Each start claims the job and dies while it runs.
        let s = fx.replica("a").await;
        let recovered = s.recover(3, true).await.unwrap();
        if restart > 1 {
            assert_eq!(recovered.len(), 1);
            assert_eq!(recovered[0].state, JobState::Queued, "restart {restart}");
        }
        assert_eq!(s.claim().await.unwrap().unwrap().id, id);
    }
    let s = fx.replica("a").await;
    let recovered = s.recover(3, true).await.unwrap();
    assert_eq!(recovered.len(), 1);
    assert_eq!(recovered[0].state, JobState::Failed);
    assert_eq!(recovered[0].interruptions, 3);
    assert!(s.claim().await.unwrap().is_none(), "not requeued");
    let job = s.job(id).await.unwrap().unwrap();
    assert_eq!(job.state, JobState::Failed);
    assert_eq!(
        job.error.as_deref(),
        Some("interrupted by 3 restarts or crashes")
    );
}

async fn an_interrupted_apply_is_never_run_again(fx: Fixture) {
    let s = fx.replica("a").await;
    let id = s
        .enqueue(NewJob {
            kind: JobKind::Apply,
            ..plan_job(1, "net")
        })
        .await
        .unwrap();
    s.enqueue(plan_job(1, "data")).await.unwrap();
    s.claim().await.unwrap().unwrap();
    s.claim().await.unwrap().unwrap();
    let mut recovered = s.recover(3, true).await.unwrap();
    recovered.sort_by_key(|j| j.id);
    let states: Vec<(JobKind, JobState)> = recovered.iter().map(|j| (j.kind, j.state)).collect();
    assert_eq!(
        states,
        [
            (JobKind::Apply, JobState::Failed),
            (JobKind::Plan, JobState::Queued)
        ]
    );
    assert_eq!(s.claim().await.unwrap().unwrap().kind, JobKind::Plan);
    assert!(s.claim().await.unwrap().is_none());
    assert_eq!(s.job(id).await.unwrap().unwrap().state, JobState::Failed);
}

async fn a_job_that_panics_is_retried_then_failed(fx: Fixture) {
    let s = fx.replica("a").await;
    let id = s.enqueue(plan_job(1, "net")).await.unwrap();
    for _ in 0..2 {
        assert_eq!(s.claim().await.unwrap().unwrap().id, id);
        assert_eq!(s.crashed(id, "boom", 3, 0).await.unwrap(), JobState::Queued);
    }
    assert_eq!(s.claim().await.unwrap().unwrap().id, id);
    assert_eq!(s.crashed(id, "boom", 3, 0).await.unwrap(), JobState::Failed);
    assert!(s.claim().await.unwrap().is_none());
    let job = s.job(id).await.unwrap().unwrap();
    assert_eq!((job.interruptions, job.error.as_deref()), (3, Some("boom")));
}

async fn workers_are_shared_fairly_between_pull_requests(fx: Fixture) {
    let s = fx.replica("a").await;
    // PR 1 queues many stacks, then PR 2 queues one.
    for i in 0..50 {
        s.enqueue(plan_job(1, &format!("s{i}"))).await.unwrap();
    }
    s.enqueue(plan_job(2, "other")).await.unwrap();
    let first = s.claim().await.unwrap().unwrap();
    assert_eq!(first.pr, PrNumber(1));
    let second = s.claim().await.unwrap().unwrap();
    assert_eq!(
        second.pr,
        PrNumber(2),
        "the PR with no running job goes first"
    );
    // With one running job each, the PR whose job started longest ago goes next.
    s.enqueue(plan_job(2, "more")).await.unwrap();
    s.finish(&first, JobState::Done, None).await.unwrap();
    assert_eq!(s.claim().await.unwrap().unwrap().pr, PrNumber(1));
}

async fn locks_belong_to_one_pr_and_waiting_jobs_wake_on_release(fx: Fixture) {
    let (s, other) = (fx.replica("a").await, fx.replica("b").await);
    let key = LockKey {
        repo: repo(),
        stack: stack("net"),
        workspace: "default".into(),
    };
    assert_eq!(
        s.try_lock(&key, PrNumber(1), &sha('a')).await.unwrap(),
        LockOutcome::Held
    );
    assert_eq!(
        s.try_lock(&key, PrNumber(1), &sha('b')).await.unwrap(),
        LockOutcome::Held
    );
    match other.try_lock(&key, PrNumber(2), &sha('c')).await.unwrap() {
        LockOutcome::HeldBy(l) => assert_eq!((l.pr, l.sha), (PrNumber(1), sha('b'))),
        held => panic!("PR 2 took PR 1's lock on another replica: {held:?}"),
    }
    let waiting = s.enqueue(plan_job(2, "net")).await.unwrap();
    let job = s.claim().await.unwrap().unwrap();
    s.wait_for_lock(&job).await.unwrap();
    assert!(s.claim().await.unwrap().is_none());
    let released = other.release_pr(&repo(), PrNumber(1)).await.unwrap();
    assert_eq!(released.len(), 1);
    assert_eq!(s.lock(&key).await.unwrap(), None);
    assert_eq!(s.wake(&key.as_text()).await.unwrap(), vec![waiting]);
    assert_eq!(s.claim().await.unwrap().unwrap().id, waiting);
}

async fn a_newer_push_supersedes_queued_plans_of_the_same_stack(fx: Fixture) {
    let s = fx.replica("a").await;
    let old = s.enqueue(plan_job(1, "net")).await.unwrap();
    let new = s.enqueue(plan_job(1, "net")).await.unwrap();
    let superseded = s
        .supersede(&repo(), PrNumber(1), &stack("net"), new)
        .await
        .unwrap();
    assert_eq!(superseded, 1);
    assert_eq!(
        s.job(old).await.unwrap().unwrap().state,
        JobState::Superseded
    );
    assert_eq!(s.claim().await.unwrap().unwrap().id, new);
}

async fn plans_approvals_and_audit_round_trip(fx: Fixture) {
    let s = fx.replica("a").await;
    for (c, hash) in [('a', "h1"), ('b', "h2")] {
        s.put_plan(&plan_record(3, c, hash)).await.unwrap();
    }
    let latest = s
        .latest_plan(&repo(), PrNumber(3), &stack("net"))
        .await
        .unwrap();
    assert_eq!(latest.unwrap().plan_hash, "h2");
    s.mark_applied(&repo(), PrNumber(3), &stack("net"), &sha('b'))
        .await
        .unwrap();
    let latest = s
        .latest_plan(&repo(), PrNumber(3), &stack("net"))
        .await
        .unwrap();
    assert!(latest.unwrap().applied);
    let approval = Approval {
        stack: stack("net"),
        plan_hash: "h2".into(),
        policy_id: "p1".into(),
        approver: "sec".into(),
        at: 5,
    };
    s.approve(&repo(), PrNumber(3), &approval).await.unwrap();
    s.approve(&repo(), PrNumber(3), &approval).await.unwrap();
    let bound = s
        .approvals(&repo(), PrNumber(3), &stack("net"), "h2")
        .await
        .unwrap();
    assert_eq!(bound, [approval], "stored once, bound to its plan");
    assert!(s
        .approvals(&repo(), PrNumber(3), &stack("net"), "h1")
        .await
        .unwrap()
        .is_empty());
    s.audit(&audit_entry("plan")).await.unwrap();
    let filter = AuditFilter {
        repo: Some("acme/infra".into()),
        pr: Some(3),
        limit: 10,
    };
    assert_eq!(s.audit_log(&filter).await.unwrap().len(), 1);
    let other_pr = AuditFilter {
        pr: Some(4),
        limit: 10,
        ..Default::default()
    };
    assert!(s.audit_log(&other_pr).await.unwrap().is_empty());
    // A limit keeps the newest entries.
    s.audit(&audit_entry("apply")).await.unwrap();
    let newest = AuditFilter {
        limit: 1,
        ..Default::default()
    };
    let newest = s.audit_log(&newest).await.unwrap();
    assert_eq!(newest.len(), 1);
    assert_eq!(newest[0].action, "apply");
}

async fn a_dead_replicas_job_is_taken_over_when_its_lease_expires(fx: Fixture) {
    let dying = fx.replica_with_lease("a", 1).await;
    let survivor = fx.replica_with_lease("b", 1).await;
    let id = dying.enqueue(plan_job(1, "net")).await.unwrap();
    let claimed = dying.claim().await.unwrap().unwrap();
    assert_eq!(claimed.id, id);
    assert!(
        dying.renew(&claimed).await.unwrap(),
        "a live replica keeps its lease"
    );
    assert!(
        survivor.recover(3, false).await.unwrap().is_empty(),
        "the lease is live"
    );
    assert!(
        survivor.claim().await.unwrap().is_none(),
        "the stack is running on a"
    );
    // Replica a dies: nobody renews; after the lease, b takes the job over without a restart.
    drop(dying);
    tokio::time::sleep(Duration::from_millis(2100)).await;
    let taken = survivor.recover(3, false).await.unwrap();
    assert_eq!(
        taken.iter().map(|j| (j.id, j.state)).collect::<Vec<_>>(),
        [(id, JobState::Queued)]
    );
    let job = survivor.claim().await.unwrap().unwrap();
    assert_eq!(
        (job.id, job.owner.as_deref(), job.interruptions),
        (id, Some("b"), 1)
    );
    // Should a comes back, its renewal tells it the job is no longer its own.
    let back = fx.replica_with_lease("a", 1).await;
    assert!(!back.renew(&claimed).await.unwrap());
    assert!(survivor.renew(&job).await.unwrap());
}

async fn replicas_racing_for_jobs_never_run_one_twice(fx: Fixture) {
    let replicas = [
        fx.replica("a").await,
        fx.replica("b").await,
        fx.replica("c").await,
    ];
    for pr in 1..=10 {
        for name in ["net", "data", "dns"] {
            replicas[0].enqueue(plan_job(pr, name)).await.unwrap();
        }
    }
    let replicas = std::sync::Arc::new(replicas);
    let mut tasks = Vec::new();
    for r in 0..3 {
        let replicas = replicas.clone();
        tasks.push(tokio::spawn(async move {
            let s = &replicas[r];
            let mut ran = Vec::new();
            let mut idle = 0;
            while idle < 20 {
                match s.claim().await.unwrap() {
                    Some(job) => {
                        idle = 0;
                        // No other job of this stack is running on any replica now.
                        let lock = job.lock_key.clone().unwrap();
                        let running = s
                            .active_jobs(&repo(), job.pr, job.stack.as_ref())
                            .await
                            .unwrap();
                        assert!(
                            running
                                .iter()
                                .all(|j| j.id == job.id || j.state != JobState::Running),
                            "{lock} runs twice"
                        );
                        tokio::time::sleep(Duration::from_millis(2)).await;
                        s.finish(&job, JobState::Done, None).await.unwrap();
                        ran.push(job.id);
                    }
                    None => {
                        idle += 1;
                        tokio::time::sleep(Duration::from_millis(5)).await;
                    }
                }
            }
            ran
        }));
    }
    let mut all = Vec::new();
    for t in tasks {
        all.extend(t.await.unwrap());
    }
    all.sort();
    let n = all.len();
    all.dedup();
    assert_eq!((n, all.len()), (30, 30), "each job ran exactly once");
    assert_eq!(replicas[0].job_counts().await.unwrap()[&JobState::Done], 30);
}

async fn a_plan_file_saved_by_one_replica_is_read_by_another(fx: Fixture) {
    let (a, b) = (fx.replica("a").await, fx.replica("b").await);
    let bytes: Vec<u8> = (0..=255u8).cycle().take(100_000).collect();
    a.put_plan(&plan_record(5, 'a', "h")).await.unwrap();
    a.put_plan_file(&repo(), PrNumber(5), &stack("net"), &sha('a'), &bytes)
        .await
        .unwrap();
    let read = b
        .plan_file(&repo(), PrNumber(5), &stack("net"), &sha('a'))
        .await
        .unwrap();
    assert_eq!(
        read.as_deref(),
        Some(bytes.as_slice()),
        "the same bytes, binary-safe"
    );
    let other_commit = b
        .plan_file(&repo(), PrNumber(5), &stack("net"), &sha('b'))
        .await
        .unwrap();
    assert_eq!(other_commit, None);
}

async fn retention_prunes_what_finished_long_ago_and_keeps_the_audit(fx: Fixture) {
    let s = fx.replica("a").await;
    let done = s.enqueue(plan_job(1, "net")).await.unwrap();
    let claimed = s.claim().await.unwrap().unwrap();
    assert_eq!(claimed.id, done);
    s.finish(&claimed, JobState::Done, None).await.unwrap();
    let queued = s.enqueue(plan_job(2, "net")).await.unwrap();
    s.accept_delivery("d-old", "push", None).await.unwrap();
    let mut closed = pr_record(1);
    closed.open = false;
    s.put_pr(&closed).await.unwrap();
    s.put_pr(&pr_record(2)).await.unwrap();
    for pr in [1, 2] {
        s.put_plan(&plan_record(pr, 'a', "h")).await.unwrap();
        s.put_plan_file(&repo(), PrNumber(pr), &stack("net"), &sha('a'), b"plan")
            .await
            .unwrap();
    }
    s.audit(&audit_entry("plan")).await.unwrap();
    let nothing_old_yet = s.prune(3600).await.unwrap();
    assert_eq!(
        (
            nothing_old_yet.jobs,
            nothing_old_yet.deliveries,
            nothing_old_yet.plans
        ),
        (0, 0, 0)
    );
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let pruned = s.prune(0).await.unwrap();
    assert_eq!((pruned.jobs, pruned.deliveries, pruned.plans), (1, 1, 1));
    assert!(s.job(done).await.unwrap().is_none());
    assert_eq!(
        s.job(queued).await.unwrap().unwrap().state,
        JobState::Queued,
        "unfinished work stays"
    );
    assert!(
        s.plans(&repo(), PrNumber(1)).await.unwrap().is_empty(),
        "the closed PR's plan"
    );
    assert!(s
        .plan_file(&repo(), PrNumber(1), &stack("net"), &sha('a'))
        .await
        .unwrap()
        .is_none());
    assert_eq!(
        s.plans(&repo(), PrNumber(2)).await.unwrap().len(),
        1,
        "an open PR keeps its plan"
    );
    let audit = s
        .audit_log(&AuditFilter {
            limit: 10,
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(audit.len(), 1, "the audit log is kept");
    assert_eq!(
        s.accept_delivery("d-old", "push", None).await.unwrap(),
        Accepted::Queued(0),
        "a pruned delivery id is new again"
    );
}

async fn a_replica_that_lost_its_claim_cannot_end_the_job(fx: Fixture) {
    let (a, b) = (fx.replica("a").await, fx.replica("b").await);
    let id = a.enqueue(plan_job(1, "net")).await.unwrap();
    let lost = a.claim().await.unwrap().unwrap();
    // Replica a stalls; its job is requeued (as when its lease expires) and b claims it.
    fx.replica("a").await.recover(3, true).await.unwrap();
    let taken = b.claim().await.unwrap().unwrap();
    assert_eq!((taken.id, taken.owner.as_deref()), (id, Some("b")));
    // Replica a wakes up with its old result: every way of ending the job is refused.
    let conflict = |r: Result<(), StoreError>| matches!(r, Err(StoreError::Conflict(_)));
    assert!(conflict(a.finish(&lost, JobState::Done, None).await));
    assert!(conflict(a.finish(&lost, JobState::Failed, Some("x")).await));
    assert!(conflict(a.retry(&lost, 0, "transient").await));
    assert!(conflict(a.wait_for_lock(&lost).await));
    assert!(!a.renew(&lost).await.unwrap());
    let row = b.job(id).await.unwrap().unwrap();
    assert_eq!(
        (row.state, row.owner.as_deref(), row.error),
        (JobState::Running, Some("b"), None),
        "the job is b's, untouched"
    );
    // Even a claims the job again: its older claim still cannot end the newer one.
    b.retry(&taken, 0, "transient").await.unwrap();
    let again = a.claim().await.unwrap().unwrap();
    assert_eq!((again.id, again.attempts), (id, 3));
    assert!(conflict(a.finish(&lost, JobState::Done, None).await));
    assert!(conflict(b.finish(&taken, JobState::Done, None).await));
    a.finish(&again, JobState::Done, None).await.unwrap();
    assert_eq!(b.job(id).await.unwrap().unwrap().state, JobState::Done);
}

async fn a_cancelled_job_stops_on_the_replica_running_it(fx: Fixture) {
    let (a, b) = (fx.replica("a").await, fx.replica("b").await);
    let id = a.enqueue(plan_job(1, "net")).await.unwrap();
    let running = a.claim().await.unwrap().unwrap();
    assert!(a.renew(&running).await.unwrap());
    b.cancel(id, "cancelled by alice").await.unwrap();
    assert!(
        !a.renew(&running).await.unwrap(),
        "the renewal tells a to stop"
    );
    assert!(matches!(
        a.finish(&running, JobState::Done, None).await,
        Err(StoreError::Conflict(_))
    ));
    let row = a.job(id).await.unwrap().unwrap();
    assert_eq!(
        (row.state, row.error.as_deref()),
        (JobState::Cancelled, Some("cancelled by alice"))
    );
    // A job that ended stays as it ended.
    b.cancel(id, "again").await.unwrap();
    assert_eq!(
        a.job(id).await.unwrap().unwrap().error.as_deref(),
        Some("cancelled by alice")
    );
}

async fn holds_serialise_one_update_between_replicas(fx: Fixture) {
    let (a, b) = (fx.replica("a").await, fx.replica("b").await);
    let key = "comment acme/infra#1";
    let later = planguard::serve::store::now() + 60;
    assert!(a.try_hold(key, "a 1", later).await.unwrap());
    assert!(!b.try_hold(key, "b 1", later).await.unwrap(), "a holds it");
    assert!(
        a.try_hold(key, "a 1", later).await.unwrap(),
        "the holder may refresh it"
    );
    b.release_hold(key, "b 1").await.unwrap();
    assert!(
        !b.try_hold(key, "b 1", later).await.unwrap(),
        "only the holder releases it"
    );
    assert!(
        b.try_hold("comment acme/infra#2", "b 1", later)
            .await
            .unwrap(),
        "another key is free"
    );
    a.release_hold(key, "a 1").await.unwrap();
    assert!(b.try_hold(key, "b 1", later).await.unwrap());
    // A hold that expired (its replica died) is taken over.
    let expired = "check acme/infra@abc plan";
    let past = planguard::serve::store::now() - 1;
    assert!(a.try_hold(expired, "a 2", past).await.unwrap());
    assert!(b.try_hold(expired, "b 2", later).await.unwrap());
    assert!(!a.try_hold(expired, "a 2", later).await.unwrap());
}

fn pr_record(pr: u64) -> PrRecord {
    PrRecord {
        repo: repo(),
        pr: PrNumber(pr),
        head: sha('a'),
        base: sha('b'),
        head_ref: "feature".into(),
        base_ref: "main".into(),
        clone_url: String::new(),
        base_clone_url: String::new(),
        default_branch: "main".into(),
        author: "alice".into(),
        from_fork: false,
        installation: None,
        html_url: String::new(),
        open: true,
    }
}
