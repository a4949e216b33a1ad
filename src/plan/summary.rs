//! Derived views of a plan that reports need: change counts.

use super::{Actions, Mode, Plan};

/// Counts of planned changes by kind, as in `Plan: 1 to add, 2 to change, 3 to destroy`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ChangeCounts {
    pub create: usize,
    pub update: usize,
    pub delete: usize,
    pub replace: usize,
    pub read: usize,
    pub no_op: usize,
    pub forget: usize,
}

impl ChangeCounts {
    pub fn add(&mut self, actions: Actions) {
        match actions {
            Actions::Create => self.create += 1,
            Actions::Update => self.update += 1,
            Actions::Delete => self.delete += 1,
            Actions::DeleteThenCreate | Actions::CreateThenDelete => self.replace += 1,
            Actions::Read => self.read += 1,
            Actions::NoOp => self.no_op += 1,
            Actions::Forget | Actions::CreateThenForget | Actions::ForgetThenCreate => {
                self.forget += 1
            }
        }
    }
}

impl Plan<'_> {
    /// Counts managed-resource changes (data-source reads are counted as `read`).
    pub fn change_counts(&self) -> ChangeCounts {
        let mut counts = ChangeCounts::default();
        for rc in &self.resource_changes {
            if rc.mode == Mode::Managed || rc.change.actions == Actions::Read {
                counts.add(rc.change.actions);
            }
        }
        counts
    }
}
