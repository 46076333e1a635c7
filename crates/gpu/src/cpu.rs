//! CPU references for every kernel: the same arithmetic on the same stored weights, in f32,
//! accumulating per block like the GPU does (block partial sums, then the scale).
//!
//! Each output's sum runs in the same order as before (within a block from its first column,
//! then block by block), but the loops are arranged for speed: the matrix is decoded once
//! (exactly the values the kernels decode) and transposed, so the innermost loop runs over
//! independent outputs, which the compiler can vectorise without reordering any one sum. The
//! quantized model lab runs whole networks through these references.

use crate::formats::{BLOCK, QuantMatrix, blocks_per_row};

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
