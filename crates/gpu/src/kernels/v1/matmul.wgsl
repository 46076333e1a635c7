// Y = X·Wᵀ for a batch of inputs (X: batch × cols, Y: batch × rows). Each 16×16 workgroup owns
// a tile of 16 rows × 16 batch items; per step of 32 along cols it dequantises a 16×32 tile of
// W and loads a 16×32 tile of X into workgroup memory, so each weight is decoded once per tile
// instead of once per output.
const T: u32 = 16u;
const K: u32 = 32u;
var<workgroup> ws: array<f32, 512>;
var<workgroup> xs: array<f32, 512>;

@compute @workgroup_size(16, 16)
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>,
        @builtin(local_invocation_index) t: u32) {
    _ = scales[0]; // keep the binding in the layout for formats without scales
    let r0 = wg.x * T;
    let b0 = wg.y * T;
    var acc = 0.0;
    for (var k0 = 0u; k0 < dims.cols; k0 += K) {
        for (var e = 0u; e < 2u; e++) {
            let idx = t * 2u + e;
            let i = idx / K;
            let kk = idx % K;
            let c = k0 + kk;
            var wv = 0.0;
            if (r0 + i < dims.rows && c < dims.cols) { wv = w_at(r0 + i, c); }
            ws[idx] = wv;
            var xval = 0.0;
            if (b0 + i < dims.batch && c < dims.cols) { xval = x[(b0 + i) * dims.cols + c]; }
            xs[idx] = xval;
        }
        workgroupBarrier();
        for (var kk = 0u; kk < K; kk++) { acc += ws[lid.x * K + kk] * xs[lid.y * K + kk]; }
        workgroupBarrier();
    }
    let r = r0 + lid.x;
    let b = b0 + lid.y;
    if (r < dims.rows && b < dims.batch) { y[b * dims.rows + r] = acc; }
}
