//! The random distributions the model and the calibration draw from, with portable math.
//!
//! Why not rand_distr's: its samplers call the transcendental functions of `num-traits`,
//! which are libm's when the crate is built alone (as in WebAssembly) but the platform's
//! (glibc, macOS) as soon as anything else in the build turns on `num-traits/std`, as the
//! command line's chart libraries do. The last bits of `exp` and `ln` differ between
//! platforms, so the same seed could give different results on different machines.
//!
//! These are rand_distr 0.6's algorithms, transcribed step for step (the ZIGNOR ziggurat of
//! Doornik 2005 for the normal and exponential, Marsaglia and Tsang 2000 for the gamma,
//! Cheng 1978 for the beta), drawing the same random numbers in the same order, with every
//! `exp`, `ln` and `pow` from the `libm` crate. So results equal rand_distr's wherever the
//! two math libraries agree, which is all but a handful of last-bit cases; the test below
//! checks them draw for draw. Copyright of the algorithms' code: the Rand project
//! developers (Apache-2.0 or MIT).

mod ziggurat_tables;

use rand::distr::{Distribution, Open01};
use rand::{Rng, RngExt};
use ziggurat_tables::{ZIG_EXP_F, ZIG_EXP_R, ZIG_EXP_X, ZIG_NORM_F, ZIG_NORM_R, ZIG_NORM_X, ZigTable};

/// `bits` (52 random bits) as the mantissa of a float with the given binary exponent: a
/// number in [2^e, 2^(e+1)).
fn with_exponent(bits: u64, exponent: i32) -> f64 {
    f64::from_bits(bits | (((1023 + exponent) as u64) << 52))
}

/// The ziggurat method (ZIGNOR variant, Doornik 2005), as rand_distr's `utils::ziggurat`.
#[inline(always)]
fn ziggurat<R: Rng + ?Sized>(
    rng: &mut R,
    symmetric: bool,
    x_tab: ZigTable,
    f_tab: ZigTable,
    pdf: impl Fn(f64) -> f64,
    zero_case: impl Fn(&mut R, f64) -> f64,
) -> f64 {
    loop {
        let bits = rng.next_u64();
        let i = bits as usize & 0xff;
        let u = if symmetric {
            with_exponent(bits >> 12, 1) - 3.0
        } else {
            with_exponent(bits >> 12, 0) - (1.0 - f64::EPSILON / 2.0)
        };
        let x = u * x_tab[i];
        let test_x = if symmetric { x.abs() } else { x };
        if test_x < x_tab[i + 1] {
            return x;
        }
        if i == 0 {
            return zero_case(rng, u);
        }
        if f_tab[i + 1] + (f_tab[i] - f_tab[i + 1]) * rng.random::<f64>() < pdf(x) {
            return x;
        }
    }
}

/// The standard normal distribution N(0, 1).
#[derive(Debug, Clone, Copy)]
pub struct StandardNormal;

impl Distribution<f64> for StandardNormal {
    fn sample<R: Rng + ?Sized>(&self, rng: &mut R) -> f64 {
        let pdf = |x: f64| libm::exp(-x * x / 2.0);
        let zero_case = |rng: &mut R, u: f64| {
            // The tail beyond the last layer, by hand.
            let (mut x, mut y) = (1.0f64, 0.0f64);
            while -2.0 * y < x * x {
                let x_: f64 = rng.sample(Open01);
                let y_: f64 = rng.sample(Open01);
                x = libm::log(x_) / ZIG_NORM_R;
                y = libm::log(y_);
            }
            if u < 0.0 { x - ZIG_NORM_R } else { ZIG_NORM_R - x }
        };
        ziggurat(rng, true, &ZIG_NORM_X, &ZIG_NORM_F, pdf, zero_case)
    }
}

/// The normal distribution N(mean, sd²).
#[derive(Debug, Clone, Copy)]
pub struct Normal {
    mean: f64,
    sd: f64,
}

impl Normal {
    /// N(mean, sd²); None unless `sd` is finite and not negative.
    pub fn new(mean: f64, sd: f64) -> Option<Normal> {
        (sd.is_finite() && sd >= 0.0).then_some(Normal { mean, sd })
    }
}

impl Distribution<f64> for Normal {
    fn sample<R: Rng + ?Sized>(&self, rng: &mut R) -> f64 {
        self.mean + self.sd * rng.sample(StandardNormal)
    }
}

/// The exponential distribution with rate 1.
#[derive(Debug, Clone, Copy)]
struct Exp1;

impl Distribution<f64> for Exp1 {
    fn sample<R: Rng + ?Sized>(&self, rng: &mut R) -> f64 {
        let pdf = |x: f64| libm::exp(-x);
        let zero_case = |rng: &mut R, _u: f64| ZIG_EXP_R - libm::log(rng.random::<f64>());
        ziggurat(rng, false, &ZIG_EXP_X, &ZIG_EXP_F, pdf, zero_case)
    }
}

/// The gamma distribution with a shape and a scale.
#[derive(Debug, Clone, Copy)]
pub struct Gamma {
    repr: GammaRepr,
}

#[derive(Debug, Clone, Copy)]
enum GammaRepr {
    /// Shape 1: exponential, with its scale as 1 / (1 / scale), as rand_distr computes it.
    One { scale: f64 },
    /// Shape below 1: a draw of shape + 1 times U^(1 / shape).
    Small { inv_shape: f64, large: GammaLarge },
    /// Shape above 1: Marsaglia and Tsang.
    Large(GammaLarge),
}

#[derive(Debug, Clone, Copy)]
struct GammaLarge {
    scale: f64,
    c: f64,
    d: f64,
}

impl GammaLarge {
    fn new(shape: f64, scale: f64) -> GammaLarge {
        let d = shape - 1. / 3.;
        GammaLarge { scale, c: 1.0 / (9. * d).sqrt(), d }
    }

    fn sample_unscaled<R: Rng + ?Sized>(&self, rng: &mut R) -> f64 {
        loop {
            let x: f64 = rng.sample(StandardNormal);
            let v_cbrt = 1.0 + self.c * x;
            if v_cbrt <= 0.0 {
                continue;
            }
            let v = v_cbrt * v_cbrt * v_cbrt;
            let u: f64 = rng.sample(Open01);
            let x_sqr = x * x;
            if u < 1.0 - 0.0331 * x_sqr * x_sqr || libm::log(u) < 0.5 * x_sqr + self.d * (1.0 - v + libm::log(v)) {
                return v;
            }
        }
    }
}

impl Gamma {
    /// Gamma(shape, scale); None unless both are positive (infinite ones give the
    /// degenerate draw rand_distr gives).
    pub fn new(shape: f64, scale: f64) -> Option<Gamma> {
        if !(shape > 0.0 && scale > 0.0) {
            return None;
        }
        let repr = if shape == f64::INFINITY || scale == f64::INFINITY {
            // rand_distr: Exp::new(0), whose draws are infinite.
            GammaRepr::One { scale: f64::INFINITY }
        } else if shape == 1.0 {
            GammaRepr::One { scale: 1.0 / (1.0 / scale) }
        } else if shape < 1.0 {
            GammaRepr::Small { inv_shape: 1.0 / shape, large: GammaLarge::new(shape + 1.0, scale) }
        } else {
            GammaRepr::Large(GammaLarge::new(shape, scale))
        };
        Some(Gamma { repr })
    }
}

impl Distribution<f64> for Gamma {
    fn sample<R: Rng + ?Sized>(&self, rng: &mut R) -> f64 {
        match self.repr {
            GammaRepr::One { scale } => rng.sample(Exp1) * scale,
            GammaRepr::Small { inv_shape, large } => {
                let u: f64 = rng.sample(Open01);
                let a = large.sample_unscaled(rng);
                let b = libm::pow(u, inv_shape);
                (a * b * large.d) * large.scale
            }
            GammaRepr::Large(g) => g.sample_unscaled(rng) * (g.d * g.scale),
        }
    }
}

/// The beta distribution Beta(alpha, beta).
#[derive(Debug, Clone, Copy, serde::Serialize, serde::Deserialize)]
pub struct Beta {
    a: f64,
    b: f64,
    switched: bool,
    algorithm: BetaAlgorithm,
}

#[derive(Debug, Clone, Copy, serde::Serialize, serde::Deserialize)]
enum BetaAlgorithm {
    /// Cheng's BB, both parameters above 1.
    BB { alpha: f64, beta: f64, gamma: f64 },
    /// Cheng's BC, otherwise.
    BC { alpha: f64, beta: f64, kappa1: f64, kappa2: f64 },
}

impl Beta {
    /// Beta(alpha, beta); None unless both are positive.
    pub fn new(alpha: f64, beta: f64) -> Option<Beta> {
        if !(alpha > 0.0 && beta > 0.0) {
            return None;
        }
        let (a, b, switched) = if alpha < beta { (alpha, beta, false) } else { (beta, alpha, true) };
        if a > 1.0 {
            let alpha = a + b;
            let beta = ((alpha - 2.0) / (2.0 * a * b - alpha)).sqrt();
            let gamma = a + 1.0 / beta;
            Some(Beta { a, b, switched, algorithm: BetaAlgorithm::BB { alpha, beta, gamma } })
        } else {
            let (a, b, switched) = (b, a, !switched);
            let alpha = a + b;
            let beta = 1.0 / b;
            let delta = 1.0 + a - b;
            let kappa1 = delta * (1. / 18. / 4. + 3. / 18. / 4. * b) / (a * beta - 14. / 18.);
            let kappa2 = 0.25 + (0.5 + 0.25 / delta) * b;
            Some(Beta { a, b, switched, algorithm: BetaAlgorithm::BC { alpha, beta, kappa1, kappa2 } })
        }
    }
}

impl Distribution<f64> for Beta {
    // `!(a < b)` as in the original: a NaN must end the loop, not continue it.
    #[allow(clippy::neg_cmp_op_on_partial_ord)]
    fn sample<R: Rng + ?Sized>(&self, rng: &mut R) -> f64 {
        let ln4 = libm::log(4.0);
        let mut w;
        match self.algorithm {
            BetaAlgorithm::BB { alpha, beta, gamma } => loop {
                let u1: f64 = rng.sample(Open01);
                let u2: f64 = rng.sample(Open01);
                let v = beta * libm::log(u1 / (1.0 - u1));
                w = self.a * libm::exp(v);
                let z = u1 * u1 * u2;
                let r = gamma * v - ln4;
                let s = self.a + r - w;
                if s + 1.0 + libm::log(5.0) >= 5.0 * z {
                    break;
                }
                let t = libm::log(z);
                if s >= t {
                    break;
                }
                if !(r + alpha * libm::log(alpha / (self.b + w)) < t) {
                    break;
                }
            },
            BetaAlgorithm::BC { alpha, beta, kappa1, kappa2 } => loop {
                let z;
                let u1: f64 = rng.sample(Open01);
                let u2: f64 = rng.sample(Open01);
                if u1 < 0.5 {
                    let y = u1 * u2;
                    z = u1 * y;
                    if 0.25 * u2 + z - y >= kappa1 {
                        continue;
                    }
                } else {
                    z = u1 * u1 * u2;
                    if z <= 0.25 {
                        let v = beta * libm::log(u1 / (1.0 - u1));
                        w = self.a * libm::exp(v);
                        break;
                    }
                    if z >= kappa2 {
                        continue;
                    }
                }
                let v = beta * libm::log(u1 / (1.0 - u1));
                w = self.a * libm::exp(v);
                if !(alpha * (libm::log(alpha / (self.b + w)) + v) - ln4 < libm::log(z)) {
                    break;
                }
            },
        }
        if !self.switched {
            if w == f64::INFINITY {
                return 1.0;
            }
            w / (self.b + w)
        } else {
            self.b / (self.b + w)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stream::ChaCha8Rng;
    use rand::{Rng, SeedableRng};

    /// Draw for draw the same algorithms as rand_distr 0.6 (a dev-dependency, for this check
    /// only), over enough draws to pass through every branch: the ziggurat's wedges and
    /// tails, the gamma's three shapes, both beta algorithms. Equal to the last bits when
    /// rand_distr's math is libm's (the core tested alone); within 1e-12 when a workspace
    /// build gives rand_distr the platform's `exp` and `ln`. Either way both consume the same
    /// random numbers: the generators end in the same state.
    #[test]
    fn the_same_draws_as_rand_distr() {
        fn same<A: Distribution<f64>, B: rand_distr::Distribution<f64>>(ours: A, theirs: B, what: &str) {
            let (mut r1, mut r2) = (ChaCha8Rng::seed_from_u64(11), ChaCha8Rng::seed_from_u64(11));
            for k in 0..200_000 {
                let (x, y) = (ours.sample(&mut r1), theirs.sample(&mut r2));
                let close = (x - y).abs() <= 1e-12 * x.abs().max(1.0);
                assert!(close || (x.is_nan() && y.is_nan()), "{what}, draw {k}: {x} against rand_distr's {y}");
            }
            assert_eq!(r1.next_u64(), r2.next_u64(), "{what}: the two drew different numbers of random values");
        }
        same(StandardNormal, rand_distr::StandardNormal, "N(0, 1)");
        same(Normal::new(2.0, 0.5).unwrap(), rand_distr::Normal::new(2.0, 0.5).unwrap(), "N(2, 0.25)");
        for shape in [0.3, 1.0, 1.5, 7.0] {
            same(
                Gamma::new(shape, 2.0).unwrap(),
                rand_distr::Gamma::new(shape, 2.0).unwrap(),
                &format!("Gamma({shape})"),
            );
        }
        for (a, b) in [(2.0, 5.0), (5.0, 2.0), (0.5, 0.7), (0.4, 3.0), (3.0, 0.4)] {
            same(Beta::new(a, b).unwrap(), rand_distr::Beta::new(a, b).unwrap(), &format!("Beta({a}, {b})"));
        }
    }

    #[test]
    fn invalid_parameters_are_refused() {
        assert!(Normal::new(0.0, -1.0).is_none() && Normal::new(0.0, f64::NAN).is_none());
        assert!(Gamma::new(0.0, 1.0).is_none() && Gamma::new(1.0, -1.0).is_none());
        assert!(Beta::new(0.0, 1.0).is_none() && Beta::new(1.0, f64::NAN).is_none());
    }
}
