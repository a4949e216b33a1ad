//! Apply jobs: the gate, then `apply` of the saved plans in dependency order.

use tokio_util::sync::CancellationToken;

use super::{JobError, Outcome, Services};
use crate::store::Job;

impl Services {
    pub(super) async fn handle_apply(
        &self,
        _job: &Job,
        _cancel: &CancellationToken,
    ) -> Result<Outcome, JobError> {
        Ok(Outcome::Done)
    }
}
