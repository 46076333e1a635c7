// Shared by every kernel. The format-specific part (`block_dot`, `w_at`) is appended per format.
struct Dims { rows: u32, cols: u32, batch: u32, nb: u32 }

@group(0) @binding(0) var<storage, read> w: array<u32>;
@group(0) @binding(1) var<storage, read> scales: array<u32>;
@group(0) @binding(2) var<storage, read> x: array<f32>;
@group(0) @binding(3) var<storage, read_write> y: array<f32>;
@group(0) @binding(4) var<uniform> dims: Dims;

fn scale(idx: u32) -> f32 {
    let p = unpack2x16float(scales[idx >> 1u]);
    return select(p.x, p.y, (idx & 1u) == 1u);
}

// Sign-extends byte `k` (0..3) of `word`.
fn sbyte(word: u32, k: u32) -> f32 {
    return f32(bitcast<i32>(word << (24u - 8u * k)) >> 24u);
}

// x[xbase + c] for c < cols, else 0.
fn xv(xbase: u32, c: u32) -> f32 {
    return select(0.0, x[xbase + min(c, dims.cols - 1u)], c < dims.cols);
}
