//! The `planguard` binary: parse arguments, run, map the outcome to an exit code.

use clap::Parser;

/// regorus allocates on nearly every step of evaluation; mimalloc handles that churn across
/// worker threads much better than the system allocator. The counting wrapper gives each
/// policy evaluation its memory limit (`planguard::policy::memory`).
#[global_allocator]
static GLOBAL: planguard::policy::memory::CountingAlloc<mimalloc::MiMalloc> =
    planguard::policy::memory::CountingAlloc(mimalloc::MiMalloc);

/// Stack of each evaluation thread.
const EVALUATION_STACK: usize = 64 << 20;

fn main() {
    // regorus reports undefined values through `anyhow` errors on its hot path; with
    // RUST_BACKTRACE set, each of those would capture a backtrace (10x slower evaluation).
    // planguard's own errors never print backtraces, so library backtraces are turned off.
    if std::env::var_os("RUST_LIB_BACKTRACE").is_none() {
        std::env::set_var("RUST_LIB_BACKTRACE", "0");
    }
    // Policies may nest rule and function calls as deep as regorus allows (256 calls);
    // evaluation threads get the stack for that (reserved, and only committed when used).
    let _ = rayon::ThreadPoolBuilder::new()
        .stack_size(EVALUATION_STACK)
        .build_global();
    let cli = planguard::cli::Cli::parse();
    let code = match planguard::cli::run(cli) {
        Ok(code) => code,
        Err(err) => {
            eprintln!("error: {err:#}");
            2
        }
    };
    std::process::exit(code);
}
