//! Times y = W·x for each format on the first adapter, same run, same shapes:
//!   cargo run -p mpq-gpu --example matvec_bench -- [ROWS] [COLS] [REPEATS] [BATCH]
//! (`mpqlab bench gpu` runs the same measurement over several sizes, as JSON.)

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<usize> = std::env::args().skip(1).filter_map(|a| a.parse().ok()).collect();
    let arg = |i: usize, d: usize| *args.get(i).unwrap_or(&d);
    let (rows, cols, repeats, batch) = (arg(0, 4096), arg(1, 4096), arg(2, 20) as u32, arg(3, 1));
    let gpu = mpq_gpu::Gpu::new_blocking()?;
    println!("adapter: {} ({:?}, {:?})", gpu.info.name, gpu.info.device_type, gpu.info.backend);
    println!("{rows}×{cols}, batch {batch}, {repeats} dispatches per timing (median of 3)");
    for t in mpq_gpu::bench::time_formats(&gpu, rows, cols, batch, repeats)? {
        println!(
            "{:>5}: {:>8.3} ms  {:>7.2} GFLOP/s  {:>7.2} GB/s weights  ({:.2} bits/weight, {:.1} MB)",
            t.format.name(),
            t.ms,
            t.gflops,
            t.weight_gbps,
            t.format.bits_per_weight(),
            t.weight_bytes as f64 / 1e6
        );
    }
    Ok(())
}
