//! Estimates made with the platform's floats (`exp`, `ln`), several times faster than
//! `libm`'s and a few ulps from them on any platform. They are never a result by themselves:
//! a caller uses one only where a margin far wider than those ulps proves that `libm`'s value
//! decides the same (`dist::Zipf::clear_rank`), and computes with `libm` otherwise. So a run's
//! draws stay the same on every machine, as the tidy test that keeps platform floats out of
//! the core demands; only this file is let off it.

/// `exp(log1p(t)/t · u)` with `t = u(1 - exponent)` clamped at -1: Zipf's inverse
/// `h_integral_inverse`, to within about 1e-13 relative of `libm`'s.
#[inline]
pub fn zipf_inverse(u: f64, exponent: f64) -> f64 {
    let t = (u * (1.0 - exponent)).max(-1.0);
    let helper = if t.abs() > 1e-8 {
        // log1p(t)/t as ln(w)/(w - 1), w = 1 + t rounded (Goldberg's rewriting: the rounding
        // of w cancels between the two), with the platform's `ln`, faster than its `ln_1p`.
        let w = 1.0 + t;
        w.ln() / (w - 1.0)
    } else {
        1.0 - t * (0.5 - t * (1.0 / 3.0 - 0.25 * t))
    };
    (helper * u).exp()
}
