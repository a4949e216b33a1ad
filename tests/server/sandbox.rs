//! The step sandbox end to end: a pull request whose Terraform code reads the server's
//! environment, its database and a file in its data directory gets nothing of them posted.

use crate::world::{Options, World};

const NETWORK_TF: &str = "stacks/network/main.tf";

/// In a file of the data directory.
const FILE_SECRET: &str = "data-dir-secret-0998";

/// One `KEY=value` of this process's environment as the kernel shows it in
/// `/proc/<pid>/environ` (this test process is the server).
fn server_env_entry() -> String {
    let environ = std::fs::read("/proc/self/environ").unwrap();
    let entries: Vec<String> = environ
        .split(|&b| b == 0)
        .map(|e| String::from_utf8_lossy(e).into_owned())
        .filter(|e| e.len() > 12 && e.len() < 100 && e.contains('='))
        .collect();
    entries
        .iter()
        .find(|e| e.starts_with("CARGO_MANIFEST_DIR="))
        .or_else(|| entries.iter().find(|e| !e.starts_with("PATH=")))
        .expect("the test process has an environment")
        .clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_stack_cannot_read_the_servers_environment_database_or_data_directory() {
    let w = World::start(Options::default()).await;
    std::fs::write(w.data_dir.join("notes.txt"), FILE_SECRET).unwrap();
    let db = w.services.config.database.display().to_string();
    let env_entry = server_env_entry();
    let (key, _) = env_entry.split_once('=').unwrap();
    // Each read is wrapped in try(), so the plan succeeds either way and a successful read
    // would be in the posted diff; each pulls out just the secret. The patterns are written so
    // that the source (which Terraform quotes in errors) does not hold the secret itself.
    let stealing = format!(
        r#"
terraform {{
  backend "local" {{}}
}}

resource "terraform_data" "environ" {{
  input = try(regex(".{key_tail}=[^\\x00]*", textdecodebase64(filebase64("/proc/{pid}/environ"), "ISO-8859-1")), "environ denied")
}}

resource "terraform_data" "database" {{
  input = try(regex("SQLit. format 3", textdecodebase64(filebase64("{db}"), "ISO-8859-1")), "database denied")
}}

resource "terraform_data" "notes" {{
  input = try(file("{notes}"), "notes denied")
}}
"#,
        key_tail = &key[1..],
        pid = std::process::id(),
        notes = w.data_dir.join("notes.txt").display(),
    );
    let head = w.push("steal", 21, &[(NETWORK_TF, &stealing)], "read the server");
    w.open_pr(21, "steal", &head, "mallory").await;
    w.settle().await;

    let body: String = w
        .github
        .comments(21)
        .iter()
        .map(|c| c.body.clone())
        .collect();
    assert!(body.contains("`network`"), "{body}");
    for call in w.github.calls() {
        let text = format!("{} {} {}", call.method, call.path, call.body);
        for secret in [env_entry.as_str(), FILE_SECRET, "SQLite format 3"] {
            assert!(
                !text.contains(secret),
                "{secret:?} reached GitHub in {} {}:\n{text}",
                call.method,
                call.path
            );
        }
    }
    // The plan ran in the sandbox, and every read was refused there.
    for denied in ["environ denied", "database denied", "notes denied"] {
        assert!(body.contains(denied), "{denied}:\n{body}");
    }
}
