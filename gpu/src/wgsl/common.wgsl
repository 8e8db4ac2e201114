// Shared by every kernel: the stored rows are 8-bit codes, four to a u32 (little-endian).

fn unpack_codes(word: u32) -> vec4<i32> {
    let s = bitcast<i32>(word);
    return vec4<i32>(extractBits(s, 0u, 8u), extractBits(s, 8u, 8u), extractBits(s, 16u, 8u), extractBits(s, 24u, 8u));
}

// Larger distance first, then the lower position (Core-Set's order on the CPU).
fn better(d: f32, p: u32, than_d: f32, than_p: u32) -> bool {
    return d > than_d || (d == than_d && p < than_p);
}
