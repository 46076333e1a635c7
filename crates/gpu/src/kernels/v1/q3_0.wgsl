// A block is 3 words: two of 2-bit low parts (element j at bits 2·(j mod 16) of word j/16) and
// one of high bits (bit j); each element is stored as q+4.
fn block_dot(r: u32, b: u32, xbase: u32) -> f32 {
    let base = (r * dims.nb + b) * 3u;
    let hbits = w[base + 2u];
    var s = 0.0;
    for (var half = 0u; half < 2u; half++) {
        let lo = w[base + half];
        for (var i = 0u; i < 16u; i++) {
            let j = half * 16u + i;
            let q = ((lo >> (2u * i)) & 3u) | (((hbits >> j) & 1u) << 2u);
            s += (f32(q) - 4.0) * xv(xbase, b * 32u + j);
        }
    }
    return s * scale(r * dims.nb + b);
}
fn w_at(r: u32, c: u32) -> f32 {
    let b = c / 32u;
    let j = c % 32u;
    let base = (r * dims.nb + b) * 3u;
    let q = ((w[base + j / 16u] >> (2u * (j % 16u))) & 3u) | (((w[base + 2u] >> j) & 1u) << 2u);
    return (f32(q) - 4.0) * scale(r * dims.nb + b);
}
