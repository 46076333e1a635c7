//! Speed check, not run by default (debug builds are not representative):
//! `cargo test --release -p mpq-metrics --test timing -- --ignored --nocapture`

use std::time::Instant;

use mpq_core::{Image, PixelFormat};

fn test_image(w: u32, h: u32, seed: u32) -> Image {
    let data = (0..w * h * 3)
        .map(|i| {
            let (x, y) = ((i / 3) % w, (i / 3) / w);
            (x.wrapping_mul(7) ^ y.wrapping_mul(13) ^ (i % 3 * 40))
                .wrapping_add(seed.wrapping_mul(i % 17)) as u8
        })
        .collect();
    Image::new(w, h, PixelFormat::Rgb8, data).unwrap()
}

fn best_of<T>(n: usize, mut f: impl FnMut() -> T) -> f64 {
    (0..n)
        .map(|_| {
            let t = Instant::now();
            std::hint::black_box(f());
            t.elapsed().as_secs_f64() * 1e3
        })
        .fold(f64::INFINITY, f64::min)
}

#[test]
#[ignore]
fn timing_512() {
    let (a, b) = (test_image(512, 512, 1), test_image(512, 512, 2));
    let ssim = best_of(10, || mpq_metrics::ssim(&a, &b).unwrap());
    let ms = best_of(10, || mpq_metrics::ms_ssim(&a, &b).unwrap());
    let q = best_of(10, || mpq_metrics::quality(&a, &b).unwrap());
    let psnr = best_of(10, || {
        (mpq_metrics::psnr_rgb(&a, &b).unwrap(), mpq_metrics::psnr_y(&a, &b).unwrap())
    });
    eprintln!(
        "512×512: ssim {ssim:.1} ms, ms_ssim {ms:.1} ms, quality (all four) {q:.1} ms, both psnr {psnr:.1} ms"
    );
    let (a, b) = (test_image(4000, 3000, 1), test_image(4000, 3000, 2));
    let q = best_of(1, || mpq_metrics::quality(&a, &b).unwrap());
    eprintln!("4000×3000: quality (all four) {q:.0} ms");
}
