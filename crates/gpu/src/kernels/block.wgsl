// Block formats (32 weights, one f16 scale each): llama.cpp's codes, decoded a whole word at a
// time — masks and shifts on 32 bits, then to four lanes at once (`bytes_u`/`bytes_i`),
// instead of one extract per weight. `block_dot(row, u, k, xb)` is the dot product of the
// stored codes of block k of unit u of `row` with the 32 inputs at x[xb..xb+8] (vec4s), before
// the scale and the offset (OFFSET: the kernel takes it off once per block); weights go from
// storage straight into vec4 lanes, with no private arrays (see float.wgsl).

// ---- q8_0 ----
const OFFSET: f32 = 0.0;
// A unit is one block: 2 words = 8 u32 of four int8 each (element 4i + k in byte k of u32 i).
fn block_dot(row: u32, u: u32, k: u32, xb: u32) -> f32 {
    let base = (row * UNITS + u) * 2u;
    var s = vec4<f32>(0.0);
    for (var i = 0u; i < 2u; i++) {
        let q = w[base + i];
        s = fma(bytes_i(q.x), x[xb + 4u * i], s);
        s = fma(bytes_i(q.y), x[xb + 4u * i + 1u], s);
        s = fma(bytes_i(q.z), x[xb + 4u * i + 2u], s);
        s = fma(bytes_i(q.w), x[xb + 4u * i + 3u], s);
    }
    return (s.x + s.y) + (s.z + s.w);
}
fn block_scale(row: u32, blk: u32) -> f32 { return scale_at(row * UNITS * BPU + blk); }

// ---- q4_0 ----
// A unit is one block: 1 word = 16 bytes; byte j holds element j (low nibble) and j + 16
// (high nibble), each stored as q + 8. Masking a whole u32 with 0x0f0f0f0f gives elements
// 4i..4i+3, shifting it by 4 first gives 16+4i..16+4i+3.
const OFFSET: f32 = 8.0;
fn block_dot(row: u32, u: u32, k: u32, xb: u32) -> f32 {
    let q = w[row * UNITS + u];
    var s = vec4<f32>(0.0);
    for (var i = 0u; i < 4u; i++) {
        s = fma(bytes_u(q[i] & 0x0f0f0f0fu), x[xb + i], s);
        s = fma(bytes_u((q[i] >> 4u) & 0x0f0f0f0fu), x[xb + 4u + i], s);
    }
    return (s.x + s.y) + (s.z + s.w);
}
fn block_scale(row: u32, blk: u32) -> f32 { return scale_at(row * UNITS * BPU + blk); }

// ---- q3_0 ----
// A unit is four blocks in 3 words: component k of word 0 / 1 is block k's first / second
// low-bit word (2 bits per element, element j at bits 2·(j mod 16)), of word 2 its high bits
// (bit j); each element is stored as q + 4. Four elements' low parts are one byte of a low
// word, spread to four bytes by shifts; their high bits are a nibble of the high word.
const OFFSET: f32 = 4.0;
fn spread2(b: u32) -> u32 { return (b | (b << 6u) | (b << 12u) | (b << 18u)) & 0x03030303u; }
fn spread1(n: u32) -> u32 { return (n | (n << 7u) | (n << 14u) | (n << 21u)) & 0x01010101u; }
fn block_dot(row: u32, u: u32, k: u32, xb: u32) -> f32 {
    let base = (row * UNITS + u) * 3u;
    let hi = w[base + 2u][k];
    var s = vec4<f32>(0.0);
    for (var h = 0u; h < 2u; h++) {
        let lo = w[base + h][k];
        for (var i = 0u; i < 4u; i++) {
            let j = h * 4u + i; // elements 4j .. 4j+3
            let q = spread2((lo >> (8u * i)) & 0xffu) | (spread1((hi >> (4u * j)) & 0xfu) << 2u);
            s = fma(bytes_u(q), x[xb + j], s);
        }
    }
    return (s.x + s.y) + (s.z + s.w);
}
fn block_scale(row: u32, blk: u32) -> f32 { return scale_at(row * UNITS * BPU + blk); }
