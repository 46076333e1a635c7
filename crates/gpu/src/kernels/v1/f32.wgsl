fn block_dot(r: u32, b: u32, xbase: u32) -> f32 {
    var s = 0.0;
    for (var j = 0u; j < 32u; j++) {
        let c = b * 32u + j;
        if (c < dims.cols) { s += bitcast<f32>(w[r * dims.cols + c]) * x[xbase + c]; }
    }
    return s;
}
fn w_at(r: u32, c: u32) -> f32 { return bitcast<f32>(w[r * dims.cols + c]); }
