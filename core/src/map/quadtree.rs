//! The Barnes–Hut quadtree of t-SNE's repulsion: points far away, seen under a small angle, act
//! as one point at their centre of mass.

/// No node / no point.
const NONE: u32 = u32::MAX;
/// Deeper than this, points are kept together in one leaf (they are all but equal).
const MAX_DEPTH: usize = 48;

#[derive(Debug, Clone, Copy)]
struct Node {
    /// Centre of the cell.
    cx: f32,
    cy: f32,
    /// Half the cell's side.
    half: f32,
    /// Points in the cell, and the sums of their coordinates.
    mass: u32,
    sx: f64,
    sy: f64,
    /// First of the four children (in the order of [`quadrant`]), or [`NONE`] for a leaf.
    child: u32,
    /// A leaf's point (every point of a leaf lies at its position), or [`NONE`].
    point: u32,
}

impl Node {
    fn cell(cx: f32, cy: f32, half: f32) -> Node {
        Node {
            cx,
            cy,
            half,
            mass: 0,
            sx: 0.0,
            sy: 0.0,
            child: NONE,
            point: NONE,
        }
    }

    fn add(&mut self, x: f32, y: f32) {
        self.mass += 1;
        self.sx += f64::from(x);
        self.sy += f64::from(y);
    }

    /// Which child cell holds `(x, y)`: bit 0 east, bit 1 south.
    fn quadrant(&self, x: f32, y: f32) -> u32 {
        u32::from(x >= self.cx) | (u32::from(y >= self.cy) << 1)
    }
}

/// A quadtree over the points `y` (`x, y` pairs), built once per iteration.
#[derive(Debug, Clone, Default)]
pub struct QuadTree {
    nodes: Vec<Node>,
    /// The traversal's stack, kept between calls.
    stack: Vec<u32>,
}

impl QuadTree {
    /// Builds the tree over `y` (`n × 2`, finite).
    pub fn build(y: &[f32]) -> QuadTree {
        let mut lo = [f32::INFINITY; 2];
        let mut hi = [f32::NEG_INFINITY; 2];
        for p in y.chunks_exact(2) {
            for a in 0..2 {
                lo[a] = lo[a].min(p[a]);
                hi[a] = hi[a].max(p[a]);
            }
        }
        let mut tree = QuadTree::default();
        if y.is_empty() {
            return tree;
        }
        let half = ((hi[0] - lo[0]).max(hi[1] - lo[1]) / 2.0) * (1.0 + 1e-4) + 1e-6;
        tree.nodes.push(Node::cell(
            (lo[0] + hi[0]) / 2.0,
            (lo[1] + hi[1]) / 2.0,
            half,
        ));
        for (i, p) in y.chunks_exact(2).enumerate() {
            tree.insert(y, i as u32, p[0], p[1]);
        }
        tree
    }

    fn insert(&mut self, y: &[f32], i: u32, x: f32, yy: f32) {
        let mut at = 0usize;
        for depth in 0.. {
            let node = self.nodes[at];
            if node.child == NONE {
                if node.mass == 0 {
                    let n = &mut self.nodes[at];
                    n.point = i;
                    n.add(x, yy);
                    return;
                }
                let q = node.point as usize;
                let (qx, qy) = (y[2 * q], y[2 * q + 1]);
                if (qx == x && qy == yy) || depth >= MAX_DEPTH {
                    self.nodes[at].add(x, yy);
                    return;
                }
                // Split: the leaf's points move to the child cell that holds them.
                let first = self.nodes.len() as u32;
                let h = node.half / 2.0;
                for k in 0..4u32 {
                    let dx = if k & 1 == 1 { h } else { -h };
                    let dy = if k & 2 == 2 { h } else { -h };
                    self.nodes.push(Node::cell(node.cx + dx, node.cy + dy, h));
                }
                let moved = &mut self.nodes[(first + node.quadrant(qx, qy)) as usize];
                moved.point = node.point;
                moved.mass = node.mass;
                moved.sx = node.sx;
                moved.sy = node.sy;
                let n = &mut self.nodes[at];
                n.child = first;
                n.point = NONE;
            }
            let n = &mut self.nodes[at];
            n.add(x, yy);
            at = (n.child + n.quadrant(x, yy)) as usize;
        }
    }

    /// The repulsion on a point at `(x, y)` (one of the tree's points) from all the others:
    /// `(Σ w² dx, Σ w² dy, Σ w)` with `w = 1 / (1 + d²)`, cells whose side is under `theta`
    /// times their distance taken as one point at their centre of mass.
    pub fn repulsion(&mut self, x: f32, y: f32, theta: f32) -> (f64, f64, f64) {
        let (mut fx, mut fy, mut z) = (0f64, 0f64, 0f64);
        if self.nodes.is_empty() {
            return (fx, fy, z);
        }
        let theta_sq = f64::from(theta) * f64::from(theta);
        self.stack.clear();
        self.stack.push(0);
        while let Some(at) = self.stack.pop() {
            let n = &self.nodes[at as usize];
            if n.mass == 0 {
                continue;
            }
            let m = f64::from(n.mass);
            let dx = f64::from(x) - n.sx / m;
            let dy = f64::from(y) - n.sy / m;
            let d2 = dx * dx + dy * dy;
            let side = 2.0 * f64::from(n.half);
            let mass = if n.child == NONE {
                // The point itself (at distance 0) does not repel itself.
                if d2 == 0.0 {
                    m - 1.0
                } else {
                    m
                }
            } else if side * side < theta_sq * d2 {
                m
            } else {
                self.stack.extend(n.child..n.child + 4);
                continue;
            };
            let w = 1.0 / (1.0 + d2);
            z += mass * w;
            fx += mass * w * w * dx;
            fy += mass * w * w * dy;
        }
        (fx, fy, z)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::Rng;

    /// The exact sums, pair by pair, and the sum of the forces' lengths.
    fn exact(y: &[f32], i: usize) -> (f64, f64, f64, f64) {
        let (mut fx, mut fy, mut z, mut total) = (0f64, 0f64, 0f64, 0f64);
        for j in 0..y.len() / 2 {
            if j == i {
                continue;
            }
            let dx = f64::from(y[2 * i]) - f64::from(y[2 * j]);
            let dy = f64::from(y[2 * i + 1]) - f64::from(y[2 * j + 1]);
            let w = 1.0 / (1.0 + dx * dx + dy * dy);
            z += w;
            fx += w * w * dx;
            fy += w * w * dy;
            total += w * w * (dx * dx + dy * dy).sqrt();
        }
        (fx, fy, z, total)
    }

    #[test]
    fn theta_zero_is_exact_and_a_small_theta_is_close() {
        let mut rng = Rng::new(5);
        let mut y: Vec<f32> = (0..600).map(|_| (rng.normal() * 5.0) as f32).collect();
        // Duplicates and a tight pair.
        y[10] = y[20];
        y[11] = y[21];
        y[30] = y[40] + 1e-7;
        y[31] = y[41];
        let mut tree = QuadTree::build(&y);
        for i in [0, 5, 10, 15, 20, 299] {
            let (ex, ey, ez, total) = exact(&y, i);
            let (fx, fy, z) = tree.repulsion(y[2 * i], y[2 * i + 1], 0.0);
            assert!((z - ez).abs() < 1e-9 * ez.max(1.0), "{z} vs {ez}");
            assert!((fx - ex).abs() < 1e-9 && (fy - ey).abs() < 1e-9);
            let (fx, fy, z) = tree.repulsion(y[2 * i], y[2 * i + 1], 0.5);
            assert!((z - ez).abs() < 0.02 * ez, "{z} vs {ez}");
            // Within a few percent of the forces' sum (the net force is a sum that cancels).
            let error = ((fx - ex).powi(2) + (fy - ey).powi(2)).sqrt();
            assert!(error < 0.03 * total, "{error} of {total}");
        }
    }

    #[test]
    fn empty_and_single_point_trees() {
        assert_eq!(
            QuadTree::build(&[]).repulsion(0.0, 0.0, 0.5),
            (0.0, 0.0, 0.0)
        );
        let mut one = QuadTree::build(&[1.0, 2.0]);
        assert_eq!(one.repulsion(1.0, 2.0, 0.5), (0.0, 0.0, 0.0));
    }
}
