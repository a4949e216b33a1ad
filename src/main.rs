//! The `planguard` binary: parse arguments, run, map the outcome to an exit code.

use clap::Parser;

/// regorus allocates on nearly every step of evaluation; mimalloc handles that churn across
/// worker threads much better than the system allocator. The counting wrapper gives each
/// policy evaluation its memory limit (`planguard::policy::memory`).
#[global_allocator]
static GLOBAL: planguard::policy::memory::CountingAlloc<mimalloc::MiMalloc> =
    planguard::policy::memory::CountingAlloc(mimalloc::MiMalloc);

/// mimalloc's `mi_option_purge_delay` (its `mi_option_e` value, which libmimalloc-sys does
/// not name): how long freed memory stays committed before it goes back to the system.
const MI_OPTION_PURGE_DELAY: libmimalloc_sys::mi_option_t = 15;
const PURGE_DELAY_MS: std::os::raw::c_long = 10;

/// Stack of each evaluation thread.
const EVALUATION_STACK: usize = 64 << 20;

fn main() {
    // mimalloc 3 keeps freed memory committed for a second by default. A check frees most of
    // what it allocates (converted slices, evaluation state) well within that, so the peak
    // was more the sum of the phases than the largest of them. 10 ms (mimalloc 2's default)
    // lowers the peak of the built-in library on a 100k-resource plan from 375-404 MB to
    // 328-344 MB, for 0.4 s more system time.
    // An explicit MIMALLOC_PURGE_DELAY in the environment wins.
    if std::env::var_os("MIMALLOC_PURGE_DELAY").is_none() {
        // SAFETY: sets an integer option, before any other thread exists.
        unsafe { libmimalloc_sys::mi_option_set(MI_OPTION_PURGE_DELAY, PURGE_DELAY_MS) };
    }
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
