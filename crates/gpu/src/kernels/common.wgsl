// What both bandwidth kernels (matvec.wgsl, matvec_int8.wgsl) share: the slab's dimensions,
// the weight, scale and output bindings, the scale reader and the guarded store. Binding 2
// (and 5) are the kernel's own: its inputs.

struct Dims {
    // Rows of this slab that exist (the rest is padding), its first row in y, y's row count
    // (the stride between batch items), and the batch size.
    rows: u32,
    row0: u32,
    out_rows: u32,
    batch: u32,
}

@group(0) @binding(0) var<storage, read> w: array<vec4<u32>>;
@group(0) @binding(1) var<storage, read> scales: array<u32>;
@group(0) @binding(3) var<storage, read_write> y: array<f32>;
@group(0) @binding(4) var<uniform> dims: Dims;

// f16 scale `idx` of this slab (two per word).
fn scale_at(idx: u32) -> f32 {
    let p = unpack2x16float(scales[idx >> 1u]);
    return select(p.x, p.y, (idx & 1u) == 1u);
}

// Output i of this workgroup (row i / B, input i % B), unless it is padding.
fn store(i: u32, v: f32, row0: u32, b0: u32) {
    let r = row0 + i / B;
    let b = b0 + i % B;
    if (r < dims.rows && b < dims.batch) { y[b * dims.out_rows + dims.row0 + r] = v; }
}
