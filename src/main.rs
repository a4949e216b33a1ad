//! The `planguard` binary: parse arguments, run, map the outcome to an exit code.

use clap::Parser;

fn main() {
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
