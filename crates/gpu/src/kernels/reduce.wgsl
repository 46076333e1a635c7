// The sum of each output's WG partial sums (one per lane), in two variants; device.rs picks
// one per adapter (`Reduction`).

// ---- workgroup ----
// A tree in workgroup memory: log2(WG) halving steps, all RB outputs side by side.
var<workgroup> red: array<f32, RB * WG>;

fn reduce_and_store(lane: u32, sg_lane: u32, acc: ptr<function, array<f32, RB>>, row0: u32, b0: u32) {
    for (var i = 0u; i < RB; i++) { red[i * WG + lane] = (*acc)[i]; }
    workgroupBarrier();
    for (var stride = WG / 2u; stride > 0u; stride = stride / 2u) {
        if (lane < stride) {
            for (var i = 0u; i < RB; i++) { red[i * WG + lane] += red[i * WG + lane + stride]; }
        }
        workgroupBarrier();
    }
    // RB may exceed WG (8 lanes on a short row, 2 rows × 8 inputs): lanes take every WG-th.
    for (var i = lane; i < RB; i += WG) { store(i, red[i * WG], row0, b0); }
}

// ---- subgroup ----
// `subgroupAdd` sums each output over a subgroup in registers; one lane per subgroup then
// leaves RB totals in workgroup memory and RB lanes add those up. The slot comes from an
// atomic counter rather than lane / subgroup size, because WGSL does not promise how lanes
// map to subgroups (and subgroup sizes differ: 8 on lavapipe, 32 on NVIDIA, 64 on AMD).
var<workgroup> red: array<f32, RB * WG>;
var<workgroup> slots: atomic<u32>;

fn reduce_and_store(lane: u32, sg_lane: u32, acc: ptr<function, array<f32, RB>>, row0: u32, b0: u32) {
    if (lane == 0u) { atomicStore(&slots, 0u); }
    workgroupBarrier();
    var t: array<f32, RB>;
    for (var i = 0u; i < RB; i++) { t[i] = subgroupAdd((*acc)[i]); }
    if (sg_lane == 0u) {
        let slot = atomicAdd(&slots, 1u);
        for (var i = 0u; i < RB; i++) { red[slot * RB + i] = t[i]; }
    }
    workgroupBarrier();
    let n = atomicLoad(&slots);
    for (var i = lane; i < RB; i += WG) {
        var s = 0.0;
        for (var k = 0u; k < n; k++) { s += red[k * RB + i]; }
        store(i, s, row0, b0);
    }
}
