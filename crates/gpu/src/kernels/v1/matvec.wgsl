// y = W·x, batch 1: one workgroup per output row; its 64 threads take every 64th block, then
// reduce their partial sums in workgroup memory.
const WG: u32 = 64u;
var<workgroup> partial: array<f32, 64>;

@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_index) t: u32) {
    _ = scales[0]; // keep the binding in the layout for formats without scales
    let r = wg.x + wg.y * 65535u;
    let live = r < dims.rows;
    var s = 0.0;
    if (live) {
        for (var b = t; b < dims.nb; b += WG) { s += block_dot(r, b, 0u); }
    }
    partial[t] = s;
    workgroupBarrier();
    for (var stride = WG / 2u; stride > 0u; stride = stride / 2u) {
        if (t < stride) { partial[t] += partial[t + stride]; }
        workgroupBarrier();
    }
    if (live && t == 0u) { y[r] = partial[0]; }
}
