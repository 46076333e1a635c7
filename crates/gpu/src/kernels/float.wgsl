// Unscaled formats: scale 1, no code offset. `block_dot(row, u, k, xb)` is the dot product of
// block k of unit u of `row` with the 32 inputs at x[xb..xb+8] (vec4s); it reads the weights
// straight from storage into vec4 lanes, with no private arrays (CPU drivers such as
// SwiftShader keep those in memory, which made every weight cost extra loads and stores).

// ---- f32 ----
const OFFSET: f32 = 0.0;
// A unit is one block: 8 words, each 4 f32 bit patterns.
fn block_dot(row: u32, u: u32, k: u32, xb: u32) -> f32 {
    let base = (row * UNITS + u) * 8u;
    var s = vec4<f32>(0.0);
    for (var i = 0u; i < 8u; i++) { s = fma(bitcast<vec4<f32>>(w[base + i]), x[xb + i], s); }
    return (s.x + s.y) + (s.z + s.w);
}
fn block_scale(row: u32, blk: u32) -> f32 { return 1.0; }

// ---- f16 ----
const OFFSET: f32 = 0.0;
// A unit is one block: 4 words, each 8 halves (two per u32, low half first).
fn block_dot(row: u32, u: u32, k: u32, xb: u32) -> f32 {
    let base = (row * UNITS + u) * 4u;
    var s = vec4<f32>(0.0);
    for (var i = 0u; i < 4u; i++) {
        let q = w[base + i];
        s = fma(vec4<f32>(unpack2x16float(q.x), unpack2x16float(q.y)), x[xb + 2u * i], s);
        s = fma(vec4<f32>(unpack2x16float(q.z), unpack2x16float(q.w)), x[xb + 2u * i + 1u], s);
    }
    return (s.x + s.y) + (s.z + s.w);
}
fn block_scale(row: u32, blk: u32) -> f32 { return 1.0; }
