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
    /// UTF-16 text (what Windows PowerShell 5 writes with `>`), not the UTF-8 JSON expected.
    Utf16 { big_endian: bool },
    /// Binary data that is neither a plan file nor text (NUL bytes near the start).
    Binary,
    /// A JSON array at the top level; plans are objects.
    JsonArray,
}

/// How the first bytes of an input are encoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    /// UTF-8 (or ASCII), perhaps with a byte order mark; also zip archives (binary plans).
    Utf8,
    /// UTF-16, from its byte order mark or the NUL byte in every other position.
    Utf16 { big_endian: bool },
    /// Something else with NUL bytes: not text.
    Binary,
}

/// How many bytes [`encoding`] looks at.
pub const ENCODING_HEAD: usize = 64 * 1024;

/// Tells UTF-16 and binary data from UTF-8 text by the first bytes (a zip archive, a binary
/// plan, counts as UTF-8 here: [`sniff`] recognises it).
pub fn encoding(bytes: &[u8]) -> Encoding {
    if bytes.starts_with(b"\xEF\xBB\xBF") || bytes.starts_with(b"PK\x03\x04") {
        return Encoding::Utf8;
    }
    if bytes.starts_with(b"\xFF\xFE") {
        return Encoding::Utf16 { big_endian: false };
    }
    if bytes.starts_with(b"\xFE\xFF") {
        return Encoding::Utf16 { big_endian: true };
    }
    let head = &bytes[..bytes.len().min(ENCODING_HEAD)];
    if !head.contains(&0) {
        return Encoding::Utf8;
    }
    // ASCII text in UTF-16 has a NUL in every other byte: odd positions for little endian.
    let sample = &head[..head.len().min(256) & !1];
    let pairs = sample.len() / 2;
    let nul_odd = sample
        .iter()
        .skip(1)
        .step_by(2)
        .filter(|b| **b == 0)
        .count();
    let nul_even = sample.iter().step_by(2).filter(|b| **b == 0).count();
    if pairs > 0 && nul_odd * 10 >= pairs * 9 && nul_even == 0 {
        Encoding::Utf16 { big_endian: false }
    } else if pairs > 0 && nul_even * 10 >= pairs * 9 && nul_odd == 0 {
        Encoding::Utf16 { big_endian: true }
    } else {
        Encoding::Binary
    }
}

const HEAD: usize = 4096;

/// Classifies input bytes.
pub fn sniff(bytes: &[u8]) -> InputKind {
    match encoding(bytes) {
        Encoding::Utf8 => {}
        Encoding::Utf16 { big_endian } => return InputKind::Utf16 { big_endian },
        Encoding::Binary => return InputKind::Binary,
    }
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
    if array_like {
        return InputKind::JsonArray;
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

/// `plan -json` writes one object per line, each with `@level` and `@message`. `body` starts
/// with its first line; only a first line shorter than [`HEAD`] is looked at, so a plan (one
/// long line) is not scanned to its end.
fn is_log_stream(body: &[u8]) -> bool {
    let first_len = body[..body.len().min(HEAD)]
        .iter()
        .position(|&b| b == b'\n')
        .unwrap_or(body.len());
    if first_len >= HEAD {
        return false;
    }
    let is_message = |l: &[u8]| {
        serde_json::from_slice::<serde_json::Map<String, serde_json::Value>>(l)
            .is_ok_and(|m| m.contains_key("@level") && m.contains_key("@message"))
    };
    let mut rest = body[first_len..]
        .split(|&b| b == b'\n')
        .filter(|l| !l.iter().all(u8::is_ascii_whitespace));
    is_message(&body[..first_len]) && rest.next().is_none_or(is_message)
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
        assert_eq!(sniff(b"\xEF\xBB\xBF{\"a\":1}"), InputKind::Json);
        assert_eq!(
            sniff(br#"[{"name":"x","asset_type":"y"}]"#),
            InputKind::JsonArray
        );
        assert_eq!(sniff(b" [\"1.2\"]"), InputKind::JsonArray);
        assert_eq!(sniff(&[0u8; 100]), InputKind::Binary);
    }

    fn utf16(text: &str, big_endian: bool, bom: bool) -> Vec<u8> {
        let mut out = Vec::new();
        if bom {
            out.extend(if big_endian {
                [0xFE, 0xFF]
            } else {
                [0xFF, 0xFE]
            });
        }
        for u in text.encode_utf16() {
            out.extend(if big_endian {
                u.to_be_bytes()
            } else {
                u.to_le_bytes()
            });
        }
        out
    }

    #[test]
    fn recognises_utf16_with_and_without_a_byte_order_mark() {
        let plan = "{\n  \"format_version\": \"1.2\", \"resource_changes\": []}\n";
        for bom in [true, false] {
            assert_eq!(
                sniff(&utf16(plan, false, bom)),
                InputKind::Utf16 { big_endian: false }
            );
            assert_eq!(
                sniff(&utf16(plan, true, bom)),
                InputKind::Utf16 { big_endian: true }
            );
        }
        assert_eq!(sniff(b"PK\x03\x04\x00\x00"), InputKind::BinaryPlan);
    }
}
