//! Text output: findings grouped by resource, with Terraform's action symbols.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use super::summary_line;
use crate::check::Report;
use crate::policy::{Finding, Level};

struct Style {
    on: bool,
}

impl Style {
    fn paint(&self, code: &str, s: &str) -> String {
        if self.on {
            format!("\x1b[{code}m{s}\x1b[0m")
        } else {
            s.to_owned()
        }
    }
    fn level(&self, l: Level) -> String {
        match l {
            Level::Error => self.paint("1;31", "error"),
            Level::Warning => self.paint("1;33", "warning"),
        }
    }
}

pub fn text(report: &Report, color: bool) -> String {
    let st = Style { on: color };
    let mut out = String::new();
    for plan in &report.plans {
        let _ = writeln!(out, "{}", st.paint("1", &plan.name));
        if let Some(err) = &plan.error {
            let _ = writeln!(out, "  {}: {err}\n", st.paint("1;31", "unusable input"));
            continue;
        }
        let c = &plan.counts;
        let _ = writeln!(
            out,
            "  plan: +{} ~{} -{} -/+{} ({} resource changes)",
            c.create,
            c.update,
            c.delete,
            c.replace,
            plan.changes.len()
        );
        let symbols: BTreeMap<&str, &str> = plan
            .changes
            .iter()
            .map(|c| (c.address.as_str(), c.symbol))
            .collect();
        let mut by_resource: BTreeMap<&str, Vec<&Finding>> = BTreeMap::new();
        for f in &plan.evaluation.findings {
            by_resource
                .entry(f.address.as_deref().unwrap_or(""))
                .or_default()
                .push(f);
        }
        for (address, findings) in &by_resource {
            let header = if address.is_empty() {
                "(plan)".to_owned()
            } else {
                format!("{} {address}", symbols.get(address).copied().unwrap_or(" "))
            };
            let _ = writeln!(out, "\n  {}", st.paint("1", &header));
            for f in findings {
                let _ = writeln!(
                    out,
                    "    {} [{}] {}",
                    st.level(f.level),
                    f.policy_id,
                    f.message
                );
                let _ = writeln!(
                    out,
                    "      {}",
                    st.paint("2", &format!("{}:{} ({})", f.file, f.line, f.rule))
                );
            }
        }
        for e in &plan.evaluation.exempted {
            let _ = writeln!(
                out,
                "\n  exception: {} {} exempted {} result(s)",
                e.policy_id, e.rule, e.results
            );
        }
        for f in &plan.evaluation.failures {
            let _ = writeln!(
                out,
                "\n  {}: {}:{}: {} [{}{}]",
                st.paint("1;31", "policy error"),
                f.file,
                f.line,
                f.message,
                f.policy_id,
                f.rule
                    .as_deref()
                    .map(|r| format!(" {r}"))
                    .unwrap_or_default()
            );
        }
        if by_resource.is_empty() && plan.evaluation.failures.is_empty() {
            let _ = writeln!(
                out,
                "  {} ({} policies)",
                st.paint("32", "no findings"),
                plan.evaluation.policies
            );
        }
        out.push('\n');
    }
    let _ = writeln!(out, "{}", summary_line(report));
    out
}
