// k-center greedy over the stored rows, a whole batch in one submission:
// `update` (per chunk) lowers each row's squared distance to its nearest centre and reduces its
// workgroup's farthest row into `partials`; `pick` reduces the partials, records the pick and
// retires the row; `copy_centre` (per chunk) copies the picked row, where this chunk holds it,
// into the one-centre buffer the next `update` reads. Distances are summed in f32 from the
// rows' values (codes × scale), so a row's distance to itself is exactly 0.

struct UpdateParams {
    words: u32,
    entries: u32,
    partial_base: u32,
    centres: u32,
}

struct PickParams {
    partials: u32,
    pad0: u32,
    pad1: u32,
    pad2: u32,
}

struct CopyParams {
    words: u32,
    first: u32,
    count: u32,
    pad: u32,
}

@group(0) @binding(0) var<uniform> update_params: UpdateParams;
@group(0) @binding(1) var<storage, read> rows: array<u32>;
@group(0) @binding(2) var<storage, read> scales: array<f32>;
@group(0) @binding(3) var<storage, read> entries: array<vec2<u32>>;
@group(0) @binding(4) var<storage, read> centres: array<u32>;
@group(0) @binding(5) var<storage, read> centre_scales: array<f32>;
@group(0) @binding(6) var<storage, read_write> nearest: array<f32>;
@group(0) @binding(7) var<storage, read_write> partials: array<vec2<u32>>;
@group(0) @binding(8) var<uniform> pick_params: PickParams;
// state[0]: picks made; state[1]: the store row of the last pick.
@group(0) @binding(9) var<storage, read_write> state: array<u32>;
@group(0) @binding(10) var<storage, read_write> picks: array<u32>;
@group(0) @binding(11) var<storage, read> row_of: array<u32>;
@group(0) @binding(12) var<uniform> copy_params: CopyParams;
@group(0) @binding(13) var<storage, read_write> centre_out: array<u32>;
@group(0) @binding(14) var<storage, read_write> centre_scale_out: array<f32>;

const NONE: u32 = 0xffffffffu;

var<workgroup> best_d: array<f32, 256>;
var<workgroup> best_p: array<u32, 256>;

// Leaves the workgroup's best (distance, position) in slot 0.
fn reduce(li: u32) {
    workgroupBarrier();
    for (var stride = 128u; stride > 0u; stride >>= 1u) {
        if (li < stride && better(best_d[li + stride], best_p[li + stride], best_d[li], best_p[li])) {
            best_d[li] = best_d[li + stride];
            best_p[li] = best_p[li + stride];
        }
        workgroupBarrier();
    }
}

@compute @workgroup_size(256)
fn update(
    @builtin(global_invocation_id) gid: vec3<u32>,
    @builtin(local_invocation_index) li: u32,
    @builtin(workgroup_id) wg: vec3<u32>,
) {
    var d = -2.0;
    var p = NONE;
    let e = gid.x;
    if (e < update_params.entries) {
        let entry = entries[e];
        p = entry.y;
        d = nearest[p];
        if (d >= 0.0) {
            let words = update_params.words;
            let s = scales[entry.x];
            let base = entry.x * words;
            for (var c = 0u; c < update_params.centres; c += 1u) {
                let cs = centre_scales[c];
                var acc = 0.0;
                for (var w = 0u; w < words; w += 1u) {
                    let diff = vec4<f32>(unpack_codes(rows[base + w])) * s
                        - vec4<f32>(unpack_codes(centres[c * words + w])) * cs;
                    acc += dot(diff, diff);
                }
                d = min(d, acc);
            }
            nearest[p] = d;
        }
    }
    best_d[li] = d;
    best_p[li] = p;
    reduce(li);
    if (li == 0u) {
        partials[update_params.partial_base + wg.x] = vec2<u32>(bitcast<u32>(best_d[0]), best_p[0]);
    }
}

@compute @workgroup_size(256)
fn pick(@builtin(local_invocation_index) li: u32) {
    var d = -2.0;
    var p = NONE;
    for (var i = li; i < pick_params.partials; i += 256u) {
        let q = partials[i];
        let qd = bitcast<f32>(q.x);
        if (better(qd, q.y, d, p)) {
            d = qd;
            p = q.y;
        }
    }
    best_d[li] = d;
    best_p[li] = p;
    reduce(li);
    if (li == 0u) {
        let at = best_p[0];
        if (at != NONE && best_d[0] >= 0.0) {
            let t = state[0];
            picks[t] = at;
            state[0] = t + 1u;
            state[1] = row_of[at];
            nearest[at] = -1.0;
        } else {
            state[1] = NONE;
        }
    }
}

@compute @workgroup_size(64)
fn copy_centre(@builtin(local_invocation_index) li: u32) {
    let row = state[1];
    if (row == NONE || row < copy_params.first || row - copy_params.first >= copy_params.count) {
        return;
    }
    let local = row - copy_params.first;
    for (var w = li; w < copy_params.words; w += 64u) {
        centre_out[w] = rows[local * copy_params.words + w];
    }
    if (li == 0u) {
        centre_scale_out[0] = scales[local];
    }
}
