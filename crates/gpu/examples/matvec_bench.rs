//! Times y = W·x for each format on the first adapter, v1 and v2 kernels (and the v2 int8-input
//! kernels of the block formats), same run:
//!   cargo run --release -p mpq-gpu --example matvec_bench -- [N] [REPEATS] [BATCH]
//! (`mpqlab bench gpu` runs the same measurement over several sizes, as JSON.)

use mpq_gpu::bench::{BenchSpec, run_blocking};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<usize> = std::env::args().skip(1).filter_map(|a| a.parse().ok()).collect();
    let arg = |i: usize, d: usize| *args.get(i).unwrap_or(&d);
    let spec = BenchSpec {
        sizes: vec![arg(0, 4096)],
        repeats: arg(1, 20) as u32,
        batch: arg(2, 1),
        baseline: true,
        int8: true,
        formats: mpq_gpu::Format::ALL.to_vec(),
    };
    let gpu = mpq_gpu::Gpu::new_blocking()?;
    let run = run_blocking(&gpu, &spec, |what, k, n| eprintln!("[{k}/{n}] {what}"))?;
    println!(
        "adapter: {} ({}, {}), clock: {}, dot4I8Packed: {}",
        run.adapter,
        run.device_type,
        run.backend,
        run.clock.name(),
        run.packed_dot.map_or("not used", |p| p.name())
    );
    println!("streaming ceiling: {:.2} GB/s on {} MB", run.ceiling.gbps, run.ceiling.bytes >> 20);
    for t in &run.rows {
        println!("{}", run.describe(t));
    }
    for s in &run.skipped {
        println!("skipped: {s}");
    }
    Ok(())
}
