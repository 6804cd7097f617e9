//! The Sobol' low-discrepancy sequence (Sobol' 1967), scrambled.
//!
//! Direction numbers: Joe & Kuo (2008), file `new-joe-kuo-6.21201`, first 256 dimensions
//! (`new-joe-kuo-6.256` beside this file: the numbers unchanged, the header line dropped and
//! runs of spaces made one; published at <https://web.maths.unsw.edu.au/~fkuo/sobol/> for free use).
//! Points come in Gray-code order, as in SciPy's `scipy.stats.qmc.Sobol` and Joe & Kuo's own
//! generator: unscrambled, the first 32 points of dimensions 1, 2, 3, 10, 101 and 256 equal
//! SciPy's bit for bit (tested below).
//!
//! Scrambling: a random linear matrix scramble (Matoušek 1998), a lower-triangular binary
//! matrix with unit diagonal per dimension applied to the direction numbers, then a random
//! digital shift (an XOR per dimension), the scheme SciPy uses. It keeps the sequence's net
//! structure (the first 2^m points of every dimension have exactly one point in each interval
//! [j/2^m, (j+1)/2^m), tested), removes the unscrambled sequence's point at the origin and
//! makes estimates from different seeds independent replicates. With N a power of two the
//! base samples of a Saltelli design are such a balanced set, which is why the sweep file
//! requires it.

use crate::stream::ChaCha8Rng;
use rand::{RngExt, SeedableRng};

/// Joe & Kuo's `d s a m_1 … m_s` lines for dimensions 2 to 256.
const DIRECTION_NUMBERS: &str = include_str!("new-joe-kuo-6.256");

/// The most dimensions this build carries direction numbers for.
pub const MAX_DIMENSIONS: usize = 256;

/// Binary digits per coordinate: up to 2^32 distinct points.
const BITS: usize = 32;

/// A Sobol' sequence of a fixed dimension, optionally scrambled.
#[derive(Debug, Clone)]
pub struct SobolSequence {
    /// Direction numbers V_j (j = 0 is the most significant digit), per dimension.
    directions: Vec<[u32; BITS]>,
    /// The digital shift per dimension (0 when unscrambled).
    shift: Vec<u32>,
}

/// Direction numbers of dimension `d` (0-based) from its primitive polynomial's degree `s`,
/// coefficients `a` and initial numbers `m` (Bratley & Fox 1988, Joe & Kuo 2008, eq. (2)).
fn directions(d: usize) -> [u32; BITS] {
    let mut v = [0u32; BITS];
    if d == 0 {
        // The first dimension is van der Corput's sequence: every m_i is 1.
        for (j, vj) in v.iter_mut().enumerate() {
            *vj = 1 << (31 - j);
        }
        return v;
    }
    let line = DIRECTION_NUMBERS.lines().nth(d - 1).expect("dimension within MAX_DIMENSIONS");
    let numbers: Vec<u32> = line.split_whitespace().map(|t| t.parse().expect("direction number file")).collect();
    let (s, a, m) = (numbers[1] as usize, numbers[2], &numbers[3..]);
    for j in 0..BITS {
        v[j] = if j < s {
            m[j] << (31 - j)
        } else {
            let mut x = v[j - s] ^ (v[j - s] >> s);
            for k in 1..s {
                if (a >> (s - 1 - k)) & 1 == 1 {
                    x ^= v[j - k];
                }
            }
            x
        };
    }
    v
}

impl SobolSequence {
    /// The unscrambled sequence in `dims` dimensions (at most [`MAX_DIMENSIONS`]).
    pub fn new(dims: usize) -> SobolSequence {
        assert!(dims <= MAX_DIMENSIONS, "{dims} dimensions, at most {MAX_DIMENSIONS}");
        SobolSequence { directions: (0..dims).map(directions).collect(), shift: vec![0; dims] }
    }

    /// The sequence scrambled by a random linear matrix scramble and digital shift drawn from
    /// a ChaCha8 stream of `seed`.
    pub fn scrambled(dims: usize, seed: u64) -> SobolSequence {
        let mut s = SobolSequence::new(dims);
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        rng.set_stream(0x5cab_b1e5);
        for (v, shift) in s.directions.iter_mut().zip(s.shift.iter_mut()) {
            // Row r of the lower-triangular matrix gives output digit r (weight 2^-(r+1)) as
            // the parity of the input digits it selects: digit r itself and a random subset
            // of the more significant ones, so a point's leading r digits decide its
            // scrambled leading r digits and the net structure survives.
            let rows: Vec<u32> = (0..BITS)
                .map(|r| {
                    let higher = if r == 0 { 0 } else { u32::MAX << (32 - r) };
                    (rng.random::<u32>() & higher) | (1 << (31 - r))
                })
                .collect();
            for vj in v.iter_mut() {
                let x = *vj;
                *vj = rows.iter().enumerate().fold(0, |y, (r, row)| y | (((row & x).count_ones() & 1) << (31 - r)));
            }
            *shift = rng.random::<u32>();
        }
        s
    }

    /// Dimensions of each point.
    pub fn dims(&self) -> usize {
        self.directions.len()
    }

    /// Point `n` of the sequence (Gray-code order), each coordinate in [0, 1).
    pub fn point(&self, n: u32) -> Vec<f64> {
        let gray = n ^ (n >> 1);
        self.directions
            .iter()
            .zip(&self.shift)
            .map(|(v, shift)| {
                let x = (0..BITS).filter(|j| (gray >> j) & 1 == 1).fold(*shift, |x, j| x ^ v[j]);
                x as f64 / 4_294_967_296.0
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// SciPy 1.17.1, `qmc.Sobol(d=256, scramble=False).random(32)`, times 32.
    #[test]
    fn unscrambled_points_equal_scipys() {
        let expected: [(usize, [u32; 32]); 6] = [
            (
                0,
                [
                    0, 16, 24, 8, 12, 28, 20, 4, 6, 22, 30, 14, 10, 26, 18, 2, 3, 19, 27, 11, 15, 31, 23, 7, 5, 21, 29,
                    13, 9, 25, 17, 1,
                ],
            ),
            (
                1,
                [
                    0, 16, 8, 24, 12, 28, 4, 20, 10, 26, 2, 18, 6, 22, 14, 30, 15, 31, 7, 23, 3, 19, 11, 27, 5, 21, 13,
                    29, 9, 25, 1, 17,
                ],
            ),
            (
                2,
                [
                    0, 16, 8, 24, 20, 4, 28, 12, 30, 14, 22, 6, 10, 26, 2, 18, 15, 31, 7, 23, 27, 11, 19, 3, 17, 1, 25,
                    9, 5, 21, 13, 29,
                ],
            ),
            (
                9,
                [
                    0, 16, 24, 8, 20, 4, 12, 28, 10, 26, 18, 2, 30, 14, 6, 22, 5, 21, 29, 13, 17, 1, 9, 25, 15, 31, 23,
                    7, 27, 11, 3, 19,
                ],
            ),
            (
                100,
                [
                    0, 16, 8, 24, 20, 4, 28, 12, 2, 18, 10, 26, 22, 6, 30, 14, 19, 3, 27, 11, 7, 23, 15, 31, 17, 1, 25,
                    9, 5, 21, 13, 29,
                ],
            ),
            (
                255,
                [
                    0, 16, 24, 8, 12, 28, 20, 4, 14, 30, 22, 6, 2, 18, 26, 10, 25, 9, 1, 17, 21, 5, 13, 29, 23, 7, 15,
                    31, 27, 11, 3, 19,
                ],
            ),
        ];
        let s = SobolSequence::new(MAX_DIMENSIONS);
        for (d, want) in expected {
            let got: Vec<f64> = (0..32).map(|n| s.point(n)[d] * 32.0).collect();
            let want: Vec<f64> = want.iter().map(|&w| w as f64).collect();
            assert_eq!(got, want, "dimension {}", d + 1);
        }
    }

    /// Scrambling keeps the net: 2^m points put exactly one point in each interval of width
    /// 2^-m in every dimension, and in the first two dimensions (a (0, m, 2)-net) exactly one
    /// in each elementary box of area 2^-m.
    #[test]
    fn scrambled_points_stay_balanced() {
        let m = 8;
        let n = 1usize << m;
        let s = SobolSequence::scrambled(40, 17);
        let pts: Vec<Vec<f64>> = (0..n as u32).map(|i| s.point(i)).collect();
        for d in 0..40 {
            let mut cells: Vec<usize> = pts.iter().map(|p| (p[d] * n as f64) as usize).collect();
            cells.sort_unstable();
            assert_eq!(cells, (0..n).collect::<Vec<_>>(), "dimension {}", d + 1);
        }
        for i in 0..=m {
            let (a, b) = (1usize << i, 1usize << (m - i));
            let mut boxes: Vec<usize> =
                pts.iter().map(|p| (p[0] * a as f64) as usize * b + (p[1] * b as f64) as usize).collect();
            boxes.sort_unstable();
            assert_eq!(boxes, (0..n).collect::<Vec<_>>(), "boxes of {a} x {b}");
        }
        // Scrambled: not the unscrambled sequence, and another seed gives other points.
        assert_ne!(pts[0][0], 0.0);
        assert_ne!(SobolSequence::scrambled(40, 18).point(3), pts[3]);
    }
}
