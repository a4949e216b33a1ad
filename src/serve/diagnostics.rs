//! Problems in configuration files, said one way for the server's TOML and a repository's
//! `planguard.yaml`: where (the key's path, `stacks[1].dir` or `github.app_id`, and its line
//! when the reader knows it), what is wrong, and for an unknown key what was probably meant.

use std::fmt;

use saphyr::{LoadableYamlNode, MarkedYaml};

/// One problem with a configuration value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// The key (`workers`, `stacks[0].dir`, `enforcement[1].level`), the environment variable
    /// the value came from, or empty for the file as a whole.
    pub path: String,
    pub message: String,
    /// The line in the file, when the reader knows it.
    pub line: Option<usize>,
}

impl Problem {
    pub fn new(path: impl Into<String>, message: impl Into<String>) -> Problem {
        Problem {
            path: path.into(),
            message: message.into(),
            line: None,
        }
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if !self.path.is_empty() {
            write!(f, "{}: ", self.path)?;
        }
        f.write_str(&self.message)?;
        match self.line {
            Some(line) => write!(f, " (line {line})"),
            None => Ok(()),
        }
    }
}

/// The message for a key nobody reads: what was probably meant, and the keys there are.
/// `scope` names where the key is: `a stack`, `[github]`, `the top level`.
pub fn unknown_key(key: &str, known: &[&str], scope: &str) -> String {
    let suggestion = crate::suggest::closest(key, known.iter().copied())
        .map(|k| format!("Did you mean `{k}`? "))
        .unwrap_or_default();
    format!(
        "unknown key. {suggestion}The keys of {scope} are: {}",
        known.join(", ")
    )
}

/// One step of a YAML path.
#[derive(Debug, Clone, PartialEq)]
enum Segment {
    Key(String),
    Index(usize),
}

/// `stacks[1].account.id` → [Key stacks, Index 1, Key account, Key id].
fn segments(path: &str) -> Vec<Segment> {
    let mut out = Vec::new();
    for part in path.split('.') {
        let (key, mut rest) = match part.find('[') {
            Some(i) => (&part[..i], &part[i..]),
            None => (part, ""),
        };
        if !key.is_empty() {
            out.push(Segment::Key(key.to_owned()));
        }
        while let Some(stripped) = rest.strip_prefix('[') {
            let Some(close) = stripped.find(']') else {
                break;
            };
            if let Ok(i) = stripped[..close].parse() {
                out.push(Segment::Index(i));
            }
            rest = &stripped[close + 1..];
        }
    }
    out
}

/// The line of the YAML node at `path`, or of its nearest ancestor that exists, from the
/// spans saphyr's parser records. `None` when the text does not parse or the path is empty.
pub fn yaml_line(yaml: &str, path: &str) -> Option<usize> {
    let docs = MarkedYaml::load_from_str(yaml).ok()?;
    let mut node = docs.first()?;
    let mut line = None;
    for seg in segments(path) {
        let next = match &seg {
            Segment::Key(k) => node.data.as_mapping_get(k),
            Segment::Index(i) => node.data.as_sequence_get(*i),
        };
        match next {
            Some(n) => {
                node = n;
                line = Some(node.span.start.line());
            }
            None => break,
        }
    }
    line
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn yaml_paths_are_split_into_segments() {
        assert_eq!(
            segments("stacks[1].account.id"),
            [
                Segment::Key("stacks".into()),
                Segment::Index(1),
                Segment::Key("account".into()),
                Segment::Key("id".into())
            ]
        );
    }

    #[test]
    fn a_yaml_path_has_the_line_of_its_node_or_of_the_nearest_parent() {
        let yaml = "a:\n  b: [1, 2]\n  c:\n    - x\n    - y\n";
        assert_eq!(yaml_line(yaml, "a.c[1]"), Some(5));
        assert_eq!(yaml_line(yaml, "a.b[1]"), Some(2));
        assert_eq!(
            yaml_line("a:\n  b: 1\n", "a.missing"),
            Some(2),
            "falls back to the parent"
        );
        assert_eq!(yaml_line("a: [", "a"), None, "not YAML");
    }

    #[test]
    fn problems_read_the_same_from_toml_and_yaml() {
        let mut p = Problem::new(
            "stacks[0].colour",
            unknown_key("colour", &["color", "dir"], "a stack"),
        );
        p.line = Some(5);
        assert_eq!(
            p.to_string(),
            "stacks[0].colour: unknown key. Did you mean `color`? The keys of a stack are: color, dir (line 5)"
        );
        assert_eq!(Problem::new("", "is not TOML").to_string(), "is not TOML");
    }
}
