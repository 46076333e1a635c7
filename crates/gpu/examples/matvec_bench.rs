//! Times y = W·x for each format on the first adapter, same run, same shapes:
//!   cargo run -p mpq-gpu --example matvec_bench -- [ROWS] [COLS] [REPEATS] [BATCH]
//! Reports ms per product, GFLOP/s and effective GB/s of weight traffic. (The CLI's
//! `mpqlab bench gpu` is to follow; this is the kernel-level measurement.)

use std::time::Instant;

use mpq_gpu::{Format, Gpu, QuantMatrix};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<usize> = std::env::args().skip(1).filter_map(|a| a.parse().ok()).collect();
    let (rows, cols, repeats, batch) =
        (*args.first().unwrap_or(&4096), *args.get(1).unwrap_or(&4096), *args.get(2).unwrap_or(&20) as u32, *args.get(3).unwrap_or(&1));
    let gpu = Gpu::new_blocking()?;
    println!("adapter: {} ({:?}, {:?})", gpu.info.name, gpu.info.device_type, gpu.info.backend);
    let w: Vec<f32> = (0..rows * cols).map(|i| ((i * 2654435761) % 1000) as f32 / 500.0 - 1.0).collect();
    let x: Vec<f32> = (0..batch * cols).map(|i| ((i * 40503) % 1000) as f32 / 500.0 - 1.0).collect();
    println!("{rows}×{cols} · {}, {repeats} dispatches per timing (median of 3)", if batch == 1 { "vector".to_string() } else { format!("{batch} vectors") });
    for format in Format::ALL {
        let m = QuantMatrix::quantize(&w, rows, cols, format);
        let gm = gpu.upload(&m)?;
        gpu.run(&gm, &x, batch, 1)?; // warm-up: pipeline compilation, first touch
        let mut per = Vec::new();
        for _ in 0..3 {
            let t0 = Instant::now();
            gpu.run(&gm, &x, batch, 1)?;
            let one = t0.elapsed().as_secs_f64();
            let t0 = Instant::now();
            gpu.run(&gm, &x, batch, repeats + 1)?;
            // Subtract the fixed cost of one submission (upload of x, readback) measured above.
            per.push((t0.elapsed().as_secs_f64() - one) / repeats as f64);
        }
        per.sort_by(f64::total_cmp);
        let s = per[1].max(1e-9);
        let flops = 2.0 * rows as f64 * cols as f64 * batch as f64;
        println!(
            "{:>5}: {:>8.3} ms  {:>7.2} GFLOP/s  {:>7.2} GB/s weights  ({:.2} bits/weight, {:.1} MB)",
            format.name(),
            s * 1e3,
            flops / s / 1e9,
            m.storage_bytes() as f64 / s / 1e9,
            format.bits_per_weight(),
            m.storage_bytes() as f64 / 1e6
        );
    }
    Ok(())
}
