//! [`VcsHost`] over GitHub's REST API with octocrab.
//!
//! Two modes, from the server config:
//!
//! - **App**: a JWT signed with the App's RS256 key (jsonwebtoken) buys an installation token
//!   per installation; octocrab caches each token and mints a new one before it expires.
//!   Installations come from webhooks, or are looked up once per repository.
//! - **Token**: a personal or bot token. The Checks API needs an App, so checks become commit
//!   statuses.
//!
//! Requests go through octocrab's generic verbs with small response structs of our own, so a
//! field GitHub adds or drops never breaks parsing. Every request names a route relative to
//! `api_url` (`/repos/...`), never an absolute URL: octocrab attaches credentials only to
//! relative requests (and to `api.github.com`), so an absolute URL to GitHub Enterprise Server
//! would go out without them. Lists (reviews, check runs) are read page by page, following
//! GitHub's `Link: rel="next"` with its path and query against `api_url`, up to
//! [`MAX_LISTED`] items.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use octocrab::models::{AppId, InstallationId};
use octocrab::Octocrab;
use serde::de::DeserializeOwned;
use serde::Deserialize;
use serde_json::json;

use super::*;
use crate::serve::config::ExposeSecret as _;
use crate::serve::config::{GithubAuth, GithubConfig};

/// GitHub, as an App or with a token.
pub struct GitHub {
    mode: Mode,
    /// Repository → installation id.
    installations: Mutex<HashMap<RepoName, u64>>,
    /// Installation id → client holding that installation's cached token. Shared, never
    /// cloned: a cloned octocrab client starts with an empty token cache.
    clients: Mutex<HashMap<u64, Arc<Octocrab>>>,
}

enum Mode {
    App {
        app: Octocrab,
    },
    Token {
        client: Arc<Octocrab>,
        token: String,
    },
}

/// Turns an octocrab error into a [`VcsError`] for `call`.
fn classify(call: &str, e: octocrab::Error) -> VcsError {
    let call = call.to_owned();
    match e {
        octocrab::Error::GitHub { source, .. } => {
            let status = source.status_code.as_u16();
            let message = source.message.clone();
            if status == 401 {
                VcsError::Auth { call, message }
            } else if status >= 500 || status == 429 {
                VcsError::Unavailable { call, message }
            } else {
                VcsError::Refused {
                    call,
                    status,
                    message,
                }
            }
        }
        octocrab::Error::JWT { source, .. } => VcsError::Auth {
            call,
            message: source.to_string(),
        },
        other => VcsError::Unavailable {
            call,
            message: other.to_string(),
        },
    }
}

fn builder(
    api_url: &str,
) -> std::result::Result<
    octocrab::OctocrabBuilder<
        octocrab::NoSvc,
        octocrab::DefaultOctocrabBuilderConfig,
        octocrab::NoAuth,
        octocrab::NotLayerReady,
    >,
    String,
> {
    Octocrab::builder()
        .base_uri(api_url)
        .map_err(|e| format!("github.api_url {api_url:?} is not a URL: {e}"))
        .map(|b| {
            b.set_connect_timeout(Some(std::time::Duration::from_secs(10)))
                .set_read_timeout(Some(std::time::Duration::from_secs(30)))
        })
}

#[derive(Deserialize)]
struct Id {
    id: u64,
}

#[derive(Deserialize)]
struct UserRef {
    login: String,
}

#[derive(Deserialize)]
struct PrResponse {
    head: HeadRef,
    user: UserRef,
    state: String,
    #[serde(default)]
    merged: bool,
    mergeable: Option<bool>,
    #[serde(default)]
    mergeable_state: Option<String>,
    html_url: String,
}

#[derive(Deserialize)]
struct HeadRef {
    sha: String,
}

#[derive(Deserialize)]
struct ReviewResponse {
    user: Option<UserRef>,
    state: String,
    commit_id: Option<String>,
}

#[derive(Deserialize)]
struct CommentResponse {
    id: u64,
    /// Null when the account was deleted.
    user: Option<UserRef>,
    #[serde(default)]
    body: Option<String>,
    created_at: chrono::DateTime<chrono::Utc>,
    updated_at: chrono::DateTime<chrono::Utc>,
}

#[derive(Deserialize)]
struct PermissionResponse {
    permission: String,
}

#[derive(Deserialize)]
struct CheckRunList {
    check_runs: Vec<CheckRunItem>,
}

#[derive(Deserialize)]
struct CheckRunItem {
    name: String,
    conclusion: Option<String>,
}

#[derive(Deserialize)]
struct MembershipResponse {
    state: String,
}

impl GitHub {
    /// Builds the client from the server config. Fails with a message naming the key.
    pub fn new(cfg: &GithubConfig) -> std::result::Result<GitHub, String> {
        let mode = match &cfg.auth {
            GithubAuth::App {
                app_id,
                private_key,
            } => {
                let key =
                    jsonwebtoken::EncodingKey::from_rsa_pem(private_key.expose_secret().as_bytes())
                        .map_err(|e| format!("github.private_key is not an RSA PEM key: {e}"))?;
                let app = builder(&cfg.api_url)?
                    .app(AppId(*app_id), key)
                    .build()
                    .map_err(|e| format!("GitHub client: {e}"))?;
                Mode::App { app }
            }
            GithubAuth::Token(token) => {
                let client = builder(&cfg.api_url)?
                    .personal_token(token.expose_secret().to_owned())
                    .build()
                    .map_err(|e| format!("GitHub client: {e}"))?;
                Mode::Token {
                    client: Arc::new(client),
                    token: token.expose_secret().to_owned(),
                }
            }
        };
        Ok(GitHub {
            mode,
            installations: Mutex::new(HashMap::new()),
            clients: Mutex::new(HashMap::new()),
        })
    }

    /// Whether checks are check runs (App) or commit statuses (token).
    pub fn uses_check_runs(&self) -> bool {
        matches!(self.mode, Mode::App { .. })
    }

    async fn installation_id(&self, repo: &RepoName) -> Result<u64> {
        if let Some(id) = self.installations.lock().unwrap().get(repo) {
            return Ok(*id);
        }
        let Mode::App { app } = &self.mode else {
            unreachable!("installations exist in App mode only")
        };
        let route = format!("/repos/{}/{}/installation", repo.owner(), repo.name());
        let found: Id = app
            .get(&route, None::<&()>)
            .await
            .map_err(|e| classify("GET installation", e))?;
        self.note_installation(repo, found.id);
        Ok(found.id)
    }

    /// The client for a repository: the token client, or the repository's installation.
    async fn client(&self, repo: &RepoName) -> Result<Arc<Octocrab>> {
        match &self.mode {
            Mode::Token { client, .. } => Ok(client.clone()),
            Mode::App { app } => {
                let id = self.installation_id(repo).await?;
                if let Some(c) = self.clients.lock().unwrap().get(&id) {
                    return Ok(c.clone());
                }
                let c = Arc::new(
                    app.installation(InstallationId(id))
                        .map_err(|e| classify("installation client", e))?,
                );
                self.clients.lock().unwrap().insert(id, c.clone());
                Ok(c)
            }
        }
    }
}

fn repo_route(repo: &RepoName, rest: &str) -> String {
    format!("/repos/{}/{}/{rest}", repo.owner(), repo.name())
}

/// The most items planguard reads of one list (a PR's reviews, a commit's check runs). A longer
/// list is an error ([`VcsError::TooMany`]): the gate does not decide on part of it.
pub const MAX_LISTED: usize = 10_000;

/// Items asked for per page (GitHub's maximum).
const PER_PAGE: usize = 100;

/// The path and query of the `rel="next"` link in a `Link` header, if there is one. Only the
/// path and query are kept: the next page is asked of `api_url`, with its credentials, whatever
/// host the link names.
fn next_page(link: &str) -> Option<String> {
    link.split(',').find_map(|part| {
        let (target, params) = part.trim().split_once(';')?;
        let next = params.split(';').any(|p| {
            p.trim()
                .strip_prefix("rel=")
                .is_some_and(|rel| rel.trim_matches('"').split(' ').any(|r| r == "next"))
        });
        if !next {
            return None;
        }
        let url = target.trim().strip_prefix('<')?.strip_suffix('>')?;
        let path = match url.split_once("://") {
            Some((_, rest)) => &rest[rest.find('/')?..],
            None => url,
        };
        path.starts_with('/').then(|| path.to_owned())
    })
}

/// Reads every page of the list at `route` (relative to `api_url`): `items` takes a page's
/// JSON apart. Stops at the first page without a `rel="next"` link, or without items.
async fn list<P, T>(
    c: &Octocrab,
    call: &str,
    route: &str,
    items: impl Fn(P) -> Vec<T>,
) -> Result<Vec<T>>
where
    P: DeserializeOwned,
{
    let mut out = Vec::new();
    let mut next = Some(format!("{route}?per_page={PER_PAGE}"));
    while let Some(uri) = next.take() {
        let res = c._get(uri.as_str()).await.map_err(|e| classify(call, e))?;
        let res = octocrab::map_github_error(res)
            .await
            .map_err(|e| classify(call, e))?;
        let link = res
            .headers()
            .get("link")
            .and_then(|v| v.to_str().ok())
            .and_then(next_page);
        let body = c.body_to_string(res).await.map_err(|e| classify(call, e))?;
        let page: P = serde_json::from_str(&body).map_err(|e| VcsError::Unavailable {
            call: call.to_owned(),
            message: format!("unreadable answer: {e}"),
        })?;
        let page = items(page);
        if page.is_empty() {
            break;
        }
        out.extend(page);
        if out.len() > MAX_LISTED {
            return Err(VcsError::TooMany {
                call: call.to_owned(),
                limit: MAX_LISTED,
            });
        }
        next = link;
    }
    Ok(out)
}

/// GitHub's limits on check run text fields.
const MAX_CHECK_TEXT: usize = 65_000;

fn clip(s: &str, max: usize) -> String {
    if s.len() <= max {
        return s.to_owned();
    }
    let mut end = max.saturating_sub(40);
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}\n\n… (truncated)", &s[..end])
}

#[async_trait]
impl VcsHost for GitHub {
    fn note_installation(&self, repo: &RepoName, installation: u64) {
        self.installations
            .lock()
            .unwrap()
            .insert(repo.clone(), installation);
    }

    async fn create_comment(&self, repo: &RepoName, pr: PrNumber, body: &str) -> Result<u64> {
        let c = self.client(repo).await?;
        let made: Id = c
            .post(
                repo_route(repo, &format!("issues/{}/comments", pr.0)),
                Some(&json!({ "body": body })),
            )
            .await
            .map_err(|e| classify("POST comment", e))?;
        Ok(made.id)
    }

    async fn update_comment(&self, repo: &RepoName, id: u64, body: &str) -> Result<()> {
        let c = self.client(repo).await?;
        let _: serde_json::Value = c
            .patch(
                repo_route(repo, &format!("issues/comments/{id}")),
                Some(&json!({ "body": body })),
            )
            .await
            .map_err(|e| classify("PATCH comment", e))?;
        Ok(())
    }

    async fn delete_comment(&self, repo: &RepoName, id: u64) -> Result<()> {
        let c = self.client(repo).await?;
        // A relative route: octocrab adds `api_url` and the credentials.
        let route = repo_route(repo, &format!("issues/comments/{id}"));
        c._delete(route, None::<&()>)
            .await
            .map_err(|e| classify("DELETE comment", e))
            .and_then(|r| {
                if r.status().is_success() || r.status().as_u16() == 404 {
                    Ok(())
                } else {
                    Err(VcsError::Refused {
                        call: "DELETE comment".into(),
                        status: r.status().as_u16(),
                        message: String::new(),
                    })
                }
            })
    }

    async fn comment(&self, repo: &RepoName, id: u64) -> Result<Option<IssueComment>> {
        let c = self.client(repo).await?;
        let r: std::result::Result<CommentResponse, _> = c
            .get(
                repo_route(repo, &format!("issues/comments/{id}")),
                None::<&()>,
            )
            .await;
        match r.map_err(|e| classify("GET comment", e)) {
            Ok(c) => Ok(Some(IssueComment {
                id: c.id,
                author: Login(c.user.map_or_else(|| "ghost".to_owned(), |u| u.login)),
                body: c.body.unwrap_or_default(),
                created_at: c.created_at,
                updated_at: c.updated_at,
            })),
            Err(e) if e.is_not_found() => Ok(None),
            Err(e) => Err(e),
        }
    }

    async fn set_check(
        &self,
        repo: &RepoName,
        existing: Option<u64>,
        check: &Check,
    ) -> Result<Option<u64>> {
        let c = self.client(repo).await?;
        if !self.uses_check_runs() {
            let (state, description) = match check.status {
                CheckStatus::Queued | CheckStatus::InProgress => ("pending", check.title.clone()),
                CheckStatus::Completed(
                    Conclusion::Success | Conclusion::Neutral | Conclusion::Skipped,
                ) => ("success", check.title.clone()),
                CheckStatus::Completed(Conclusion::Failure | Conclusion::ActionRequired) => {
                    ("failure", check.title.clone())
                }
                CheckStatus::Completed(Conclusion::Cancelled) => ("error", check.title.clone()),
            };
            let mut body = json!({
                "state": state,
                "context": check.name,
                "description": clip(&description, 140),
            });
            if let Some(url) = &check.details_url {
                body["target_url"] = json!(url);
            }
            let _: serde_json::Value = c
                .post(
                    repo_route(repo, &format!("statuses/{}", check.head_sha)),
                    Some(&body),
                )
                .await
                .map_err(|e| classify("POST status", e))?;
            return Ok(None);
        }
        let mut body = json!({
            "name": check.name,
            "head_sha": check.head_sha.as_str(),
            "output": {
                "title": clip(&check.title, 1000),
                "summary": clip(&check.summary, MAX_CHECK_TEXT),
            },
        });
        if let Some(text) = &check.text {
            body["output"]["text"] = json!(clip(text, MAX_CHECK_TEXT));
        }
        if !check.annotations.is_empty() {
            // GitHub takes at most 50 annotations per request.
            let notes: Vec<_> = check
                .annotations
                .iter()
                .take(50)
                .map(|a| {
                    json!({
                        "path": a.path, "start_line": a.line, "end_line": a.line,
                        "annotation_level": a.level, "title": a.title, "message": a.message,
                    })
                })
                .collect();
            body["output"]["annotations"] = json!(notes);
        }
        if let Some(url) = &check.details_url {
            body["details_url"] = json!(url);
        }
        match check.status {
            CheckStatus::Queued => body["status"] = json!("queued"),
            CheckStatus::InProgress => body["status"] = json!("in_progress"),
            CheckStatus::Completed(c) => {
                body["status"] = json!("completed");
                body["conclusion"] = json!(c.as_str());
            }
        }
        let made: Id = match existing {
            Some(id) => c
                .patch(repo_route(repo, &format!("check-runs/{id}")), Some(&body))
                .await
                .map_err(|e| classify("PATCH check run", e))?,
            None => c
                .post(repo_route(repo, "check-runs"), Some(&body))
                .await
                .map_err(|e| classify("POST check run", e))?,
        };
        Ok(Some(made.id))
    }

    async fn pull_request(&self, repo: &RepoName, pr: PrNumber) -> Result<PullRequest> {
        let c = self.client(repo).await?;
        let p: PrResponse = c
            .get(repo_route(repo, &format!("pulls/{}", pr.0)), None::<&()>)
            .await
            .map_err(|e| classify("GET pull request", e))?;
        Ok(PullRequest {
            head: p.head.sha.parse().map_err(|e| VcsError::Refused {
                call: "GET pull request".into(),
                status: 200,
                message: format!("{e}"),
            })?,
            author: Login(p.user.login),
            open: p.state == "open",
            merged: p.merged,
            mergeable: p.mergeable,
            mergeable_state: p.mergeable_state.unwrap_or_default(),
            html_url: p.html_url,
        })
    }

    async fn reviews(&self, repo: &RepoName, pr: PrNumber) -> Result<Vec<Review>> {
        let c = self.client(repo).await?;
        let route = repo_route(repo, &format!("pulls/{}/reviews", pr.0));
        let list = list(&c, "GET reviews", &route, |page: Vec<ReviewResponse>| page).await?;
        Ok(list
            .into_iter()
            .filter_map(|r| {
                Some(Review {
                    user: Login(r.user?.login),
                    state: r.state,
                    commit: r.commit_id.and_then(|c| c.parse().ok()),
                })
            })
            .collect())
    }

    async fn permission(&self, repo: &RepoName, user: &Login) -> Result<Permission> {
        let c = self.client(repo).await?;
        let r: std::result::Result<PermissionResponse, _> = c
            .get(
                repo_route(repo, &format!("collaborators/{}/permission", user.0)),
                None::<&()>,
            )
            .await;
        match r.map_err(|e| classify("GET collaborator permission", e)) {
            Ok(p) => Ok(Permission::parse(&p.permission)),
            Err(e) if e.is_not_found() => Ok(Permission::None),
            Err(e) => Err(e),
        }
    }

    async fn team_member(&self, team: &str, user: &Login) -> Result<bool> {
        let Some((org, slug)) = team.split_once('/') else {
            return Ok(false);
        };
        // Team membership is read with the installation of a repository in the org; any
        // client of the org works, so use the first installation known for it.
        let repo = self
            .installations
            .lock()
            .unwrap()
            .keys()
            .find(|r| r.owner().eq_ignore_ascii_case(org))
            .cloned();
        let c = match (&self.mode, repo) {
            (Mode::Token { client, .. }, _) => client.clone(),
            (Mode::App { .. }, Some(repo)) => self.client(&repo).await?,
            (Mode::App { .. }, None) => return Ok(false),
        };
        let r: std::result::Result<MembershipResponse, _> = c
            .get(
                format!("/orgs/{org}/teams/{slug}/memberships/{}", user.0),
                None::<&()>,
            )
            .await;
        match r.map_err(|e| classify("GET team membership", e)) {
            Ok(m) => Ok(m.state == "active"),
            Err(e) if e.is_not_found() => Ok(false),
            Err(e) => Err(e),
        }
    }

    async fn check_runs(
        &self,
        repo: &RepoName,
        sha: &CommitSha,
    ) -> Result<Vec<(String, Option<String>)>> {
        if !self.uses_check_runs() {
            return Ok(Vec::new());
        }
        let c = self.client(repo).await?;
        let route = repo_route(repo, &format!("commits/{sha}/check-runs"));
        let runs = list(&c, "GET check runs", &route, |page: CheckRunList| {
            page.check_runs
        })
        .await?;
        Ok(runs.into_iter().map(|c| (c.name, c.conclusion)).collect())
    }

    async fn clone_token(&self, repo: &RepoName) -> Result<Option<String>> {
        match &self.mode {
            Mode::Token { token, .. } => Ok(Some(token.clone())),
            Mode::App { .. } => {
                let c = self.client(repo).await?;
                let token = c
                    .installation_token()
                    .await
                    .map_err(|e| classify("installation token", e))?;
                Ok(Some(token.expose_secret().to_owned()))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::next_page;

    #[test]
    fn the_next_page_is_the_path_and_query_of_rel_next() {
        let link = "<https://ghe.example.com/api/v3/repositories/7/pulls/3/reviews?per_page=100&page=2>; rel=\"next\", \
                    <https://ghe.example.com/api/v3/repositories/7/pulls/3/reviews?per_page=100&page=4>; rel=\"last\"";
        assert_eq!(
            next_page(link).as_deref(),
            Some("/api/v3/repositories/7/pulls/3/reviews?per_page=100&page=2")
        );
        let last_page = "<https://api.github.com/x?page=1>; rel=\"first\", \
                         <https://api.github.com/x?page=3>; rel=\"prev\"";
        assert_eq!(next_page(last_page), None);
        assert_eq!(
            next_page("</x?page=2>; rel=next").as_deref(),
            Some("/x?page=2")
        );
        assert_eq!(next_page(""), None);
        assert_eq!(next_page("garbage"), None);
    }
}
