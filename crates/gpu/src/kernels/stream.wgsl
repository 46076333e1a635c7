// The ceiling of the stack: how fast this adapter, driver and wgpu read a large storage
// buffer at all. Each lane XORs PER consecutive-in-stride vec4<u32> words (grid-stride, so
// neighbouring lanes read neighbouring words) and writes one word, which keeps the reads
// from being optimised away. Generated before this text: WG, PER, GROUPS.
@group(0) @binding(0) var<storage, read> src: array<vec4<u32>>;
@group(0) @binding(1) var<storage, read_write> sink: array<u32>;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_index) lane: u32) {
    let stride = GROUPS * WG;
    var a = vec4<u32>(0u);
    for (var i = 0u; i < PER; i++) { a ^= src[(wg.x * WG + lane) + i * stride]; }
    sink[wg.x * WG + lane] = a.x ^ a.y ^ a.z ^ a.w;
}
