//! Writes a synthetic `terraform show -json` plan, for benchmarks:
//! `cargo run --release --example synth_plan -- --resources 10000 [--seed 1] [-o FILE]`.
//! The generator is `tools/synth.rs`; it is not part of the planguard binary.

#[path = "../tools/synth.rs"]
mod synth;

use std::io::{BufWriter, Write};

fn main() -> std::io::Result<()> {
    let mut resources = 1000usize;
    let mut seed = 1u64;
    let mut output: Option<String> = None;
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        let mut value = |name: &str| {
            args.next().unwrap_or_else(|| {
                eprintln!("{name} needs a value");
                std::process::exit(2)
            })
        };
        match a.as_str() {
            "--resources" => resources = value("--resources").parse().unwrap_or_else(|_| usage()),
            "--seed" => seed = value("--seed").parse().unwrap_or_else(|_| usage()),
            "-o" | "--output" => output = Some(value("--output")),
            _ => usage(),
        }
    }
    let out: Box<dyn Write> = match &output {
        Some(p) => Box::new(std::fs::File::create(p)?),
        None => Box::new(std::io::stdout().lock()),
    };
    synth::write_plan(resources, seed, BufWriter::new(out))
}

fn usage() -> ! {
    eprintln!("usage: synth_plan [--resources N] [--seed S] [-o FILE]");
    std::process::exit(2)
}
