// A block is 8 words of 4 int8 each; its f16 scale is scales[r·nb + b].
fn block_dot(r: u32, b: u32, xbase: u32) -> f32 {
    let base = (r * dims.nb + b) * 8u;
    var s = 0.0;
    for (var i = 0u; i < 8u; i++) {
        let word = w[base + i];
        let c = b * 32u + 4u * i;
        s += sbyte(word, 0u) * xv(xbase, c) + sbyte(word, 1u) * xv(xbase, c + 1u)
           + sbyte(word, 2u) * xv(xbase, c + 2u) + sbyte(word, 3u) * xv(xbase, c + 3u);
    }
    return s * scale(r * dims.nb + b);
}
fn w_at(r: u32, c: u32) -> f32 {
    let i = r * dims.nb * 32u + c;
    return sbyte(w[i >> 2u], i & 3u) * scale(r * dims.nb + c / 32u);
}
