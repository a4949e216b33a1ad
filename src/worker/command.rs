//! Comment commands (`planguard plan`, `apply`, `unlock`, `approve_policies`, `cancel`,
//! `help`): who may run them and what they do.

use super::{JobError, Outcome, Services};
use crate::webhook::CommentEvent;

impl Services {
    pub(super) async fn handle_comment(&self, _c: &CommentEvent) -> Result<Outcome, JobError> {
        Ok(Outcome::Done)
    }
}
