// Counter-based random numbers for the simulator: Philox4x32-10 (Salmon, Moraes, Dror, Shaw,
// "Parallel random numbers: as easy as 1, 2, 3", SC'11; the Random123 library) and standard normals
// from it by Box-Muller.
//
// Why counter-based: every random number is a pure function of (seed, chain, step, draw), so a
// chain's path does not depend on which thread ran it, on how chains were grouped into blocks, or
// on the order of evaluation; results are bit-identical for any number of threads.
//
// Keying: key = (seed low 32 bits, seed high 32 bits); counter = (chain, step low 32 bits, step
// high 32 bits, draw), `draw` numbering the Philox blocks one chain uses in one step. One block is
// 128 random bits. The block kernels compute exactly r123::Philox4x32 (tested against it) for the
// lanes of a block of consecutive chains, with AVX-512 or AVX2 where the CPU has them (chosen at
// run time) and a portable one-lane path otherwise; all paths give the same bits (tested).
//
// Normals: one Philox block gives two normals by Box-Muller, z0 = r cos(2 pi a), z1 = r sin(2 pi
// a), r = sqrt(-2 ln u): u = 1 - k 2^-52 in [2^-52, 1] from the top 52 of the 64 bits of words 0
// and 1 (so |z| reaches sqrt(2 * 52 ln 2) = 8.49 and the tails are exact to that depth), a = w2
// 2^-32 from word 2; word 3 is unused. log, sin and cos are the fdlibm kernels (Sun Microsystems,
// the basis of most libm's; error below 1 ulp) written branch-free with exact range reduction, not
// libm calls: they vectorize, and they give the same bits on every platform and libm version.
#ifndef LDSGD_SOLVER_NUMERICS_PHILOX_NORMALS_H_
#define LDSGD_SOLVER_NUMERICS_PHILOX_NORMALS_H_

#include <array>
#include <cstdint>

namespace ldsgd {

struct PhiloxKey {
  std::uint32_t k0 = 0, k1 = 0;
};
inline PhiloxKey KeyFromSeed(std::uint64_t seed) {
  return {static_cast<std::uint32_t>(seed), static_cast<std::uint32_t>(seed >> 32)};
}

// The Philox4x32-10 block of one (chain, step, draw), through Random123 itself (the reference).
std::array<std::uint32_t, 4> PhiloxBlock(PhiloxKey key, std::uint32_t chain, std::uint64_t step,
                                         std::uint32_t draw);

// Two normals from one Philox block, as described above (the scalar reference of the block kernel).
void BoxMuller(const std::array<std::uint32_t, 4>& words, double* z0, double* z1);

// The branch-free fdlibm kernels, exposed for tests: ln u for u in [2^-1022, 1] (normal,
// positive), and sin, cos of 2 pi a for a = w 2^-32, w a 32-bit word.
double LogUnit(double u);
void SinCosTurn(std::uint32_t w, double* sine, double* cosine);

// Block kernels. Lane l (0 <= l < count) is chain first_chain + l; its counter is
// (first_chain + l, step, draw). Outputs are arrays of `count` values.
//
// The four words of each lane's Philox block.
void PhiloxWordsBlock(PhiloxKey key, std::uint32_t first_chain, int count, std::uint64_t step,
                      std::uint32_t draw, std::uint32_t* w0, std::uint32_t* w1, std::uint32_t* w2,
                      std::uint32_t* w3);
// Two independent standard normals per lane (BoxMuller of the lane's block).
void PhiloxNormalsBlock(PhiloxKey key, std::uint32_t first_chain, int count, std::uint64_t step,
                        std::uint32_t draw, double* z0, double* z1);
// The instruction set PhiloxNormalsBlock uses on this CPU: "avx512f", "avx2" or "portable".
const char* PhiloxInstructionSet();
// The same numbers by the portable one-lane kernel, for tests, which check that every path gives
// the same bits.
void PhiloxNormalsBlockPortable(PhiloxKey key, std::uint32_t first_chain, int count,
                                std::uint64_t step, std::uint32_t draw, double* z0, double* z1);
// Two independent uniform indices in [0, n) per lane, from words (0, 1) and (2, 3) as 64-bit
// integers w: floor(w n / 2^64), whose bias is below n / 2^64 (no rejection, so no branches and
// a fixed number of draws).
void PhiloxIndicesBlock(PhiloxKey key, std::uint32_t first_chain, int count, std::uint64_t step,
                        std::uint32_t draw, std::uint32_t n, std::uint32_t* i0, std::uint32_t* i1);

// floor(w n / 2^64) exactly, with 64-bit arithmetic only.
inline std::uint32_t ScaleToRange(std::uint64_t w, std::uint32_t n) {
  const std::uint64_t hi = (w >> 32) * n, lo = (w & 0xFFFFFFFFu) * n;
  return static_cast<std::uint32_t>((hi + (lo >> 32)) >> 32);
}

}  // namespace ldsgd

#endif  // LDSGD_SOLVER_NUMERICS_PHILOX_NORMALS_H_
