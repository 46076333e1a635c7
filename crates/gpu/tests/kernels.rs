//! Every kernel against its CPU reference, on whatever adapter wgpu finds (lavapipe in CI:
//! `MPQ_REQUIRE_GPU=1` makes a missing adapter a failure), for odd shapes that are not
//! multiples of the block (32) or tile (16) sizes; plus the formats' own arithmetic.

use mpq_gpu::formats::{BLOCK, quantize_block_q4_0, quantize_block_q8_0};
use mpq_gpu::check::check_variant;
use mpq_gpu::{Activations, Format, Generation, Gpu, QuantMatrix, Reduction, Scale};

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
    // Every reduction the adapter has (lavapipe: subgroups and the workgroup tree); the block
    // formats with f32 and (wherever WGSL has dot4I8Packed: every native adapter) int8 inputs.
    assert!(gpu.packed_dot.available(), "naga implements dot4I8Packed on every backend");
    assert_eq!(checks.len(), gpu.reductions().len() * (2 + 3 * 2 * 2) * mpq_gpu::check::SHAPES.len());
    assert_eq!(checks.iter().filter(|c| c.activations == Activations::Int8).count(), gpu.reductions().len() * 3 * 2 * mpq_gpu::check::SHAPES.len());
    assert_eq!(gpu.reductions().contains(&Reduction::Subgroup), gpu.has_subgroups());
    for c in &checks {
        assert!(
            c.passed,
            "{:?} {:?} {:?} inputs {}×{} batch {}: max error {} ({}× the tolerance)",
            c.format, c.scale, c.activations, c.rows, c.cols, c.batch, c.max_abs_error, c.worst_share_of_tolerance
        );
    }
}

#[test]
fn matrices_split_into_slabs_give_the_same_products() {
    let Some(gpu) = Gpu::for_tests() else { return };
    // Slabs that hold one or two row groups (4 rows each): 130 rows become 33 or 17 slabs.
    for format in Format::ALL {
        let row_bytes = mpq_gpu::layout::units_per_row(format, 257) * mpq_gpu::layout::words_per_unit(format) * 16;
        for (batch, max) in [(1, 4 * row_bytes), (3, 8 * row_bytes + 5)] {
            for act in mpq_gpu::check::activations_for(&gpu, format) {
                let c = pollster::block_on(check_variant(
                    &gpu,
                    format,
                    Scale::Reference,
                    130,
                    257,
                    batch,
                    Generation::V2,
                    gpu.reductions()[0],
                    act,
                    Some(max),
                ))
                .unwrap();
                assert!(c.passed, "{format:?} {act:?} batch {batch} in slabs of {max} B: {c:?}");
            }
        }
        let m = QuantMatrix::quantize(&values(130 * 257, 3), 130, 257, format);
        assert_eq!(gpu.upload_in_slabs(&m, 4 * row_bytes).unwrap().slabs(), 130usize.div_ceil(4));
        assert!(matches!(gpu.upload_in_slabs(&m, 4 * row_bytes - 1), Err(mpq_gpu::GpuError::TooLarge(_))));
    }
}

#[test]
fn v1_kernels_still_equal_the_reference() {
    // The bench's baseline must compute the same products, or its times would mean nothing.
    let Some(gpu) = Gpu::for_tests() else { return };
    for format in Format::ALL {
        for (rows, cols, batch) in [(7, 33, 1), (130, 257, 1), (33, 65, 17)] {
            let c = pollster::block_on(check_variant(&gpu, format, Scale::Reference, rows, cols, batch, Generation::V1, Reduction::Workgroup, Activations::F32, None))
                .unwrap();
            assert!(c.passed, "v1 {format:?} {rows}×{cols} batch {batch}: {c:?}");
        }
    }
}

#[test]
fn a_short_bench_times_every_format_against_the_ceiling() {
    let Some(gpu) = Gpu::for_tests() else { return };
    let spec = mpq_gpu::bench::BenchSpec { sizes: vec![256], batch: 1, repeats: 2, baseline: true, int8: true, formats: Format::ALL.to_vec() };
    let mut steps = 0;
    let run = mpq_gpu::bench::run_blocking(&gpu, &spec, |_, _, _| steps += 1).unwrap();
    // v1 and v2 for five formats, and v2 with int8 inputs for the three block formats.
    assert_eq!(steps, 14);
    assert_eq!(run.rows.len(), 13, "{:?}", run.skipped);
    assert_eq!(run.packed_dot, Some(gpu.packed_dot));
    let int8: Vec<_> = run.rows.iter().filter(|t| t.activations == Activations::Int8).map(|t| t.format).collect();
    assert_eq!(int8, [Format::Q8_0, Format::Q4_0, Format::Q3_0]);
    assert!(run.ceiling.gbps > 0.0 && run.ceiling.gbps.is_finite());
    for t in &run.rows {
        assert!(t.ms > 0.0 && t.weight_gbps.is_finite(), "{t:?}");
        assert!(t.copies >= 1 && t.copies * t.weight_bytes >= mpq_gpu::bench::FOOTPRINT.min(t.weight_bytes * mpq_gpu::bench::MAX_COPIES));
        assert!(run.vs_f32(t).is_some() && run.vs_v1(t).is_some());
        assert_eq!(run.vs_f32_inputs(t).is_some(), t.activations == Activations::Int8);
    }
}

#[test]
fn the_int8_reference_is_the_q8_0_dot_product() {
    // cpu::matmul_int8 against a plain reading of its definition: x quantised per block with
    // llama.cpp's Q8_0 rule, then Σ_blocks d_w · d_x · Σ code_w · code_x; and the error it adds
    // to the f32-input product is x's quantisation error (small, not zero).
    let (rows, cols) = (5, 70);
    let w = values(rows * cols, 11);
    let x = values(cols, 12);
    for format in [Format::Q8_0, Format::Q4_0, Format::Q3_0] {
        let m = QuantMatrix::quantize(&w, rows, cols, format);
        let got = mpq_gpu::cpu::matmul_int8(&m, &x, 1).unwrap();
        let xq = mpq_gpu::formats::quantize_activations(&x, cols.div_ceil(BLOCK));
        let exact = mpq_gpu::cpu::matvec(&m, &x);
        for r in 0..rows {
            let mut want = 0f64;
            for (b, (dx, q)) in xq.iter().enumerate() {
                let dot: i64 = (0..BLOCK).filter(|j| b * BLOCK + j < cols).map(|j| m.code(r, b * BLOCK + j) as i64 * q[j] as i64).sum();
                want += m.block_scale(r, b) as f64 * dx.to_f32() as f64 * dot as f64;
            }
            assert!((got[r] as f64 - want).abs() <= 1e-4 * want.abs().max(1.0), "{format:?} row {r}: {} vs {want}", got[r]);
            let rel = (got[r] - exact[r]).abs() / exact[r].abs().max(1.0);
            assert!(rel > 0.0 && rel < 0.05, "{format:?} row {r}: int8 inputs moved the output by {rel}");
        }
    }
    assert!(mpq_gpu::cpu::matmul_int8(&QuantMatrix::quantize(&w, rows, cols, Format::F16), &x, 1).is_none());
}
