//! Group commit of webhook deliveries.
//!
//! Every accepted delivery must be a row before GitHub gets its answer, and a database
//! commits one transaction at a time (SQLite) or pays a round trip per commit (PostgreSQL).
//! Handlers hand their delivery to one writer task; it takes whatever is waiting (up to
//! [`MAX_BATCH`]), stores it in one transaction, and answers each handler. Alone, a delivery
//! is committed immediately; in a burst, one commit serves many, so the acknowledgement time
//! stays flat under load.

use std::sync::Arc;

use tokio::sync::{mpsc, oneshot};

use crate::serve::store::{Accepted, NewJob, Store};

/// Most deliveries per transaction.
pub const MAX_BATCH: usize = 256;

struct Pending {
    delivery: String,
    event: String,
    job: Option<NewJob>,
    reply: oneshot::Sender<Result<Accepted, String>>,
}

/// The handle handlers send deliveries to.
pub struct Intake {
    tx: mpsc::UnboundedSender<Pending>,
}

impl Intake {
    /// Starts the writer task (on the current Tokio runtime); it stops when the handle is
    /// dropped.
    pub fn start(store: Arc<dyn Store>) -> Intake {
        let (tx, mut rx) = mpsc::unbounded_channel::<Pending>();
        tokio::spawn(async move {
            while let Some(first) = rx.recv().await {
                let mut batch = vec![first];
                while batch.len() < MAX_BATCH {
                    match rx.try_recv() {
                        Ok(p) => batch.push(p),
                        Err(_) => break,
                    }
                }
                let (items, replies): (Vec<_>, Vec<_>) = batch
                    .into_iter()
                    .map(|p| ((p.delivery, p.event, p.job), p.reply))
                    .unzip();
                match store.accept_deliveries(items).await {
                    Ok(results) => {
                        for (reply, r) in replies.into_iter().zip(results) {
                            let _ = reply.send(Ok(r));
                        }
                    }
                    Err(e) => {
                        for reply in replies {
                            let _ = reply.send(Err(e.to_string()));
                        }
                    }
                }
            }
        });
        Intake { tx }
    }

    /// Stores a delivery and its job; returns once they are committed.
    pub async fn accept(
        &self,
        delivery: &str,
        event: &str,
        job: Option<NewJob>,
    ) -> Result<Accepted, String> {
        let (reply, answer) = oneshot::channel();
        self.tx
            .send(Pending {
                delivery: delivery.to_owned(),
                event: event.to_owned(),
                job,
                reply,
            })
            .map_err(|_| "the intake writer stopped".to_owned())?;
        answer
            .await
            .map_err(|_| "the intake writer stopped".to_owned())?
    }
}
