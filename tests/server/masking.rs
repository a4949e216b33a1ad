//! Masking as defence in depth: code that re-encodes a secret planguard knows (here the
//! webhook secret) gets it posted in no form.

use crate::common;
use crate::world::{Options, World, SECRET};

const NETWORK_TF: &str = "stacks/network/main.tf";

/// Values computed from the secret without writing it down; the plan shows them.
const LEAK: &str = r#"
locals {
  s = join("", ["e2e-", "webhook-", "secret"])
}

resource "terraform_data" "leak" {
  input = {
    plain   = local.s
    b64     = base64encode(local.s)
    b64_in1 = base64encode("x${local.s}yy")
    b64_in2 = base64encode("xy${local.s}")
    upper   = upper(local.s)
    title   = title(local.s)
    rev     = strrev(local.s)
  }
}

output "leak" {
  value = strrev(upper(local.s))
}
"#;

/// Pieces of each form of the secret, lower-cased: it, reversed, and its base64 at the three
/// byte alignments (`printf '%se2e-webhook-secret' "" x xy | base64`).
fn forms() -> Vec<String> {
    assert_eq!(
        SECRET, "e2e-webhook-secret",
        "the forms below are of this value"
    );
    [
        SECRET,
        "terces-koohbew-e2e",
        "6532652d776562686f6f6b2d736563726574",
        "ZTJlLXdlYmhvb2stc2VjcmV0",
        "UyZS13ZWJob29rLXNlY3JldC",
        "lMmUtd2ViaG9vay1zZWNyZXQ",
    ]
    .iter()
    .map(|f| f[..12].to_lowercase())
    .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_known_secret_is_posted_in_no_form() {
    let w = World::start(Options::default()).await;
    let original =
        std::fs::read_to_string(common::testdata(&format!("server/repo/{NETWORK_TF}"))).unwrap();
    let head = w.push(
        "f",
        1,
        &[(NETWORK_TF, &format!("{original}{LEAK}"))],
        "leak",
    );
    let (status, body) = w.open_pr(1, "f", &head, "alice").await;
    assert_eq!(status, 202, "{body}");
    w.settle().await;

    let comment = w.pr_comment(1);
    assert!(comment.contains("terraform_data.leak"), "{comment}");
    assert!(
        comment.matches(planguard::redact::MASK).count() >= 7,
        "every leaked value is masked: {comment}"
    );
    let calls = w.github.calls();
    assert!(!calls.is_empty());
    for call in calls {
        let text = call.body.to_string().to_lowercase();
        for form in forms() {
            assert!(
                !text.contains(&form),
                "{} {} carries {form:?}: {text}",
                call.method,
                call.path
            );
        }
    }
}
