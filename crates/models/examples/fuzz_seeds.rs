//! Writes seeds for the fuzz targets of our own binary formats (the lossless f16/bf16 stream,
//! the test-subset format), which only this crate can produce: `fuzz/make-seeds.mjs` runs it.
//!   cargo run -p mpq-models --example fuzz_seeds -- fuzz/seeds

use mpq_models::Task;
use mpq_models::data::{decode_subset, encode_subset};
use mpq_models::float_codec::{Half, encode};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let dir = std::path::PathBuf::from(std::env::args().nth(1).unwrap_or_else(|| "fuzz/seeds".into()));
    let put = |target: &str, name: &str, bytes: &[u8]| -> std::io::Result<()> {
        std::fs::create_dir_all(dir.join(target))?;
        std::fs::write(dir.join(target).join(name), bytes)
    };
    // A spread of 16-bit patterns: zeros, ±1, tiny, huge, NaN/∞, and a ramp.
    let mut values: Vec<u16> = vec![0, 0x8000, 0x3c00, 0xbc00, 0x0001, 0x7bff, 0x7c00, 0x7e00, 0x3555];
    values.extend((0..200u16).map(|k| k.wrapping_mul(331)));
    put("float_codec", "f16", &encode(&values, Half::F16))?;
    put("float_codec", "bf16", &encode(&values, Half::Bf16))?;
    put("float_codec", "empty-f16", &encode(&[], Half::F16))?;
    for task in Task::ALL {
        let set = decode_subset(task.bundled_test_subset())?;
        put("subset_decode", task.id(), &encode_subset(&set.take(3)))?;
    }
    Ok(())
}
