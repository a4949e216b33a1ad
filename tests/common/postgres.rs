//! A PostgreSQL server for the tests that need one.
//!
//! `PLANGUARD_TEST_POSTGRES` (a `postgres://` URL of a server the tests may create databases
//! on, as `.ci/run` sets it) is used when set. Otherwise the first test that asks starts a
//! throwaway server: `initdb` into a temporary directory, `postgres` on a free loopback port
//! (as `nobody` when the tests run as root, since PostgreSQL refuses root), and a watchdog
//! that stops it when the test process exits. Each test gets a fresh database of its own.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::OnceLock;

/// The server's base URL (without a database name).
pub fn server_url() -> &'static str {
    static URL: OnceLock<String> = OnceLock::new();
    URL.get_or_init(|| match std::env::var("PLANGUARD_TEST_POSTGRES") {
        Ok(url) if !url.trim().is_empty() => url.trim().trim_end_matches('/').to_owned(),
        _ => start_throwaway(),
    })
}

/// Creates an empty database and returns its URL.
pub fn fresh_database(tag: &str) -> String {
    static N: AtomicU32 = AtomicU32::new(0);
    let name = format!(
        "t_{}_{}_{}",
        tag.replace(|c: char| !c.is_ascii_alphanumeric(), "_"),
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    );
    let base = server_url();
    let admin = format!("{}/postgres", base_without_db(base));
    let out = Command::new(bin("psql"))
        .args([&admin, "-q", "-v", "ON_ERROR_STOP=1", "-c"])
        .arg(format!("CREATE DATABASE {name}"))
        .output()
        .expect("psql runs");
    assert!(
        out.status.success(),
        "CREATE DATABASE {name}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    format!("{}/{name}", base_without_db(base))
}

/// `postgres://user@host:port/db` → `postgres://user@host:port`.
fn base_without_db(url: &str) -> &str {
    let after_scheme = url.find("://").map(|i| i + 3).unwrap_or(0);
    match url[after_scheme..].find('/') {
        Some(i) => &url[..after_scheme + i],
        None => url,
    }
}

/// A PostgreSQL program: on `PATH`, else in Debian's versioned directory.
fn bin(name: &str) -> PathBuf {
    let on_path = Command::new("sh")
        .args(["-c", &format!("command -v {name}")])
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| PathBuf::from(String::from_utf8_lossy(&o.stdout).trim()));
    on_path.unwrap_or_else(|| {
        let debian = Path::new("/usr/lib/postgresql");
        let mut versions: Vec<PathBuf> = std::fs::read_dir(debian)
            .map(|d| d.filter_map(|e| e.ok().map(|e| e.path().join("bin").join(name))).collect())
            .unwrap_or_default();
        versions.sort();
        versions.pop().filter(|p| p.exists()).unwrap_or_else(|| {
            panic!("{name} not found: install PostgreSQL (apt-get install postgresql) or set PLANGUARD_TEST_POSTGRES")
        })
    })
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free loopback port")
}

/// Runs `program args` as the server's user (`nobody` when we are root).
fn as_server_user(program: &Path, args: &[&str]) -> Command {
    if unsafe { libc::geteuid() } == 0 {
        let mut c = Command::new("runuser");
        c.args(["-u", "nobody", "--"]).arg(program).args(args);
        c
    } else {
        let mut c = Command::new(program);
        c.args(args);
        c
    }
}

fn start_throwaway() -> String {
    let dir = std::env::temp_dir().join(format!("planguard-pg-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    if unsafe { libc::geteuid() } == 0 {
        let nobody = std::ffi::CString::new(dir.to_str().unwrap()).unwrap();
        // nobody's uid and gid on Debian.
        assert_eq!(unsafe { libc::chown(nobody.as_ptr(), 65534, 65534) }, 0);
    }
    let data = dir.join("data");
    let data_s = data.to_str().unwrap();
    let init = as_server_user(
        &bin("initdb"),
        &[
            "-D",
            data_s,
            "-U",
            "planguard",
            "--auth=trust",
            "-E",
            "UTF8",
            "--no-sync",
        ],
    )
    .output()
    .expect("initdb runs");
    assert!(
        init.status.success(),
        "initdb: {}",
        String::from_utf8_lossy(&init.stderr)
    );
    let port = free_port().to_string();
    let log = dir.join("log");
    let start = as_server_user(
        &bin("pg_ctl"),
        &[
            "-D",
            data_s,
            "-l",
            log.to_str().unwrap(),
            "-w",
            "-o",
            &format!(
                "-p {port} -k {} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=300",
                dir.display()
            ),
            "start",
        ],
    )
    .output()
    .expect("pg_ctl runs");
    assert!(
        start.status.success(),
        "pg_ctl start: {}{}",
        String::from_utf8_lossy(&start.stderr),
        std::fs::read_to_string(&log).unwrap_or_default()
    );
    // Stopped when this process exits, however it exits.
    let pg_ctl = if unsafe { libc::geteuid() } == 0 {
        format!("runuser -u nobody -- {}", bin("pg_ctl").display())
    } else {
        bin("pg_ctl").display().to_string()
    };
    let stop = format!(
        "while kill -0 {pid} 2>/dev/null; do sleep 1; done; \
         {pg_ctl} -D {data_s} -m immediate stop >/dev/null 2>&1; rm -rf {dir}",
        pid = std::process::id(),
        dir = dir.display()
    );
    // The watchdog outlives this process on purpose: it is what stops the server.
    #[allow(clippy::zombie_processes)]
    let _watchdog = Command::new("sh")
        .args(["-c", &stop])
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("the watchdog starts");
    format!("postgres://planguard@127.0.0.1:{port}")
}
