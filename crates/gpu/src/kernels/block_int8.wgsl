// Block formats with int8 inputs (the int8-activation path, `matvec_int8.wgsl`): x arrives
// quantised to Q8_0 blocks (32 int8 codes in 8 u32, one scale), so a block's dot product is
// exact integer arithmetic — `dot4I8Packed` multiplies four int8 pairs and adds them in one
// built-in (one instruction where the driver has integer dot products: Vulkan's
// VK_KHR_shader_integer_dot_product, DP4a on NVIDIA, SDOT on Arm) — and the two scales are
// applied once per block, as llama.cpp's `vec_dot_q8_0_q8_0` / `vec_dot_q4_0_q8_0` do.
// `block_idot(row, u, k, xb)` is the dot product of the stored codes of block k of unit u of
// `row` with the input codes at xq[xb], xq[xb + 1] (vec4<u32>: elements 0–15, 16–31), before
// the offset: Q4_0/Q3_0 codes are stored as q + o, and the kernel takes o · Σ x-codes off
// once per block (an exact integer). Nibbles and 3-bit codes (0…15, 0…7) are valid int8 as
// they are, so they go into `dot4I8Packed` unshifted.

// ---- q8_0 ----
const OFFSET_I: i32 = 0;
// A unit is one block: 2 words = 8 u32 of four int8 each, the same byte order as x's codes.
fn block_idot(row: u32, u: u32, k: u32, xb: u32) -> i32 {
    let base = (row * UNITS + u) * 2u;
    var s = 0i;
    for (var i = 0u; i < 2u; i++) {
        let q = w[base + i];
        let v = xq[xb + i];
        s += (dot4I8Packed(q.x, v.x) + dot4I8Packed(q.y, v.y)) + (dot4I8Packed(q.z, v.z) + dot4I8Packed(q.w, v.w));
    }
    return s;
}
fn block_scale(row: u32, blk: u32) -> f32 { return scale_at(row * UNITS * BPU + blk); }

// ---- q4_0 ----
// A unit is one block: 1 word; u32 i holds elements 4i…4i+3 in its low nibbles (x word i,
// in xq[xb]) and 16+4i…16+4i+3 in its high nibbles (x word 4 + i, in xq[xb + 1]).
const OFFSET_I: i32 = 8;
fn block_idot(row: u32, u: u32, k: u32, xb: u32) -> i32 {
    let q = w[row * UNITS + u];
    let lo = xq[xb];
    let hi = xq[xb + 1u];
    var s = 0i;
    for (var i = 0u; i < 4u; i++) {
        s += dot4I8Packed(q[i] & 0x0f0f0f0fu, lo[i]) + dot4I8Packed((q[i] >> 4u) & 0x0f0f0f0fu, hi[i]);
    }
    return s;
}
fn block_scale(row: u32, blk: u32) -> f32 { return scale_at(row * UNITS * BPU + blk); }

// ---- q3_0 ----
// Four blocks in 3 words (see block.wgsl): elements 4j…4j+3 of block k, spread to four bytes,
// meet x word j (xq[xb + j / 4][j % 4]).
const OFFSET_I: i32 = 4;
fn spread2(b: u32) -> u32 { return (b | (b << 6u) | (b << 12u) | (b << 18u)) & 0x03030303u; }
fn spread1(n: u32) -> u32 { return (n | (n << 7u) | (n << 14u) | (n << 21u)) & 0x01010101u; }
fn block_idot(row: u32, u: u32, k: u32, xb: u32) -> i32 {
    let base = (row * UNITS + u) * 3u;
    let hi = w[base + 2u][k];
    var s = 0i;
    for (var h = 0u; h < 2u; h++) {
        let lo = w[base + h][k];
        let v = xq[xb + h];
        for (var i = 0u; i < 4u; i++) {
            let j = h * 4u + i;
            let q = spread2((lo >> (8u * i)) & 0xffu) | (spread1((hi >> (4u * j)) & 0xfu) << 2u);
            s += dot4I8Packed(q, v[i]);
        }
    }
    return s;
}
fn block_scale(row: u32, blk: u32) -> f32 { return scale_at(row * UNITS * BPU + blk); }
