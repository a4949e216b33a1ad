//! github output.

use crate::check::Report;

pub fn github(report: &Report) -> String {
    super::summary_line(report)
}
