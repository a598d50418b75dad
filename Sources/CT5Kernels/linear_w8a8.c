// int8 weights times int8 activations (W8A8), the opt-in `--int8-activations` mode: each input row is quantised to
// int8 with one scale (Int8Quantize, as the int8 KV cache does), multiplied by the int8 weights in 32-bit integers,
// and the sum scaled back by both scales. Integer sums do not depend on their order, so the VNNI tiles, the AVX2 tiles
// and the plain loop give every output the same bits.
//
// AVX-512 VNNI's `vpdpbusd` multiplies unsigned by signed bytes, 64 pairs per instruction (four times the f32 FMAs'
// lanes, and no widening of the weights): activations go in as q + 128 (q ^ 0x80) and 128 · Σw per weight row, which
// the caller computed once at load, is taken back out. At batch 8 the f32-compute int8 tiles spend most of their
// issue slots widening weights (PERFORMANCE.md, "W8A8 with VNNI").
#include "t5_kernels.h"

/// The definition every path follows: y[r, o] (+)= ((float)(Σ_k xq[r, k] · w[o, k]) · ws[o]) · xs[r].
static inline __attribute__((always_inline)) void w8a8_store(const T5KLinearW8A8 *j, long r, long o, int dot) {
    float *yp = j->y + r * j->ldy + o;
    const float v = ((float)dot * j->wscales[o]) * j->xscales[r];
    *yp = j->accumulate ? *yp + v : v;
}

/// Any CPU: the same integers, one pair at a time.
void t5k_linear_w8a8_plain(const T5KLinearW8A8 *j, long begin, long end) {
    for (long o = begin; o < end; o++) {
        const signed char *w = j->w + o * j->in;
        for (long r = 0; r < j->rows; r++) {
            const signed char *x = j->xq + r * j->ldxq;
            int dot = 0;
            for (long k = 0; k < j->in; k++) dot += (int)x[k] * (int)w[k];
            w8a8_store(j, r, o, dot);
        }
    }
}

void t5k_int8_row_sums_plain(const signed char *w, long out, long in, int *sums) {
    for (long o = 0; o < out; o++) {
        int s = 0;
        for (long k = 0; k < in; k++) s += w[o * in + k];
        sums[o] = s;
    }
}

#if defined(__x86_64__) && defined(__clang__)
#include <cpuid.h>
#include <immintrin.h>

int t5k_cpu_has_vnni(void) {
    if (t5k_cpu_level() != T5K_LEVEL_AVX512) return 0;
    unsigned a, b, c, d;
    if (!__get_cpuid_count(7, 0, &a, &b, &c, &d)) return 0;
    return (c >> 11) & 1;  // AVX512_VNNI
}

#pragma clang attribute push(__attribute__((target("avx512f,avx512bw,avx512vl,avx512dq,avx512vnni,avx2,fma"))), apply_to = function)

typedef int w8a8_vi __attribute__((ext_vector_type(16)));
#include "reduce16.h"
#include "int_tiles.h"
DEFINE_REDUCE16(w8a8_reduce16, w8a8_vi)

/// The bytes of `p[0..<left]` in a vector (zeros past `left`), so rows of any width need no scalar tail.
static inline __attribute__((always_inline)) __m512i w8a8_load(const signed char *p, long left) {
    return left >= 64 ? _mm512_loadu_si512(p) : _mm512_maskz_loadu_epi8((__mmask64)((1ULL << left) - 1), p);
}

/// Weight rows o..<o+OB against input rows r..<r+RBN: one 32-bit accumulator vector per pair, summed over k. OB and RBN
/// are constants at every call site, so the accumulators live in registers.
static inline __attribute__((always_inline)) void w8a8_tile(const T5KLinearW8A8 *j, long o, long r, const int OB,
                                                            const int RBN) {
    const long n = j->in;
    const signed char *w = j->w + o * n, *x = j->xq + r * j->ldxq;
    const __m512i flip = _mm512_set1_epi8((char)0x80);
    __m512i acc[8][4];
    for (int a = 0; a < OB; a++) for (int b = 0; b < RBN; b++) acc[a][b] = _mm512_setzero_si512();
    for (long k = 0; k < n; k += 64) {
        // The next tile's weights, swept at the pace this one is read (rows are short: 512 B at d_model 512).
        for (int a = 0; a < OB; a++) __builtin_prefetch(w + (OB + a) * n + k);
        __m512i wv[8];
        for (int a = 0; a < OB; a++) wv[a] = w8a8_load(w + a * n + k, n - k);
        for (int b = 0; b < RBN; b++) {
            // q ^ 0x80 = q + 128 as an unsigned byte; zero-filled tail lanes meet zero weights.
            const __m512i xv = _mm512_xor_si512(w8a8_load(x + b * j->ldxq + k, n - k), flip);
            for (int a = 0; a < OB; a++) acc[a][b] = _mm512_dpbusd_epi32(acc[a][b], xv, wv[a]);
        }
    }
    if (OB == 4 && RBN == 4) {
        w8a8_vi v[16];
        for (int b = 0; b < 4; b++) for (int a = 0; a < 4; a++) v[4 * b + a] = (w8a8_vi)acc[a][b];
        // Corrected sixteen at a time: lane 4b + a takes 128 · Σw of output o + a.
        const __m512i sums = _mm512_broadcast_i32x4(_mm_loadu_si128((const __m128i *)(j->wsums + o)));
        const __m512i dot = _mm512_sub_epi32((__m512i)w8a8_reduce16(v), _mm512_slli_epi32(sums, 7));
        int_tile_store4x4(dot, j->wscales + o, j->xscales + r, j->y + r * j->ldy + o, j->ldy, j->accumulate);
        return;
    }
    for (int a = 0; a < OB; a++)
        for (int b = 0; b < RBN; b++)
            w8a8_store(j, r + b, o + a, _mm512_reduce_add_epi32(acc[a][b]) - 128 * j->wsums[o + a]);
}

DEFINE_INT_TILES(t5k_linear_w8a8_vnni, T5KLinearW8A8, w8a8_tile)

#pragma clang attribute pop

#pragma clang attribute push(__attribute__((target("avx2,fma"))), apply_to = function)

/// AVX2 has no byte dot product that is exact here (`vpmaddubsw` saturates 255 · 127 · 2), so both operands are
/// sign-extended to 16 bits and `vpmaddwd` sums pairs into 32 bits: 1.3x the f32-activation int8 tiles on AVX2, where
/// the plain loop runs at a sixth of them. Four weight rows x two input rows, sixteen bytes of k per step.
static inline __attribute__((always_inline)) void w8a8_tile_avx2(const T5KLinearW8A8 *j, long o, long r, const int OB,
                                                                 const int RBN) {
    const long n = j->in;
    const signed char *w = j->w + o * n, *x = j->xq + r * j->ldxq;
    __m256i acc[4][2];
    for (int a = 0; a < OB; a++) for (int b = 0; b < RBN; b++) acc[a][b] = _mm256_setzero_si256();
    long k = 0;
    for (; k + 16 <= n; k += 16) {
        __m256i wv[4];
        for (int a = 0; a < OB; a++) wv[a] = _mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)(w + a * n + k)));
        for (int b = 0; b < RBN; b++) {
            const __m256i xv = _mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)(x + b * j->ldxq + k)));
            for (int a = 0; a < OB; a++) acc[a][b] = _mm256_add_epi32(acc[a][b], _mm256_madd_epi16(xv, wv[a]));
        }
    }
    for (int a = 0; a < OB; a++)
        for (int b = 0; b < RBN; b++) {
            int lanes[8];
            _mm256_storeu_si256((__m256i *)lanes, acc[a][b]);
            int dot = 0;
            for (int l = 0; l < 8; l++) dot += lanes[l];
            for (long t = k; t < n; t++) dot += (int)x[b * j->ldxq + t] * (int)w[a * n + t];
            w8a8_store(j, r + b, o + a, dot);
        }
}

int t5k_linear_w8a8_avx2(const T5KLinearW8A8 *j, long begin, long end) {
    const long rows = j->rows;
    long o = begin;
    for (; o + 4 <= end; o += 4) {
        long r = 0;
        for (; r + 2 <= rows; r += 2) w8a8_tile_avx2(j, o, r, 4, 2);
        if (r < rows) w8a8_tile_avx2(j, o, r, 4, 1);
    }
    for (; o < end; o++) for (long r = 0; r < rows; r++) w8a8_tile_avx2(j, o, r, 1, 1);
    return 1;
}

/// 32 bytes at a time: w ^ 0x80 is w + 128 as an unsigned byte, and `vpsadbw` against zero sums eight of those into
/// each 64-bit lane; 128 per byte is taken back out at the end. W8A8 load of flan-t5-base 55-61 -> 36-41 ms; what is
/// left is the first touch of the mapped weights (PERFORMANCE.md, "W8A8 row sums in C").
int t5k_int8_row_sums_avx2(const signed char *w, long out, long in, int *sums) {
    const __m256i flip = _mm256_set1_epi8((char)0x80), zero = _mm256_setzero_si256();
    for (long o = 0; o < out; o++) {
        const signed char *row = w + o * in;
        __m256i acc = zero;
        long k = 0;
        for (; k + 32 <= in; k += 32) {
            const __m256i v = _mm256_xor_si256(_mm256_loadu_si256((const __m256i *)(row + k)), flip);
            acc = _mm256_add_epi64(acc, _mm256_sad_epu8(v, zero));
        }
        long lanes[4];
        _mm256_storeu_si256((__m256i *)lanes, acc);
        long s = lanes[0] + lanes[1] + lanes[2] + lanes[3] - 128 * k;
        for (; k < in; k++) s += row[k];
        sums[o] = (int)s;
    }
    return 1;
}

#pragma clang attribute pop

#else

int t5k_cpu_has_vnni(void) { return 0; }
int t5k_linear_w8a8_vnni(const T5KLinearW8A8 *j, long begin, long end) { (void)j; (void)begin; (void)end; return 0; }
int t5k_linear_w8a8_avx2(const T5KLinearW8A8 *j, long begin, long end) { (void)j; (void)begin; (void)end; return 0; }
int t5k_int8_row_sums_avx2(const signed char *w, long out, long in, int *sums) { (void)w; (void)out; (void)in; (void)sums; return 0; }

#endif
