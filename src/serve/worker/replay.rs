//! Comment commands act once, and only as they were written.
//!
//! A signed `issue_comment` delivery can be captured and sent again under a new delivery id,
//! which the delivery dedupe does not catch: sent after an approval arrived, an old `planguard
//! apply` would apply in its original commenter's name. So before a command acts:
//!
//! - its comment id is recorded in the store, atomically ([`crate::serve::store::Store::claim_comment`]).
//!   A second delivery of the same comment is ignored: logged and audited as a refused replay,
//!   with no reply, since a replay is not the commenter's doing and replies would let whoever
//!   replays spam the pull request. A retry of the same job is not a replay.
//! - the comment is read again from GitHub: it must still exist, be by the same user and say
//!   exactly what the delivery said. Otherwise the command is refused with a reply saying why.
//! - an `apply` comment must not be older than the newest plan of the pull request: it cannot
//!   apply a plan its author had not seen. The refusal asks for a new `planguard apply`.
//!
//! The apply job checks the comment again when it runs, since it can wait in the queue.

use serde::{Deserialize, Serialize};

use super::{JobError, Services};
use crate::serve::domain::{PrNumber, RepoName};
pub use crate::serve::replies::CommentRefusal;
use crate::serve::replies::Reply;
use crate::serve::store::JobId;
use crate::serve::webhook::CommentEvent;

/// The comment a command came from, as its delivery said it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SaidComment {
    pub id: u64,
    pub author: String,
    pub body: String,
}

impl From<&CommentEvent> for SaidComment {
    fn from(c: &CommentEvent) -> Self {
        SaidComment {
            id: c.comment_id,
            author: c.author.0.clone(),
            body: c.body.clone(),
        }
    }
}

impl CommentRefusal {
    /// The audit log's outcome.
    fn outcome(self, id: u64) -> String {
        match self {
            CommentRefusal::Deleted => format!("refused: comment {id} was deleted"),
            CommentRefusal::OtherAuthor => format!("refused: comment {id} is by someone else"),
            CommentRefusal::Edited => format!("refused: comment {id} was edited"),
            CommentRefusal::OlderThanPlan => {
                format!("refused: comment {id} is older than the newest plan")
            }
        }
    }
}

impl Services {
    /// Records that comment `c` drives job `job`. Returns false for a replay (the comment
    /// drove another job already), which is logged and audited here.
    pub(super) async fn first_delivery(
        &self,
        c: &CommentEvent,
        action: &str,
        job: JobId,
    ) -> Result<bool, JobError> {
        if self.store.claim_comment(&c.repo, c.comment_id, job).await? {
            return Ok(true);
        }
        tracing::warn!(
            comment = c.comment_id,
            actor = %c.author,
            action,
            "a comment that was acted on already was delivered again; ignored"
        );
        self.audit_comment(
            &c.repo,
            c.number,
            &c.author.0,
            action,
            &format!(
                "refused: replay of comment {} (it was acted on already)",
                c.comment_id
            ),
        )
        .await?;
        Ok(false)
    }

    /// Reads the comment again from GitHub. `None` when it still says what its delivery said
    /// (and, for an apply, is not older than the newest plan of the PR).
    pub(super) async fn comment_refusal(
        &self,
        repo: &RepoName,
        pr: PrNumber,
        said: &SaidComment,
        apply: bool,
    ) -> Result<Option<CommentRefusal>, JobError> {
        let refusal = match self.vcs.comment(repo, said.id).await? {
            None => Some(CommentRefusal::Deleted),
            Some(now) if !now.author.0.eq_ignore_ascii_case(&said.author) => {
                Some(CommentRefusal::OtherAuthor)
            }
            // An edit that left the text as delivered changes nothing.
            Some(now) if now.body != said.body => Some(CommentRefusal::Edited),
            Some(now) if apply => {
                let newest = self
                    .store
                    .plans(repo, pr)
                    .await?
                    .iter()
                    .map(|p| p.created_at)
                    .max();
                newest
                    .filter(|&t| now.created_at.timestamp() < t)
                    .map(|_| CommentRefusal::OlderThanPlan)
            }
            Some(_) => None,
        };
        Ok(refusal)
    }

    /// Refuses a command whose comment cannot drive it: audits it and says why on the PR.
    pub(super) async fn refuse_comment(
        &self,
        repo: &RepoName,
        pr: PrNumber,
        said: &SaidComment,
        action: &str,
        refusal: CommentRefusal,
    ) -> Result<(), JobError> {
        tracing::warn!(comment = said.id, actor = %said.author, action, ?refusal, "command refused");
        self.audit_comment(repo, pr, &said.author, action, &refusal.outcome(said.id))
            .await?;
        let reply = Reply::CommentRefused {
            action: action.to_owned(),
            refusal,
        };
        self.reply(repo, pr, &reply).await
    }

    async fn audit_comment(
        &self,
        repo: &RepoName,
        pr: PrNumber,
        actor: &str,
        action: &str,
        outcome: &str,
    ) -> Result<(), JobError> {
        self.audit_entry(repo, pr, actor, action, (None, None, None), outcome)
            .await
    }
}
