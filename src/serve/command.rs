//! `planguard ...` commands written as pull request comments.
//!
//! This module owns the comment grammar: deciding whether a comment is a command at all,
//! reading it into a [`Command`] of domain types, and explaining mistakes in a way that a
//! person reading the reply can fix in one go ("`planguard aply` is not a command. Did you
//! mean `planguard apply`?"). The usage text the `help` command replies with is in
//! [`crate::serve::replies`].
//!
//! It does not decide who may run a command or what it does; that belongs to the worker.
//!
//! The grammar: only the first non-empty line of a comment is read. It is a command when its
//! first word is `planguard` (or `/planguard` or `@planguard`, in any case). Then comes the
//! command name, case-sensitive, then flags:
//!
//! - `-p STACK`, `-p=STACK`, `--stack STACK`, `--stack=STACK`: repeatable for `plan` and
//!   `apply`, at most once for `unlock`, `approve_policies` and `cancel`;
//! - `--policy ID`, `--policy=ID`: repeatable, `approve_policies` only.
//!
//! Suggestions ("did you mean") are only offered when the suggested comment itself parses,
//! so following one never leads to a second error about the same line.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::serve::domain::{InvalidValue, StackName};

/// A command from a pull request comment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Command {
    /// Plan the named stacks, or every stack the pull request affects when empty.
    Plan {
        stacks: Vec<StackName>,
    },
    /// Apply the named stacks' plans, or every planned stack when empty.
    Apply {
        stacks: Vec<StackName>,
    },
    /// Release this pull request's lock on one stack, or on all its stacks.
    Unlock {
        stack: Option<StackName>,
    },
    /// Approve failed policies: the named ones, or all, on one stack or all stacks.
    ApprovePolicies {
        stack: Option<StackName>,
        policies: Vec<String>,
    },
    /// Cancel queued and running jobs for one stack, or for the whole pull request.
    Cancel {
        stack: Option<StackName>,
    },
    Help,
}

impl Command {
    /// The command's name as written after `planguard`.
    pub fn name(&self) -> &'static str {
        match self {
            Command::Plan { .. } => "plan",
            Command::Apply { .. } => "apply",
            Command::Unlock { .. } => "unlock",
            Command::ApprovePolicies { .. } => "approve_policies",
            Command::Cancel { .. } => "cancel",
            Command::Help => "help",
        }
    }
}

/// What a comment turned out to be.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Parsed {
    /// An ordinary comment.
    NotACommand,
    Command(Command),
    /// Addressed to planguard, but not a valid command: reply with the error.
    Invalid(CommandError),
}

/// A comment addressed to planguard that is not a valid command, with a corrected comment
/// when one is close.
///
/// Displays as one Markdown paragraph for the reply (which points to `planguard help`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{problem}{} Comment `planguard help` to see every command.", did_you_mean(.suggestion))]
pub struct CommandError {
    problem: Problem,
    suggestion: Option<String>,
}

impl CommandError {
    pub fn problem(&self) -> &Problem {
        &self.problem
    }

    /// A corrected comment that parses, e.g. `planguard apply -p network`.
    pub fn suggestion(&self) -> Option<&str> {
        self.suggestion.as_deref()
    }
}

fn did_you_mean(suggestion: &Option<String>) -> String {
    match suggestion {
        Some(s) => format!(" Did you mean {}?", code(s)),
        None => String::new(),
    }
}

/// What is wrong with a command. Names and values the user wrote are quoted as they were
/// written (shortened, and without backticks, so they cannot break the Markdown).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Problem {
    #[error("`planguard` needs a command: one of {}.", command_list())]
    MissingCommand,
    #[error("{} is not a command.", code(&format!("planguard {name}")))]
    UnknownCommand { name: String },
    #[error("{} is not a flag of `planguard {command}`.", code(flag))]
    UnknownFlag { command: &'static str, flag: String },
    #[error("{} needs a value, as in {}.", code(flag), code(example))]
    MissingValue { flag: String, example: String },
    #[error(
        "{} is only for `planguard approve_policies`, not `planguard {command}`.",
        code(flag)
    )]
    FlagNotValid { command: &'static str, flag: String },
    #[error(
        "`planguard {command}` takes at most one stack; comment once per stack, or leave out \
         `-p` for all of them."
    )]
    RepeatedStack { command: &'static str },
    #[error("{} is not a valid stack name: {why}.", code(value))]
    InvalidStack { value: String, why: &'static str },
    #[error(
        "{} is not a valid policy id: use letters, digits, `-`, `_`, `.`, `/` and `:` (up to \
         100).",
        code(value)
    )]
    InvalidPolicy { value: String },
    #[error("`planguard {command}` does not take {}.", code(argument))]
    StrayArgument {
        command: &'static str,
        argument: String,
    },
}

/// The commands, in the order help lists them.
const COMMANDS: [&str; 6] = [
    "plan",
    "apply",
    "unlock",
    "approve_policies",
    "cancel",
    "help",
];

fn command_list() -> String {
    COMMANDS
        .iter()
        .map(|c| format!("`{c}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Reads a comment.
pub fn parse(body: &str) -> Parsed {
    let Some(line) = body.lines().map(str::trim).find(|l| !l.is_empty()) else {
        return Parsed::NotACommand;
    };
    let words: Vec<&str> = line.split_whitespace().collect();
    let first = words[0];
    let name = first
        .strip_prefix('/')
        .or_else(|| first.strip_prefix('@'))
        .unwrap_or(first);
    if !name.eq_ignore_ascii_case("planguard") {
        return Parsed::NotACommand;
    }
    let words: Vec<String> = words[1..].iter().map(|w| w.to_string()).collect();
    match parse_words(&words) {
        Ok(command) => Parsed::Command(command),
        Err(mistake) => {
            let suggestion = fix(&mistake, &words)
                .and_then(|fixed| settle(fixed, 3))
                .map(|fixed| format!("planguard {}", fixed.join(" ")));
            Parsed::Invalid(CommandError {
                problem: mistake.problem,
                suggestion,
            })
        }
    }
}

/// Which command is being read, for the flags it accepts.
#[derive(Clone, Copy, PartialEq)]
enum Kind {
    Plan,
    Apply,
    Unlock,
    ApprovePolicies,
    Cancel,
    Help,
}

impl Kind {
    fn from_name(name: &str) -> Option<Kind> {
        Some(match name {
            "plan" => Kind::Plan,
            "apply" => Kind::Apply,
            "unlock" => Kind::Unlock,
            "approve_policies" => Kind::ApprovePolicies,
            "cancel" => Kind::Cancel,
            "help" => Kind::Help,
            _ => return None,
        })
    }

    fn name(self) -> &'static str {
        match self {
            Kind::Plan => "plan",
            Kind::Apply => "apply",
            Kind::Unlock => "unlock",
            Kind::ApprovePolicies => "approve_policies",
            Kind::Cancel => "cancel",
            Kind::Help => "help",
        }
    }

    fn flags(self) -> &'static [&'static str] {
        match self {
            Kind::Help => &[],
            Kind::ApprovePolicies => &["-p", "--stack", "--policy"],
            _ => &["-p", "--stack"],
        }
    }
}

/// A problem and the index of the word it is about (for a flag's value, the flag's index).
struct Mistake {
    problem: Problem,
    at: usize,
}

/// Reads the words after `planguard`.
// Long on purpose: the flag grammar as one loop; its mistakes carry the word position, which a split would have to thread through.
fn parse_words(words: &[String]) -> Result<Command, Mistake> {
    let Some((name, _)) = words.split_first() else {
        return Err(Mistake {
            problem: Problem::MissingCommand,
            at: 0,
        });
    };
    let kind = Kind::from_name(name).ok_or_else(|| Mistake {
        problem: Problem::UnknownCommand {
            name: name.to_owned(),
        },
        at: 0,
    })?;
    let command = kind.name();
    let mut stacks: Vec<StackName> = Vec::new();
    let mut policies: Vec<String> = Vec::new();
    let mut at = 1;
    while let Some(arg) = words.get(at) {
        let flag_at = at;
        let mistake = |problem| Mistake {
            problem,
            at: flag_at,
        };
        at += 1;
        if !arg.starts_with('-') || arg == "-" {
            return Err(mistake(Problem::StrayArgument {
                command,
                argument: arg.to_owned(),
            }));
        }
        let (flag, inline) = match arg.split_once('=') {
            Some((flag, value)) => (flag, Some(value)),
            None => (arg.as_str(), None),
        };
        let is_stack = matches!(flag, "-p" | "--stack");
        if flag == "--policy" && !matches!(kind, Kind::ApprovePolicies | Kind::Help) {
            return Err(mistake(Problem::FlagNotValid {
                command,
                flag: flag.to_owned(),
            }));
        }
        if !kind.flags().contains(&flag) {
            return Err(mistake(Problem::UnknownFlag {
                command,
                flag: flag.to_owned(),
            }));
        }
        let value = match inline {
            Some(v) => Some(v),
            None => match words.get(at) {
                Some(v) if !v.starts_with('-') => {
                    at += 1;
                    Some(v.as_str())
                }
                _ => None,
            },
        };
        let Some(value) = value.filter(|v| !v.is_empty()) else {
            let example = if is_stack {
                "network"
            } else {
                "aws-iam-wildcard"
            };
            return Err(mistake(Problem::MissingValue {
                flag: flag.to_owned(),
                example: format!("planguard {command} {flag} {example}"),
            }));
        };
        if is_stack {
            let stack: StackName = value.parse().map_err(|e: InvalidValue| {
                mistake(Problem::InvalidStack {
                    value: value.to_owned(),
                    why: e.why,
                })
            })?;
            if !stacks.contains(&stack) {
                stacks.push(stack);
            }
            if stacks.len() > 1 && !matches!(kind, Kind::Plan | Kind::Apply) {
                return Err(mistake(Problem::RepeatedStack { command }));
            }
        } else {
            if !valid_policy_id(value) {
                return Err(mistake(Problem::InvalidPolicy {
                    value: value.to_owned(),
                }));
            }
            if !policies.iter().any(|p| p == value) {
                policies.push(value.to_owned());
            }
        }
    }
    let stack = stacks.first().cloned();
    Ok(match kind {
        Kind::Plan => Command::Plan { stacks },
        Kind::Apply => Command::Apply { stacks },
        Kind::Unlock => Command::Unlock { stack },
        Kind::ApprovePolicies => Command::ApprovePolicies { stack, policies },
        Kind::Cancel => Command::Cancel { stack },
        Kind::Help => Command::Help,
    })
}

fn valid_policy_id(id: &str) -> bool {
    id.len() <= 100
        && id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '/' | ':'))
}

/// Applies fixes until the words parse, giving up after `tries` more fixes.
fn settle(words: Vec<String>, tries: usize) -> Option<Vec<String>> {
    match parse_words(&words) {
        Ok(_) => Some(words),
        Err(_) if tries == 0 => None,
        Err(mistake) => settle(fix(&mistake, &words)?, tries - 1),
    }
}

/// The words with `mistake` corrected, when the correction is clear. A fix never drops what
/// the user asked for (a stack, a policy), so following a suggestion never widens a command.
fn fix(mistake: &Mistake, words: &[String]) -> Option<Vec<String>> {
    let at = mistake.at;
    let replaced = |with: &[&str]| {
        let mut out = words[..at].to_vec();
        out.extend(with.iter().map(|w| w.to_string()));
        out.extend_from_slice(&words[at + 1..]);
        out
    };
    match &mistake.problem {
        Problem::MissingCommand
        | Problem::MissingValue { .. }
        | Problem::RepeatedStack { .. }
        | Problem::InvalidPolicy { .. } => None,
        Problem::UnknownCommand { name } => {
            crate::suggest::closest(name, COMMANDS.iter().copied()).map(|c| replaced(&[c]))
        }
        Problem::UnknownFlag { command, flag } => {
            let flags = Kind::from_name(command).map_or(&[][..], Kind::flags);
            let fixed = crate::suggest::closest(flag, flags.iter().copied()).or_else(|| {
                // Atlantis calls what planguard names a stack a project or a directory.
                matches!(flag.as_str(), "--project" | "-d" | "--dir")
                    .then_some("-p")
                    .filter(|p| flags.contains(p))
            })?;
            Some(replaced(&[&words[at].replacen(flag.as_str(), fixed, 1)]))
        }
        Problem::FlagNotValid { .. } => {
            let mut out = words.to_vec();
            out[0] = "approve_policies".to_owned();
            Some(out)
        }
        Problem::InvalidStack { value, .. } => {
            // `-p a,b` for `-p a -p b`.
            let flag = words[at].split('=').next().unwrap_or("-p");
            let parts: Vec<&str> = value.split(',').filter(|p| !p.is_empty()).collect();
            if parts.len() < 2 {
                return None;
            }
            let value_at = if words[at].contains('=') { at } else { at + 1 };
            let mut out = words[..at].to_vec();
            for part in parts {
                out.push(flag.to_owned());
                out.push(part.to_owned());
            }
            out.extend_from_slice(&words[value_at + 1..]);
            Some(out)
        }
        Problem::StrayArgument { command, argument } => {
            if *command == "help" {
                Some(vec!["help".to_owned()])
            } else {
                Some(replaced(&["-p", argument]))
            }
        }
    }
}

/// `text` as inline code, shortened and with backticks removed so it cannot break out.
fn code(text: &str) -> Code<'_> {
    Code(text)
}

struct Code<'a>(&'a str);

impl fmt::Display for Code<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        const MAX: usize = 60;
        let clean: String = self.0.chars().filter(|&c| c != '`').collect();
        if clean.chars().count() > MAX {
            let short: String = clean.chars().take(MAX).collect();
            write!(f, "`{short}…`")
        } else {
            write!(f, "`{clean}`")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stacks(names: &[&str]) -> Vec<StackName> {
        names.iter().map(|n| n.parse().unwrap()).collect()
    }

    fn stack(name: &str) -> Option<StackName> {
        Some(name.parse().unwrap())
    }

    fn ok(body: &str) -> Command {
        match parse(body) {
            Parsed::Command(c) => c,
            other => panic!("{body:?}: {other:?}"),
        }
    }

    fn err(body: &str) -> CommandError {
        match parse(body) {
            Parsed::Invalid(e) => e,
            other => panic!("{body:?}: {other:?}"),
        }
    }

    #[test]
    fn not_commands() {
        for body in [
            "",
            "   \n\n  ",
            "LGTM",
            "lgtm, planguard plan when ready",
            "Could you run\nplanguard plan",
            "> planguard plan",
            "`planguard plan`",
            "planguardplan",
            "planguard-bot plan",
            "#planguard plan",
            "//planguard plan",
        ] {
            assert_eq!(parse(body), Parsed::NotACommand, "{body:?}");
        }
    }

    #[rustfmt::skip]
    #[test]
    fn commands() {
        use Command::*;
        let table: &[(&str, Command)] = &[
            ("planguard plan", Plan { stacks: vec![] }),
            ("  planguard   plan  ", Plan { stacks: vec![] }),
            ("\n\n planguard plan\nsecond line is ignored -p x", Plan { stacks: vec![] }),
            ("planguard plan\r\n", Plan { stacks: vec![] }),
            ("/planguard plan", Plan { stacks: vec![] }),
            ("@planguard plan", Plan { stacks: vec![] }),
            ("PlanGuard plan", Plan { stacks: vec![] }),
            ("@PLANGUARD plan", Plan { stacks: vec![] }),
            ("planguard plan -p network", Plan { stacks: stacks(&["network"]) }),
            ("planguard plan -p=network", Plan { stacks: stacks(&["network"]) }),
            ("planguard plan --stack network", Plan { stacks: stacks(&["network"]) }),
            ("planguard plan --stack=envs/prod", Plan { stacks: stacks(&["envs/prod"]) }),
            ("planguard plan -p a -p=b --stack c", Plan { stacks: stacks(&["a", "b", "c"]) }),
            ("planguard plan -p a -p a", Plan { stacks: stacks(&["a"]) }),
            ("planguard\tplan\t-p\tnet", Plan { stacks: stacks(&["net"]) }),
            ("planguard apply", Apply { stacks: vec![] }),
            ("planguard apply -p network -p dns", Apply { stacks: stacks(&["network", "dns"]) }),
            ("planguard unlock", Unlock { stack: None }),
            ("planguard unlock -p network", Unlock { stack: stack("network") }),
            ("planguard unlock -p network -p network", Unlock { stack: stack("network") }),
            ("planguard cancel", Cancel { stack: None }),
            ("planguard cancel --stack=dns", Cancel { stack: stack("dns") }),
            ("planguard approve_policies", ApprovePolicies { stack: None, policies: vec![] }),
            (
                "planguard approve_policies -p network --policy aws-iam-wildcard",
                ApprovePolicies { stack: stack("network"), policies: vec!["aws-iam-wildcard".into()] },
            ),
            (
                "planguard approve_policies --policy=a --policy b --policy a",
                ApprovePolicies { stack: None, policies: vec!["a".into(), "b".into()] },
            ),
            ("planguard help", Help),
            ("/planguard help", Help),
        ];
        for (body, expected) in table {
            assert_eq!(&ok(body), expected, "{body:?}");
            assert_eq!(ok(body).name(), expected.name());
        }
    }

    /// (comment, start of the problem, suggested comment)
    #[rustfmt::skip]
    #[test]
    fn mistakes() {
        let table: &[(&str, &str, Option<&str>)] = &[
            ("planguard", "`planguard` needs a command: one of `plan`, `apply`", None),
            ("@planguard", "`planguard` needs a command", None),
            ("planguard aply", "`planguard aply` is not a command.", Some("planguard apply")),
            ("planguard Apply", "`planguard Apply` is not a command.", Some("planguard apply")),
            ("planguard PLAN -p a", "`planguard PLAN` is not", Some("planguard plan -p a")),
            ("planguard plna", "`planguard plna` is not", Some("planguard plan")),
            ("planguard plans -p net", "`planguard plans` is not", Some("planguard plan -p net")),
            ("planguard lock", "`planguard lock` is not", Some("planguard unlock")),
            ("planguard cancle", "`planguard cancle` is not", Some("planguard cancel")),
            ("planguard approve", "`planguard approve` is not", Some("planguard approve_policies")),
            ("planguard approve-policies -p a", "`planguard approve-policies` is not", Some("planguard approve_policies -p a")),
            ("planguard halp", "`planguard halp` is not", Some("planguard help")),
            ("planguard destroy", "`planguard destroy` is not a command.", None),
            ("planguard is great", "`planguard is` is not a command.", None),
            ("planguard apply network", "`planguard apply` does not take `network`.", Some("planguard apply -p network")),
            ("planguard plan -p a b", "`planguard plan` does not take `b`.", Some("planguard plan -p a -p b")),
            ("planguard unlock a", "`planguard unlock` does not take `a`.", Some("planguard unlock -p a")),
            ("planguard unlock -p a b", "`planguard unlock` does not take `b`.", None),
            ("planguard cancel ../x", "`planguard cancel` does not take `../x`.", None),
            ("planguard help plan", "`planguard help` does not take `plan`.", Some("planguard help")),
            ("planguard help -p a", "`-p` is not a flag of `planguard help`.", None),
            ("planguard apply --stak net", "`--stak` is not a flag of `planguard apply`.", Some("planguard apply --stack net")),
            ("planguard apply --stak=net", "`--stak` is not a flag", Some("planguard apply --stack=net")),
            ("planguard apply -P net", "`-P` is not a flag", Some("planguard apply -p net")),
            ("planguard plan --project net", "`--project` is not a flag", Some("planguard plan -p net")),
            ("planguard plan -d net", "`-d` is not a flag", Some("planguard plan -p net")),
            ("planguard plan --verbose", "`--verbose` is not a flag of `planguard plan`.", None),
            ("planguard approve_policies --polcy x", "`--polcy` is not a flag", Some("planguard approve_policies --policy x")),
            ("planguard apply --policy x", "`--policy` is only for `planguard approve_policies`, not `planguard apply`.", Some("planguard approve_policies --policy x")),
            ("planguard plan -p a --policy x", "`--policy` is only for", Some("planguard approve_policies -p a --policy x")),
            ("planguard plan -p a -p b --policy x", "`--policy` is only for", None),
            ("planguard aply network", "`planguard aply` is not", Some("planguard apply -p network")),
            ("planguard aply --stak=a,b", "`planguard aply` is not", Some("planguard apply --stack a --stack b")),
            ("planguard plan -p", "`-p` needs a value, as in `planguard plan -p network`.", None),
            ("planguard plan -p=", "`-p` needs a value", None),
            ("planguard plan --stack", "`--stack` needs a value, as in `planguard plan --stack network`.", None),
            ("planguard plan -p --stack a", "`-p` needs a value", None),
            ("planguard approve_policies --policy", "`--policy` needs a value, as in `planguard approve_policies --policy aws-iam-wildcard`.", None),
            ("planguard unlock -p a -p b", "`planguard unlock` takes at most one stack", None),
            ("planguard cancel -p a --stack=b", "`planguard cancel` takes at most one stack", None),
            ("planguard approve_policies -p a -p b", "`planguard approve_policies` takes at most one stack", None),
            ("planguard plan -p ../prod", "`../prod` is not a valid stack name: use letters", None),
            ("planguard plan -p a,b", "`a,b` is not a valid stack name", Some("planguard plan -p a -p b")),
            ("planguard apply --stack=a,b", "`a,b` is not a valid stack name", Some("planguard apply --stack a --stack b")),
            ("planguard unlock -p a,b", "`a,b` is not a valid stack name", None),
            ("planguard approve_policies --policy a`b", "`ab` is not a valid policy id", None),
            ("planguard plan -", "`planguard plan` does not take `-`.", None),
        ];
        for (body, problem, suggestion) in table {
            let e = err(body);
            assert!(
                e.problem().to_string().starts_with(problem),
                "{body:?}: {:?}",
                e.problem().to_string()
            );
            assert_eq!(e.suggestion(), *suggestion, "{body:?}");
            // A suggestion is always a command.
            if let Some(s) = suggestion {
                assert!(matches!(parse(s), Parsed::Command(_)), "{s}");
            }
        }
    }

    #[test]
    fn error_messages_read_as_one_paragraph() {
        assert_eq!(
            err("planguard aply").to_string(),
            "`planguard aply` is not a command. Did you mean `planguard apply`? \
             Comment `planguard help` to see every command."
        );
        assert_eq!(
            err("planguard destroy").to_string(),
            "`planguard destroy` is not a command. Comment `planguard help` to see every command."
        );
        assert!(!err("planguard unlock -p a -p b").to_string().contains('\n'));
        // What users wrote is quoted safely and briefly.
        let long = format!("planguard {}", "x".repeat(500));
        assert!(err(&long).to_string().len() < 200);
        assert!(err("planguard `rm` -rf")
            .to_string()
            .starts_with("`planguard rm` is not"));
    }

    #[test]
    fn help_mentions_every_command() {
        let help = crate::serve::replies::Reply::Help.render();
        for name in COMMANDS {
            assert!(help.contains(&format!("`planguard {name}")), "{name}");
        }
        for flag in ["-p STACK", "--stack", "--policy ID"] {
            assert!(help.contains(flag), "{flag}");
        }
        let every = [
            Command::Plan { stacks: vec![] },
            Command::Apply { stacks: vec![] },
            Command::Unlock { stack: None },
            Command::ApprovePolicies {
                stack: None,
                policies: vec![],
            },
            Command::Cancel { stack: None },
            Command::Help,
        ];
        for command in every {
            assert!(COMMANDS.contains(&command.name()));
            assert_eq!(ok(&format!("planguard {}", command.name())), command);
        }
    }
}
