//! Synthetic plans for benchmarks (placeholder until the generator lands).

use std::io::Write;

pub fn write_plan<W: Write>(_n: usize, _seed: u64, mut w: W) -> std::io::Result<()> {
    w.write_all(b"{\"format_version\":\"1.2\",\"resource_changes\":[]}")
}
