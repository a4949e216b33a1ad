//! Benchmarks of `planguard serve`: webhook acknowledgement latency under load, and
//! planguard's own overhead per planned stack.
//!
//! 1. **Acknowledgement.** The HTTP app (signature check, parse, delivery and job row in
//!    SQLite) on 127.0.0.1, without workers, receives rounds of 200 concurrent signed
//!    `pull_request` deliveries (GitHub's example payload, a fresh delivery id each, each on
//!    a new connection as GitHub sends them; `PLANGUARD_BENCH_POOL=200` reuses connections).
//!    Reports p50/p99/max of the client-side latency after one warm-up round, which is
//!    reported on its own. Bounded: `PLANGUARD_BENCH_ROUNDS` rounds (default 10, so 2,000
//!    deliveries). Run on SQLite, then on PostgreSQL (`PLANGUARD_TEST_POSTGRES`'s server, else
//!    a throwaway one as the tests start; `PLANGUARD_BENCH_NO_POSTGRES` skips it).
//! 2. **Overhead per stack.** The whole server (workers, git2, real `tofu`/`terraform`, the
//!    GitHub fake of the end-to-end tests on loopback) plans `PLANGUARD_BENCH_PRS` PRs
//!    (default 5) that each touch two stacks. planguard's overhead is the plan jobs' time
//!    minus the time of their `tofu` processes, plus the event jobs' time (fetching,
//!    diffing, reading planguard.yaml) shared among the stacks they queued.
//!
//! 3. **Jobs per second** on PostgreSQL with one replica, then three (see [`throughput`]).
//!
//! Run with `cargo bench --bench serve`. Reads its payloads from `testdata/corpus`. Uses
//! the binary's allocator (mimalloc), so the server is measured as it runs in production.

#[path = "../tests/common/mod.rs"]
mod common;
#[path = "../tests/server/fake_tofu.rs"]
#[allow(dead_code)]
mod fake_tofu;
#[path = "../tests/server/github.rs"]
mod github;
#[path = "../tests/server/world.rs"]
mod world;

use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::Full;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;

const CONCURRENCY: usize = 200;

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

fn ms(d: Duration) -> String {
    format!("{:.2} ms", d.as_secs_f64() * 1000.0)
}

/// Measures acknowledgement on SQLite (`database` None) or on a PostgreSQL database URL.
async fn acknowledgement(database: Option<String>) {
    let backend = if database.is_some() {
        "PostgreSQL"
    } else {
        "SQLite"
    };
    println!("-- webhook acknowledgement on {backend}");
    let dir = tempfile::tempdir().unwrap();
    let database = database
        .map(|url| format!("database = \"{url}\"\n"))
        .unwrap_or_default();
    let config = format!(
        r#"{database}data_dir = "{}"
[github]
api_url = "http://127.0.0.1:9"
token = "bench-token"
webhook_secret = "{}"
"#,
        dir.path().display(),
        world::SECRET
    );
    let config =
        planguard::serve::config::ServerConfig::from_toml(&config, "bench.toml", |_| None).unwrap();
    let services = planguard::serve::http::services(config).await.unwrap();
    let listener = planguard::serve::http::listen("127.0.0.1:0".parse().unwrap()).unwrap();
    let addr = listener.local_addr().unwrap();
    let app = planguard::serve::http::routes::app(services.clone());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });

    let body = serde_json::to_vec(&world::corpus_payload("pull_request.opened.1.json")).unwrap();
    let signature = planguard::serve::webhook::sign(world::SECRET.as_bytes(), &body);
    let client: Client<_, Full<Bytes>> = Client::builder(TokioExecutor::new())
        .pool_max_idle_per_host(
            std::env::var("PLANGUARD_BENCH_POOL")
                .ok()
                .and_then(|v| v.parse().ok())
                .unwrap_or(0),
        )
        .build_http();
    let rounds = env_usize("PLANGUARD_BENCH_ROUNDS", 10);
    let mut latencies = Vec::with_capacity(rounds * CONCURRENCY);
    let mut started = Instant::now();
    // Round 0 warms up (first connections, the database file growing, allocator arenas); it
    // is reported on its own and left out of the figures.
    for round in 0..=rounds {
        if round == 1 {
            started = Instant::now();
        }
        let mut tasks = tokio::task::JoinSet::new();
        for i in 0..CONCURRENCY {
            let (client, body, signature) = (client.clone(), body.clone(), signature.clone());
            tasks.spawn(async move {
                let req = hyper::Request::post(format!("http://{addr}/webhooks/github"))
                    .header("content-type", "application/json")
                    .header("x-github-event", "pull_request")
                    .header("x-github-delivery", format!("bench-{round}-{i}"))
                    .header("x-hub-signature-256", signature)
                    .body(Full::new(Bytes::from(body)))
                    .unwrap();
                let t = Instant::now();
                let resp = client.request(req).await.unwrap();
                let took = t.elapsed();
                assert_eq!(resp.status(), 202, "every delivery is accepted");
                took
            });
        }
        let mut this_round = Vec::with_capacity(CONCURRENCY);
        while let Some(t) = tasks.join_next().await {
            this_round.push(t.unwrap());
        }
        this_round.sort();
        if std::env::var_os("PLANGUARD_BENCH_VERBOSE").is_some() {
            println!(
                "  round {round}: p50 {}, max {}",
                ms(percentile(&this_round, 0.5)),
                ms(*this_round.last().unwrap())
            );
        }
        if round == 0 {
            println!(
                "webhook acknowledgement, warm-up round of {CONCURRENCY} (not counted): p50 {}, max {}",
                ms(percentile(&this_round, 0.5)),
                ms(*this_round.last().unwrap())
            );
        } else {
            latencies.extend(this_round);
        }
    }
    let wall = started.elapsed();
    latencies.sort();
    let queued =
        services.store.job_counts().await.unwrap()[&planguard::serve::store::JobState::Queued];
    assert_eq!(
        queued as usize,
        latencies.len() + CONCURRENCY,
        "every delivery became a job row"
    );
    let (n, secs) = services.metrics.totals().ack;
    println!(
        "server-side handling per delivery (verify, parse, store): mean {}",
        ms(Duration::from_secs_f64(secs / n.max(1) as f64))
    );
    println!(
        "webhook acknowledgement, {} deliveries in rounds of {CONCURRENCY} concurrent: p50 {}, p99 {}, max {} ({:.0} deliveries/s)",
        latencies.len(),
        ms(percentile(&latencies, 0.50)),
        ms(percentile(&latencies, 0.99)),
        ms(*latencies.last().unwrap()),
        latencies.len() as f64 / wall.as_secs_f64()
    );
}

async fn overhead() {
    let prs = env_usize("PLANGUARD_BENCH_PRS", 5) as u64;
    let w = world::World::start(world::Options::default()).await;
    let started = Instant::now();
    for pr in 1..=prs {
        // Each PR touches both stacks; its locks are released by closing it afterwards.
        let files: Vec<(String, String)> = ["stacks/network/main.tf", "stacks/data/main.tf"]
            .iter()
            .map(|p| {
                let text =
                    std::fs::read_to_string(common::testdata(&format!("server/repo/{p}"))).unwrap();
                (p.to_string(), format!("{text}\n# bench {pr}\n"))
            })
            .collect();
        let refs: Vec<(&str, &str)> = files
            .iter()
            .map(|(a, b)| (a.as_str(), b.as_str()))
            .collect();
        let branch = format!("bench-{pr}");
        let head = w.push(&branch, pr, &refs, "bench");
        w.open_pr(pr, &branch, &head, "alice").await;
        w.settle().await;
        w.close_pr(pr, &branch, &head, "alice", false).await;
        w.settle().await;
    }
    let wall = started.elapsed();
    let t = w.services.metrics.totals();
    let (plans, plan_secs) = t.jobs.get("plan").copied().unwrap_or_default();
    let (_, event_secs) = t.jobs.get("event").copied().unwrap_or_default();
    let step_secs: f64 = t.steps.values().map(|(_, s)| s).sum();
    let per = |secs: f64| Duration::from_secs_f64(secs / plans.max(1) as f64);
    println!(
        "per stack ({plans} stacks in {prs} PRs, {:.1} s): tofu processes {}, planguard in the plan job {}, plus its share of the event jobs {} => planguard overhead {}",
        wall.as_secs_f64(),
        ms(per(step_secs)),
        ms(per(plan_secs - step_secs)),
        ms(per(event_secs)),
        ms(per(plan_secs - step_secs + event_secs)),
    );
    for (step, (n, secs)) in &t.steps {
        println!(
            "  step {step}: {n} runs, mean {}",
            ms(Duration::from_secs_f64(secs / (*n).max(1) as f64))
        );
    }
}

/// Jobs per second on PostgreSQL with `replicas` replicas (in this process, 4 workers each,
/// the fake `tofu` so that planguard's own work is measured): `PLANGUARD_BENCH_JOB_PRS` PRs
/// (default 40), each touching a stack of its own, are opened at once, spread over the
/// replicas; the figure is the jobs done over the time until the queue is empty.
async fn throughput(replicas: usize) {
    let prs = env_usize("PLANGUARD_BENCH_JOB_PRS", 40) as u64;
    let url = common::postgres::fresh_database("bench_jobs");
    let stacks: String = (1..=prs)
        .map(|n| format!("  - name: s{n}\n    dir: stacks/s{n}\n"))
        .collect();
    let w = world::World::start(world::Options {
        runner: Some(std::sync::Arc::new(fake_tofu::FakeTofu::new())),
        extra_config: format!("database = \"{url}\"\n"),
        planguard_yaml: Some(format!("version: 1\nstacks:\n{stacks}")),
        main_files: (1..=prs)
            .map(|n| (format!("stacks/s{n}/main.tf"), "# stack\n".to_owned()))
            .collect(),
        ..Default::default()
    })
    .await;
    let mut others = Vec::new();
    for r in 1..replicas {
        others.push(w.add_replica(&format!("r{r}")).await);
    }
    let urls: Vec<String> = std::iter::once(w.url.clone())
        .chain(others.iter().map(|r| r.url.clone()))
        .collect();
    // The commits are pushed first: git is not what is measured.
    let mut opened = Vec::new();
    for pr in 1..=prs {
        let branch = format!("b{pr}");
        let file = format!("stacks/s{pr}/main.tf");
        let head = w.push(&branch, pr, &[(&file, "# changed\n")], "change");
        w.github.set_pr(
            pr,
            github::FakePr {
                head: head.clone(),
                author: "alice".into(),
                open: true,
                mergeable: Some(true),
                mergeable_state: "blocked".into(),
            },
        );
        opened.push(w.pr_payload("opened", pr, &branch, &head, "alice"));
    }
    let started = Instant::now();
    for (i, payload) in opened.iter().enumerate() {
        let url = &urls[i % urls.len()];
        let (status, _) = w
            .deliver_to(url, "pull_request", &format!("open-{i}"), payload)
            .await;
        assert_eq!(status, 202);
    }
    w.settle().await;
    let wall = started.elapsed();
    let done =
        w.services.store.job_counts().await.unwrap()[&planguard::serve::store::JobState::Done];
    println!(
        "jobs on PostgreSQL, {replicas} replica(s) x 4 workers: {done} jobs in {:.2} s = {:.1} jobs/s",
        wall.as_secs_f64(),
        done as f64 / wall.as_secs_f64()
    );
}

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(acknowledgement(None));
    // PostgreSQL: PLANGUARD_TEST_POSTGRES's server, else a throwaway one (as the tests do).
    if std::env::var_os("PLANGUARD_BENCH_NO_POSTGRES").is_none() {
        let url = common::postgres::fresh_database("bench_ack");
        rt.block_on(acknowledgement(Some(url)));
        rt.block_on(throughput(1));
        rt.block_on(throughput(3));
    }
    rt.block_on(overhead());
}
