// y = W·x̂ for B inputs at a time, x̂ being x quantised to Q8_0 blocks (the int8-activation
// path): the kernel of matvec.wgsl — R rows per workgroup, lanes over each row's units,
// whole-word loads, constant trip counts, the same reductions — with the block dot product in
// integers (`block_idot`, block_int8.wgsl) and both scales applied once per block. The input
// is 4× smaller than f32 (8.5 bits per element with its scale), which matters once batches
// re-read it; for one input it is the integer arithmetic that differs. Numbers differ from the
// f32-input kernels by x's quantisation (cpu::matmul_int8 is this path's reference).
//
// Generated before this text (device.rs, `kernel_source`): WG, R, B, RB, UNITS, ITERS, BPU,
// NB (blocks per padded input row), the format's `block_idot` / `block_scale` / OFFSET_I
// (block_int8.wgsl), the reduction (reduce.wgsl) and the shared bindings (common.wgsl).

// Per input, per block: 32 int8 codes as two vec4<u32> (layout::quantize_input).
@group(0) @binding(2) var<storage, read> xq: array<vec4<u32>>;
// Per input, per block: (scale, Σ codes).
@group(0) @binding(5) var<storage, read> xs: array<vec2<f32>>;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_index) lane: u32 /*SG_PARAM*/) {
    let row0 = (wg.x + wg.z * 65535u) * R;
    let b0 = wg.y * B;
    var acc: array<f32, RB>;
    for (var it = 0u; it < ITERS; it++) {
        let u = lane + it * WG;
        if (u < UNITS) {
            for (var k = 0u; k < BPU; k++) {
                let blk = u * BPU + k;
                for (var b = 0u; b < B; b++) {
                    // Batch items past the end read the last one (and are not written).
                    let xi = min(b0 + b, dims.batch - 1u) * NB + blk;
                    let xsb = xs[xi];
                    let off = OFFSET_I * i32(xsb.y);
                    for (var r = 0u; r < R; r++) {
                        acc[r * B + b] += (block_scale(row0 + r, blk) * xsb.x) * f32(block_idot(row0 + r, u, k, xi * 2u) - off);
                    }
                }
            }
        }
    }
    reduce_and_store(lane, /*SG_LANE*/ &acc, row0, b0);
}
