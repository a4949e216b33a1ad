//! junit output.

use crate::check::Report;

pub fn junit(report: &Report) -> String {
    super::summary_line(report)
}
