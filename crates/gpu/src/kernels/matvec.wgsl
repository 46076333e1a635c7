// y = W·x for B inputs at a time (B = 1: the matrix–vector product; B > 1: a batch), for every
// weight format. Built for memory bandwidth, since a matvec reads each weight exactly once:
//
// * The workgroup owns R rows and all WG lanes split each row's K range: lane l takes units
//   l, l + WG, l + 2·WG, … (a unit is 1 block, or 4 for Q3_0; see layout.rs), so neighbouring
//   lanes read neighbouring 16-byte words and every load is a whole `vec4<u32>`.
// * K is fixed when the pipeline is made (UNITS, ITERS are constants of the generated source),
//   so the K loop has a constant trip count the driver can unroll; so do the R, B and 8-word
//   inner loops.
// * A block's scale is applied once per block and input (and the code offset of Q4_0/Q3_0
//   once per block and input for all R rows, see below); for B > 1 each input decodes the
//   block again from cache (cheaper than holding decoded blocks in private arrays, which CPU
//   drivers keep in memory).
// * Four independent partial sums per block (the vec4 lanes of `s`) shorten the add chain.
// * x is padded to whole units with zeros and W to whole row groups, so there are no bounds
//   checks in the loop; only the final write checks the row and the batch item.
//
// Generated before this text (device.rs, `kernel_source`): WG, R, B, RB = R·B, UNITS, ITERS,
// BPU (blocks per unit), XV (vec4s of x per input), the format's `block_dot` /
// `block_scale` / OFFSET (float.wgsl or block.wgsl), the reduction (reduce.wgsl) and the
// shared bindings (common.wgsl).

@group(0) @binding(2) var<storage, read> x: array<vec4<f32>>;

// The four bytes of `q` as unsigned / signed lanes, by vector shifts: two vector operations
// where naga's `unpack4xU8`/`unpack4xI8` become per-byte extracts on drivers without 8-bit
// integer support (SwiftShader's Q8_0 ran 1.4× slower with them).
fn bytes_u(q: u32) -> vec4<f32> {
    return vec4<f32>((vec4<u32>(q) >> vec4<u32>(0u, 8u, 16u, 24u)) & vec4<u32>(0xffu));
}
fn bytes_i(q: u32) -> vec4<f32> {
    return vec4<f32>(bitcast<vec4<i32>>(vec4<u32>(q) << vec4<u32>(24u, 16u, 8u, 0u)) >> vec4<u32>(24u));
}

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_index) lane: u32 /*SG_PARAM*/) {
    _ = scales[0]; // keep the binding in the layout for formats without scales
    let row0 = (wg.x + wg.z * 65535u) * R;
    let b0 = wg.y * B;
    var acc: array<f32, RB>;
    for (var it = 0u; it < ITERS; it++) {
        let u = lane + it * WG;
        if (u < UNITS) {
            // Codes stored with an offset (q + 8 for Q4_0, q + 4 for Q3_0) are used as stored:
            // Σ (q − o)·x = Σ q·x − o·Σ x, and o·Σ x is computed once per block and input for
            // all R rows instead of subtracting o from every weight.
            var xoff: array<f32, BPU * B>;
            if (OFFSET != 0.0) {
                for (var k = 0u; k < BPU; k++) {
                    for (var b = 0u; b < B; b++) {
                        let xb = min(b0 + b, dims.batch - 1u) * XV + (u * BPU + k) * 8u;
                        var t = vec4<f32>(0.0);
                        for (var i = 0u; i < 8u; i++) { t += x[xb + i]; }
                        xoff[k * B + b] = OFFSET * ((t.x + t.y) + (t.z + t.w));
                    }
                }
            }
            for (var r = 0u; r < R; r++) {
                for (var k = 0u; k < BPU; k++) {
                    let blk = u * BPU + k;
                    let d = block_scale(row0 + r, blk);
                    for (var b = 0u; b < B; b++) {
                        // Batch items past the end read the last one (and are not written).
                        let xb = min(b0 + b, dims.batch - 1u) * XV + blk * 8u;
                        acc[r * B + b] += d * (block_dot(row0 + r, u, k, xb) - xoff[k * B + b]);
                    }
                }
            }
        }
    }
    reduce_and_store(lane, /*SG_LANE*/ &acc, row0, b0);
}
