#include "solver/numerics/philox_normals.h"

#include <algorithm>
#include <bit>
#include <cmath>

#include <Random123/philox.h>

// The SIMD paths need GCC's target pragma (other compilers and CPUs use the portable path).
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#include <immintrin.h>
#define LDSGD_PHILOX_SIMD 1
#endif

namespace ldsgd {
namespace {

// Why one kernel source for every instruction set: the one-lane path (the reference, and the
// fallback on other CPUs) and the AVX2 and AVX-512 paths are the same templates
// (philox_kernels.inc, included once per target) instantiated with different lane types, so they
// perform the same IEEE operations in the same order and give the same bits (tested); none fuses a
// multiply and an add. The fastest path the CPU has is chosen at run time, so results never depend
// on it. Why intrinsics rather than plain loops left to the auto-vectorizer: GCC emulates the 32 x
// 32 -> 64-bit products of Philox with full 64-bit multiplies (slower than scalar code), and the
// errno semantics of sqrt keep it from vectorizing Box-Muller at all; the lane types state both
// directly. Normals per second on one core (AMD EPYC Zen 4): 2.3e7 portable, 1.5e8 AVX2,
// 3.6e8 AVX-512.

// Philox4x32 multipliers and Weyl key increments (Random123's PHILOX_M4x32_*, PHILOX_W32_*).
constexpr std::uint32_t kM0 = 0xD2511F53u, kM1 = 0xCD9E8D57u;
constexpr std::uint32_t kW0 = 0x9E3779B9u, kW1 = 0xBB67AE85u;
constexpr int kRounds = 10;

// fdlibm e_log.c: ln 2 split in a high part with trailing zeros and a correction, and the minimax
// coefficients of (log(1+f) - 2s)/s with s = f/(2+f).
constexpr double kLn2Hi = 6.93147180369123816490e-01, kLn2Lo = 1.90821492927058770002e-10;
constexpr double kLg1 = 6.666666666666735130e-01, kLg2 = 3.999999999940941908e-01,
                 kLg3 = 2.857142874366239149e-01, kLg4 = 2.222219843214978396e-01,
                 kLg5 = 1.818357216161805012e-01, kLg6 = 1.531383769920937332e-01,
                 kLg7 = 1.479819860511658591e-01;
// fdlibm k_sin.c and k_cos.c: minimax polynomials on [-pi/4, pi/4].
constexpr double kS1 = -1.66666666666666324348e-01, kS2 = 8.33333333332248946124e-03,
                 kS3 = -1.98412698298579493134e-04, kS4 = 2.75573137070700676789e-06,
                 kS5 = -2.50507602534068634195e-08, kS6 = 1.58969099521155010221e-10;
constexpr double kC1 = 4.16666666666666019037e-02, kC2 = -1.38888888888741095749e-03,
                 kC3 = 2.48015872894767294178e-05, kC4 = -2.75573143513906633035e-07,
                 kC5 = 2.08757232129817482790e-09, kC6 = -1.13596475577881948265e-11;
constexpr double kTwoPiOver2To32 = 6.283185307179586476925286766559 / 4294967296.0;

constexpr std::uint64_t kLow32 = 0xFFFFFFFFu;
constexpr std::uint64_t kOneBits = 0x3FF0000000000000u;              // 1.0
constexpr std::uint64_t kTwo52Bits = 0x4330000000000000u;            // 2^52
constexpr std::uint64_t kOneAndHalfTwo52Bits = 0x4338000000000000u;  // 1.5 2^52

struct RoundKeys {
  std::uint64_t k0[kRounds], k1[kRounds];
  explicit RoundKeys(PhiloxKey key) {
    std::uint32_t a = key.k0, b = key.k1;
    for (int r = 0; r < kRounds; ++r, a += kW0, b += kW1) {
      k0[r] = a;
      k1[r] = b;
    }
  }
};

// One lane: double and a 64-bit word.
struct ScalarLanes {
  using D = double;
  using U = std::uint64_t;
  static constexpr int kWidth = 1;
  static D Set(double v) { return v; }
  static U SetU(std::uint64_t v) { return v; }
  static D Add(D a, D b) { return a + b; }
  static D Sub(D a, D b) { return a - b; }
  static D Mul(D a, D b) { return a * b; }
  static D Div(D a, D b) { return a / b; }
  static D Sqrt(D a) { return std::sqrt(a); }
  static U AddU(U a, U b) { return a + b; }
  static U SubU(U a, U b) { return a - b; }
  static U And(U a, U b) { return a & b; }
  static U Or(U a, U b) { return a | b; }
  static U Xor(U a, U b) { return a ^ b; }
  template <int n>
  static U Shl(U a) {
    return a << n;
  }
  template <int n>
  static U Shr(U a) {
    return a >> n;
  }
  static U MulLow32(U a, U b) { return (a & kLow32) * (b & kLow32); }
  static D AsDouble(U a) { return std::bit_cast<double>(a); }
  static U AsBits(D a) { return std::bit_cast<std::uint64_t>(a); }
  static U LaneIndex() { return 0; }
  static void Store(double* p, D a) { *p = a; }
};

namespace portable {
#include "solver/numerics/philox_kernels.inc"
}  // namespace portable

#ifdef LDSGD_PHILOX_SIMD
#pragma GCC push_options
#pragma GCC target("avx2")
namespace avx2 {

// Four lanes in __m256d and __m256i. The avx2 target has no FMA, so products and sums are never
// contracted.
struct Lanes {
  using D = __m256d;
  using U = __m256i;
  static constexpr int kWidth = 4;
  [[gnu::always_inline]] static D Set(double v) { return _mm256_set1_pd(v); }
  [[gnu::always_inline]] static U SetU(std::uint64_t v) {
    return _mm256_set1_epi64x(static_cast<long long>(v));
  }
  [[gnu::always_inline]] static D Add(D a, D b) { return _mm256_add_pd(a, b); }
  [[gnu::always_inline]] static D Sub(D a, D b) { return _mm256_sub_pd(a, b); }
  [[gnu::always_inline]] static D Mul(D a, D b) { return _mm256_mul_pd(a, b); }
  [[gnu::always_inline]] static D Div(D a, D b) { return _mm256_div_pd(a, b); }
  [[gnu::always_inline]] static D Sqrt(D a) { return _mm256_sqrt_pd(a); }
  [[gnu::always_inline]] static U AddU(U a, U b) { return _mm256_add_epi64(a, b); }
  [[gnu::always_inline]] static U SubU(U a, U b) { return _mm256_sub_epi64(a, b); }
  [[gnu::always_inline]] static U And(U a, U b) { return _mm256_and_si256(a, b); }
  [[gnu::always_inline]] static U Or(U a, U b) { return _mm256_or_si256(a, b); }
  [[gnu::always_inline]] static U Xor(U a, U b) { return _mm256_xor_si256(a, b); }
  template <int n>
  [[gnu::always_inline]] static U Shl(U a) {
    return _mm256_slli_epi64(a, n);
  }
  template <int n>
  [[gnu::always_inline]] static U Shr(U a) {
    return _mm256_srli_epi64(a, n);
  }
  [[gnu::always_inline]] static U MulLow32(U a, U b) { return _mm256_mul_epu32(a, b); }
  [[gnu::always_inline]] static D AsDouble(U a) { return _mm256_castsi256_pd(a); }
  [[gnu::always_inline]] static U AsBits(D a) { return _mm256_castpd_si256(a); }
  [[gnu::always_inline]] static U LaneIndex() { return _mm256_set_epi64x(3, 2, 1, 0); }
  [[gnu::always_inline]] static void Store(double* p, D a) { _mm256_storeu_pd(p, a); }
};

#include "solver/numerics/philox_kernels.inc"

void Normals(const RoundKeys& keys, std::uint32_t first_chain, int count, std::uint64_t step,
             std::uint32_t draw, double* z0, double* z1) {
  NormalsBlock<Grouped<Lanes, 4>>(keys, first_chain, count, step, draw, z0, z1);
}

}  // namespace avx2
#pragma GCC pop_options

#pragma GCC push_options
#pragma GCC target("avx512f")
// GCC 12 reports false -Wmaybe-uninitialized warnings inside its own AVX-512 intrinsics (the
// _mm512_undefined_* placeholders; GCC bug 105593, fixed in GCC 13).
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
namespace avx512 {

// Eight lanes in __m512d and __m512i. AVX-512F has fused multiply-add, and GCC's plain
// _mm512_mul_pd / _mm512_add_pd are vector expressions it may contract into one; the _round
// forms with the current rounding mode compute the same IEEE results but are opaque builtins that
// it never fuses.
struct Lanes {
  using D = __m512d;
  using U = __m512i;
  static constexpr int kWidth = 8;
  static constexpr int kRound = _MM_FROUND_CUR_DIRECTION;
  [[gnu::always_inline]] static D Set(double v) { return _mm512_set1_pd(v); }
  [[gnu::always_inline]] static U SetU(std::uint64_t v) {
    return _mm512_set1_epi64(static_cast<long long>(v));
  }
  [[gnu::always_inline]] static D Add(D a, D b) { return _mm512_add_round_pd(a, b, kRound); }
  [[gnu::always_inline]] static D Sub(D a, D b) { return _mm512_sub_round_pd(a, b, kRound); }
  [[gnu::always_inline]] static D Mul(D a, D b) { return _mm512_mul_round_pd(a, b, kRound); }
  [[gnu::always_inline]] static D Div(D a, D b) { return _mm512_div_round_pd(a, b, kRound); }
  [[gnu::always_inline]] static D Sqrt(D a) { return _mm512_sqrt_round_pd(a, kRound); }
  [[gnu::always_inline]] static U AddU(U a, U b) { return _mm512_add_epi64(a, b); }
  [[gnu::always_inline]] static U SubU(U a, U b) { return _mm512_sub_epi64(a, b); }
  [[gnu::always_inline]] static U And(U a, U b) { return _mm512_and_si512(a, b); }
  [[gnu::always_inline]] static U Or(U a, U b) { return _mm512_or_si512(a, b); }
  [[gnu::always_inline]] static U Xor(U a, U b) { return _mm512_xor_si512(a, b); }
  template <int n>
  [[gnu::always_inline]] static U Shl(U a) {
    return _mm512_slli_epi64(a, n);
  }
  template <int n>
  [[gnu::always_inline]] static U Shr(U a) {
    return _mm512_srli_epi64(a, n);
  }
  [[gnu::always_inline]] static U MulLow32(U a, U b) { return _mm512_mul_epu32(a, b); }
  [[gnu::always_inline]] static D AsDouble(U a) { return _mm512_castsi512_pd(a); }
  [[gnu::always_inline]] static U AsBits(D a) { return _mm512_castpd_si512(a); }
  [[gnu::always_inline]] static U LaneIndex() { return _mm512_set_epi64(7, 6, 5, 4, 3, 2, 1, 0); }
  [[gnu::always_inline]] static void Store(double* p, D a) { _mm512_storeu_pd(p, a); }
};

#include "solver/numerics/philox_kernels.inc"

void Normals(const RoundKeys& keys, std::uint32_t first_chain, int count, std::uint64_t step,
             std::uint32_t draw, double* z0, double* z1) {
  NormalsBlock<Grouped<Lanes, 4>>(keys, first_chain, count, step, draw, z0, z1);
}

}  // namespace avx512
#pragma GCC diagnostic pop
#pragma GCC pop_options
#endif  // LDSGD_PHILOX_SIMD

enum class Isa { kPortable, kAvx2, kAvx512 };

Isa BestIsa() {
#ifdef LDSGD_PHILOX_SIMD
  static const Isa isa = __builtin_cpu_supports("avx512f") ? Isa::kAvx512
                         : __builtin_cpu_supports("avx2")  ? Isa::kAvx2
                                                           : Isa::kPortable;
  return isa;
#else
  return Isa::kPortable;
#endif
}

}  // namespace

std::array<std::uint32_t, 4> PhiloxBlock(PhiloxKey key, std::uint32_t chain, std::uint64_t step,
                                         std::uint32_t draw) {
  const r123::Philox4x32::ctr_type ctr = {
      {chain, static_cast<std::uint32_t>(step), static_cast<std::uint32_t>(step >> 32), draw}};
  const r123::Philox4x32::key_type k = {{key.k0, key.k1}};
  const r123::Philox4x32::ctr_type out = r123::Philox4x32()(ctr, k);
  return {out.v[0], out.v[1], out.v[2], out.v[3]};
}

void BoxMuller(const std::array<std::uint32_t, 4>& words, double* z0, double* z1) {
  portable::BoxMullerLanes<ScalarLanes>(words[0], words[1], words[2], z0, z1);
}

double LogUnit(double u) { return portable::Log<ScalarLanes>(u); }

void SinCosTurn(std::uint32_t w, double* sine, double* cosine) {
  portable::SinCos<ScalarLanes>(w, sine, cosine);
}

const char* PhiloxInstructionSet() {
  switch (BestIsa()) {
    case Isa::kAvx512: return "avx512f";
    case Isa::kAvx2: return "avx2";
    case Isa::kPortable: break;
  }
  return "portable";
}

void PhiloxWordsBlock(PhiloxKey key, std::uint32_t first_chain, int count, std::uint64_t step,
                      std::uint32_t draw, std::uint32_t* w0, std::uint32_t* w1, std::uint32_t* w2,
                      std::uint32_t* w3) {
  const RoundKeys keys(key);
  std::uint32_t* out[4] = {w0, w1, w2, w3};
  for (int l = 0; l < count; ++l) {
    std::uint64_t c[4] = {(first_chain + static_cast<std::uint64_t>(l)) & kLow32, step & kLow32,
                          step >> 32, draw};
    portable::PhiloxLanes<ScalarLanes>(keys.k0, keys.k1, c);
    for (int j = 0; j < 4; ++j) out[j][l] = static_cast<std::uint32_t>(c[j]);
  }
}

void PhiloxNormalsBlock(PhiloxKey key, std::uint32_t first_chain, int count, std::uint64_t step,
                        std::uint32_t draw, double* z0, double* z1) {
  const RoundKeys keys(key);
  switch (BestIsa()) {
#ifdef LDSGD_PHILOX_SIMD
    case Isa::kAvx512: return avx512::Normals(keys, first_chain, count, step, draw, z0, z1);
    case Isa::kAvx2: return avx2::Normals(keys, first_chain, count, step, draw, z0, z1);
#endif
    default: break;
  }
  portable::NormalsBlock<ScalarLanes>(keys, first_chain, count, step, draw, z0, z1);
}

void PhiloxNormalsBlockPortable(PhiloxKey key, std::uint32_t first_chain, int count,
                                std::uint64_t step, std::uint32_t draw, double* z0, double* z1) {
  portable::NormalsBlock<ScalarLanes>(RoundKeys(key), first_chain, count, step, draw, z0, z1);
}

void PhiloxIndicesBlock(PhiloxKey key, std::uint32_t first_chain, int count, std::uint64_t step,
                        std::uint32_t draw, std::uint32_t n, std::uint32_t* i0, std::uint32_t* i1) {
  const RoundKeys keys(key);
  for (int l = 0; l < count; ++l) {
    std::uint64_t c[4] = {(first_chain + static_cast<std::uint64_t>(l)) & kLow32, step & kLow32,
                          step >> 32, draw};
    portable::PhiloxLanes<ScalarLanes>(keys.k0, keys.k1, c);
    i0[l] = ScaleToRange((c[0] << 32) | c[1], n);
    i1[l] = ScaleToRange((c[2] << 32) | c[3], n);
  }
}

}  // namespace ldsgd
