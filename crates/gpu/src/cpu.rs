//! CPU references for every kernel: the same arithmetic on the same stored weights, in f32,
//! accumulating per block like the GPU does (block partial sums, then the scale).
//!
//! Each output's sum runs in the same order as before (within a block from its first column,
//! then block by block), but the loops are arranged for speed: the matrix is decoded once
//! (exactly the values the kernels decode) and transposed, so the innermost loop runs over
//! independent outputs, which the compiler can vectorise without reordering any one sum. The
//! quantized model lab runs whole networks through these references.

use crate::formats::{BLOCK, Format, QuantMatrix, blocks_per_row, quantize_activations};

/// y = W·x for a `rows × cols` matrix and `cols`-vector x. Panics if `x.len() != cols`.
pub fn matvec(w: &QuantMatrix, x: &[f32]) -> Vec<f32> {
    assert_eq!(x.len(), w.cols);
    matmul(w, x, 1)
}

/// Y = X·Wᵀ: `batch` input rows of length `cols` (row-major) → `batch × rows` outputs.
/// Panics if `x.len() != batch · cols`.
pub fn matmul(w: &QuantMatrix, x: &[f32], batch: usize) -> Vec<f32> {
    assert_eq!(x.len(), batch * w.cols);
    let (rows, cols) = (w.rows, w.cols);
    let deq = w.dequantize();
    // Column-major copy: wt[c · rows + r] = W[r][c].
    let mut wt = vec![0f32; rows * cols];
    for r in 0..rows {
        for c in 0..cols {
            wt[c * rows + r] = deq[r * cols + c];
        }
    }
    let mut y = vec![0.0; batch * rows];
    let mut part = vec![0f32; rows];
    for b in 0..batch {
        let xr = &x[b * cols..(b + 1) * cols];
        let yr = &mut y[b * rows..(b + 1) * rows];
        for blk in 0..blocks_per_row(cols) {
            part.fill(0.0);
            for c in blk * BLOCK..((blk + 1) * BLOCK).min(cols) {
                let xv = xr[c];
                for (p, &wv) in part.iter_mut().zip(&wt[c * rows..(c + 1) * rows]) {
                    *p += wv * xv;
                }
            }
            for (o, p) in yr.iter_mut().zip(&part) {
                *o += p;
            }
        }
    }
    y
}

/// Y = X·Wᵀ with the inputs quantised to Q8_0 blocks, as the int8-activation kernels compute
/// it (llama.cpp's `vec_dot_q8_0_q8_0` family): per block an exact integer dot product of the
/// weight codes and the input codes, times the two scales; blocks summed in f32 from the first.
/// Only for block formats (F32/F16 have no codes): `None` otherwise.
pub fn matmul_int8(w: &QuantMatrix, x: &[f32], batch: usize) -> Option<Vec<f32>> {
    assert_eq!(x.len(), batch * w.cols);
    if matches!(w.format, Format::F32 | Format::F16) {
        return None;
    }
    let nb = blocks_per_row(w.cols);
    let mut y = vec![0f32; batch * w.rows];
    for b in 0..batch {
        let xq = quantize_activations(&x[b * w.cols..(b + 1) * w.cols], nb);
        for r in 0..w.rows {
            let mut acc = 0f32;
            for (blk, (dx, q)) in xq.iter().enumerate() {
                let dot: i32 = (0..BLOCK).map(|j| w.code(r, blk * BLOCK + j) * q[j] as i32).sum();
                acc += w.block_scale(r, blk) * dx.to_f32() * dot as f32;
            }
            y[b * w.rows + r] = acc;
        }
    }
    Some(y)
}

/// The inputs as the int8-activation kernels see them: each row's Q8_0 blocks dequantised
/// (for tolerances and for the error the quantisation of x adds).
pub fn dequantized_activations(x: &[f32], batch: usize, cols: usize) -> Vec<f32> {
    let nb = blocks_per_row(cols);
    let mut out = Vec::with_capacity(batch * cols);
    for b in 0..batch {
        let xq = quantize_activations(&x[b * cols..(b + 1) * cols], nb);
        out.extend((0..cols).map(|c| xq[c / BLOCK].1[c % BLOCK] as f32 * xq[c / BLOCK].0.to_f32()));
    }
    out
}
