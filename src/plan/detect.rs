//! Cheap recognition of what a plan input really is, from its first and last bytes.
//!
//! Sniffing never parses the whole document: a 130 MB plan must not be scanned twice. It only
//! looks at the head (and, for encrypted payloads, the tail) to tell a plan's JSON from the
//! things people pass by mistake.

/// What the bytes of an input look like.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InputKind {
    /// Nothing but whitespace.
    Empty,
    /// A JSON document (hopefully a plan).
    Json,
    /// JSON lines from `plan -json`.
    LogStream,
    /// JSON preceded by other text; `line` is the 1-based line the JSON starts on and
    /// `offset` the number of bytes before it.
    Wrapped { line: usize, offset: usize },
    /// A state file (`terraform.tfstate`).
    StateFile { version: u64 },
    /// A binary plan file (a zip archive).
    BinaryPlan,
    /// An OpenTofu encrypted plan or state payload.
    Encrypted,
}

const HEAD: usize = 4096;

/// Classifies input bytes.
pub fn sniff(bytes: &[u8]) -> InputKind {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    if bytes.starts_with(b"PK\x03\x04") {
        return InputKind::BinaryPlan;
    }
    let start = match bytes.iter().position(|b| !b.is_ascii_whitespace()) {
        Some(i) => i,
        None => return InputKind::Empty,
    };
    let body = &bytes[start..];
    // `[command]...` (the setup-terraform wrapper) starts like an array but is text.
    let array_like = body[0] == b'['
        && body
            .get(1)
            .is_some_and(|c| !c.is_ascii_alphabetic() || b"tfn".contains(c));
    if body[0] != b'{' && !array_like {
        return match json_start_line(bytes) {
            Some((line, offset)) => InputKind::Wrapped { line, offset },
            None => InputKind::Json, // let the parser name the syntax error
        };
    }
    let head = &body[..body.len().min(HEAD)];
    if is_log_stream(body) {
        return InputKind::LogStream;
    }
    if contains(head, b"\"encrypted_data\"") && contains(tail(body, 512), b"\"encryption_version\"")
    {
        return InputKind::Encrypted;
    }
    if !contains(head, b"\"format_version\"")
        && contains(head, b"\"lineage\"")
        && contains(head, b"\"serial\"")
    {
        return InputKind::StateFile {
            version: state_version(head).unwrap_or(0),
        };
    }
    InputKind::Json
}

fn tail(bytes: &[u8], n: usize) -> &[u8] {
    &bytes[bytes.len().saturating_sub(n)..]
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}

/// `plan -json` writes one object per line, each with `@level` and `@message`.
fn is_log_stream(body: &[u8]) -> bool {
    let mut lines = body
        .split(|&b| b == b'\n')
        .filter(|l| !l.iter().all(u8::is_ascii_whitespace));
    let Some(first) = lines.next() else {
        return false;
    };
    let is_message = |l: &[u8]| {
        serde_json::from_slice::<serde_json::Map<String, serde_json::Value>>(l)
            .is_ok_and(|m| m.contains_key("@level") && m.contains_key("@message"))
    };
    first.len() < HEAD && is_message(first) && lines.next().is_none_or(is_message)
}

/// Finds the first line that opens a JSON object, for wrapper-prefixed output.
fn json_start_line(bytes: &[u8]) -> Option<(usize, usize)> {
    let mut offset = 0;
    for (i, line) in bytes.split(|&b| b == b'\n').enumerate() {
        if line.first() == Some(&b'{') {
            return Some((i + 1, offset));
        }
        offset += line.len() + 1;
    }
    None
}

fn state_version(head: &[u8]) -> Option<u64> {
    let text = std::str::from_utf8(head).ok()?;
    let at = text.find("\"version\"")? + "\"version\"".len();
    let rest = text[at..].trim_start().strip_prefix(':')?.trim_start();
    let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
    digits.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recognises_each_kind() {
        assert_eq!(sniff(b""), InputKind::Empty);
        assert_eq!(sniff(b" \n\t"), InputKind::Empty);
        assert_eq!(sniff(b"PK\x03\x04rest"), InputKind::BinaryPlan);
        assert_eq!(sniff(br#"{"format_version":"1.2"}"#), InputKind::Json);
        assert_eq!(
            sniff(b"{\"@level\":\"info\",\"@message\":\"OpenTofu 1.8\",\"type\":\"version\"}\n{\"@level\":\"info\",\"@message\":\"x\"}\n"),
            InputKind::LogStream
        );
        assert_eq!(
            sniff(b"[command]/tmp/terraform-bin show -json p\n{\"format_version\":\"1.0\"}"),
            InputKind::Wrapped {
                line: 2,
                offset: 41
            }
        );
        assert_eq!(
            sniff(b"{\n \"version\": 4,\n \"terraform_version\": \"1.9.0\",\n \"serial\": 3,\n \"lineage\": \"x\"}"),
            InputKind::StateFile { version: 4 }
        );
        assert_eq!(
            sniff(br#"{"meta":{"key_provider.pbkdf2.k":"e30="},"encrypted_data":"AAAA","encryption_version":"v0"}"#),
            InputKind::Encrypted
        );
    }
}
