//! Every kernel against its CPU reference, on whatever adapter wgpu finds (lavapipe in CI:
//! `MPQ_REQUIRE_GPU=1` makes a missing adapter a failure), for odd shapes that are not
//! multiples of the block (32) or tile (16) sizes; plus the formats' own arithmetic.

use mpq_gpu::formats::{BLOCK, quantize_block_q4_0, quantize_block_q8_0};
use mpq_gpu::{Format, Gpu, QuantMatrix};

use mpq_gpu::check::test_values as values;

#[test]
fn q8_0_and_q4_0_follow_llama_cpp() {
    let mut block = [0f32; BLOCK];
    for (i, v) in block.iter_mut().enumerate() {
        *v = (i as f32 - 10.0) / 8.0; // -1.25 ..= 2.625
    }
    let (d, q) = quantize_block_q8_0(&block);
    assert_eq!(d.to_f32(), half::f16::from_f32(2.625 / 127.0).to_f32());
    assert_eq!(q[31], 127);
    assert_eq!(q[10], 0);
    assert_eq!(q[0], (-1.25f32 * 127.0 / 2.625).round() as i8);
    let (d4, q4) = quantize_block_q4_0(&block);
    // Largest magnitude is +2.625, so d = 2.625 / -8 and that value maps to q = 0.
    assert_eq!(d4.to_f32(), half::f16::from_f32(-2.625 / 8.0).to_f32());
    assert_eq!(q4[15] >> 4, 0); // element 31
    assert_eq!(q4[10] & 15, 8); // element 10 is 0.0 → q = 8
    assert_eq!(Format::Q8_0.bits_per_weight(), 8.5);
    assert_eq!(Format::Q4_0.bits_per_weight(), 4.5);
    assert_eq!(Format::Q3_0.bits_per_weight(), 3.5);
    // Q3_0: d = 2.625 / -4; element 31 (+2.625) → q = 0, element 10 (0.0) → q = 4.
    let (d3, w3) = mpq_gpu::formats::quantize_block_q3_0(&block);
    assert_eq!(d3.to_f32(), half::f16::from_f32(-2.625 / 4.0).to_f32());
    let q3 = |j: usize| ((w3[j / 16] >> (2 * (j % 16))) & 3) | (((w3[2] >> j) & 1) << 2);
    assert_eq!(q3(31), 0);
    assert_eq!(q3(10), 4);
    assert_eq!(q3(0), ((-1.25f32 / (-2.625 / 4.0) + 4.5) as u32).min(7));
}

#[test]
fn dequantisation_error_is_bounded() {
    let (rows, cols) = (9, 77);
    let w = values(rows * cols, 7);
    for format in Format::ALL {
        let m = QuantMatrix::quantize(&w, rows, cols, format);
        let back = m.dequantize();
        for r in 0..rows {
            let row = &w[r * cols..(r + 1) * cols];
            for c in 0..cols {
                let block = &row[(c / BLOCK) * BLOCK..((c / BLOCK + 1) * BLOCK).min(cols)];
                let amax = block.iter().fold(0f32, |a, v| a.max(v.abs()));
                let bound = match format {
                    Format::F32 => 0.0,
                    Format::F16 => amax * 1e-3,
                    Format::Q8_0 => amax / 127.0 * 0.5 + amax * 1e-3,
                    Format::Q4_0 => amax / 8.0 * 1.0 + amax * 1e-3,
                    Format::Q3_0 => amax / 4.0 * 1.0 + amax * 1e-3,
                };
                let err = (back[r * cols + c] - row[c]).abs();
                assert!(err <= bound, "{format:?} ({r},{c}): error {err} > {bound}");
            }
        }
    }
}

#[test]
fn kernels_equal_cpu_reference_for_odd_shapes() {
    let Some(gpu) = Gpu::for_tests() else { return };
    // The same checks the page runs on the browser's WebGPU (`mpq_gpu::check`).
    let checks = pollster::block_on(mpq_gpu::check::check_all(&gpu, |_, _, _| {})).unwrap();
    assert_eq!(checks.len(), (2 + 3 * 2) * mpq_gpu::check::SHAPES.len());
    for c in &checks {
        assert!(
            c.passed,
            "{:?} {:?} {}×{} batch {}: max error {} ({}× the tolerance)",
            c.format, c.scale, c.rows, c.cols, c.batch, c.max_abs_error, c.worst_share_of_tolerance
        );
    }
}
