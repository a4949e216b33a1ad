//! Evaluating loaded policies against a plan.
//!
//! Two paths, one result:
//! - **Whole-plan** (every user policy, and library policies with `scope: plan`): `input` is the
//!   plan JSON, restricted to the top-level sections the package references. Packages are
//!   dealt out into one group per thread, each group evaluated in one regorus evaluation (so
//!   shared helper rules run once per group) by a worker with its own clone of the engine.
//! - **Type-indexed** (library policies with `scope: resource`): for every resource type a
//!   policy is about, the changes of that type are converted in chunks and each chunk is
//!   evaluated as a small plan that also holds the policy's context types and the matching
//!   configuration. Types no policy mentions are never converted. The packages of a slice
//!   that share their context types are evaluated together, in one evaluation.
//!
//! A failing rule (builtin error, time limit) becomes a [`PolicyFailure`] located at its file
//! and line; every other rule's results are still reported.

use std::collections::{BTreeMap, BTreeSet};

use rayon::prelude::*;
use regorus::{Engine, LimitError, Value};
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

use super::ast::InputUse;
use super::batch;
use super::input::{Blocks, PlanInput, RawSections};
use super::load::{regorus_error, Package, PolicySet, Rule};
use super::{Finding, Level, RuleKind, Scope};

/// Changes per evaluation of a per-resource policy. Smaller slices keep a slice's values in
/// the cache while its policies run and even out the threads' last slices; the fixed cost per
/// slice (an engine, constant rules evaluated again) outweighs that below about a hundred. At
/// 100,000 resources 250 took 6% of the CPU off 1,000 (2.31 -> 2.13 s, six alternating runs
/// each; 100 was no better than 250).
const SLICE: usize = 250;

/// The results of the packages that read the whole plan, evaluated ahead of the others (see
/// [`PolicySet::evaluate_ahead`]).
#[derive(Debug, Default)]
pub struct WholePlanResults(Evaluation);

/// A rule or policy that could not be evaluated.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct PolicyFailure {
    pub policy_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rule: Option<String>,
    pub file: String,
    pub line: u32,
    pub message: String,
}

/// A rule whose results an `exception` rule exempted (conftest's "exceptions" tally).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Exempted {
    pub policy_id: String,
    pub rule: String,
    pub results: usize,
}

/// Everything one evaluation produced.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Evaluation {
    pub findings: Vec<Finding>,
    pub exempted: Vec<Exempted>,
    pub failures: Vec<PolicyFailure>,
    /// Packages evaluated.
    pub policies: usize,
    /// Ids of the policies that were evaluated on this plan (those about types it has, and
    /// every whole-plan policy), sorted.
    pub evaluated: Vec<String>,
    /// Evaluation time per policy id, summed over slices (for `--profile`).
    #[serde(skip)]
    pub timings: BTreeMap<String, std::time::Duration>,
}

impl Evaluation {
    fn absorb(&mut self, other: Evaluation) {
        self.findings.extend(other.findings);
        self.exempted.extend(other.exempted);
        self.failures.extend(other.failures);
        self.evaluated.extend(other.evaluated);
        for (k, v) in other.timings {
            *self.timings.entry(k).or_default() += v;
        }
    }

    fn finish(mut self, policies: usize) -> Self {
        self.findings.par_sort_by(|a, b| {
            (
                a.address.as_deref().unwrap_or(""),
                &a.policy_id,
                &a.rule,
                &a.message,
            )
                .cmp(&(
                    b.address.as_deref().unwrap_or(""),
                    &b.policy_id,
                    &b.rule,
                    &b.message,
                ))
        });
        self.findings.dedup();
        self.failures.sort();
        self.failures.dedup();
        let mut merged: BTreeMap<(String, String), usize> = BTreeMap::new();
        for e in self.exempted.drain(..) {
            *merged.entry((e.policy_id, e.rule)).or_default() += e.results;
        }
        self.exempted = merged
            .into_iter()
            .map(|((policy_id, rule), results)| Exempted {
                policy_id,
                rule,
                results,
            })
            .collect();
        self.policies = policies;
        self.evaluated.sort();
        self.evaluated.dedup();
        self
    }
}

impl PolicySet {
    /// Evaluates every package against the plan.
    pub fn evaluate(&self, input: &PlanInput) -> Evaluation {
        let ahead = self.evaluate_whole_packages(|usage| input.whole(usage));
        self.evaluate_rest(input, ahead)
    }

    /// Evaluates every package on the whole plan, as conftest would. The result must equal
    /// [`PolicySet::evaluate`]'s; tests hold the indexed path to that.
    pub fn evaluate_conftest_style(&self, input: &PlanInput) -> Evaluation {
        let all: Vec<&Package> = self.packages.iter().collect();
        self.evaluate_whole(self.prepared_engine(), |usage| input.whole(usage), &all)
            .finish(self.packages.len())
    }

    /// Evaluates the packages that read the whole plan from the raw sections alone, so that a
    /// caller can do it while the typed model is still parsing. Hand the result to
    /// [`PolicySet::evaluate_rest`], which evaluates the others.
    pub fn evaluate_ahead(&self, sections: &RawSections) -> WholePlanResults {
        self.evaluate_whole_packages(|usage| sections.whole(usage))
    }

    /// Evaluates the per-resource packages, and completes the evaluation with the whole-plan
    /// packages' results from [`PolicySet::evaluate_ahead`].
    pub fn evaluate_rest(&self, input: &PlanInput, ahead: WholePlanResults) -> Evaluation {
        let indexed: Vec<&Package> = self.packages.iter().filter(|p| p.is_indexed()).collect();
        let mut out = ahead.0;
        out.absorb(self.evaluate_indexed(self.prepared_engine(), input, &indexed));
        out.finish(self.packages.len())
    }

    fn evaluate_whole_packages(&self, whole: impl FnOnce(&InputUse) -> Value) -> WholePlanResults {
        let packages: Vec<&Package> = self.packages.iter().filter(|p| !p.is_indexed()).collect();
        WholePlanResults(self.evaluate_whole(self.prepared_engine(), whole, &packages))
    }

    /// What the given packages (and the helper packages they use) read of `input`.
    fn whole_usage(&self, packages: &[&Package]) -> InputUse {
        // Helper packages read `input` on their callers' behalf, so their references count too.
        let mut usage = self.helper_input.clone();
        for p in packages {
            usage.merge(&p.input);
        }
        usage
    }

    /// A copy of the set's engine that has analysed its modules. regorus analyses the modules
    /// (statement schedule, loop hoisting) on an engine's first evaluation; every engine cloned
    /// from this one for a worker starts evaluating at once instead of repeating that analysis
    /// (a tenth of the library's evaluation time on a plan of 10,000 resources).
    fn prepared_engine(&self) -> &Engine {
        self.prepared.get_or_init(|| {
            let mut engine = self.engine.clone();
            // A module regorus cannot analyse fails this query and is not prepared; the real
            // evaluation then fails the same way, located at the package.
            let _ = engine.eval_query("true".to_owned(), false);
            engine
        })
    }

    fn evaluate_whole(
        &self,
        engine: &Engine,
        whole: impl FnOnce(&InputUse) -> Value,
        packages: &[&Package],
    ) -> Evaluation {
        if packages.is_empty() {
            return Evaluation::default();
        }
        let value = whole(&self.whole_usage(packages));
        let groups = whole_groups(packages, rayon::current_num_threads());
        let outcomes: Vec<(bool, Evaluation)> = groups
            .par_iter()
            .map_init(
                || engine.clone(),
                |engine, group| {
                    engine.set_input(value.clone());
                    let mut out = Evaluation::default();
                    let packages: Vec<&Package> = group.packages.iter().collect();
                    engine.set_rule_definition_share(group.share_of_rule());
                    eval_group(engine, &packages, &mut out);
                    engine.set_rule_definition_share(None);
                    (group.share.is_some(), out)
                },
            )
            .collect();
        let mut result = Evaluation::default();
        let mut shares = Evaluation::default();
        for (is_share, out) in outcomes {
            if is_share {
                shares.absorb(out);
            } else {
                result.absorb(out);
            }
        }
        if shares.failures.is_empty() {
            result.absorb(shares);
        } else {
            // A share that fails is the rule failing, which is reported as without shares: one
            // failure and none of the rule's results. It is not evaluated again whole, which
            // would take a rule past the time limit the limit again. When several shares fail,
            // the failure first in file and line order is kept: the whole rule reports the
            // same when one definition fails or the time limit is hit.
            let first = shares.failures.iter().min().cloned();
            shares.findings.clear();
            shares.exempted.clear();
            shares.failures = first.into_iter().collect();
            result.absorb(shares);
        }
        // Freeing a whole plan's values is millions of small deallocations.
        super::memory::free_in_background(value);
        result
    }

    /// Configuration-scoped packages: evaluated once each, on the blocks of their types.
    fn evaluate_configuration(
        &self,
        engine: &Engine,
        input: &PlanInput,
        packages: &[&Package],
    ) -> Evaluation {
        let mut engine = engine.clone();
        let mut out = Evaluation::default();
        for pkg in packages {
            let meta = pkg
                .meta
                .as_ref()
                .expect("configuration-scoped packages have metadata");
            let always = meta.resource_types.is_empty();
            if !always && !meta.resource_types.iter().any(|t| input.has_config_type(t)) {
                continue;
            }
            let types: BTreeSet<&str> = meta.resource_types.iter().map(String::as_str).collect();
            engine.set_input(input.slice(Vec::new(), input.configuration_for(&types)));
            eval_group(&mut engine, &[*pkg], &mut out);
        }
        out
    }

    fn evaluate_indexed(
        &self,
        engine: &Engine,
        input: &PlanInput,
        packages: &[&Package],
    ) -> Evaluation {
        if packages.is_empty() {
            return Evaluation::default();
        }
        let (config_scoped, packages): (Vec<&Package>, Vec<&Package>) =
            packages.iter().partition(|p| {
                p.meta
                    .as_ref()
                    .is_some_and(|m| m.scope == Scope::Configuration)
            });
        // The index is built here, before the two sides below both ask for it: the side that
        // asked second waited for it, blocked, without helping to build it (50 ms of an idle
        // core at 100k).
        input.build_index();
        // The configuration-scoped packages take one thread while the slices start on the
        // others (alone first, they kept the other cores idle: 80 ms at 100k).
        let (mut out, sliced) = rayon::join(
            || self.evaluate_configuration(engine, input, &config_scoped),
            || evaluate_slices(engine, input, &packages),
        );
        out.absorb(sliced);
        out
    }
}

/// Evaluates the resource-scoped `packages` on slices of the changes of their types.
fn evaluate_slices(engine: &Engine, input: &PlanInput, packages: &[&Package]) -> Evaluation {
    let prepared: Vec<Prepared> = packages
        .iter()
        .filter_map(|pkg| {
            let meta = pkg.meta.as_ref().expect("indexed packages have metadata");
            meta.resource_types
                .iter()
                .any(|t| !input.changes_of(t).is_empty())
                .then(|| Prepared {
                    pkg,
                    context_order: &meta.context_types,
                    context_types: meta.context_types.iter().map(String::as_str).collect(),
                })
        })
        .collect();
    let contexts = Contexts::convert(input, &prepared);
    slice_units(input, &prepared, &contexts)
        .par_iter()
        .with_max_len(1)
        .map_init(
            || engine.clone(),
            |engine, (chunk, about)| {
                let changes = input.convert_changes(chunk);
                let blocks = input.blocks_of_changes(chunk);
                let mut out = Evaluation::default();
                // Packages with the same context types see the same slice, so they are
                // evaluated together, sharing their helpers ([`eval_group`]). The slice's
                // configuration holds the blocks of this chunk's changes and of the context
                // types only (never the whole configuration), and is dropped with the chunk.
                for group in by_context_types(about) {
                    let first = group[0];
                    let mut rcs = changes.clone();
                    rcs.extend(contexts.changes_for(first));
                    let mut parts = vec![&blocks];
                    parts.extend(contexts.blocks_for(first));
                    let configuration = input.configuration_of(&parts);
                    engine.set_input(input.slice(rcs, configuration));
                    let packages: Vec<&Package> = group.iter().map(|p| p.pkg).collect();
                    eval_group(engine, &packages, &mut out);
                }
                out
            },
        )
        .reduce(Evaluation::default, |mut a, b| {
            a.absorb(b);
            a
        })
}

/// A unit of work: a chunk of one type's changes, with the packages about that type.
type Unit<'a, 'p> = (&'a [usize], Vec<&'a Prepared<'p>>);

/// The units the slices are evaluated in, largest first.
fn slice_units<'a, 'p>(
    input: &'a PlanInput,
    prepared: &'a [Prepared<'p>],
    contexts: &Contexts,
) -> Vec<Unit<'a, 'p>> {
    let about_type = |kind: &str| -> Vec<&Prepared> {
        prepared
            .iter()
            .filter(|p| {
                p.pkg
                    .meta
                    .as_ref()
                    .is_some_and(|m| m.resource_types.iter().any(|t| t == kind))
            })
            .collect()
    };
    let typed: Vec<(&[usize], Vec<&Prepared>)> = input
        .types()
        .map(|(kind, indices)| (indices, about_type(kind)))
        .filter(|(_, about)| !about.is_empty())
        .collect();
    let evaluated: usize = typed.iter().map(|(indices, _)| indices.len()).sum();
    let threads = rayon::current_num_threads();
    let mut units: Vec<Unit> = Vec::new();
    for (indices, about) in typed {
        // Every slice carries the context changes of its packages (e.g. all public access
        // blocks, for the bucket policies) and indexes them again, so a type with context is
        // cut into as few slices as keep the cores busy: one, when the type is a small part
        // of the plan (other types' slices run beside it), else one per thread. (At 100,000
        // resources the buckets, 6% of them, in one slice instead of two: 0.37 s less CPU.)
        let with_context = about.iter().any(|p| {
            p.context_types
                .iter()
                .any(|t| contexts.changes.contains_key(t))
        });
        let slice = if !with_context {
            SLICE
        } else if indices.len() * threads * 2 <= evaluated {
            indices.len()
        } else {
            SLICE.max(indices.len().div_ceil(threads))
        };
        for chunk in indices.chunks(slice.max(1)) {
            units.push((chunk, about.clone()));
        }
    }
    // Largest first, each unit on its own (`with_max_len(1)` where they are evaluated), so
    // that a thread that runs out of work takes a whole unit from another: the two slices of
    // the bucket types (each a quarter of a second at 100k, with every public access block as
    // context) ran one after the other on one thread while the other thread idled. An engine
    // clone per unit is cheap (about a microsecond).
    let cost = |(chunk, about): &Unit| {
        let context: usize = about
            .iter()
            .flat_map(|p| p.context_types.iter())
            .collect::<BTreeSet<_>>()
            .into_iter()
            .map(|t| input.changes_of(t).len())
            .sum();
        (chunk.len() + context) * about.len()
    };
    units.sort_by_cached_key(|unit| std::cmp::Reverse(cost(unit)));
    units
}

/// The context types' changes and configuration blocks, converted once however many slices
/// and packages carry them (the three public access policies all carry every public access
/// block).
struct Contexts<'p> {
    changes: BTreeMap<&'p str, Vec<Value>>,
    blocks: BTreeMap<&'p str, Blocks>,
}

impl<'p> Contexts<'p> {
    fn convert(input: &PlanInput, prepared: &[Prepared<'p>]) -> Self {
        let types: BTreeSet<&str> = prepared
            .iter()
            .flat_map(|p| p.context_types.iter().copied())
            .collect();
        let (changes, blocks) = rayon::join(
            || {
                types
                    .par_iter()
                    .filter(|t| !input.changes_of(t).is_empty())
                    .map(|&t| (t, input.convert_changes(input.changes_of(t))))
                    .collect()
            },
            || {
                types
                    .par_iter()
                    .map(|&t| (t, input.blocks_of_types([t])))
                    .collect()
            },
        );
        Contexts { changes, blocks }
    }

    /// The context changes a package's slices carry, in its declared order.
    fn changes_for(&self, p: &Prepared) -> Vec<Value> {
        p.context_order
            .iter()
            .filter_map(|t| self.changes.get(t.as_str()))
            .flatten()
            .cloned()
            .collect()
    }

    /// The context blocks a package's slices carry.
    fn blocks_for<'s>(&'s self, p: &'s Prepared) -> impl Iterator<Item = &'s Blocks> {
        p.context_types.iter().filter_map(|t| self.blocks.get(t))
    }
}

/// A per-resource package ready for slicing, with its context types: every slice carries
/// their changes (in the declared order) and their configuration blocks.
struct Prepared<'p> {
    pkg: &'p Package,
    context_order: &'p [String],
    context_types: BTreeSet<&'p str>,
}

/// Groups packages by their context types, keeping the order in which each set first appears.
fn by_context_types<'a, 'p>(items: &[&'a Prepared<'p>]) -> Vec<Vec<&'a Prepared<'p>>> {
    let mut groups: Vec<Vec<&'a Prepared<'p>>> = Vec::new();
    for &item in items {
        match groups
            .iter_mut()
            .find(|g| g[0].context_types == item.context_types)
        {
            Some(g) => g.push(item),
            None => groups.push(vec![item]),
        }
    }
    groups
}

/// A group of whole-plan packages, evaluated in one regorus evaluation on one thread.
struct WholeGroup {
    packages: Vec<Package>,
    /// For a group of one partial set rule: the share of its definitions it evaluates
    /// (`part` of `parts`).
    share: Option<(usize, usize)>,
}

impl WholeGroup {
    /// The rule and share for `Engine::set_rule_definition_share`.
    fn share_of_rule(&self) -> Option<(String, usize, usize)> {
        let (part, parts) = self.share?;
        let pkg = self.packages.first()?;
        let rule = pkg.rules.first()?;
        Some((format!("data.{}.{}", pkg.name, rule.name), part, parts))
    }
}

/// Splits the whole-plan packages into one group per thread, each evaluated in one regorus
/// evaluation ([`eval_group`]): helper rules are then evaluated once per thread, not once per
/// rule or package, and every core works. With fewer packages than threads (a typical conftest
/// policy set is one `main` package), the rules of a package are dealt out among the groups.
/// With fewer rules than threads (a `main` package whose only rule is `deny`, defined five
/// times), the partial set rule with the most definitions is cut into shares of its
/// definitions, one per spare thread, whose values together are the rule's (each share
/// evaluates the helpers it uses again).
fn whole_groups(packages: &[&Package], threads: usize) -> Vec<WholeGroup> {
    let mut units: Vec<Package> = if packages.len() < threads {
        packages
            .iter()
            .flat_map(|p| {
                p.rules.iter().map(move |r| Package {
                    rules: vec![r.clone()],
                    ..(*p).clone()
                })
            })
            .collect()
    } else {
        packages.iter().map(|p| (*p).clone()).collect()
    };
    let single = |packages| WholeGroup {
        packages,
        share: None,
    };
    let shared = units
        .iter()
        .enumerate()
        .filter(|(_, u)| !u.has_exception && u.rules.len() == 1 && u.rules[0].partial_set)
        .max_by_key(|(_, u)| u.rules[0].definitions)
        .map(|(i, u)| (i, u.rules[0].definitions as usize));
    match shared {
        Some((i, definitions)) if units.len() < threads && definitions > 1 => {
            let parts = (threads - units.len() + 1).min(definitions);
            let unit = units.remove(i);
            let mut groups: Vec<WholeGroup> = units.into_iter().map(|u| single(vec![u])).collect();
            groups.extend((0..parts).map(|part| WholeGroup {
                packages: vec![unit.clone()],
                share: Some((part, parts)),
            }));
            groups
        }
        _ => {
            let mut groups: Vec<Vec<Package>> = Vec::new();
            groups.resize_with(threads.min(units.len()).max(1), Vec::new);
            let n = groups.len();
            for (i, unit) in units.into_iter().enumerate() {
                groups[i % n].push(unit);
            }
            groups.into_iter().map(single).collect()
        }
    }
}

/// Evaluates the rules of `packages` on the engine's current input, in one regorus evaluation
/// so that the helper rules they share are evaluated once ([`batch`]). When that evaluation
/// fails, each package is evaluated on its own, and a package that fails on its own rule by
/// rule, so that the failure is located and every other rule still reports. The time of a
/// group is shared evenly among its packages in [`Evaluation::timings`].
///
/// A panic inside the engine (a regorus bug) is contained the same way: the group's packages
/// are evaluated one by one, and the package that panics alone becomes a failure located at its
/// first rule while the others still report.
pub(super) fn eval_group(engine: &mut Engine, packages: &[&Package], out: &mut Evaluation) {
    let mut own = Evaluation::default();
    let run = super::memory::with_budget(|| {
        catch_engine_panic(|| eval_group_unguarded(engine, packages, &mut own))
    });
    match (run, packages) {
        (Ok(()), _) => out.absorb(own),
        (Err(panic), [pkg]) => {
            let id = pkg.policy_id().to_owned();
            out.evaluated.push(id.clone());
            out.failures.push(engine_panic(pkg, &id, panic.as_ref()));
        }
        (Err(_), _) => {
            for pkg in packages {
                eval_group(engine, std::slice::from_ref(pkg), out);
            }
        }
    }
}

/// The failure of a package whose evaluation panicked inside regorus.
fn engine_panic(pkg: &Package, id: &str, panic: &(dyn std::any::Any + Send)) -> PolicyFailure {
    let (file, line) = pkg
        .rules
        .first()
        .map_or((String::new(), 0), |r| (r.file.clone(), r.line));
    PolicyFailure {
        policy_id: id.to_owned(),
        rule: None,
        file,
        line,
        message: panic_message(panic),
    }
}

/// What an evaluation that unwound means: a limit, when regorus unwound with the
/// [`LimitError`] of a comparison past the time limit (a comparison cannot return an error),
/// else a bug in regorus.
pub(super) fn panic_message(panic: &(dyn std::any::Any + Send)) -> String {
    if let Some(limit) = panic.downcast_ref::<LimitError>() {
        let text = limit.to_string();
        return limit_message(&text, text.clone());
    }
    let what = panic
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_default();
    format!(
        "the policy engine failed while evaluating this policy ({what}); its results are \
         missing. This is a bug in regorus: please report it with the policy"
    )
}

/// Runs `f`, catching a panic. A limit that unwinds (see [`panic_message`]) is an expected
/// outcome, so the panic hook stays quiet about it; other panics are printed as before.
pub(super) fn catch_engine_panic<T>(
    f: impl FnOnce() -> T,
) -> Result<T, Box<dyn std::any::Any + Send>> {
    static QUIET_LIMITS: std::sync::Once = std::sync::Once::new();
    QUIET_LIMITS.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if info.payload().downcast_ref::<LimitError>().is_none() {
                previous(info);
            }
        }));
    });
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(f))
}

fn eval_group_unguarded(engine: &mut Engine, packages: &[&Package], out: &mut Evaluation) {
    let started = std::time::Instant::now();
    let values = match (batch::eval_batch(engine, packages), lone_rule(packages)) {
        (Ok(values), _) => values,
        // The failure of a lone rule is located already: evaluating it again alone would fail
        // the same way, after as long again (a rule past the time limit took twice the limit).
        (Err(batch::Failed::Evaluation(e)), Some((pkg, rule))) => {
            let id = pkg.policy_id().to_owned();
            out.evaluated.push(id.clone());
            out.failures.push(failure(&id, Some(&rule.name), rule, &e));
            *out.timings.entry(id).or_default() += started.elapsed();
            return;
        }
        (Err(_), _) => {
            match packages {
                [pkg] => eval_rule_by_rule(engine, pkg, out),
                _ => {
                    for pkg in packages {
                        eval_group(engine, std::slice::from_ref(pkg), out);
                    }
                }
            }
            return;
        }
    };
    let share = started.elapsed() / packages.len().max(1) as u32;
    for (pkg, v) in packages.iter().zip(values) {
        let id = pkg.policy_id();
        out.evaluated.push(id.to_owned());
        let exceptions = exception_names(&v.exception);
        let values = pkg.rules.iter().zip(v.rules).collect();
        report(pkg, id, values, &exceptions, out);
        *out.timings.entry(id.to_owned()).or_default() += share;
    }
}

/// The package and rule of a group that is one rule (and no `exception`), if it is.
fn lone_rule<'a>(packages: &[&'a Package]) -> Option<(&'a Package, &'a Rule)> {
    match packages {
        [pkg] if !pkg.has_exception => match pkg.rules.as_slice() {
            [rule] => Some((pkg, rule)),
            _ => None,
        },
        _ => None,
    }
}

/// Evaluates one package rule by rule (one regorus evaluation each), locating failures.
fn eval_rule_by_rule(engine: &mut Engine, pkg: &Package, out: &mut Evaluation) {
    let started = std::time::Instant::now();
    let id = pkg.policy_id().to_owned();
    out.evaluated.push(id.clone());
    let mut values = Vec::new();
    for rule in &pkg.rules {
        match engine.eval_rule(format!("data.{}.{}", pkg.name, rule.name)) {
            Ok(v) => values.push((rule, v)),
            Err(e) => out
                .failures
                .push(failure(&id, Some(&rule.name), rule, &e.to_string())),
        }
    }
    let exceptions: BTreeSet<String> = if pkg.has_exception {
        match engine.eval_rule(format!("data.{}.exception", pkg.name)) {
            Ok(v) => exception_names(&v),
            Err(e) => {
                out.failures
                    .push(failure(&id, None, &pkg.rules[0], &e.to_string()));
                BTreeSet::new()
            }
        }
    } else {
        BTreeSet::new()
    };
    report(pkg, &id, values, &exceptions, out);
    *out.timings.entry(id).or_default() += started.elapsed();
}

/// Turns rule values into findings, applying conftest exceptions.
fn report(
    pkg: &Package,
    id: &str,
    values: Vec<(&Rule, Value)>,
    exceptions: &BTreeSet<String>,
    out: &mut Evaluation,
) {
    let level = pkg.meta.as_ref().map(|m| m.level);
    for (rule, value) in values {
        let results = results_of(&value);
        if rule.kind != RuleKind::Warn && !results.is_empty() {
            let suffix = rule.name.split_once('_').map_or("", |(_, s)| s);
            if exceptions.contains(suffix) {
                out.exempted.push(Exempted {
                    policy_id: id.to_owned(),
                    rule: rule.name.clone(),
                    results: results.len(),
                });
                continue;
            }
        }
        for r in results {
            match finding(id, rule, r, level) {
                Ok(f) => out.findings.push(f),
                Err(message) => out.failures.push(PolicyFailure {
                    policy_id: id.to_owned(),
                    rule: Some(rule.name.clone()),
                    file: rule.file.clone(),
                    line: rule.line,
                    message,
                }),
            }
        }
    }
}

fn failure(id: &str, rule_name: Option<&str>, rule: &Rule, text: &str) -> PolicyFailure {
    let located = regorus_error(&rule.file, text);
    let file = text
        .lines()
        .find_map(|l| l.trim_start().strip_prefix("--> "))
        .and_then(|loc| loc.rsplitn(3, ':').nth(2))
        .map(str::to_owned)
        .unwrap_or_else(|| rule.file.clone());
    PolicyFailure {
        policy_id: id.to_owned(),
        rule: rule_name.map(str::to_owned),
        file,
        line: located.line.unwrap_or(rule.line),
        message: limit_message(text, located.message),
    }
}

/// What a user reads for an evaluation error `text` (already located as `message`): the
/// memory and time limits in planguard's words, with the option that raises them.
pub(super) fn limit_message(text: &str, message: String) -> String {
    if message.contains("exceeded memory limit") {
        // "needed": a builtin that knows its result's size asks first and is refused before
        // allocating, so the memory may never have been used.
        format!(
            "evaluation needed more memory than its limit of {} MiB; simplify the rule or raise \
             --memory-limit",
            super::memory::limit() >> 20
        )
    } else if message.contains("exceeded time limit") {
        let limit = text.split("limit=").nth(1).and_then(|l| {
            l.trim_end_matches(|c: char| !c.is_ascii_digit())
                .parse::<u64>()
                .ok()
        });
        let secs = limit
            .map(|ns| format!("{:.0}s ", ns as f64 / 1e9))
            .unwrap_or_default();
        format!("evaluation exceeded the {secs}time limit; simplify the rule or raise --timeout")
    } else {
        message
    }
}

fn exception_names(v: &Value) -> BTreeSet<String> {
    let mut names = BTreeSet::new();
    for entry in results_of(v) {
        for name in results_of(entry) {
            if let Value::String(s) = name {
                names.insert(s.to_string());
            }
        }
    }
    names
}

/// The individual results of a rule value: set and array elements, a single value, or none.
fn results_of(v: &Value) -> Vec<&Value> {
    match v {
        Value::Set(s) => s.iter().collect(),
        Value::Array(a) => a.iter().collect(),
        Value::Undefined | Value::Null | Value::Bool(false) => Vec::new(),
        other => vec![other],
    }
}

/// The most JSON one result value is shown as (a finding's message or one metadata key).
const SHOWN_JSON_LIMIT: usize = 64 * 1024;

/// `v` as JSON for a finding (`pretty` or compact), or a JSON string with a note in its place
/// when that is over [`SHOWN_JSON_LIMIT`] bytes. Writing stops at the limit: a policy can
/// build, by doubling (`x1 := [x0, x0]`, ...), a value whose JSON is exponentially larger than
/// the memory it occupies.
fn shown_json(v: &Value, pretty: bool) -> String {
    struct Capped(Vec<u8>);
    impl std::io::Write for Capped {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            if self.0.len() + buf.len() > SHOWN_JSON_LIMIT {
                return Err(std::io::Error::other("over the limit"));
            }
            self.0.extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let mut out = Capped(Vec::new());
    let written = match pretty {
        true => serde_json::to_writer_pretty(&mut out, v),
        false => serde_json::to_writer(&mut out, v),
    };
    written
        .ok()
        .and_then(|()| String::from_utf8(out.0).ok())
        .unwrap_or_else(|| {
            serde_json::to_string(&format!(
                "(a value of over {} KiB of JSON, not shown)",
                SHOWN_JSON_LIMIT / 1024
            ))
            .expect("a string serialises")
        })
}

/// Builds a finding. A policy whose metadata level is `warning` reports every result as a
/// warning, whatever rule produced it; otherwise `deny`/`violation` are errors.
fn finding(
    id: &str,
    rule: &Rule,
    r: &Value,
    policy_level: Option<Level>,
) -> Result<Finding, String> {
    let (message, address, metadata) = match r {
        Value::String(s) => (s.to_string(), None, None),
        Value::Bool(true) => (format!("{} is true", rule.name), None, None),
        Value::Object(map) => {
            let msg = map
                .get(&Value::from("msg"))
                .and_then(|m| m.as_string().ok())
                .ok_or_else(|| {
                    "a result object has no `msg` string; return a string or an object with `msg`"
                        .to_owned()
                })?
                .to_string();
            let address = ["address", "resource"].iter().find_map(|k| {
                map.get(&Value::from(*k))
                    .and_then(|v| v.as_string().ok())
                    .map(|s| s.to_string())
            });
            let rest: BTreeMap<String, Box<RawValue>> = map
                .iter()
                .filter_map(|(k, v)| {
                    let k = k.as_string().ok()?.to_string();
                    if matches!(k.as_str(), "msg" | "address" | "resource") {
                        return None;
                    }
                    let json = RawValue::from_string(shown_json(v, false))
                        .expect("serde_json wrote valid JSON");
                    Some((k, json))
                })
                .collect();
            let metadata =
                (!rest.is_empty()).then(|| serde_json::to_string(&rest).unwrap_or_default());
            (msg, address, metadata)
        }
        other => (shown_json(other, true), None, None),
    };
    Ok(Finding {
        policy_id: id.to_owned(),
        rule: rule.name.clone(),
        level: rule.kind.level().min(policy_level.unwrap_or(Level::Error)),
        message,
        address,
        file: rule.file.clone(),
        line: rule.line,
        metadata,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const PLAN: &str = r#"{"format_version": "1.2", "resource_changes": [
        {"address": "a.one", "type": "a", "name": "one", "mode": "managed",
         "change": {"actions": ["create"], "after": {"size": 1}}},
        {"address": "a.two", "type": "a", "name": "two", "mode": "managed",
         "change": {"actions": ["create"], "after": {"size": "2"}}}]}"#;

    fn set(files: &[(&str, &str)]) -> PolicySet {
        PolicySet::from_user_texts(
            files
                .iter()
                .map(|(file, text)| ((*file).to_owned(), (*text).to_owned())),
        )
    }

    /// Evaluates on a pool of `threads`: with more threads than rules, the definitions of the
    /// one `deny` rule are shared out among them.
    fn evaluate(set: &PolicySet, threads: usize) -> Evaluation {
        let plan = crate::plan::parse("plan.json", PLAN).expect("plan parses");
        let input = PlanInput::new(PLAN, &plan).expect("input");
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .expect("a pool");
        pool.install(|| set.evaluate(&input))
    }

    fn messages(e: &Evaluation) -> Vec<&str> {
        e.findings.iter().map(|f| f.message.as_str()).collect()
    }

    const FIRST: &str = "package main\nimport rego.v1\n\
        changes contains rc if some rc in input.resource_changes\n\
        deny contains sprintf(\"%s: created\", [rc.address]) if some rc in changes\n\
        deny contains \"always\"\n\
        deny contains sprintf(\"%s: sized\", [rc.address]) if { some rc in changes; rc.change.after.size }\n";

    #[test]
    fn shares_of_one_rule_give_the_rule_whole() {
        let second = "package main\nimport rego.v1\ndeny contains \"always\"\n\
            deny contains sprintf(\"%s: named\", [rc.name]) if some rc in changes\n";
        let set = set(&[("first.rego", FIRST), ("second.rego", second)]);
        let deny = &set.packages[0].rules[0];
        assert_eq!((deny.definitions, deny.partial_set), (5, true));
        let alone = evaluate(&set, 1);
        // "always" is defined twice and is one element of the set.
        assert_eq!(alone.findings.len(), 7, "{:?}", messages(&alone));
        for threads in [2, 3, 5, 8] {
            let shared = evaluate(&set, threads);
            assert_eq!(messages(&shared), messages(&alone), "{threads} threads");
            assert!(shared.failures.is_empty());
        }
    }

    #[test]
    fn a_share_that_fails_fails_the_rule_as_without_shares() {
        let broken = "package main\nimport rego.v1\n\
            deny contains msg if { some rc in changes; msg := sprintf(\"%d\", [to_number(rc.change.after.size) + 1]); rc.change.after.size == \"x\" }\n\
            deny contains \"size\" if { some rc in changes; to_number(\"not a number\") }\n";
        let set = set(&[("first.rego", FIRST), ("broken.rego", broken)]);
        let alone = evaluate(&set, 1);
        assert!(alone.findings.is_empty(), "{:?}", messages(&alone));
        assert_eq!(alone.failures.len(), 1, "{:?}", alone.failures);
        for threads in [2, 3, 8] {
            let shared = evaluate(&set, threads);
            assert_eq!(shared.failures, alone.failures, "{threads} threads");
            assert!(shared.findings.is_empty(), "{:?}", messages(&shared));
        }
    }

    #[test]
    fn rules_with_one_definition_complete_rules_and_exceptions_are_not_shared() {
        let single = set(&[(
            "one.rego",
            "package main\nimport rego.v1\ndeny contains \"x\"\n",
        )]);
        let complete = set(&[(
            "c.rego",
            "package main\nimport rego.v1\ndefault deny := false\ndeny := true if input.x\n",
        )]);
        let excepted = set(&[
            ("first.rego", FIRST),
            (
                "e.rego",
                "package main\nimport rego.v1\nexception contains \"other\"\n",
            ),
        ]);
        for s in [&single, &complete, &excepted] {
            let packages: Vec<&Package> = s.packages.iter().collect();
            assert!(whole_groups(&packages, 4).iter().all(|g| g.share.is_none()));
        }
        let first = set(&[("first.rego", FIRST)]);
        let packages: Vec<&Package> = first.packages.iter().collect();
        let shares: Vec<_> = whole_groups(&packages, 4).iter().map(|g| g.share).collect();
        assert_eq!(shares, [Some((0, 3)), Some((1, 3)), Some((2, 3))]);
    }
}
