// Rows padded to nb·32 halves, two per word.
fn block_dot(r: u32, b: u32, xbase: u32) -> f32 {
    let base = (r * dims.nb + b) * 16u;
    var s = 0.0;
    for (var i = 0u; i < 16u; i++) {
        let p = unpack2x16float(w[base + i]);
        let c = b * 32u + 2u * i;
        s += p.x * xv(xbase, c) + p.y * xv(xbase, c + 1u);
    }
    return s;
}
fn w_at(r: u32, c: u32) -> f32 {
    let i = r * dims.nb * 32u + c;
    let p = unpack2x16float(w[i >> 1u]);
    return select(p.x, p.y, (i & 1u) == 1u);
}
