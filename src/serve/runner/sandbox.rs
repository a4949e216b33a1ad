//! The step sandbox: what a step process (and everything it starts) can reach.
//!
//! A sandboxed step runs in new, unprivileged user, mount and PID namespaces:
//!
//! - The PID namespace has a fresh `/proc`, so the server's `/proc/<pid>/environ` and
//!   `cmdline` (and every other process outside the step) are not there. The step itself is
//!   PID 1 of the namespace; when it exits the kernel kills everything else in it, so a
//!   `setsid sh -c '...' &` cannot outlive the step.
//! - A Landlock ruleset (plus `PR_SET_NO_NEW_PRIVS`) limits the file system to the step's
//!   [`Access`] (read-write: its working copy, its job's HOME and TMPDIR, the stack's plan
//!   directory, the plugin cache; read-only: the tofu binary) and the toolchain
//!   ([`TOOLCHAIN_READ_ONLY`], selected files of `/etc`, a few `/dev` files, the fresh `/proc`).
//!   Nothing of the data directory besides that is reachable: not the database, not other
//!   stacks' working copies or plans. Where the kernel's Landlock ABI has scoping (6+), the step
//!   can neither signal processes outside its sandbox nor connect to abstract unix sockets
//!   outside it.
//!
//! How: [`confine`] installs a `pre_exec` hook on the command. In the forked child (one thread,
//! so only async-signal-safe calls: raw syscalls, no allocation, no locks) it unshares the
//! namespaces, maps the current uid and gid to themselves, and forks. The parent of that fork
//! stays outside as a monitor: it closes every descriptor (so the spawn sees the step's `exec`
//! and the output pipes reach end-of-file when the step's processes are gone), waits for the
//! namespace's PID 1, and exits with its status. The PID 1 child sets `PR_SET_PDEATHSIG`
//! (killing the monitor kills the namespace), makes mounts private, mounts a new `/proc`,
//! applies the Landlock ruleset that was built before the fork, and returns, so the standard
//! library `exec`s the step as PID 1.
//!
//! [`probe`] runs a sandboxed `true` once at start-up and says what is missing when it cannot.

use std::ffi::CString;
use std::io;
use std::os::fd::{AsRawFd, OwnedFd};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use landlock::{
    Access as _, AccessFs, BitFlags, PathBeneath, PathFd, Ruleset, RulesetAttr, RulesetCreatedAttr,
    Scope, ABI,
};

/// What one step may reach besides the toolchain.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Access {
    /// Read, write, create and delete beneath these.
    pub read_write: Vec<PathBuf>,
    /// Read and execute beneath these.
    pub read_only: Vec<PathBuf>,
}

/// Read and execute for every step: the system's programs and libraries, and `/sys` (the Go
/// runtime reads it). Missing ones are skipped.
pub const TOOLCHAIN_READ_ONLY: &[&str] = &[
    "/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32", "/sys",
];

/// The parts of `/etc` steps need (TLS roots, name resolution, users, the dynamic loader, git
/// and ssh client configuration). `/etc` as a whole is not readable: the server's own config
/// and the GitHub App key usually live in `/etc/planguard`, and `/etc/ssh` holds host keys.
pub const ETC_READ_ONLY: &[&str] = &[
    "/etc/ssl/certs",
    "/etc/ssl/cert.pem",
    "/etc/ssl/openssl.cnf",
    "/etc/ca-certificates",
    "/etc/ca-certificates.conf",
    "/etc/pki/tls/certs",
    "/etc/pki/ca-trust",
    "/etc/crypto-policies",
    "/etc/resolv.conf",
    "/etc/hosts",
    "/etc/host.conf",
    "/etc/nsswitch.conf",
    "/etc/gai.conf",
    "/etc/services",
    "/etc/protocols",
    "/etc/passwd",
    "/etc/group",
    "/etc/localtime",
    "/etc/timezone",
    "/etc/ld.so.cache",
    "/etc/ld.so.conf",
    "/etc/ld.so.conf.d",
    "/etc/alternatives",
    "/etc/os-release",
    "/etc/mime.types",
    "/etc/gitconfig",
    "/etc/ssh/ssh_config",
    "/etc/ssh/ssh_config.d",
    "/etc/ssh/ssh_known_hosts",
];

/// Devices steps may read and write.
const DEVICES_READ_WRITE: &[&str] = &["/dev/null", "/dev/zero", "/dev/full"];
/// Devices steps may read.
const DEVICES_READ_ONLY: &[&str] = &["/dev/urandom", "/dev/random"];

/// The newest Landlock ABI asked for; the kernel's own ABI decides what is enforced.
const WANTED_ABI: ABI = ABI::V6;

/// Why a step cannot be sandboxed.
#[derive(Debug, thiserror::Error)]
pub enum SandboxError {
    #[error("Landlock is not available in this kernel (it needs Linux 5.13 or later with Landlock enabled in the `lsm=` list)")]
    NoLandlock,
    #[error("cannot build the Landlock ruleset: {0}")]
    Ruleset(String),
    #[error("cannot allow {path} in the sandbox: {message}")]
    Path { path: PathBuf, message: String },
    #[error("{0}")]
    Setup(String),
}

/// The Landlock ABI version the running kernel supports (`None` without Landlock).
pub fn landlock_abi() -> Option<i32> {
    // SAFETY: LANDLOCK_CREATE_RULESET_VERSION with a null attribute and size 0 only returns
    // the ABI version; nothing is read or written.
    let v = unsafe {
        libc::syscall(
            libc::SYS_landlock_create_ruleset,
            std::ptr::null::<u8>(),
            0usize,
            1u32, // LANDLOCK_CREATE_RULESET_VERSION
        )
    };
    (v > 0).then_some(v as i32)
}

/// Builds the Landlock ruleset of one step (in the server, before the fork: this allocates
/// and opens files). Returns its file descriptor.
fn ruleset(access: &Access) -> Result<OwnedFd, SandboxError> {
    if landlock_abi().is_none() {
        return Err(SandboxError::NoLandlock);
    }
    let err = |e: landlock::RulesetError| SandboxError::Ruleset(e.to_string());
    let all = AccessFs::from_all(WANTED_ABI);
    let read = AccessFs::from_read(WANTED_ABI);
    let file_rights = AccessFs::from_file(WANTED_ABI);
    let mut created = Ruleset::default()
        .handle_access(all)
        .map_err(err)?
        .scope(Scope::AbstractUnixSocket | Scope::Signal)
        .map_err(err)?
        .create()
        .map_err(err)?;
    let mut rules: Vec<(PathBuf, BitFlags<AccessFs>, bool)> = Vec::new();
    for p in TOOLCHAIN_READ_ONLY.iter().chain(ETC_READ_ONLY) {
        rules.push((PathBuf::from(p), read, false));
    }
    for p in DEVICES_READ_WRITE {
        rules.push((
            PathBuf::from(p),
            AccessFs::ReadFile | AccessFs::WriteFile,
            false,
        ));
    }
    for p in DEVICES_READ_ONLY {
        rules.push((PathBuf::from(p), AccessFs::ReadFile.into(), false));
    }
    for p in &access.read_only {
        rules.push((p.clone(), read, true));
    }
    for p in &access.read_write {
        rules.push((p.clone(), all, true));
    }
    for (path, rights, required) in rules {
        let fd = match PathFd::new(&path) {
            Ok(fd) => fd,
            Err(_) if !required => continue,
            Err(e) => {
                return Err(SandboxError::Path {
                    path,
                    message: e.to_string(),
                })
            }
        };
        // Rights that only make sense on directories are refused on files.
        let rights = if path.is_dir() {
            rights
        } else {
            rights & file_rights
        };
        created = created
            .add_rule(PathBeneath::new(fd, rights))
            .map_err(|e| SandboxError::Path {
                path: path.clone(),
                message: e.to_string(),
            })?;
    }
    let fd: Option<OwnedFd> = created.into();
    fd.ok_or(SandboxError::NoLandlock)
}

/// Everything the forked child needs, prepared before the fork.
struct Prepared {
    ruleset: OwnedFd,
    setgroups: CString,
    uid_map_path: CString,
    gid_map_path: CString,
    uid_map: Vec<u8>,
    gid_map: Vec<u8>,
    root: CString,
    proc_dir: CString,
    proc_type: CString,
}

/// Makes `cmd` run sandboxed with `access`. `cmd` must be spawned with `process_group(0)` or
/// not; both work. The ruleset is built now; the namespaces are made in the child.
pub fn confine(cmd: &mut Command, access: &Access) -> Result<(), SandboxError> {
    let ruleset = ruleset(access)?;
    let c = |s: &str| CString::new(s).expect("no NUL in constant paths");
    // SAFETY: geteuid and getegid cannot fail and touch no memory.
    let (uid, gid) = unsafe { (libc::geteuid(), libc::getegid()) };
    let prepared = Prepared {
        ruleset,
        setgroups: c("/proc/self/setgroups"),
        uid_map_path: c("/proc/self/uid_map"),
        gid_map_path: c("/proc/self/gid_map"),
        uid_map: format!("{uid} {uid} 1\n").into_bytes(),
        gid_map: format!("{gid} {gid} 1\n").into_bytes(),
        root: c("/"),
        proc_dir: c("/proc"),
        proc_type: c("proc"),
    };
    // SAFETY: the hook only makes raw system calls on data prepared above (no allocation, no
    // locks), which is what is allowed between fork and exec.
    unsafe {
        cmd.pre_exec(move || enter(&prepared));
    }
    Ok(())
}

fn last_error() -> io::Error {
    io::Error::last_os_error()
}

/// Writes `data` to the file at `path` (async-signal-safe).
unsafe fn write_file(path: &CString, data: &[u8]) -> io::Result<()> {
    let fd = libc::open(path.as_ptr(), libc::O_WRONLY | libc::O_CLOEXEC);
    if fd < 0 {
        return Err(last_error());
    }
    let n = libc::write(fd, data.as_ptr().cast(), data.len());
    let e = last_error();
    libc::close(fd);
    if n != data.len() as isize {
        return Err(e);
    }
    Ok(())
}

/// `struct landlock_path_beneath_attr`.
#[repr(C, packed)]
struct PathBeneathAttr {
    allowed_access: u64,
    parent_fd: i32,
}

/// Runs in the forked child, between fork and exec.
unsafe fn enter(p: &Prepared) -> io::Result<()> {
    if libc::unshare(libc::CLONE_NEWUSER | libc::CLONE_NEWNS | libc::CLONE_NEWPID) != 0 {
        return Err(last_error());
    }
    write_file(&p.setgroups, b"deny")?;
    write_file(&p.uid_map_path, &p.uid_map)?;
    write_file(&p.gid_map_path, &p.gid_map)?;
    let pid = libc::fork();
    if pid < 0 {
        return Err(last_error());
    }
    if pid > 0 {
        monitor(pid);
    }
    // PID 1 of the new namespace. If the monitor is killed, so is the namespace.
    libc::prctl(
        libc::PR_SET_PDEATHSIG,
        libc::SIGKILL as libc::c_ulong,
        0,
        0,
        0,
    );
    let none = std::ptr::null::<libc::c_char>();
    if libc::mount(
        none,
        p.root.as_ptr(),
        none,
        libc::MS_REC | libc::MS_PRIVATE,
        std::ptr::null(),
    ) != 0
    {
        return Err(last_error());
    }
    if libc::mount(
        p.proc_type.as_ptr(),
        p.proc_dir.as_ptr(),
        p.proc_type.as_ptr(),
        libc::MS_NOSUID | libc::MS_NODEV | libc::MS_NOEXEC,
        std::ptr::null(),
    ) != 0
    {
        return Err(last_error());
    }
    // The new /proc is a new file system: its rule can only be added now.
    let proc_fd = libc::open(
        p.proc_dir.as_ptr(),
        libc::O_PATH | libc::O_DIRECTORY | libc::O_CLOEXEC,
    );
    if proc_fd < 0 {
        return Err(last_error());
    }
    let attr = PathBeneathAttr {
        // LANDLOCK_ACCESS_FS_READ_FILE | LANDLOCK_ACCESS_FS_READ_DIR
        allowed_access: (1 << 2) | (1 << 3),
        parent_fd: proc_fd,
    };
    let added = libc::syscall(
        libc::SYS_landlock_add_rule,
        p.ruleset.as_raw_fd(),
        1 as libc::c_int, // LANDLOCK_RULE_PATH_BENEATH
        &attr as *const PathBeneathAttr,
        0 as libc::c_uint,
    );
    let e = last_error();
    libc::close(proc_fd);
    if added != 0 {
        return Err(e);
    }
    if libc::prctl(libc::PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 {
        return Err(last_error());
    }
    if libc::syscall(
        libc::SYS_landlock_restrict_self,
        p.ruleset.as_raw_fd(),
        0 as libc::c_uint,
    ) != 0
    {
        return Err(last_error());
    }
    Ok(())
}

/// The monitor outside the namespace: waits for its PID 1 and ends the same way. Never returns.
unsafe fn monitor(child: libc::pid_t) -> ! {
    // Holding nothing: the spawn's exec-error pipe, stdin, stdout, stderr all belong to the
    // step alone now.
    libc::syscall(libc::SYS_close_range, 0u32, u32::MAX, 0u32);
    // A SIGTERM to the step's process group is for the step; the monitor waits for it.
    libc::signal(libc::SIGTERM, libc::SIG_IGN);
    libc::signal(libc::SIGINT, libc::SIG_IGN);
    libc::signal(libc::SIGHUP, libc::SIG_IGN);
    let mut status: libc::c_int = 0;
    loop {
        let r = libc::waitpid(child, &mut status, 0);
        if r == child {
            break;
        }
        if r < 0 && *libc::__errno_location() != libc::EINTR {
            libc::_exit(127);
        }
    }
    if libc::WIFEXITED(status) {
        libc::_exit(libc::WEXITSTATUS(status));
    }
    if libc::WIFSIGNALED(status) {
        let sig = libc::WTERMSIG(status);
        libc::signal(sig, libc::SIG_DFL);
        libc::kill(libc::getpid(), sig);
        libc::_exit(128 + sig);
    }
    libc::_exit(127)
}

/// Checks once that steps can be sandboxed here: runs `true` in the sandbox. The error says
/// what is missing.
pub fn probe() -> Result<(), SandboxError> {
    let Some(_) = landlock_abi() else {
        return Err(SandboxError::NoLandlock);
    };
    let mut cmd = Command::new("/bin/sh");
    cmd.args(["-c", "exit 0"])
        .env_clear()
        .env("PATH", "/usr/bin:/bin")
        .current_dir("/")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    confine(&mut cmd, &Access::default())?;
    let status = cmd
        .status()
        .map_err(|e| SandboxError::Setup(diagnose(&e)))?;
    if status.success() {
        Ok(())
    } else {
        Err(SandboxError::Setup(format!(
            "a sandboxed `sh -c 'exit 0'` ended with {status}"
        )))
    }
}

/// Turns a failed sandboxed spawn into what is probably missing.
fn diagnose(e: &io::Error) -> String {
    let read = |p: &str| std::fs::read_to_string(p).ok().map(|s| s.trim().to_owned());
    let mut why = format!("cannot start a sandboxed process ({e})");
    if read("/proc/sys/user/max_user_namespaces").as_deref() == Some("0") {
        why.push_str("; user namespaces are disabled (sysctl user.max_user_namespaces = 0)");
    }
    if read("/proc/sys/kernel/unprivileged_userns_clone").as_deref() == Some("0") {
        why.push_str(
            "; unprivileged user namespaces are disabled (sysctl kernel.unprivileged_userns_clone = 0)",
        );
    }
    if read("/proc/sys/kernel/apparmor_restrict_unprivileged_userns").as_deref() == Some("1") {
        why.push_str(
            "; AppArmor restricts unprivileged user namespaces \
             (sysctl kernel.apparmor_restrict_unprivileged_userns = 1)",
        );
    }
    why.push_str(
        "; the sandbox needs unprivileged user, mount and PID namespaces, permission to mount \
         a new /proc (a container runtime's masked /proc can forbid it), and Landlock",
    );
    why
}

/// Whether `inner` is `outer` or beneath it (both made absolute and canonical when they exist).
pub fn is_within(inner: &Path, outer: &Path) -> bool {
    let canon = |p: &Path| std::fs::canonicalize(p).unwrap_or_else(|_| p.to_path_buf());
    canon(inner).starts_with(canon(outer))
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;
    use std::time::Duration;

    use tokio_util::sync::CancellationToken;

    use super::*;
    use crate::serve::runner::process::MAX_OUTPUT;
    use crate::serve::runner::{PlanRunner, ProcessRunner, StepOutcome, StepRun, StepStatus};

    /// A data directory laid out like the server's: a database, two stacks' working copies, a
    /// job's HOME and TMPDIR, a plan directory.
    struct Layout {
        _tmp: tempfile::TempDir,
        data: PathBuf,
        work: PathBuf,
        sibling: PathBuf,
        home: PathBuf,
        tmp: PathBuf,
        plans: PathBuf,
    }

    fn layout() -> Layout {
        let t = tempfile::tempdir().unwrap();
        let data = t.path().join("data");
        let work = data.join("work/acme/infra/7/network");
        let sibling = data.join("work/acme/infra/7/data");
        let home = data.join("jobs/1-0/home");
        let tmp = data.join("jobs/1-0/tmp");
        let plans = data.join("plans/acme/infra/7/network");
        for d in [&work, &sibling, &home, &tmp, &plans] {
            std::fs::create_dir_all(d).unwrap();
        }
        std::fs::write(data.join("planguard.db"), "SQLite format 3 db-secret-0451").unwrap();
        std::fs::write(sibling.join("secret.tfvars"), "sibling-secret-0452").unwrap();
        Layout {
            _tmp: t,
            data,
            work,
            sibling,
            home,
            tmp,
            plans,
        }
    }

    async fn run_in(l: &Layout, script: &str, stdout: Option<PathBuf>) -> StepOutcome {
        let step = StepRun {
            name: "run".into(),
            argv: vec!["sh".into(), "-c".into(), script.into()],
            cwd: l.work.clone(),
            env: BTreeMap::from([
                ("PATH".to_owned(), "/usr/bin:/bin".to_owned()),
                ("HOME".to_owned(), l.home.display().to_string()),
                ("TMPDIR".to_owned(), l.tmp.display().to_string()),
            ]),
            timeout: Duration::from_secs(60),
            access: Access {
                read_write: vec![
                    l.work.clone(),
                    l.home.clone(),
                    l.tmp.clone(),
                    l.plans.clone(),
                ],
                read_only: Vec::new(),
            },
            stdout_file: stdout,
        };
        ProcessRunner::sandboxed()
            .run(&step, &CancellationToken::new())
            .await
    }

    #[tokio::test]
    async fn a_step_reaches_its_own_directories_and_nothing_else_of_the_data_directory() {
        let l = layout();
        let script = format!(
            "echo w > file && echo h > \"$HOME/h\" && echo t > \"$TMPDIR/t\" && \
             echo p > {plans}/x.tfplan && mkdir -p .terraform && echo WRITES-OK; \
             cat {db} || echo DB-DENIED; cat {sib}/secret.tfvars || echo SIBLING-DENIED; \
             ls {data} || echo LIST-DENIED; echo x > {data}/planted || echo PLANT-DENIED; \
             cat /etc/hostname 2>/dev/null || echo ETC-DENIED; ls /usr/bin >/dev/null && echo USR-OK",
            plans = l.plans.display(),
            db = l.data.join("planguard.db").display(),
            sib = l.sibling.display(),
            data = l.data.display(),
        );
        let out = run_in(&l, &script, None).await;
        assert_eq!(out.status, StepStatus::Exited(0), "{}", out.output);
        for expected in [
            "WRITES-OK",
            "DB-DENIED",
            "SIBLING-DENIED",
            "LIST-DENIED",
            "PLANT-DENIED",
            "ETC-DENIED",
            "USR-OK",
        ] {
            assert!(out.output.contains(expected), "{expected}:\n{}", out.output);
        }
        assert!(!out.output.contains("db-secret-0451"), "{}", out.output);
        assert!(
            !out.output.contains("sibling-secret-0452"),
            "{}",
            out.output
        );
        assert!(!l.data.join("planted").exists());
        assert_eq!(std::fs::read_to_string(l.work.join("file")).unwrap(), "w\n");
        assert_eq!(std::fs::read_to_string(l.home.join("h")).unwrap(), "h\n");
        assert_eq!(std::fs::read_to_string(l.tmp.join("t")).unwrap(), "t\n");
    }

    #[tokio::test]
    async fn a_step_sees_only_its_own_processes_in_a_fresh_proc() {
        std::env::set_var("PLANGUARD_SANDBOX_TEST_SECRET", "proc-secret-0453");
        let l = layout();
        let me = std::process::id();
        let script = format!(
            "echo pid=$$ ppid=$PPID; cat /proc/{me}/environ || echo ENVIRON-DENIED; \
             cat /proc/{me}/cmdline || echo CMDLINE-DENIED; \
             ls /proc | grep -c '^[0-9]' | sed 's/^/procs=/'; \
             cat /proc/self/status | grep -q . && echo PROC-OK"
        );
        let out = run_in(&l, &script, None).await;
        assert_eq!(out.status, StepStatus::Exited(0), "{}", out.output);
        assert!(out.output.contains("pid=1 ppid=0"), "{}", out.output);
        assert!(out.output.contains("ENVIRON-DENIED"), "{}", out.output);
        assert!(out.output.contains("CMDLINE-DENIED"), "{}", out.output);
        assert!(out.output.contains("PROC-OK"), "{}", out.output);
        assert!(!out.output.contains("proc-secret-0453"), "{}", out.output);
        let procs: usize = out
            .output
            .lines()
            .find_map(|l| l.strip_prefix("procs="))
            .and_then(|n| n.trim().parse().ok())
            .unwrap_or(usize::MAX);
        assert!(
            procs <= 4,
            "the step sees {procs} processes:\n{}",
            out.output
        );
    }

    #[tokio::test]
    async fn nothing_a_step_starts_outlives_it_not_even_with_setsid() {
        let l = layout();
        let marker = l.work.join("survivor");
        let tag = format!("planguard-survivor-{}", std::process::id());
        let script = format!(
            "setsid sh -c 'sleep 1; touch {m}; sleep 30 # {tag}' >/dev/null 2>&1 & \
             sh -c 'sleep 1; touch {m}; sleep 30 # {tag}' & echo started",
            m = marker.display()
        );
        let out = run_in(&l, &script, None).await;
        assert_eq!(out.status, StepStatus::Exited(0), "{}", out.output);
        assert!(out.output.contains("started"));
        tokio::time::sleep(Duration::from_secs(2)).await;
        assert!(!marker.exists(), "a process of the step outlived it");
        let left: Vec<String> = std::fs::read_dir("/proc")
            .unwrap()
            .flatten()
            .filter_map(|e| std::fs::read(e.path().join("cmdline")).ok())
            .map(|c| String::from_utf8_lossy(&c).into_owned())
            .filter(|c| c.contains(&tag) && !c.contains("cargo"))
            .collect();
        assert!(left.is_empty(), "processes left: {left:?}");
    }

    #[tokio::test]
    async fn a_step_printing_400_mb_is_streamed_to_disk_and_only_the_last_mib_is_kept() {
        let l = layout();
        let stdout = l.data.join("jobs/1-0/output/run.stdout");
        let out = run_in(
            &l,
            "head -c 400000000 /dev/zero; echo last-words >&2",
            Some(stdout.clone()),
        )
        .await;
        assert_eq!(out.status, StepStatus::Exited(0), "{}", &out.output[..100]);
        assert_eq!(out.stdout_len, 400_000_000);
        assert!(!out.stdout_truncated);
        assert_eq!(std::fs::metadata(&stdout).unwrap().len(), 400_000_000);
        assert!(out.output.len() <= MAX_OUTPUT + 16, "{}", out.output.len());
        // stdout and stderr are read concurrently, so up to a pipe buffer of stdout may land in
        // the tail after the stderr line; the line is in the tail all the same.
        assert!(out.output.contains("last-words\n"));
    }

    #[tokio::test]
    async fn a_timeout_kills_the_sandboxed_step_and_its_namespace() {
        let l = layout();
        let marker = l.work.join("late");
        let step = StepRun {
            name: "run".into(),
            argv: vec![
                "sh".into(),
                "-c".into(),
                format!(
                    "trap '' TERM; setsid sh -c 'sleep 7; touch {}' & sleep 30",
                    marker.display()
                ),
            ],
            cwd: l.work.clone(),
            env: BTreeMap::from([("PATH".to_owned(), "/usr/bin:/bin".to_owned())]),
            timeout: Duration::from_millis(300),
            access: Access {
                read_write: vec![l.work.clone()],
                read_only: Vec::new(),
            },
            stdout_file: None,
        };
        let out = ProcessRunner::sandboxed()
            .run(&step, &CancellationToken::new())
            .await;
        // The step ignores SIGTERM, so it dies by SIGKILL after the grace period (5s); its
        // setsid child would touch the marker at 7s.
        assert_eq!(out.status, StepStatus::TimedOut);
        tokio::time::sleep(Duration::from_secs(3)).await;
        assert!(!marker.exists(), "a process outlived the timeout");
    }

    #[test]
    fn the_probe_passes_on_this_host() {
        probe().unwrap();
    }

    #[test]
    fn a_missing_allowed_directory_is_an_error_not_a_silent_hole() {
        let e = ruleset(&Access {
            read_write: vec![PathBuf::from("/nonexistent/planguard-work")],
            read_only: Vec::new(),
        })
        .unwrap_err();
        assert!(e.to_string().contains("/nonexistent/planguard-work"), "{e}");
    }
}
