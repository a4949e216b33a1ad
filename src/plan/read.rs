//! Reading inputs as streams: plans, policies and data files alike.
//!
//! An input may be a regular file, a pipe (`<(...)`, `/dev/stdin`, a FIFO) or standard input,
//! so nothing here trusts the file's metadata length: bytes are read until end of file, up to a
//! limit. A regular file's length only sizes the buffer up front, so that a large plan is read
//! into one allocation instead of being copied through ever larger ones. A pipe that stays silent gets a notice on stderr after a few seconds, so a forgotten
//! writer does not look like a hang. Input whose first bytes are UTF-16 or binary is not read
//! further: what it is can be told from its head, and `/dev/zero` must not fill the memory.

use std::fs::File;
use std::io::{IsTerminal, Read};
use std::path::Path;
use std::sync::mpsc;
use std::time::Duration;

use super::detect::{self, Encoding, ENCODING_HEAD};

/// The default `--max-input-bytes`: 2 GiB, several times the largest real plans (a 100,000
/// resource plan is about 500 MB of JSON).
pub const DEFAULT_MAX_INPUT_BYTES: u64 = 2 << 30;

/// How long a pipe may stay silent before planguard says it is waiting for it.
pub const WAIT_NOTICE_AFTER: Duration = Duration::from_secs(3);

/// Bytes read from an input.
#[derive(Debug)]
pub struct Input {
    pub bytes: Vec<u8>,
    /// False when reading stopped after the head because it is UTF-16 or binary.
    pub complete: bool,
}

/// Why an input could not be read.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    #[error("cannot read: {0}")]
    Io(#[from] std::io::Error),
    #[error("the input is larger than {} ({limit} bytes)", human_bytes(*limit))]
    TooLarge { limit: u64 },
}

/// Reads `path` (`-` is standard input) to the end, or until more than `limit` bytes.
pub fn read_input(path: &Path, name: &str, limit: u64) -> Result<Input, ReadError> {
    let stdin = path == Path::new("-");
    // A FIFO's metadata does not block; opening it does, until a writer comes.
    let metadata = (!stdin).then(|| std::fs::metadata(path).ok()).flatten();
    let may_wait = stdin
        || metadata
            .as_ref()
            .is_some_and(|m| !m.is_file() && !m.is_dir());
    let size_hint = metadata.filter(|m| m.is_file()).map(|m| m.len());
    let watcher = may_wait.then(|| wait_notice(name, stdin));
    let started = || {
        if let Some((tx, _)) = &watcher {
            let _ = tx.send(());
        }
    };
    let result = if stdin {
        read_limited(std::io::stdin().lock(), limit, size_hint, started, None)
    } else {
        File::open(path)
            .map_err(ReadError::from)
            .and_then(|file| read_limited(&file, limit, size_hint, started, Some(&file)))
    };
    if let Some((tx, handle)) = watcher {
        drop(tx);
        let _ = handle.join();
    }
    result
}

/// Reads a policy or data file as text: a UTF-8 byte order mark is dropped, and UTF-16,
/// binary and oversized input is refused with a message that says what to do.
pub fn read_text(path: &Path, limit: u64) -> Result<String, String> {
    let name = path.display().to_string();
    let input = read_input(path, &name, limit).map_err(|e| match e {
        ReadError::TooLarge { .. } => format!(
            "{e}; policy and data files are read up to {}",
            human_bytes(limit)
        ),
        e => e.to_string(),
    })?;
    match detect::encoding(&input.bytes) {
        Encoding::Utf8 => {}
        Encoding::Utf16 { big_endian } => {
            return Err(format!(
                "this file is {} text, but planguard reads UTF-8. {}",
                utf16_name(big_endian),
                UTF8_FIX
            ))
        }
        Encoding::Binary => return Err(binary_message()),
    }
    let bytes = input.bytes;
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(&bytes);
    String::from_utf8(bytes.to_vec()).map_err(|e| {
        format!(
            "invalid UTF-8 at byte {}; save the file as UTF-8",
            e.utf8_error().valid_up_to()
        )
    })
}

/// How to write UTF-8 instead of UTF-16.
pub const UTF8_FIX: &str = "Write it as UTF-8: in PowerShell, `tofu show -json tfplan | \
    Out-File -Encoding utf8 plan.json` (PowerShell 5's `>` writes UTF-16); in bash or cmd, \
    `tofu show -json tfplan > plan.json`";

pub fn utf16_name(big_endian: bool) -> &'static str {
    if big_endian {
        "UTF-16 BE"
    } else {
        "UTF-16 LE"
    }
}

pub fn binary_message() -> String {
    format!(
        "this is binary data (NUL bytes in its first {} KiB), not text; reading stopped there. \
         Check the path: a plan is JSON from `tofu show -json tfplan`, or a binary plan file \
         from `tofu plan -out=tfplan`",
        ENCODING_HEAD / 1024
    )
}

/// `2 GiB`, `512 MiB`, `1000 bytes`.
pub fn human_bytes(n: u64) -> String {
    for (unit, size) in [("GiB", 1u64 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)] {
        if n >= size && n % size == 0 {
            return format!("{} {unit}", n / size);
        }
    }
    format!("{n} bytes")
}

/// Parses `--max-input-bytes`: a number of bytes with an optional `K`, `M`, `G` (or `KiB`,
/// `MiB`, `GiB`, powers of 1024) suffix.
pub fn parse_byte_size(text: &str) -> Result<u64, String> {
    let t = text.trim();
    let split = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
    let (digits, unit) = t.split_at(split);
    let shift = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 0,
        "k" | "kb" | "kib" => 10,
        "m" | "mb" | "mib" => 20,
        "g" | "gb" | "gib" => 30,
        "t" | "tb" | "tib" => 40,
        _ => {
            return Err(format!(
                "`{text}` is not a size; write bytes, or a number with K, M or G (e.g. 4G)"
            ))
        }
    };
    let n: u64 = digits
        .parse()
        .map_err(|_| format!("`{text}` is not a size; write e.g. 4G or 500M"))?;
    let bytes = n
        .checked_mul(1 << shift)
        .ok_or_else(|| format!("`{text}` is too large"))?;
    if bytes == 0 {
        return Err("the limit must be more than 0 bytes; leave the option out for 2 GiB".into());
    }
    Ok(bytes)
}

/// Starts the thread that says, after [`WAIT_NOTICE_AFTER`], that a pipe is still silent.
/// Sending on (or dropping) the returned sender stops it.
fn wait_notice(name: &str, stdin: bool) -> (mpsc::Sender<()>, std::thread::JoinHandle<()>) {
    let (tx, rx) = mpsc::channel::<()>();
    let message = if stdin && std::io::stdin().is_terminal() {
        "planguard: waiting for a plan on standard input (the terminal): pipe one in, e.g. \
         `tofu show -json tfplan | planguard check -`, or press Ctrl-D to end the input"
            .to_owned()
    } else {
        let what = if stdin { "standard input" } else { name };
        format!(
            "planguard: waiting for input on {what}: it is a pipe and nothing has been written \
             to it yet. Start the command that writes it, or press Ctrl-C to stop"
        )
    };
    let handle = std::thread::spawn(move || {
        if let Err(mpsc::RecvTimeoutError::Timeout) = rx.recv_timeout(WAIT_NOTICE_AFTER) {
            eprintln!("{message}");
        }
    });
    (tx, handle)
}

/// Reads the head, calls `started` once the first read returns, stops after the head if it is
/// UTF-16 or binary, and otherwise reads to the end or to `limit`. `size_hint` (a regular
/// file's length) sizes the buffer; the input may still turn out shorter or longer. `file` is
/// `reader` again when it is a regular file, to be read in parallel when it is large.
fn read_limited(
    mut reader: impl Read,
    limit: u64,
    size_hint: Option<u64>,
    started: impl FnOnce(),
    file: Option<&File>,
) -> Result<Input, ReadError> {
    let head_len = (ENCODING_HEAD as u64).min(limit.saturating_add(1));
    let mut first = vec![0u8; head_len.min(8192) as usize];
    let n = loop {
        match reader.read(&mut first) {
            Ok(n) => break n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e.into()),
        }
    };
    started();
    first.truncate(n);
    let mut bytes = first;
    if n > 0 {
        (&mut reader)
            .take(head_len - n as u64)
            .read_to_end(&mut bytes)?;
    }
    if bytes.len() as u64 > limit {
        return Err(ReadError::TooLarge { limit });
    }
    if bytes.len() as u64 == head_len && detect::encoding(&bytes) != Encoding::Utf8 {
        return Ok(Input {
            bytes,
            complete: false,
        });
    }
    if let (Some(file), Some(size)) = (file, size_hint) {
        if (PARALLEL_READ..=limit).contains(&size) {
            bytes = read_in_parallel(file, bytes, size)?;
        }
    }
    let rest = limit.saturating_add(1) - bytes.len() as u64;
    if let Some(hint) = size_hint {
        // One byte more than the hint, so that reaching the end needs no growth. Without the
        // room, the buffer would grow by doubling, copying the plan several times over.
        let room = hint
            .min(limit)
            .saturating_add(1)
            .saturating_sub(bytes.len() as u64);
        let _ = bytes.try_reserve_exact(usize::try_from(room).unwrap_or(usize::MAX));
    }
    reader.take(rest).read_to_end(&mut bytes)?;
    if bytes.len() as u64 > limit {
        return Err(ReadError::TooLarge { limit });
    }
    Ok(Input {
        bytes,
        complete: true,
    })
}

/// Regular files at least this large are read by several threads at once.
const PARALLEL_READ: u64 = 32 << 20;

/// `head` (read from the start of `file`) followed by the rest of the file's `size` bytes,
/// read in parallel at their offsets; the file's position is left at the end of them, for
/// anything written since its size was taken. (Most of reading a large plan is faulting in
/// the buffer's pages and copying into them: on one thread, 0.10 s at 170 MB while the other
/// core idled, 0.05 s on two.)
fn read_in_parallel(file: &File, head: Vec<u8>, size: u64) -> std::io::Result<Vec<u8>> {
    use rayon::prelude::*;
    use std::io::{Seek, SeekFrom};
    use std::os::unix::fs::FileExt;

    let start = head.len();
    let Ok(size) = usize::try_from(size) else {
        return Ok(head);
    };
    if size <= start {
        return Ok(head);
    }
    // Allocated zeroed, so that its pages are first touched by the threads that fill them.
    let mut bytes = vec![0; size];
    bytes[..start].copy_from_slice(&head);
    let chunk = (size - start)
        .div_ceil(4 * rayon::current_num_threads())
        .max(1 << 20);
    bytes[start..]
        .par_chunks_mut(chunk)
        .enumerate()
        .try_for_each(|(i, part)| file.read_exact_at(part, (start + i * chunk) as u64))
        .map_err(|e| match e.kind() {
            std::io::ErrorKind::UnexpectedEof => std::io::Error::new(
                e.kind(),
                "the file became shorter while it was read; check it again once it is written",
            ),
            _ => e,
        })?;
    (&*file).seek(SeekFrom::Start(size as u64))?;
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_parse_with_binary_suffixes() {
        assert_eq!(parse_byte_size("1000"), Ok(1000));
        assert_eq!(parse_byte_size("4G"), Ok(4 << 30));
        assert_eq!(parse_byte_size("512MiB"), Ok(512 << 20));
        assert_eq!(parse_byte_size("2 k"), Ok(2048));
        assert!(parse_byte_size("0").is_err());
        assert!(parse_byte_size("lots").is_err());
        assert_eq!(human_bytes(2 << 30), "2 GiB");
        assert_eq!(human_bytes(1000), "1000 bytes");
    }

    #[test]
    fn reading_stops_at_the_limit_and_after_a_binary_head() {
        let big = vec![b' '; 10_000];
        assert!(matches!(
            read_limited(&big[..], 9_999, None, || {}, None),
            Err(ReadError::TooLarge { limit: 9_999 })
        ));
        assert_eq!(
            read_limited(&big[..], 10_000, None, || {}, None)
                .unwrap()
                .bytes
                .len(),
            10_000
        );
        // A length hint sizes the buffer once (beyond the head, which is read first); the input
        // may be shorter or longer than the hint.
        let large = vec![b' '; 300_000];
        let sized = read_limited(&large[..], 400_000, Some(300_000), || {}, None).unwrap();
        assert_eq!(sized.bytes.len(), 300_000);
        assert_eq!(sized.bytes.capacity(), 300_001);
        let short = read_limited(&large[..], 400_000, Some(200_000), || {}, None).unwrap();
        assert_eq!(short.bytes.len(), 300_000);
        assert!(matches!(
            read_limited(&large[..], 299_999, Some(300_000), || {}, None),
            Err(ReadError::TooLarge { limit: 299_999 })
        ));
        // The hint is not trusted before the head is known to be text.
        let zeros = std::io::repeat(0);
        let input = read_limited(zeros, u64::MAX - 1, Some(u64::MAX), || {}, None).unwrap();
        assert!(!input.complete);
        assert_eq!(input.bytes.len(), ENCODING_HEAD);
    }

    /// A file of `len` bytes of text that differs at every offset mod 251.
    fn text_file(len: usize) -> (tempfile::NamedTempFile, Vec<u8>) {
        let content: Vec<u8> = (0..len).map(|i| b' ' + (i % 251 % 90) as u8).collect();
        let mut file = tempfile::NamedTempFile::new().unwrap();
        std::io::Write::write_all(&mut file, &content).unwrap();
        (file, content)
    }

    #[test]
    fn a_large_file_is_read_whole_in_parallel_even_if_it_grew_since_its_size_was_taken() {
        let len = PARALLEL_READ as usize + 3 * (1 << 20) + 17;
        let (file, content) = text_file(len);
        let read = |hint: u64| {
            let f = File::open(file.path()).unwrap();
            read_limited(&f, u64::MAX - 1, Some(hint), || {}, Some(&f)).unwrap()
        };
        let exact = read(len as u64);
        assert!(exact.complete);
        assert!(exact.bytes == content, "read as written");
        // Its size was taken when it was shorter: what was written since is read after.
        assert!(read(PARALLEL_READ).bytes == content, "read to its end");
        assert_eq!(
            read_input(file.path(), "plan", u64::MAX)
                .unwrap()
                .bytes
                .len(),
            len
        );
    }

    #[test]
    fn a_file_that_became_shorter_while_it_was_read_is_an_error_that_says_so() {
        let (file, content) = text_file(3 * (1 << 20) + 5);
        let f = File::open(file.path()).unwrap();
        let head = content[..100].to_vec();
        let whole = read_in_parallel(&f, head.clone(), content.len() as u64).unwrap();
        assert!(whole == content);
        let error = read_in_parallel(&f, head, content.len() as u64 + (1 << 20)).unwrap_err();
        assert!(error.to_string().contains("became shorter"), "{error}");
    }
}
