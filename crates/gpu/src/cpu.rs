//! CPU references for every kernel: the same arithmetic on the same stored weights, in f32,
//! accumulating per block like the GPU does (block partial sums, then the scale).

use crate::formats::{BLOCK, QuantMatrix, blocks_per_row};

/// y = W·x for a `rows × cols` matrix and `cols`-vector x.
pub fn matvec(w: &QuantMatrix, x: &[f32]) -> Vec<f32> {
    assert_eq!(x.len(), w.cols);
    (0..w.rows).map(|r| row_dot(w, r, x)).collect()
}

/// Y = X·Wᵀ: `batch` input rows of length `cols` (row-major) → `batch × rows` outputs.
pub fn matmul(w: &QuantMatrix, x: &[f32], batch: usize) -> Vec<f32> {
    assert_eq!(x.len(), batch * w.cols);
    let mut y = vec![0.0; batch * w.rows];
    for b in 0..batch {
        for r in 0..w.rows {
            y[b * w.rows + r] = row_dot(w, r, &x[b * w.cols..(b + 1) * w.cols]);
        }
    }
    y
}

/// Sums block by block, as the kernels do (for every format: f32/f16 rows are blocked too).
fn row_dot(w: &QuantMatrix, r: usize, x: &[f32]) -> f32 {
    (0..blocks_per_row(w.cols))
        .map(|b| (b * BLOCK..((b + 1) * BLOCK).min(w.cols)).map(|c| w.get(r, c) * x[c]).sum::<f32>())
        .sum()
}
