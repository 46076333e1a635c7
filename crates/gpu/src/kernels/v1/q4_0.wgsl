// A block is 4 words (16 bytes); byte j holds element j (low nibble) and j+16 (high nibble),
// each stored as q+8 (llama.cpp's Q4_0).
fn block_dot(r: u32, b: u32, xbase: u32) -> f32 {
    let base = (r * dims.nb + b) * 4u;
    var s = 0.0;
    for (var i = 0u; i < 4u; i++) {
        let word = w[base + i];
        for (var k = 0u; k < 4u; k++) {
            let v = (word >> (8u * k)) & 0xffu;
            let c = b * 32u + 4u * i + k;
            s += (f32(v & 15u) - 8.0) * xv(xbase, c) + (f32(v >> 4u) - 8.0) * xv(xbase, c + 16u);
        }
    }
    return s * scale(r * dims.nb + b);
}
fn w_at(r: u32, c: u32) -> f32 {
    let b = c / 32u;
    let j = c % 32u;
    let byte = (r * dims.nb + b) * 16u + (j % 16u);
    let v = (w[byte >> 2u] >> (8u * (byte & 3u))) & 0xffu;
    let q = select(v & 15u, v >> 4u, j >= 16u);
    return (f32(q) - 8.0) * scale(r * dims.nb + b);
}
