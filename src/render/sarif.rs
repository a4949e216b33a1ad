//! sarif output.

use crate::check::Report;

pub fn sarif(report: &Report) -> String {
    super::summary_line(report)
}
