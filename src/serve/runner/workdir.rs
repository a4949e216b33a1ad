//! Working copies: a commit of a pull request fetched with git2 into its own directory.
//!
//! Each (repository, PR, stack) gets a directory; fetching into an existing one only brings
//! new objects. The head commit is checked out detached and forcibly (files a previous run
//! left are cleaned), so a working copy is always exactly the commit that is planned. HTTPS
//! remotes authenticate with the installation token as `x-access-token`; the token is never
//! written to disk (no credential helper, no URL with the token).

use std::path::Path;

use git2::{build::CheckoutBuilder, FetchOptions, Oid, RemoteCallbacks, Repository};

use crate::serve::domain::CommitSha;

/// A working copy problem.
#[derive(Debug, thiserror::Error)]
pub enum WorkdirError {
    #[error("cannot fetch {url}: {message}")]
    Fetch { url: String, message: String },
    #[error("commit {sha} is not in {url} after fetching {refspecs}; was the branch force-pushed or deleted?")]
    MissingCommit {
        sha: String,
        url: String,
        refspecs: String,
    },
    #[error("git: {0}")]
    Git(#[from] git2::Error),
    #[error("cannot prepare {path}: {message}")]
    Io { path: String, message: String },
}

/// What to fetch for a PR: its head ref (GitHub's `refs/pull/N/head`, which also exists for
/// forks) and the branch names, so whichever the remote has is found.
pub fn refspecs(pr: u64, head_ref: &str, base_ref: Option<&str>) -> Vec<String> {
    let mut specs = vec![
        format!("+refs/pull/{pr}/head:refs/remotes/pull/{pr}"),
        format!("+refs/heads/{head_ref}:refs/remotes/origin/{head_ref}"),
    ];
    if let Some(base) = base_ref {
        specs.push(format!("+refs/heads/{base}:refs/remotes/origin/{base}"));
    }
    specs
}

fn fetch_options(token: Option<&str>) -> FetchOptions<'_> {
    let mut callbacks = RemoteCallbacks::new();
    if let Some(token) = token {
        callbacks.credentials(move |_url, _user, _allowed| {
            git2::Cred::userpass_plaintext("x-access-token", token)
        });
    }
    let mut opts = FetchOptions::new();
    opts.remote_callbacks(callbacks);
    opts.download_tags(git2::AutotagOption::None);
    opts
}

/// Opens or creates the repository at `dest` and fetches `specs` from `url` (specs the remote
/// does not have are skipped). Returns the repository.
pub fn fetch(
    url: &str,
    token: Option<&str>,
    dest: &Path,
    specs: &[String],
) -> Result<Repository, WorkdirError> {
    std::fs::create_dir_all(dest).map_err(|e| WorkdirError::Io {
        path: dest.display().to_string(),
        message: e.to_string(),
    })?;
    let repo = match Repository::open(dest) {
        Ok(r) => r,
        Err(_) => Repository::init(dest)?,
    };
    let mut remote = repo.remote_anonymous(url)?;
    let mut fetched_any = false;
    let mut last_error = None;
    // Fetch spec by spec: a remote without `refs/pull/*` (a plain bare repo) or without the
    // base branch must not fail the others.
    for spec in specs {
        match remote.fetch(&[spec.as_str()], Some(&mut fetch_options(token)), None) {
            Ok(()) => fetched_any = true,
            Err(e) => last_error = Some(e),
        }
    }
    if !fetched_any {
        return Err(WorkdirError::Fetch {
            url: url.to_owned(),
            message: last_error.map_or("nothing to fetch".into(), |e| e.message().to_owned()),
        });
    }
    drop(remote);
    Ok(repo)
}

/// Fetches and checks out `sha` into `dest`, detached, removing stray files.
pub fn checkout(
    url: &str,
    token: Option<&str>,
    dest: &Path,
    specs: &[String],
    sha: &CommitSha,
) -> Result<(), WorkdirError> {
    let repo = fetch(url, token, dest, specs)?;
    let oid = Oid::from_str(sha.as_str())?;
    let commit = repo
        .find_commit(oid)
        .map_err(|_| WorkdirError::MissingCommit {
            sha: sha.to_string(),
            url: url.to_owned(),
            refspecs: specs.join(" "),
        })?;
    repo.checkout_tree(
        commit.as_object(),
        Some(CheckoutBuilder::new().force().remove_untracked(true)),
    )?;
    repo.set_head_detached(oid)?;
    Ok(())
}

/// Paths changed between two commits of a repository (both must be present). With `base`
/// absent, every file of `head` counts as changed.
pub fn changed_files(
    repo: &Repository,
    base: Option<&CommitSha>,
    head: &CommitSha,
) -> Result<Vec<String>, WorkdirError> {
    let head_commit = repo.find_commit(Oid::from_str(head.as_str())?)?;
    let head_tree = head_commit.tree()?;
    let base_tree = match base {
        Some(b) => {
            let b = repo.find_commit(Oid::from_str(b.as_str())?)?;
            // Diff from the merge base, as GitHub's "files changed" does.
            let mb = repo.merge_base(b.id(), head_commit.id()).unwrap_or(b.id());
            Some(repo.find_commit(mb)?.tree()?)
        }
        None => None,
    };
    let diff = repo.diff_tree_to_tree(base_tree.as_ref(), Some(&head_tree), None)?;
    let mut files = Vec::new();
    for delta in diff.deltas() {
        for f in [delta.old_file(), delta.new_file()] {
            if let Some(p) = f.path().and_then(|p| p.to_str()) {
                if !files.iter().any(|x: &String| x == p) {
                    files.push(p.to_owned());
                }
            }
        }
    }
    files.sort();
    Ok(files)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::process::Command;

    fn git(dir: &Path, args: &[&str]) -> String {
        let out = Command::new("git")
            .args(args)
            .current_dir(dir)
            .env("GIT_AUTHOR_NAME", "t")
            .env("GIT_AUTHOR_EMAIL", "t@example.com")
            .env("GIT_COMMITTER_NAME", "t")
            .env("GIT_COMMITTER_EMAIL", "t@example.com")
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "git {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).trim().to_owned()
    }

    #[test]
    fn a_pr_head_is_checked_out_and_its_changes_listed() {
        let t = tempfile::tempdir().unwrap();
        let src = t.path().join("src");
        std::fs::create_dir_all(src.join("stacks/net")).unwrap();
        git(&src, &["init", "-q", "-b", "main"]);
        std::fs::write(src.join("stacks/net/main.tf"), "# v1\n").unwrap();
        git(&src, &["add", "."]);
        git(&src, &["commit", "-qm", "base"]);
        let base: CommitSha = git(&src, &["rev-parse", "HEAD"]).parse().unwrap();
        git(&src, &["checkout", "-qb", "feature"]);
        std::fs::create_dir_all(src.join("stacks/data")).unwrap();
        std::fs::write(src.join("stacks/data/main.tf"), "# new\n").unwrap();
        git(&src, &["add", "."]);
        git(&src, &["commit", "-qm", "add data"]);
        let head: CommitSha = git(&src, &["rev-parse", "HEAD"]).parse().unwrap();

        let dest = t.path().join("work");
        let url = src.display().to_string();
        let specs = refspecs(7, "feature", Some("main"));
        checkout(&url, None, &dest, &specs, &head).unwrap();
        assert!(dest.join("stacks/data/main.tf").exists());
        let repo = Repository::open(&dest).unwrap();
        assert_eq!(
            changed_files(&repo, Some(&base), &head).unwrap(),
            vec!["stacks/data/main.tf".to_owned()]
        );
        // A stray file is cleaned on the next checkout.
        std::fs::write(dest.join("stray.txt"), "x").unwrap();
        checkout(&url, None, &dest, &specs, &base).unwrap();
        assert!(!dest.join("stray.txt").exists());
        assert!(!dest.join("stacks/data/main.tf").exists());

        let missing: CommitSha = "0".repeat(40).parse().unwrap();
        let err = checkout(&url, None, &dest, &specs, &missing).unwrap_err();
        assert!(err.to_string().contains("force-pushed"), "{err}");
    }
}
