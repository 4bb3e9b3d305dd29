//! The random distributions of generated workloads: key popularity, value sizes, TTLs and
//! arrival gaps.
//!
//! Transcendental functions come from `libm` (pure Rust), never from the platform's `f64::ln`,
//! whose last bits differ between machines; every draw is rounded to an integer at once.

use crate::sim::config::{Popularity, ValueSize};
use std::sync::Arc;

use crate::sim::random::estimate;
use crate::sim::random::rng::Stream;

/// z with Φ(z) = 0.99: the 99th percentile of the standard normal distribution.
const NORMAL_P99_Z: f64 = 2.326_347_874_040_840_8;

/// Zipf over ranks 1..=n by rejection-inversion (Hörmann & Derflinger, 1996): O(1) per draw,
/// exact for any exponent > 0.
///
/// A guide table makes most draws a lookup: the draw's top bits pick a bucket of the uniform
/// variate, and a bucket whose every value inverts to the same rank, accepted by the squeeze
/// `k - x <= s`, stores that rank. Its ends are computed with the sampler's own arithmetic and
/// widened by a relative 1e-9, a hundred thousand times the few ulps `libm` can be off, so a
/// lookup returns exactly what the computation would: the same samples, without a `log1p` and
/// an `exp`. Other buckets (0) compute, first with the platform's `ln_1p` and `exp` (several
/// times faster than `libm`'s, and a few ulps from them): a rank whose every value within the
/// same margin rounds alike and is accepted is the computation's; the rare draw near a
/// boundary computes again with `libm`. Either way the samples are `libm`'s, on any platform.
#[derive(Debug, Clone)]
pub struct Zipf {
    n: f64,
    exponent: f64,
    h_integral_x1: f64,
    h_integral_n: f64,
    s: f64,
    guide: Guide,
}

/// The guide table and how far a 53-bit draw shifts to index it.
#[derive(Clone, Default)]
struct Guide {
    ranks: Arc<[u16]>,
    shift: u32,
}

impl std::fmt::Debug for Guide {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Guide({} buckets)", self.ranks.len())
    }
}

/// The guide table has 2^bits buckets, about four per rank up to this many bits (128 KB: it
/// stays in the core's cache beside the keyspace a command touches).
const GUIDE_BITS_MAX: u32 = 16;
const GUIDE_BITS_MIN: u32 = 8;
/// How far a bucket's ends are widened, relative: far beyond `libm`'s error.
const GUIDE_MARGIN: f64 = 1e-9;
/// 2^-53: a 53-bit draw as a unit variate.
const UNIT_53: f64 = 1.0 / (1u64 << 53) as f64;

impl Zipf {
    pub fn new(n: u64, exponent: f64) -> Zipf {
        let ranks = n.max(1);
        let n = ranks as f64;
        let mut zipf = Zipf {
            n,
            exponent,
            h_integral_x1: 0.0,
            h_integral_n: 0.0,
            s: 0.0,
            guide: Guide::default(),
        };
        zipf.h_integral_x1 = zipf.h_integral(1.5) - 1.0;
        zipf.h_integral_n = zipf.h_integral(n + 0.5);
        zipf.s = 2.0 - zipf.h_integral_inverse(zipf.h_integral(2.5) - zipf.h(2.0));
        let bits = (64 - ranks.leading_zeros() + 2).clamp(GUIDE_BITS_MIN, GUIDE_BITS_MAX);
        zipf.guide = zipf.build_guide(bits);
        zipf
    }

    /// A rank in 1..=n; rank 1 is the most popular.
    #[inline]
    pub fn sample(&self, stream: &mut Stream) -> u64 {
        loop {
            // `stream.unit()`'s 53 bits, kept as an integer to index the guide.
            let bits = stream.next_u64() >> 11;
            let guided = self.guide.ranks[(bits >> self.guide.shift) as usize];
            if guided != 0 {
                return u64::from(guided);
            }
            let u = self.u_of(bits);
            let (k, squeezed) = self.clear_rank(u).unwrap_or_else(|| {
                let x = self.h_integral_inverse(u);
                let k = floor(x + 0.5).clamp(1.0, self.n);
                (k, k - x <= self.s)
            });
            if squeezed || u >= self.h_integral(k + 0.5) - self.h(k) {
                return k as u64;
            }
        }
    }

    /// The rank `sample` computes for `u` and whether the squeeze `k - x <= s` accepts it,
    /// when the platform's inversion of `u`, widened by `GUIDE_MARGIN`, leaves no doubt (as
    /// the guide table's buckets); None near a rounding or squeeze boundary, or outside 1..=n,
    /// where only `libm` decides.
    #[inline]
    fn clear_rank(&self, u: f64) -> Option<(f64, bool)> {
        let x = estimate::zipf_inverse(u, self.exponent);
        let low = x * (1.0 - GUIDE_MARGIN);
        let high = x * (1.0 + GUIDE_MARGIN);
        let k = floor(low + 0.5);
        let squeezed = k - low <= self.s;
        let clear =
            floor(high + 0.5) == k && (squeezed || k - high > self.s) && k >= 1.0 && k <= self.n;
        clear.then_some((k, squeezed))
    }

    /// The variate inverted for a 53-bit draw.
    #[inline]
    fn u_of(&self, bits: u64) -> f64 {
        let unit = bits as f64 * UNIT_53;
        self.h_integral_n + unit * (self.h_integral_x1 - self.h_integral_n)
    }

    /// Buckets of the top `bits` of a 53-bit draw, each with the rank all its draws give and
    /// accept at once, or 0. The inversion is monotone up to `libm`'s error, so a bucket's
    /// values lie between its ends, widened by `GUIDE_MARGIN`.
    fn build_guide(&self, bits: u32) -> Guide {
        let shift = 53 - bits;
        let buckets = 1usize << bits;
        let last_draw = (1u64 << 53) - 1;
        let x_at = |bucket: usize| {
            let draw = ((bucket as u64) << shift).min(last_draw);
            self.h_integral_inverse(self.u_of(draw))
        };
        let mut ranks = vec![0u16; buckets];
        let mut start = x_at(0);
        for (bucket, rank) in ranks.iter_mut().enumerate() {
            // The next bucket's first draw is one step past this one's last: a difference far
            // below the margin.
            let end = x_at(bucket + 1);
            let low = start.min(end) * (1.0 - GUIDE_MARGIN);
            let high = start.max(end) * (1.0 + GUIDE_MARGIN);
            start = end;
            let k = floor(low + 0.5);
            let same_rank = floor(high + 0.5) == k;
            let accepted = k - low <= self.s;
            if same_rank && accepted && k >= 1.0 && k <= self.n && k < f64::from(u16::MAX) {
                *rank = k as u16;
            }
        }
        Guide {
            ranks: ranks.into(),
            shift,
        }
    }

    fn h(&self, x: f64) -> f64 {
        libm::exp(-self.exponent * libm::log(x))
    }

    fn h_integral(&self, x: f64) -> f64 {
        let log_x = libm::log(x);
        helper2((1.0 - self.exponent) * log_x) * log_x
    }

    fn h_integral_inverse(&self, x: f64) -> f64 {
        let t = (x * (1.0 - self.exponent)).max(-1.0);
        libm::exp(helper1(t) * x)
    }
}

/// `libm::floor`, exactly, with a fast path: truncation is the floor of a positive number,
/// and below 2^52 the integer part fits an i64 and converts back exactly (-0.0 stays libm's).
/// Through i64, not u64: x86-64 converts signed integers in one instruction, unsigned ones in
/// several.
#[inline]
fn floor(x: f64) -> f64 {
    if x > 0.0 && x < TWO_POW_52 {
        (x as i64) as f64
    } else {
        libm::floor(x)
    }
}

/// `libm::round(x) as u64`, exactly (half away from zero), with a fast path for non-negative
/// numbers below 2^52: the fraction `x - trunc(x)` is exact there. The conversions go through
/// i64, exact in that range and one instruction each on x86-64 (u64's take several).
#[inline]
pub fn round_to_u64(x: f64) -> u64 {
    if (0.0..TWO_POW_52).contains(&x) {
        let whole = x as i64;
        whole as u64 + u64::from(x - whole as f64 >= 0.5)
    } else {
        libm::round(x) as u64
    }
}

const TWO_POW_52: f64 = 4_503_599_627_370_496.0;

/// log1p(x)/x, continuous at 0.
fn helper1(x: f64) -> f64 {
    if x.abs() > 1e-8 {
        libm::log1p(x) / x
    } else {
        1.0 - x * (0.5 - x * (1.0 / 3.0 - 0.25 * x))
    }
}

/// expm1(x)/x, continuous at 0.
fn helper2(x: f64) -> f64 {
    if x.abs() > 1e-8 {
        libm::expm1(x) / x
    } else {
        1.0 + x * 0.5 * (1.0 + x / 3.0 * (1.0 + 0.25 * x))
    }
}

/// Standard normal draw (Box–Muller, one of the pair).
fn standard_normal(stream: &mut Stream) -> f64 {
    let u1 = stream.unit_open_zero();
    let u2 = stream.unit();
    libm::sqrt(-2.0 * libm::log(u1)) * libm::cos(2.0 * core::f64::consts::PI * u2)
}

/// Picks key ids in `0..keys` according to a popularity model.
#[derive(Debug, Clone)]
pub enum KeyPicker {
    Uniform {
        keys: u64,
    },
    Zipf(Zipf),
    Sequential {
        keys: u64,
        next: u64,
    },
    Hotset {
        keys: u64,
        hot_keys: u64,
        hot_access_ppm: u32,
    },
}

impl KeyPicker {
    pub fn new(keys: u64, popularity: Popularity) -> KeyPicker {
        match popularity {
            Popularity::Uniform => KeyPicker::Uniform { keys },
            Popularity::Zipf { skew } => KeyPicker::Zipf(Zipf::new(keys, skew)),
            Popularity::Sequential => KeyPicker::Sequential { keys, next: 0 },
            Popularity::Hotset {
                hot_key_share,
                hot_access_share,
            } => {
                let hot_keys = (libm::round(keys as f64 * hot_key_share) as u64).clamp(1, keys);
                let hot_access_ppm = libm::round(hot_access_share * 1e6) as u32;
                KeyPicker::Hotset {
                    keys,
                    hot_keys,
                    hot_access_ppm,
                }
            }
        }
    }

    /// A key id in `0..keys`.
    #[inline]
    pub fn pick(&mut self, stream: &mut Stream) -> u64 {
        match self {
            KeyPicker::Uniform { keys } => stream.below(*keys),
            KeyPicker::Zipf(zipf) => zipf.sample(stream) - 1,
            KeyPicker::Sequential { keys, next } => {
                let id = *next;
                *next = (*next + 1) % *keys;
                id
            }
            KeyPicker::Hotset {
                keys,
                hot_keys,
                hot_access_ppm,
            } => {
                if *hot_keys == *keys || stream.chance_ppm(*hot_access_ppm) {
                    stream.below(*hot_keys)
                } else {
                    *hot_keys + stream.below(*keys - *hot_keys)
                }
            }
        }
    }
}

/// The largest value a generated write may carry (Redis's proto-max-bulk-len, 512 MB).
pub const VALUE_SIZE_MAX: u64 = 512 * 1024 * 1024;

/// A value size in bytes.
pub fn sample_value_size(size: &ValueSize, stream: &mut Stream) -> u32 {
    let bytes = match *size {
        ValueSize::Fixed(bytes) => return bytes,
        ValueSize::Uniform { min, max } => {
            return stream.between(u64::from(min), u64::from(max)) as u32
        }
        ValueSize::Normal { mean, stddev } => mean + stddev * standard_normal(stream),
        ValueSize::Lognormal { median, p99 } => {
            let mu = libm::log(median);
            let sigma = (libm::log(p99) - mu) / NORMAL_P99_Z;
            libm::exp(mu + sigma * standard_normal(stream))
        }
    };
    libm::round(bytes).clamp(0.0, VALUE_SIZE_MAX as f64) as u32
}

/// A lognormal draw with the given median and 99th percentile, rounded to an integer.
pub fn sample_lognormal(median: f64, p99: f64, stream: &mut Stream) -> u64 {
    let mu = libm::log(median);
    let sigma = (libm::log(p99) - mu) / NORMAL_P99_Z;
    libm::round(libm::exp(mu + sigma * standard_normal(stream))).max(0.0) as u64
}

/// Gap to the next arrival of a Poisson process whose mean gap is `mean_ns` (`1e9 / rate`
/// for `rate` per second), in nanoseconds.
#[inline]
pub fn exponential_gap_ns(mean_ns: f64, stream: &mut Stream) -> u64 {
    round_to_u64(standard_exponential(stream) * mean_ns)
}

/// The ziggurat's layers (Marsaglia & Tsang, 2000): 256 of equal area under `exp(-x)`.
const ZIG_LAYERS: usize = 256;
/// Where the base layer's tail begins: the right end of layer 1.
const ZIG_EXP_R: f64 = 7.697_117_470_131_05;
/// The area of each layer, the base's tail included: `(R + 1) exp(-R)`.
const ZIG_EXP_V: f64 = 0.003_949_659_822_581_557;

/// The ziggurat's tables: `x[i]` is the right end of layer i (`x[0]`, the base, is the width a
/// rectangle of the base's area would have; `x[256]` = 0), `f[i]` = `exp(-x[i])`.
struct ZigguratTables {
    x: [f64; ZIG_LAYERS + 1],
    f: [f64; ZIG_LAYERS + 1],
}

/// Built at first use with `libm`, so the same on every machine.
static ZIG_EXP: std::sync::OnceLock<ZigguratTables> = std::sync::OnceLock::new();

impl ZigguratTables {
    /// Each layer's top is where the one below it, of area V, ends:
    /// `x[i+1] = -ln(exp(-x[i]) + V / x[i])`.
    fn exponential() -> ZigguratTables {
        let mut x = [0.0; ZIG_LAYERS + 1];
        x[0] = ZIG_EXP_V / libm::exp(-ZIG_EXP_R);
        x[1] = ZIG_EXP_R;
        for i in 2..ZIG_LAYERS {
            x[i] = -libm::log(ZIG_EXP_V / x[i - 1] + libm::exp(-x[i - 1]));
        }
        let mut f = [1.0; ZIG_LAYERS + 1];
        for i in 0..ZIG_LAYERS {
            f[i] = libm::exp(-x[i]);
        }
        ZigguratTables { x, f }
    }
}

/// An Exp(1) draw by the ziggurat method (Marsaglia & Tsang, 2000, as rand_distr's `Exp1`):
/// one `u64` picks a layer (its low 8 bits) and a point across it (its top 52 bits); 97.8 % of
/// draws fall inside the layer's rectangle and return a product, with no transcendental
/// function. The rest test the wedge with `libm::exp` or, in the base layer, draw from the tail
/// beyond R with `libm::log`; `libm` builds the tables too, so draws are the same everywhere.
///
/// Why not `-ln(U)`: `libm::log` on every Poisson arrival gap was 10 % of the single-node
/// benchmark's profile; a gap now costs about a fifth of what it did.
#[inline]
pub fn standard_exponential(stream: &mut Stream) -> f64 {
    let tables = ZIG_EXP.get_or_init(ZigguratTables::exponential);
    loop {
        let bits = stream.next_u64();
        let i = (bits & 0xff) as usize;
        // The top 52 bits as a float in [1, 2), moved to (0, 1): never 0, never 1.
        let u = f64::from_bits((bits >> 12) | 0x3ff0_0000_0000_0000) - (1.0 - f64::EPSILON / 2.0);
        let x = u * tables.x[i];
        if x < tables.x[i + 1] {
            return x;
        }
        if let Some(x) = exponential_slow(tables, i, x, stream) {
            return x;
        }
    }
}

/// The ziggurat's rare cases: the base layer's tail, or the wedge of layer i past its
/// rectangle; `None` rejects the draw.
#[cold]
#[inline(never)]
fn exponential_slow(tables: &ZigguratTables, i: usize, x: f64, stream: &mut Stream) -> Option<f64> {
    if i == 0 {
        // Exp(1) beyond R is R + Exp(1).
        return Some(ZIG_EXP_R - libm::log(stream.unit_open_zero()));
    }
    let y = tables.f[i + 1] + (tables.f[i] - tables.f[i + 1]) * stream.unit();
    (y < libm::exp(-x)).then_some(x)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_fast_floor_and_round_agree_with_libm() {
        let mut stream = Stream::new(9, "rounding");
        let special = [
            0.0,
            -0.0,
            0.5,
            1.5,
            2.5,
            0.499_999_999_999_999_94,
            4_503_599_627_370_495.5,
            TWO_POW_52,
            1e300,
            -0.5,
            -1.5,
        ];
        let drawn = (0..100_000).map(|i| {
            let scale = [1.0, 10.0, 1e4, 1e9, 1e15][i % 5];
            stream.unit() * scale
        });
        for x in special.into_iter().chain(drawn) {
            assert_eq!(floor(x).to_bits(), libm::floor(x).to_bits(), "floor {x}");
            assert_eq!(round_to_u64(x), libm::round(x) as u64, "round {x}");
        }
    }

    /// The sampler without its guide table: the computation every lookup stands for.
    fn computed_sample(zipf: &Zipf, stream: &mut Stream) -> u64 {
        loop {
            let u = zipf.h_integral_n + stream.unit() * (zipf.h_integral_x1 - zipf.h_integral_n);
            let x = zipf.h_integral_inverse(u);
            let k = libm::floor(x + 0.5).clamp(1.0, zipf.n);
            if k - x <= zipf.s || u >= zipf.h_integral(k + 0.5) - zipf.h(k) {
                return k as u64;
            }
        }
    }

    #[test]
    fn the_guide_table_gives_the_samples_the_computation_gives() {
        let cases = [
            (1, 1.0),
            (10, 0.5),
            (1_000, 0.99),
            (3_000, 1.3),
            (50_000, 1.0),
            (1_000_000, 0.99),
            (1_000_000, 0.5),
            (100_000_000, 1.2),
        ];
        for (n, exponent) in cases {
            let zipf = Zipf::new(n, exponent);
            let mut guided = Stream::new(5, "guide");
            let mut computed = guided.clone();
            for draw in 0..200_000 {
                assert_eq!(
                    zipf.sample(&mut guided),
                    computed_sample(&zipf, &mut computed),
                    "n {n}, exponent {exponent}, draw {draw}"
                );
            }
        }
    }

    /// The platform's inversion decides only where `libm`'s would decide the same: at the
    /// draws that fall right at a rank's rounding boundary (`x = k + 0.5`) and a few ulps and
    /// relative steps around it, over keyspaces up to the largest allowed.
    #[test]
    fn the_platform_inversion_decides_only_what_libm_decides() {
        let mut decided = 0u64;
        let mut boundaries = 0u64;
        for (n, exponent) in [
            (1_000_000, 0.99),
            (100_000_000, 1.0),
            (50_000, 0.6),
            (5_000, 1.8),
        ] {
            let zipf = Zipf::new(n, exponent);
            let ranks = (1..2_000u64).chain((1..60).map(|step| n * step / 60));
            for k in ranks {
                let boundary = zipf.h_integral(k as f64 + 0.5);
                let nearby = (-4i64..=4)
                    .map(|ulps| f64::from_bits((boundary.to_bits() as i64 + ulps) as u64));
                let relative = [1e-12, 1e-10, 1e-9, 3e-9, 1e-7, 1e-4]
                    .into_iter()
                    .flat_map(|step| [boundary * (1.0 - step), boundary * (1.0 + step)]);
                for u in nearby.chain(relative) {
                    boundaries += 1;
                    let Some((rank, squeezed)) = zipf.clear_rank(u) else {
                        continue;
                    };
                    decided += 1;
                    let x = zipf.h_integral_inverse(u);
                    let computed = libm::floor(x + 0.5).clamp(1.0, zipf.n);
                    assert_eq!(rank, computed, "n {n}, exponent {exponent}, u {u}");
                    assert_eq!(squeezed, computed - x <= zipf.s, "n {n}, u {u}");
                }
            }
        }
        // Those a 1e-7 or 1e-4 step away are clear of the margin: 4 of the 21 points tried
        // around each boundary, and some of the nearer ones on ranks where `x` moves slowly.
        assert!(decided * 5 > boundaries, "{decided} of {boundaries}");
    }

    #[test]
    fn the_guide_table_answers_most_draws_of_a_large_keyspace() {
        let zipf = Zipf::new(1_000_000, 0.99);
        let mut stream = Stream::new(6, "coverage");
        let guided = (0..100_000)
            .filter(|_| {
                let bits = stream.next_u64() >> 11;
                zipf.guide.ranks[(bits >> zipf.guide.shift) as usize] != 0
            })
            .count();
        assert!(guided > 40_000, "{guided} of 100,000 draws looked up");
    }

    #[test]
    fn zipf_rank_frequencies_follow_the_power_law() {
        let zipf = Zipf::new(1000, 1.0);
        let mut stream = Stream::new(3, "zipf");
        let mut counts = vec![0u32; 1001];
        let draws = 200_000;
        for _ in 0..draws {
            let rank = zipf.sample(&mut stream);
            assert!((1..=1000).contains(&rank));
            counts[rank as usize] += 1;
        }
        // P(rank 1) = 1 / H(1000) ≈ 0.1336; P(rank 2) is half of it.
        let p1 = f64::from(counts[1]) / f64::from(draws);
        assert!((p1 - 0.1336).abs() < 0.005, "p1 = {p1}");
        let ratio = f64::from(counts[1]) / f64::from(counts[2]);
        assert!((ratio - 2.0).abs() < 0.1, "ratio = {ratio}");
    }

    #[test]
    fn zipf_handles_skews_other_than_one() {
        for skew in [0.5, 0.99, 1.2, 2.0] {
            let zipf = Zipf::new(10, skew);
            let mut stream = Stream::new(5, "skew");
            for _ in 0..1000 {
                assert!((1..=10).contains(&zipf.sample(&mut stream)));
            }
        }
        let single = Zipf::new(1, 0.99);
        assert_eq!(single.sample(&mut Stream::new(1, "one")), 1);
    }

    #[test]
    fn hotset_sends_the_configured_share_to_hot_keys() {
        let mut picker = KeyPicker::new(
            1000,
            Popularity::Hotset {
                hot_key_share: 0.1,
                hot_access_share: 0.9,
            },
        );
        let mut stream = Stream::new(1, "hot");
        let hot = (0..100_000)
            .filter(|_| picker.pick(&mut stream) < 100)
            .count();
        assert!((89_000..91_000).contains(&hot), "{hot}");
    }

    #[test]
    fn sequential_wraps() {
        let mut picker = KeyPicker::new(3, Popularity::Sequential);
        let mut stream = Stream::new(1, "seq");
        let ids: Vec<u64> = (0..7).map(|_| picker.pick(&mut stream)).collect();
        assert_eq!(ids, vec![0, 1, 2, 0, 1, 2, 0]);
    }

    #[test]
    fn lognormal_median_and_p99() {
        let size = ValueSize::Lognormal {
            median: 200.0,
            p99: 5000.0,
        };
        let mut stream = Stream::new(11, "ln");
        let mut sizes: Vec<u32> = (0..100_000)
            .map(|_| sample_value_size(&size, &mut stream))
            .collect();
        sizes.sort_unstable();
        let median = sizes[50_000];
        let p99 = sizes[99_000];
        assert!((190..210).contains(&median), "median {median}");
        assert!((4500..5500).contains(&p99), "p99 {p99}");
    }

    #[test]
    fn normal_sizes_clamp_at_zero() {
        let size = ValueSize::Normal {
            mean: 10.0,
            stddev: 100.0,
        };
        let mut stream = Stream::new(2, "n");
        assert!((0..10_000).all(|_| sample_value_size(&size, &mut stream) <= 1000));
    }

    #[test]
    fn the_ziggurat_tables_close_and_match_marsaglia_and_tsang() {
        let tables = ZigguratTables::exponential();
        // Marsaglia & Tsang's published x values.
        let published = [
            8.697_117_470_131_05,
            7.697_117_470_131_05,
            6.941_033_629_377_212,
            6.478_378_493_832_57,
        ];
        for (i, x) in published.into_iter().enumerate() {
            assert!((tables.x[i] - x).abs() < 1e-12, "x[{i}] = {}", tables.x[i]);
        }
        assert!(tables.x.windows(2).all(|pair| pair[0] > pair[1]));
        // The top layer, between x[255] and 0, has the area of every other.
        let top = tables.x[ZIG_LAYERS - 1] * (1.0 - tables.f[ZIG_LAYERS - 1]);
        assert!((top / ZIG_EXP_V - 1.0).abs() < 1e-6, "top layer area {top}");
        for i in 1..ZIG_LAYERS {
            let area = tables.x[i] * (tables.f[i + 1] - tables.f[i]);
            assert!(
                (area / ZIG_EXP_V - 1.0).abs() < 1e-6,
                "layer {i} area {area}"
            );
        }
        assert_eq!(tables.f[ZIG_LAYERS], 1.0);
    }

    #[test]
    fn ziggurat_draws_follow_exp_1() {
        let mut stream = Stream::new(12, "ziggurat");
        let draws = 1_000_000;
        let (mut sum, mut sum_sq, mut above_3, mut tail, mut tail_excess) =
            (0.0, 0.0, 0u32, 0u32, 0.0);
        for _ in 0..draws {
            let x = standard_exponential(&mut stream);
            assert!(x > 0.0 && x.is_finite());
            sum += x;
            sum_sq += x * x;
            above_3 += u32::from(x > 3.0);
            if x > ZIG_EXP_R {
                tail += 1;
                tail_excess += x - ZIG_EXP_R;
            }
        }
        let n = f64::from(draws);
        let mean = sum / n;
        let variance = sum_sq / n - mean * mean;
        assert!((mean - 1.0).abs() < 0.005, "mean {mean}");
        assert!((variance - 1.0).abs() < 0.01, "variance {variance}");
        // P(X > 3) = e^-3 ≈ 0.0498: 49,787 expected, sd ≈ 218.
        let p3 = f64::from(above_3) / n;
        assert!((p3 - libm::exp(-3.0)).abs() < 0.001, "P(X > 3) = {p3}");
        // P(X > R) = e^-R ≈ 4.5e-4: about 454 draws from the tail (only the tail branch returns
        // more than R), whose excess is Exp(1).
        assert!((350..560).contains(&tail), "{tail} tail draws");
        let excess = tail_excess / f64::from(tail);
        assert!((excess - 1.0).abs() < 0.2, "mean excess beyond R {excess}");
    }

    #[test]
    fn ziggurat_quantiles_follow_exp_1() {
        let mut stream = Stream::new(13, "ziggurat quantiles");
        let draws = 400_000usize;
        let mut xs: Vec<f64> = (0..draws)
            .map(|_| standard_exponential(&mut stream))
            .collect();
        xs.sort_unstable_by(f64::total_cmp);
        for p in [0.01, 0.1, 0.25, 0.5, 0.75, 0.9, 0.99, 0.999] {
            let quantile = xs[(p * draws as f64) as usize];
            let expected = -libm::log(1.0 - p);
            // The sample quantile's standard error: sqrt(p (1 - p) / n) / density(q).
            let standard_error = (p / ((1.0 - p) * draws as f64)).sqrt();
            assert!(
                (quantile - expected).abs() < 4.0 * standard_error,
                "q{p} = {quantile}, not {expected} ± {standard_error}"
            );
        }
    }

    #[test]
    fn exponential_gaps_have_the_right_mean() {
        let mut stream = Stream::new(4, "gap");
        let total: u64 = (0..100_000)
            .map(|_| exponential_gap_ns(1e9 / 1000.0, &mut stream))
            .sum();
        let mean_ns = total as f64 / 100_000.0;
        assert!((mean_ns - 1e6).abs() < 2e4, "{mean_ns}");
    }
}
