//! The HTTP intake against clients on the network: connections that never finish their
//! headers, bodies that are never signed, and `X-GitHub-Event` values made to break
//! `/metrics`. These tests speak raw TCP where a well-behaved client would hide what they check,
//! and read the server's state from `/metrics`, as an operator would.

use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::world::{Options, World, SECRET};

/// `max_body_bytes` as the tests' worlds have it (the default).
const MAX: usize = 25 * 1024 * 1024;

fn world_with(http: &str) -> Options {
    Options {
        extra_config: format!("[http]\n{http}\n"),
        ..Options::default()
    }
}

fn addr(w: &World) -> String {
    w.url.trim_start_matches("http://").to_owned()
}

/// Opens a connection and sends `bytes` on it.
async fn open(w: &World, bytes: &[u8]) -> TcpStream {
    let mut s = TcpStream::connect(addr(w)).await.unwrap();
    s.write_all(bytes).await.unwrap();
    s
}

/// Reads an HTTP/1.1 response (status, body) within `within`; `None` when none came.
async fn response(s: &mut TcpStream, within: Duration) -> Option<(u16, String)> {
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    let deadline = tokio::time::Instant::now() + within;
    loop {
        if let Some(end) = got.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&got[..end]).into_owned();
            let status = head.split(' ').nth(1)?.parse().ok()?;
            let length: usize = head
                .lines()
                .find_map(|l| {
                    let (k, v) = l.split_once(':')?;
                    k.eq_ignore_ascii_case("content-length")
                        .then(|| v.trim().parse().ok())?
                })
                .unwrap_or(0);
            if got.len() >= end + 4 + length {
                let body = String::from_utf8_lossy(&got[end + 4..end + 4 + length]).into_owned();
                return Some((status, body));
            }
        }
        match tokio::time::timeout_at(deadline, s.read(&mut buf)).await {
            Ok(Ok(n)) if n > 0 => got.extend_from_slice(&buf[..n]),
            _ => return None,
        }
    }
}

/// Whether the server closes the connection within `within` (reading what it sends first).
async fn closed_within(s: &mut TcpStream, within: Duration) -> bool {
    let mut buf = [0u8; 1024];
    let deadline = tokio::time::Instant::now() + within;
    loop {
        match tokio::time::timeout_at(deadline, s.read(&mut buf)).await {
            Err(_) => return false,
            Ok(Ok(0)) | Ok(Err(_)) => return true,
            Ok(Ok(_)) => continue,
        }
    }
}

/// The value of an unlabelled sample in the scrape, if there is one.
fn sample(scrape: &str, name: &str) -> Option<f64> {
    scrape.lines().find_map(|l| {
        let (n, v) = l.split_once(' ')?;
        (n == name).then(|| v.trim().parse().ok())?
    })
}

/// `/metrics`, on a connection of its own (a pooled one may be closed by the very timeouts
/// under test just as it is reused).
async fn scrape(w: &World) -> String {
    let mut s = open(
        w,
        b"GET /metrics HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n",
    )
    .await;
    let (status, text) = response(&mut s, Duration::from_secs(5))
        .await
        .expect("/metrics answers");
    assert_eq!(status, 200, "{text}");
    text
}

/// The start of a webhook request: headers only, with `content-length: length`.
fn webhook_head(length: usize, signature: Option<&str>, event: Option<&str>) -> Vec<u8> {
    let mut head = format!(
        "POST /webhooks/github HTTP/1.1\r\nhost: planguard\r\ncontent-type: application/json\r\n\
         content-length: {length}\r\nx-github-delivery: d-{length}\r\n"
    );
    if let Some(sig) = signature {
        head.push_str(&format!("x-hub-signature-256: {sig}\r\n"));
    }
    if let Some(event) = event {
        head.push_str(&format!("x-github-event: {event}\r\n"));
    }
    head.push_str("\r\n");
    head.into_bytes()
}

/// A well-formed signature that matches no body.
const FORGED: &str = "sha256=0000000000000000000000000000000000000000000000000000000000000000";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn half_sent_headers_do_not_starve_healthz_and_are_closed_after_the_header_timeout() {
    let w = World::start(world_with("header_timeout_secs = 2\nidle_timeout_secs = 3")).await;
    let mut slow = Vec::new();
    for i in 0..200 {
        // Half a request line, or a request line and half a header.
        let part: &[u8] = if i % 2 == 0 {
            b"POST /webhooks/git"
        } else {
            b"POST /webhooks/github HTTP/1.1\r\nhost: x\r\nx-github-ev"
        };
        slow.push(open(&w, part).await);
    }
    let started = Instant::now();
    let (status, _) = tokio::time::timeout(Duration::from_secs(2), w.get("/healthz", None))
        .await
        .expect("/healthz answers while 200 connections hang");
    assert_eq!(status, 200);
    let text = scrape(&w).await;
    assert!(
        sample(&text, "planguard_http_connections").unwrap() >= 200.0,
        "the slow connections are open until their timeout:\n{text}"
    );
    for (i, s) in slow.iter_mut().enumerate() {
        assert!(
            closed_within(s, Duration::from_secs(6).saturating_sub(started.elapsed())).await,
            "connection {i} is still open {:?} after its headers started",
            started.elapsed()
        );
    }
    // All 200 gone: what is left is this scrape's connection and the test client's
    // keep-alive one at most.
    let text = scrape(&w).await;
    assert!(
        sample(&text, "planguard_http_connections").unwrap() <= 2.0,
        "{text}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connections_beyond_the_cap_are_refused_at_once_and_the_server_recovers() {
    let w = World::start(world_with("header_timeout_secs = 2\nmax_connections = 20")).await;
    let mut held = Vec::new();
    for _ in 0..20 {
        held.push(open(&w, b"GET /healthz HTTP/1.1\r\n").await);
    }
    // The 21st and later get a 503 and are closed, without waiting for a timeout.
    for _ in 0..5 {
        let mut extra = open(&w, b"").await;
        let (status, body) = response(&mut extra, Duration::from_secs(1))
            .await
            .expect("a connection beyond the cap is answered at once");
        assert_eq!(
            (status, body.as_str()),
            (503, "too many open connections\n")
        );
        assert!(closed_within(&mut extra, Duration::from_secs(1)).await);
    }
    // The held ones time out, and the server takes connections again.
    for s in &mut held {
        assert!(closed_within(s, Duration::from_secs(5)).await);
    }
    let (status, _) = w.get("/healthz", None).await;
    assert_eq!(status, 200);
    let text = scrape(&w).await;
    assert_eq!(
        sample(&text, "planguard_http_connections_refused_total"),
        Some(5.0),
        "{text}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_idle_keep_alive_connection_is_closed() {
    let w = World::start(world_with("header_timeout_secs = 1")).await;
    let mut s = open(&w, b"GET /healthz HTTP/1.1\r\nhost: x\r\n\r\n").await;
    let (status, _) = response(&mut s, Duration::from_secs(2)).await.unwrap();
    assert_eq!(status, 200);
    assert!(
        closed_within(&mut s, Duration::from_secs(4)).await,
        "a keep-alive connection with no next request is closed"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_request_missing_a_webhook_header_is_refused_before_its_body_is_read() {
    // The defaults: a 30-second body timeout.
    let w = World::start(Options::default()).await;
    // Each sends its headers and promises a body it never sends: an answer proves the server
    // did not wait for the body.
    let cases: [(Option<&str>, Option<&str>, usize, u16); 4] = [
        (None, Some("pull_request"), MAX, 401),
        (Some("sha256=zz"), Some("pull_request"), MAX, 401),
        (Some(FORGED), None, MAX, 400),
        (Some(FORGED), Some("pull_request"), MAX + 1, 413),
    ];
    for (signature, event, length, expected) in cases {
        let mut s = open(&w, &webhook_head(length, signature, event)).await;
        let (status, body) = response(&mut s, Duration::from_secs(5))
            .await
            .unwrap_or_else(|| {
                panic!("no answer without the body: {signature:?} {event:?} {length}")
            });
        assert_eq!(status, expected, "{body}");
    }
    let text = scrape(&w).await;
    assert_eq!(
        sample(&text, "planguard_http_body_bytes_in_flight_max"),
        Some(0.0),
        "no body byte was taken in:\n{text}"
    );
    assert!(
        text.contains("planguard_webhooks_total{event=\"unknown\",outcome=\"rejected\"} 1"),
        "{text}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_unsigned_bodies_stay_within_the_body_budget() {
    // The default budget: four bodies of the largest size.
    const BUDGET: usize = 4 * MAX;
    const LENGTH: usize = MAX - 100;
    let w = World::start(Options::default()).await;
    // 20 forged deliveries just under the limit, sent at once. Four fit in the budget and
    // wait for their body; the others are refused without waiting for theirs.
    let mut conns = Vec::new();
    for _ in 0..20 {
        conns.push(
            open(
                &w,
                &webhook_head(LENGTH, Some(FORGED), Some("pull_request")),
            )
            .await,
        );
    }
    let mut waiting = Vec::new();
    let mut overloaded = 0;
    for mut s in conns {
        match response(&mut s, Duration::from_millis(1500)).await {
            Some((503, body)) => {
                assert!(body.contains("redeliver"), "{body}");
                overloaded += 1;
            }
            Some(other) => panic!("unexpected answer {other:?}"),
            None => waiting.push(s),
        }
    }
    assert_eq!((waiting.len(), overloaded), (4, 16));
    let half = vec![b'{'; LENGTH / 2];
    for s in &mut waiting {
        s.write_all(&half).await.unwrap();
    }
    let text = scrape(&w).await;
    assert_eq!(
        sample(&text, "planguard_http_body_bytes_in_flight"),
        Some((4 * LENGTH) as f64),
        "{text}"
    );
    let rest = vec![b'}'; LENGTH - LENGTH / 2];
    for s in &mut waiting {
        s.write_all(&rest).await.unwrap();
        let (status, body) = response(s, Duration::from_secs(5)).await.unwrap();
        assert_eq!(status, 401, "the forged signature is refused: {body}");
    }
    let text = scrape(&w).await;
    let peak = sample(&text, "planguard_http_body_bytes_in_flight_max").unwrap();
    assert!(
        peak <= BUDGET as f64,
        "peak {peak} over the budget {BUDGET}"
    );
    assert_eq!(
        sample(&text, "planguard_http_body_bytes_in_flight"),
        Some(0.0)
    );
    assert!(
        text.contains("planguard_webhooks_total{event=\"pull_request\",outcome=\"overloaded\"} 16"),
        "{text}"
    );
    // A signed delivery goes through once the budget is free again.
    let ping = serde_json::json!({"zen": "Design for failure.", "hook_id": 1});
    assert_eq!(w.deliver("ping", &ping).await.0, 200);
}

/// A sample's metric name and labels.
type Sample = (String, Vec<(String, String)>);

/// Checks one line of the text exposition format (0.0.4); returns the sample's metric name and
/// labels, or `None` for a comment.
fn parse_line(line: &str) -> Result<Option<Sample>, String> {
    fn name_end(s: &str) -> usize {
        s.char_indices()
            .find(|(i, c)| {
                !(c.is_ascii_alphabetic()
                    || *c == '_'
                    || *c == ':'
                    || (*i > 0 && c.is_ascii_digit()))
            })
            .map_or(s.len(), |(i, _)| i)
    }
    if let Some(rest) = line.strip_prefix("# ") {
        let mut parts = rest.splitn(3, ' ');
        let (kind, name) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""));
        let ok = match kind {
            "HELP" => !name.is_empty() && name_end(name) == name.len(),
            "TYPE" => {
                name_end(name) == name.len()
                    && matches!(
                        parts.next(),
                        Some("counter" | "gauge" | "histogram" | "summary" | "untyped")
                    )
            }
            _ => false,
        };
        return if ok {
            Ok(None)
        } else {
            Err(format!("bad comment {line:?}"))
        };
    }
    let end = name_end(line);
    if end == 0 {
        return Err(format!("no metric name in {line:?}"));
    }
    let name = line[..end].to_owned();
    let mut rest = &line[end..];
    let mut labels = Vec::new();
    if let Some(after) = rest.strip_prefix('{') {
        rest = after;
        loop {
            if let Some(after) = rest.strip_prefix('}') {
                rest = after;
                break;
            }
            let key_end = name_end(rest);
            if key_end == 0 {
                return Err(format!("bad label name in {line:?}"));
            }
            let key = rest[..key_end].to_owned();
            rest = rest[key_end..]
                .strip_prefix("=\"")
                .ok_or_else(|| format!("no =\" after a label name in {line:?}"))?;
            let mut value = String::new();
            let mut chars = rest.char_indices();
            let close = loop {
                match chars.next() {
                    None => return Err(format!("unterminated label value in {line:?}")),
                    Some((i, '"')) => break i,
                    Some((_, '\\')) => match chars.next() {
                        Some((_, '\\')) => value.push('\\'),
                        Some((_, '"')) => value.push('"'),
                        Some((_, 'n')) => value.push('\n'),
                        _ => return Err(format!("bad escape in {line:?}")),
                    },
                    Some((_, c)) => value.push(c),
                }
            };
            labels.push((key, value));
            rest = &rest[close + 1..];
            if let Some(after) = rest.strip_prefix(',') {
                rest = after;
            } else if !rest.starts_with('}') {
                return Err(format!("expected , or }} in {line:?}"));
            }
        }
    }
    let value = rest
        .strip_prefix(' ')
        .ok_or_else(|| format!("no space before the value in {line:?}"))?;
    let value = value.split(' ').next().unwrap_or("");
    if !matches!(value, "+Inf" | "-Inf" | "NaN") && value.parse::<f64>().is_err() {
        return Err(format!("bad value {value:?} in {line:?}"));
    }
    Ok(Some((name, labels)))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_event_names_neither_break_the_scrape_nor_add_series() {
    let w = World::start(Options::default()).await;
    let ping = serde_json::json!({"zen": "Avoid administrative distraction.", "hook_id": 1});
    let body = serde_json::to_vec(&ping).unwrap();
    let signed = planguard::serve::webhook::sign(SECRET.as_bytes(), &body);
    let (status, answer) = w
        .post_raw("x\"}{", "d-quote", Some(&signed), body.clone())
        .await;
    assert_eq!(status, 200, "{answer}");
    // Unsigned, as anyone on the network can send them, and signed.
    let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
    for i in 0..1000 {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        let name = format!("ev{seed:x}_{i}");
        let signature = (i % 2 == 0).then_some(signed.as_str());
        let (status, _) = w
            .post_raw(&name, &format!("d-{i}"), signature, body.clone())
            .await;
        assert_eq!(status, if i % 2 == 0 { 200 } else { 401 });
    }
    let text = scrape(&w).await;
    let mut other = Vec::new();
    let mut series = 0;
    for line in text.lines() {
        match parse_line(line) {
            Err(e) => panic!("{e}\nin the scrape:\n{text}"),
            Ok(None) => {}
            Ok(Some((name, labels))) => {
                if name == "planguard_webhooks_total" {
                    series += 1;
                    if labels.contains(&("event".into(), "other".into())) {
                        other.push(line.to_owned());
                    }
                }
            }
        }
    }
    assert!(!text.contains("x\"}{") && !text.contains("\"ev"), "{text}");
    other.sort();
    assert_eq!(
        other,
        [
            "planguard_webhooks_total{event=\"other\",outcome=\"ignored\"} 501",
            "planguard_webhooks_total{event=\"other\",outcome=\"rejected\"} 500",
        ],
        "{text}"
    );
    assert_eq!(series, 2, "{text}");
}
