//! GitHub webhook deliveries: checking their signature and parsing them into domain events.
//!
//! This module owns the edge between GitHub's JSON and the rest of the server. It verifies
//! `X-Hub-Signature-256` in constant time, decides which deliveries matter (pull request
//! opened, reopened, synchronized or closed; a new comment on a pull request; a review
//! submitted or dismissed) and turns those into an [`Event`] made of domain types. Everything
//! else becomes [`Parsed::Ignored`] with the reason, so the server can log it and answer 200.
//!
//! It does not own HTTP (the server reads headers and limits the body), storage or
//! permissions: a parsed [`CommentEvent`] is only what was said, not whether the author may
//! say it.
//!
//! Payloads are read in two steps. A small envelope (the `action`, and for comments whether
//! the issue is a pull request) decides whether the delivery is used at all, so an action we
//! ignore can never fail on a field we do not need. Used deliveries are then read into
//! private structs that declare only the fields used, through `serde_path_to_error` so a
//! mismatch names the field, and converted into domain types.

use hmac::{Hmac, KeyInit, Mac};
use serde::de::{DeserializeOwned, IgnoredAny};
use serde::{Deserialize, Serialize};
use sha2::Sha256;

use crate::serve::domain::{CommitSha, Login, PrNumber, RepoName};

// ---------------------------------------------------------------------------------------------
// Signatures
// ---------------------------------------------------------------------------------------------

const SIGNATURE_PREFIX: &str = "sha256=";

/// Why a delivery's signature was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    #[error(
        "the delivery has no X-Hub-Signature-256 header: set a webhook secret on the GitHub App, \
         equal to the server's webhook secret"
    )]
    Missing,
    #[error(
        "the X-Hub-Signature-256 header is not `sha256=` followed by 64 hex digits: check that \
         the request comes from GitHub and not from a proxy that rewrites headers"
    )]
    Malformed,
    #[error(
        "the X-Hub-Signature-256 header does not match the body: the GitHub App's webhook secret \
         must equal the server's webhook secret"
    )]
    Mismatch,
}

fn mac(secret: &[u8], body: &[u8]) -> Hmac<Sha256> {
    // HMAC accepts keys of any length, so this cannot fail.
    let mut mac = Hmac::<Sha256>::new_from_slice(secret).expect("HMAC takes keys of any length");
    mac.update(body);
    mac
}

/// Checks `X-Hub-Signature-256: sha256=<hex>` against HMAC-SHA256(secret, body), comparing in
/// constant time.
pub fn verify_signature(
    secret: &[u8],
    body: &[u8],
    header: Option<&str>,
) -> Result<(), SignatureError> {
    let mut check = SignatureCheck::new(secret, header)?;
    check.update(body);
    check.finish()
}

/// A signature check fed the body piece by piece, as it arrives.
///
/// [`SignatureCheck::new`] reads the header first, so a delivery without a well-formed
/// `X-Hub-Signature-256` is refused before any of its body is read.
pub struct SignatureCheck {
    mac: Hmac<Sha256>,
    expected: [u8; 32],
}

impl SignatureCheck {
    /// Starts a check of the `X-Hub-Signature-256` value `header`: [`SignatureError::Missing`]
    /// or [`SignatureError::Malformed`] without looking at any body.
    pub fn new(secret: &[u8], header: Option<&str>) -> Result<SignatureCheck, SignatureError> {
        let header = header.ok_or(SignatureError::Missing)?.trim();
        let hex_part = header
            .strip_prefix(SIGNATURE_PREFIX)
            .ok_or(SignatureError::Malformed)?;
        let mut expected = [0u8; 32];
        hex::decode_to_slice(hex_part, &mut expected).map_err(|_| SignatureError::Malformed)?;
        Ok(SignatureCheck {
            mac: mac(secret, b""),
            expected,
        })
    }

    /// Adds the next piece of the body.
    pub fn update(&mut self, piece: &[u8]) {
        self.mac.update(piece);
    }

    /// Compares, in constant time, the HMAC of everything given with the header's.
    pub fn finish(self) -> Result<(), SignatureError> {
        self.mac
            .verify_slice(&self.expected)
            .map_err(|_| SignatureError::Mismatch)
    }
}

/// The `X-Hub-Signature-256` value GitHub would send for `body`: `sha256=<hex>`.
pub fn sign(secret: &[u8], body: &[u8]) -> String {
    let code = mac(secret, body).finalize().into_bytes();
    format!("{SIGNATURE_PREFIX}{}", hex::encode(code))
}

// ---------------------------------------------------------------------------------------------
// Events
// ---------------------------------------------------------------------------------------------

/// A delivery the server acts on.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Event {
    PullRequest(PullRequestEvent),
    Comment(CommentEvent),
    Review(ReviewEvent),
}

impl Event {
    /// The base repository.
    pub fn repo(&self) -> &RepoName {
        match self {
            Event::PullRequest(e) => &e.repo,
            Event::Comment(e) => &e.repo,
            Event::Review(e) => &e.repo,
        }
    }

    pub fn number(&self) -> PrNumber {
        match self {
            Event::PullRequest(e) => e.number,
            Event::Comment(e) => e.number,
            Event::Review(e) => e.number,
        }
    }

    /// The App installation that sent the delivery, when GitHub said.
    pub fn installation(&self) -> Option<u64> {
        match self {
            Event::PullRequest(e) => e.installation,
            Event::Comment(e) => e.installation,
            Event::Review(e) => e.installation,
        }
    }

    /// The `X-GitHub-Event` name this event came from.
    pub fn kind(&self) -> &'static str {
        match self {
            Event::PullRequest(_) => "pull_request",
            Event::Comment(_) => "issue_comment",
            Event::Review(_) => "pull_request_review",
        }
    }
}

/// What happened to a pull request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum PrAction {
    Opened,
    Reopened,
    /// New commits were pushed to the head branch.
    Synchronize,
    Closed {
        merged: bool,
    },
}

/// A pull request was opened, reopened, pushed to or closed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PullRequestEvent {
    pub action: PrAction,
    /// The base repository (`repository.full_name`).
    pub repo: RepoName,
    pub number: PrNumber,
    pub head: CommitSha,
    pub base: CommitSha,
    /// The previous head, for [`PrAction::Synchronize`] only.
    pub before: Option<CommitSha>,
    pub head_ref: String,
    pub base_ref: String,
    /// Where the head commit lives: the head repository, which may be a fork.
    pub clone_url: String,
    /// The base repository's clone URL.
    pub base_clone_url: String,
    /// The base repository's default branch (`repository.default_branch`): where trusted
    /// settings are read.
    #[serde(default)]
    pub default_branch: String,
    pub author: Login,
    /// The head branch is in another repository (or in one that was deleted).
    pub from_fork: bool,
    pub draft: bool,
    pub installation: Option<u64>,
    pub html_url: String,
    pub title: String,
}

/// A new comment on a pull request.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CommentEvent {
    pub repo: RepoName,
    pub number: PrNumber,
    pub comment_id: u64,
    pub body: String,
    pub author: Login,
    /// The author is a bot account (including this App): its comments are never commands.
    pub author_is_bot: bool,
    pub installation: Option<u64>,
    pub html_url: String,
}

/// What happened to a review.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ReviewAction {
    Submitted,
    Dismissed,
}

/// A pull request review was submitted or dismissed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReviewEvent {
    pub repo: RepoName,
    pub number: PrNumber,
    pub action: ReviewAction,
    pub reviewer: Login,
    /// `review.state` in lower case: `approved`, `changes_requested`, `commented` or
    /// `dismissed`.
    pub state: String,
    /// The commit the review was made on.
    pub commit: Option<CommitSha>,
    pub installation: Option<u64>,
}

/// The outcome of reading a delivery.
// One per delivery, consumed at once: boxing the event would only add an allocation.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq)]
pub enum Parsed {
    Event(Event),
    /// A delivery the server does not act on, and why.
    Ignored(String),
}

/// A delivery of a used kind that could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WebhookError {
    #[error(
        "the delivery is not the JSON GitHub sends, at `{path}`: {message}. Check that the \
         webhook's content type is application/json and that the body is not cut short"
    )]
    Json { path: String, message: String },
    #[error("the delivery has an invalid value: {0}")]
    Invalid(String),
}

// ---------------------------------------------------------------------------------------------
// Parsing
// ---------------------------------------------------------------------------------------------

/// Reads a delivery. `event` is the `X-GitHub-Event` header value.
pub fn parse(event: &str, body: &[u8]) -> Result<Parsed, WebhookError> {
    match event {
        "pull_request" => parse_pull_request(body),
        "issue_comment" => parse_comment(body),
        "pull_request_review" => parse_review(body),
        other => Ok(Parsed::Ignored(format!("{other} events are not used"))),
    }
}

fn parse_pull_request(body: &[u8]) -> Result<Parsed, WebhookError> {
    let envelope: Envelope = from_json(body)?;
    let action = match envelope.action.as_str() {
        "opened" | "reopened" | "synchronize" | "closed" => envelope.action,
        other => {
            return Ok(Parsed::Ignored(format!(
                "pull_request action {other} is not used"
            )))
        }
    };
    let p: PullRequestPayload = from_json(body)?;
    let pr = p.pull_request;
    let repo = repo_name("repository.full_name", &p.repository.full_name)?;
    let action = match action.as_str() {
        "opened" => PrAction::Opened,
        "reopened" => PrAction::Reopened,
        "synchronize" => PrAction::Synchronize,
        _ => PrAction::Closed {
            merged: pr.merged.unwrap_or(false),
        },
    };
    let before = match (action, p.before) {
        (PrAction::Synchronize, Some(sha)) => Some(commit("before", &sha)?),
        _ => None,
    };
    let base_full_name = pr
        .base
        .repo
        .as_ref()
        .map_or(p.repository.full_name.as_str(), |r| r.full_name.as_str());
    let from_fork = match &pr.head.repo {
        Some(head) => !head.full_name.eq_ignore_ascii_case(base_full_name),
        None => true,
    };
    Ok(Parsed::Event(Event::PullRequest(PullRequestEvent {
        action,
        repo,
        number: PrNumber(pr.number),
        head: commit("pull_request.head.sha", &pr.head.sha)?,
        base: commit("pull_request.base.sha", &pr.base.sha)?,
        before,
        head_ref: pr.head.ref_name,
        base_ref: pr.base.ref_name,
        clone_url: pr
            .head
            .repo
            .map_or_else(|| p.repository.clone_url.clone(), |r| r.clone_url),
        base_clone_url: p.repository.clone_url,
        default_branch: p.repository.default_branch,
        author: Login(pr.user.login),
        from_fork,
        draft: pr.draft.unwrap_or(false),
        installation: p.installation.map(|i| i.id),
        html_url: pr.html_url,
        title: pr.title,
    })))
}

fn parse_comment(body: &[u8]) -> Result<Parsed, WebhookError> {
    let envelope: CommentEnvelope = from_json(body)?;
    if envelope.action != "created" {
        return Ok(Parsed::Ignored(format!(
            "{} comments are ignored",
            envelope.action
        )));
    }
    if envelope.issue.pull_request.is_none() {
        return Ok(Parsed::Ignored(
            "comment on an issue, not a pull request".to_owned(),
        ));
    }
    let p: CommentPayload = from_json(body)?;
    Ok(Parsed::Event(Event::Comment(CommentEvent {
        repo: repo_name("repository.full_name", &p.repository.full_name)?,
        number: PrNumber(p.issue.number),
        comment_id: p.comment.id,
        body: p.comment.body.unwrap_or_default(),
        author_is_bot: p.comment.user.kind.as_deref() == Some("Bot"),
        author: Login(p.comment.user.login),
        installation: p.installation.map(|i| i.id),
        html_url: p.comment.html_url,
    })))
}

fn parse_review(body: &[u8]) -> Result<Parsed, WebhookError> {
    let envelope: Envelope = from_json(body)?;
    let action = match envelope.action.as_str() {
        "submitted" => ReviewAction::Submitted,
        "dismissed" => ReviewAction::Dismissed,
        other => {
            return Ok(Parsed::Ignored(format!(
                "pull_request_review action {other} is not used"
            )))
        }
    };
    let p: ReviewPayload = from_json(body)?;
    let commit = match p.review.commit_id {
        Some(sha) => Some(commit("review.commit_id", &sha)?),
        None => None,
    };
    Ok(Parsed::Event(Event::Review(ReviewEvent {
        repo: repo_name("repository.full_name", &p.repository.full_name)?,
        number: PrNumber(p.pull_request.number),
        action,
        reviewer: Login(p.review.user.login),
        state: p.review.state.to_ascii_lowercase(),
        commit,
        installation: p.installation.map(|i| i.id),
    })))
}

fn from_json<T: DeserializeOwned>(body: &[u8]) -> Result<T, WebhookError> {
    if body.starts_with(b"payload=") {
        return Err(WebhookError::Invalid(
            "the body is form-encoded (`payload=...`): set the webhook's content type to \
             application/json"
                .to_owned(),
        ));
    }
    let de = &mut serde_json::Deserializer::from_slice(body);
    serde_path_to_error::deserialize(de).map_err(|e| WebhookError::Json {
        path: e.path().to_string(),
        message: e.into_inner().to_string(),
    })
}

fn repo_name(field: &str, value: &str) -> Result<RepoName, WebhookError> {
    value
        .parse()
        .map_err(|e| WebhookError::Invalid(format!("{field}: {e}")))
}

fn commit(field: &str, value: &str) -> Result<CommitSha, WebhookError> {
    value
        .parse()
        .map_err(|e| WebhookError::Invalid(format!("{field}: {e}")))
}

// The payload shapes: only the fields used. Unknown fields are ignored.

#[derive(Deserialize)]
struct Envelope {
    action: String,
}

#[derive(Deserialize)]
struct CommentEnvelope {
    action: String,
    issue: IssueEnvelope,
}

#[derive(Deserialize)]
struct IssueEnvelope {
    /// Present (an object of links) when the issue is a pull request.
    #[serde(default)]
    pull_request: Option<IgnoredAny>,
}

#[derive(Deserialize)]
struct PullRequestPayload {
    #[serde(default)]
    before: Option<String>,
    pull_request: PullRequestBody,
    repository: RepositoryBody,
    #[serde(default)]
    installation: Option<InstallationBody>,
}

#[derive(Deserialize)]
struct PullRequestBody {
    number: u64,
    html_url: String,
    title: String,
    user: UserBody,
    #[serde(default)]
    draft: Option<bool>,
    #[serde(default)]
    merged: Option<bool>,
    head: BranchBody,
    base: BranchBody,
}

#[derive(Deserialize)]
struct BranchBody {
    #[serde(rename = "ref")]
    ref_name: String,
    sha: String,
    /// Null when the head repository was deleted.
    repo: Option<RepositoryBody>,
}

#[derive(Deserialize)]
struct RepositoryBody {
    full_name: String,
    clone_url: String,
    #[serde(default)]
    default_branch: String,
}

#[derive(Deserialize)]
struct UserBody {
    login: String,
    #[serde(rename = "type", default)]
    kind: Option<String>,
}

#[derive(Deserialize)]
struct InstallationBody {
    id: u64,
}

#[derive(Deserialize)]
struct CommentPayload {
    issue: IssueBody,
    comment: CommentBody,
    repository: RepositoryBody,
    #[serde(default)]
    installation: Option<InstallationBody>,
}

#[derive(Deserialize)]
struct IssueBody {
    number: u64,
}

#[derive(Deserialize)]
struct CommentBody {
    id: u64,
    #[serde(default)]
    body: Option<String>,
    user: UserBody,
    html_url: String,
}

#[derive(Deserialize)]
struct ReviewPayload {
    review: ReviewBody,
    pull_request: IssueBody,
    repository: RepositoryBody,
    #[serde(default)]
    installation: Option<InstallationBody>,
}

#[derive(Deserialize)]
struct ReviewBody {
    user: UserBody,
    state: String,
    #[serde(default)]
    commit_id: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{json, Value};

    macro_rules! corpus {
        ($file:literal) => {
            concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/testdata/corpus/webhooks/",
                $file
            )
        };
    }

    const HEAD: &str = "ec26c3e57ca3a959ca5aad62de7213c562f8c821";
    const BASE: &str = "f95f852bd8fca8fcc58a9a2d6c842781e32a215e";

    fn read(path: &str) -> Vec<u8> {
        std::fs::read(path).unwrap_or_else(|e| panic!("{path}: {e}"))
    }

    fn json_of(path: &str) -> Value {
        serde_json::from_slice(&read(path)).unwrap()
    }

    fn event(kind: &str, body: &[u8]) -> Event {
        match parse(kind, body).unwrap() {
            Parsed::Event(e) => e,
            Parsed::Ignored(why) => panic!("ignored: {why}"),
        }
    }

    fn ignored(kind: &str, body: &[u8]) -> String {
        match parse(kind, body).unwrap() {
            Parsed::Ignored(why) => why,
            Parsed::Event(e) => panic!("not ignored: {e:?}"),
        }
    }

    fn pr(path: &str) -> PullRequestEvent {
        pr_value(json_of(path))
    }

    fn pr_value(v: Value) -> PullRequestEvent {
        match event("pull_request", &serde_json::to_vec(&v).unwrap()) {
            Event::PullRequest(e) => e,
            e => panic!("{e:?}"),
        }
    }

    fn sha(s: &str) -> CommitSha {
        s.parse().unwrap()
    }

    /// An issue_comment payload from the corpus (all of which are on plain issues), moved onto
    /// a pull request.
    fn pr_comment(path: &str) -> Value {
        let mut v = json_of(path);
        v["issue"]["pull_request"] = json!({
            "url": "https://api.github.com/repos/Codertocat/Hello-World/pulls/1"
        });
        v
    }

    #[test]
    fn pull_request_opened() {
        let e = pr(corpus!("pull_request.opened.2.json"));
        assert_eq!(
            e,
            PullRequestEvent {
                action: PrAction::Opened,
                repo: "Codertocat/Hello-World".parse().unwrap(),
                number: PrNumber(2),
                head: sha(HEAD),
                base: sha(BASE),
                before: None,
                head_ref: "changes".into(),
                base_ref: "master".into(),
                default_branch: "master".into(),
                clone_url: "https://github.com/Codertocat/Hello-World.git".into(),
                base_clone_url: "https://github.com/Codertocat/Hello-World.git".into(),
                author: Login("Codertocat".into()),
                from_fork: false,
                draft: false,
                installation: Some(1),
                html_url: "https://github.com/Codertocat/Hello-World/pull/2".into(),
                title: "Update the README with new information.".into(),
            }
        );
        // opened.1 was sent to a repository webhook, not an App: no installation.
        assert_eq!(pr(corpus!("pull_request.opened.1.json")).installation, None);
    }

    #[test]
    fn pull_request_actions() {
        let e = pr(corpus!("pull_request.synchronize.1.json"));
        assert_eq!(e.action, PrAction::Synchronize);
        assert_eq!(e.before, Some(sha(BASE)));
        assert_eq!(e.head, sha(HEAD));
        let e = pr(corpus!("pull_request.reopened.1.json"));
        assert_eq!((e.action, e.before), (PrAction::Reopened, None));
        for file in [
            corpus!("pull_request.closed.1.json"),
            corpus!("pull_request.closed.2.json"),
        ] {
            assert_eq!(pr(file).action, PrAction::Closed { merged: false });
        }
        let mut v = json_of(corpus!("pull_request.closed.1.json"));
        v["pull_request"]["merged"] = json!(true);
        assert_eq!(pr_value(v).action, PrAction::Closed { merged: true });
        // `before` only means something on synchronize.
        let mut v = json_of(corpus!("pull_request.opened.2.json"));
        v["before"] = json!(BASE);
        assert_eq!(pr_value(v).before, None);
    }

    #[test]
    fn pull_request_drafts() {
        let mut v = json_of(corpus!("pull_request.opened.2.json"));
        v["pull_request"]["draft"] = json!(true);
        assert!(pr_value(v.clone()).draft);
        v["pull_request"].as_object_mut().unwrap().remove("draft");
        assert!(!pr_value(v).draft);
    }

    #[test]
    fn pull_request_from_a_fork() {
        let mut v = json_of(corpus!("pull_request.opened.2.json"));
        v["pull_request"]["head"]["repo"]["full_name"] = json!("mallory/Hello-World");
        v["pull_request"]["head"]["repo"]["clone_url"] =
            json!("https://github.com/mallory/Hello-World.git");
        let e = pr_value(v.clone());
        assert!(e.from_fork);
        assert_eq!(e.clone_url, "https://github.com/mallory/Hello-World.git");
        assert_eq!(
            e.base_clone_url,
            "https://github.com/Codertocat/Hello-World.git"
        );
        assert_eq!(e.repo.to_string(), "Codertocat/Hello-World");

        // The fork was deleted: head.repo is null. Still a fork; clone from the base.
        v["pull_request"]["head"]["repo"] = Value::Null;
        let e = pr_value(v);
        assert!(e.from_fork);
        assert_eq!(e.clone_url, "https://github.com/Codertocat/Hello-World.git");

        // GitHub names are case-insensitive.
        let mut v = json_of(corpus!("pull_request.opened.2.json"));
        v["pull_request"]["head"]["repo"]["full_name"] = json!("codertocat/hello-world");
        assert!(!pr_value(v).from_fork);
    }

    #[test]
    fn pull_request_actions_not_used() {
        let body = read(corpus!("pull_request.labeled.1.json"));
        assert_eq!(
            ignored("pull_request", &body),
            "pull_request action labeled is not used"
        );
        // An ignored action is not read further, so fields we never use cannot fail it.
        assert_eq!(
            ignored("pull_request", br#"{"action":"assigned"}"#),
            "pull_request action assigned is not used"
        );
    }

    #[test]
    fn comments_on_pull_requests() {
        // All five corpus comments are on issue #1, a plain issue; none is on a pull request.
        for n in 1..=5 {
            let path = format!(
                "{}/testdata/corpus/webhooks/issue_comment.created.{n}.json",
                env!("CARGO_MANIFEST_DIR")
            );
            assert_eq!(
                ignored("issue_comment", &read(&path)),
                "comment on an issue, not a pull request"
            );
        }
        let v = pr_comment(corpus!("issue_comment.created.4.json"));
        let e = event("issue_comment", &serde_json::to_vec(&v).unwrap());
        assert_eq!(e.kind(), "issue_comment");
        assert_eq!(
            e,
            Event::Comment(CommentEvent {
                repo: "Codertocat/Hello-World".parse().unwrap(),
                number: PrNumber(1),
                comment_id: 492700400,
                body: "You are totally right! I'll get this fixed right away.".into(),
                author: Login("Codertocat".into()),
                author_is_bot: false,
                installation: Some(1),
                html_url:
                    "https://github.com/Codertocat/Hello-World/issues/1#issuecomment-492700400"
                        .into(),
            })
        );
    }

    #[test]
    fn comments_by_bots_are_marked() {
        let mut v = pr_comment(corpus!("issue_comment.created.1.json"));
        v["comment"]["user"]["type"] = json!("Bot");
        v["comment"]["user"]["login"] = json!("planguard[bot]");
        let Event::Comment(e) = event("issue_comment", &serde_json::to_vec(&v).unwrap()) else {
            panic!()
        };
        assert!(e.author_is_bot);
        assert_eq!(e.author, Login("planguard[bot]".into()));
        assert_eq!(e.installation, None);
    }

    #[test]
    fn edited_and_deleted_comments_are_ignored() {
        let cases = [
            (
                corpus!("issue_comment.edited.1.json"),
                "edited comments are ignored",
            ),
            (
                corpus!("issue_comment.edited.2.json"),
                "edited comments are ignored",
            ),
            (
                corpus!("issue_comment.deleted.1.json"),
                "deleted comments are ignored",
            ),
        ];
        for (file, why) in cases {
            assert_eq!(ignored("issue_comment", &read(file)), why, "{file}");
            // Even on a pull request.
            let mut v = json_of(file);
            v["issue"]["pull_request"] = json!({});
            assert_eq!(
                ignored("issue_comment", &serde_json::to_vec(&v).unwrap()),
                why
            );
        }
    }

    #[test]
    fn reviews() {
        let body = read(corpus!("pull_request_review.submitted.2.json"));
        let e = event("pull_request_review", &body);
        assert_eq!(
            (e.kind(), e.number(), e.installation()),
            ("pull_request_review", PrNumber(2), Some(1))
        );
        assert_eq!(
            e,
            Event::Review(ReviewEvent {
                repo: "Codertocat/Hello-World".parse().unwrap(),
                number: PrNumber(2),
                action: ReviewAction::Submitted,
                reviewer: Login("Codertocat".into()),
                state: "commented".into(),
                commit: Some(sha(HEAD)),
                installation: Some(1),
            })
        );
        let Event::Review(e) = event(
            "pull_request_review",
            &read(corpus!("pull_request_review.dismissed.1.json")),
        ) else {
            panic!()
        };
        assert_eq!(
            (e.action, e.state.as_str()),
            (ReviewAction::Dismissed, "dismissed")
        );

        let mut v = json_of(corpus!("pull_request_review.submitted.1.json"));
        v["review"]["state"] = json!("APPROVED");
        let Event::Review(e) = event("pull_request_review", &serde_json::to_vec(&v).unwrap())
        else {
            panic!()
        };
        assert_eq!((e.state.as_str(), e.installation), ("approved", None));

        v["action"] = json!("edited");
        assert_eq!(
            ignored("pull_request_review", &serde_json::to_vec(&v).unwrap()),
            "pull_request_review action edited is not used"
        );
    }

    #[test]
    fn other_events_are_ignored_unread() {
        assert_eq!(ignored("check_run", b"{}"), "check_run events are not used");
        assert_eq!(ignored("ping", b"not json"), "ping events are not used");
        assert_eq!(
            ignored("push", &read(corpus!("push._none_.1.json"))),
            "push events are not used"
        );
    }

    /// Every GitHub example delivery is either an event or ignored; none is an error.
    #[test]
    fn every_corpus_delivery_parses() {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/testdata/corpus/webhooks");
        let mut seen = 0;
        let mut events = 0;
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                continue; // rest-examples/ holds REST responses, not deliveries
            }
            let name = path.file_name().unwrap().to_str().unwrap().to_owned();
            let kind = name.split('.').next().unwrap();
            match parse(kind, &read(path.to_str().unwrap())) {
                Ok(Parsed::Event(e)) => {
                    assert_eq!(e.kind(), kind, "{name}");
                    assert_eq!(e.repo().to_string(), "Codertocat/Hello-World", "{name}");
                    events += 1;
                }
                Ok(Parsed::Ignored(why)) => assert!(!why.is_empty(), "{name}"),
                Err(e) => panic!("{name}: {e}"),
            }
            seen += 1;
        }
        assert!(seen >= 70, "only {seen} deliveries in {dir}");
        // 4 opened, 1 synchronize, 2 closed, 2 reopened, 3 submitted, 1 dismissed.
        assert_eq!(events, 13);
    }

    #[test]
    fn json_errors_name_the_field() {
        let body = read(corpus!("pull_request.opened.2.json"));
        let cut = &body[..body.len() / 2];
        let err = parse("pull_request", cut).unwrap_err();
        let WebhookError::Json { path, message } = &err else {
            panic!("{err:?}")
        };
        assert_eq!(path, "pull_request", "{message}");
        assert!(message.starts_with("EOF while parsing"), "{message}");
        assert!(err.to_string().contains("application/json"), "{err}");

        let mut v = json_of(corpus!("pull_request.opened.2.json"));
        v["pull_request"]["head"]["sha"] = json!(42);
        let err = parse("pull_request", &serde_json::to_vec(&v).unwrap()).unwrap_err();
        let WebhookError::Json { path, message } = err else {
            panic!()
        };
        assert_eq!(path, "pull_request.head.sha");
        assert!(
            message.starts_with("invalid type: integer `42`"),
            "{message}"
        );

        v["pull_request"]["head"]
            .as_object_mut()
            .unwrap()
            .remove("sha");
        let err = parse("pull_request", &serde_json::to_vec(&v).unwrap()).unwrap_err();
        assert!(
            matches!(&err, WebhookError::Json { path, message }
            if path == "pull_request.head" && message.starts_with("missing field `sha`")),
            "{err:?}"
        );

        let err = parse("issue_comment", b"{\"action\":\"created\"}").unwrap_err();
        assert!(matches!(&err, WebhookError::Json { message, .. } if message.contains("issue")));
        assert!(matches!(
            parse("pull_request", b""),
            Err(WebhookError::Json { .. })
        ));
        assert!(matches!(
            parse("pull_request", b"payload=%7B%7D"),
            Err(WebhookError::Invalid(m)) if m.contains("application/json")
        ));
    }

    #[rustfmt::skip]
    #[test]
    fn invalid_values_name_the_field() {
        let cases: [(&[&str], Value, &str); 4] = [
            (&["pull_request", "head", "sha"], json!("main"), "pull_request.head.sha: commit \"main\""),
            (&["pull_request", "base", "sha"], json!("abc"), "pull_request.base.sha: commit"),
            (&["repository", "full_name"], json!("Hello-World"), "repository.full_name: repository \"Hello-World\""),
            (&["before"], json!("0000"), "before: commit \"0000\""),
        ];
        for (field, value, expected) in cases {
            let mut v = json_of(corpus!("pull_request.synchronize.1.json"));
            let mut at = &mut v;
            for key in field {
                at = &mut at[*key];
            }
            *at = value;
            let err = parse("pull_request", &serde_json::to_vec(&v).unwrap()).unwrap_err();
            let WebhookError::Invalid(message) = &err else { panic!("{err:?}") };
            assert!(message.starts_with(expected), "{message}");
        }
    }

    #[test]
    fn signatures() {
        let secret = b"It's a Secret to Everybody";
        let body = b"Hello, World!";
        let good = sign(secret, body);
        // GitHub's documented example for this secret and body.
        assert_eq!(
            good,
            "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17"
        );
        assert_eq!(verify_signature(secret, body, Some(&good)), Ok(()));
        let upper_hex = format!("sha256={}", good["sha256=".len()..].to_uppercase());
        assert_eq!(verify_signature(secret, body, Some(&upper_hex)), Ok(()));
        assert_eq!(
            verify_signature(secret, body, None),
            Err(SignatureError::Missing)
        );
        let malformed = [
            "",
            "757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17",
            "sha1=757107ea0eb2509fc211221cce984b8a37570b6d",
            "sha256=",
            "sha256=zz",
            "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e",
            "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e1700",
        ];
        for header in malformed {
            assert_eq!(
                verify_signature(secret, body, Some(header)),
                Err(SignatureError::Malformed),
                "{header:?}"
            );
        }
        assert_eq!(
            verify_signature(b"another secret", body, Some(&good)),
            Err(SignatureError::Mismatch)
        );
        let mut tampered = body.to_vec();
        tampered[0] ^= 1;
        assert_eq!(
            verify_signature(secret, &tampered, Some(&good)),
            Err(SignatureError::Mismatch)
        );
        assert!(SignatureError::Mismatch
            .to_string()
            .contains("webhook secret"));
    }

    #[test]
    fn a_signature_checked_piece_by_piece_is_the_same_check() {
        let secret = b"It's a Secret to Everybody";
        let good = sign(secret, b"Hello, World!");
        let mut check = SignatureCheck::new(secret, Some(&good)).unwrap();
        for piece in [&b"Hel"[..], b"", b"lo, Wor", b"ld!"] {
            check.update(piece);
        }
        assert_eq!(check.finish(), Ok(()));
        let mut check = SignatureCheck::new(secret, Some(&good)).unwrap();
        check.update(b"Hello, World");
        assert_eq!(check.finish(), Err(SignatureError::Mismatch));
        assert!(matches!(
            SignatureCheck::new(secret, None),
            Err(SignatureError::Missing)
        ));
        assert!(matches!(
            SignatureCheck::new(secret, Some("sha256=abc")),
            Err(SignatureError::Malformed)
        ));
    }
}
