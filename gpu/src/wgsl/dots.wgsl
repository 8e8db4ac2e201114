// out[position · count + v] = the exact integer dot product of a stored row's codes with vector
// v's 14-bit codes. One thread per row, the vectors eight at a time; one dispatch per chunk of
// the stored rows, whose entries name (row within the chunk, position in the output).

struct Params {
    words: u32,
    count: u32,
    entries: u32,
    pad: u32,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> rows: array<u32>;
@group(0) @binding(2) var<storage, read> vectors: array<vec4<i32>>;
@group(0) @binding(3) var<storage, read> entries: array<vec2<u32>>;
@group(0) @binding(4) var<storage, read_write> out: array<i32>;

@compute @workgroup_size(64)
fn dots(@builtin(global_invocation_id) gid: vec3<u32>) {
    let e = gid.x;
    if (e >= params.entries) {
        return;
    }
    let entry = entries[e];
    let base = entry.x * params.words;
    for (var first = 0u; first < params.count; first += 8u) {
        var acc: array<i32, 8>;
        let n = min(8u, params.count - first);
        for (var w = 0u; w < params.words; w += 1u) {
            let codes = unpack_codes(rows[base + w]);
            for (var k = 0u; k < n; k += 1u) {
                acc[k] += dot(codes, vectors[(first + k) * params.words + w]);
            }
        }
        for (var k = 0u; k < n; k += 1u) {
            out[entry.y * params.count + first + k] = acc[k];
        }
    }
}
