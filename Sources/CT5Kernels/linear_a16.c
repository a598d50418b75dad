// int8 weights times 16-bit activations (W8A16): the default int8 decode product with AVX2 or AVX-512. Each input row
// is rounded to integers with one scale per row, as many levels as a 32-bit sum allows (`t5k_a16_levels`: 32767 up to
// 512 inputs, 8191 at 2048), and `vpdpwssd` (AVX-512 VNNI, 32 pairs of 16-bit integers per instruction) or `vpmaddwd`
// (AVX2) multiplies them with no widening of the weights to f32: the f32-activation tiles spent half their issue slots
// sign-extending and converting weights at batch 8 (PERFORMANCE.md, "int8 decode with 16-bit activations"). The
// rounding error is at least 12 times finer than the weights' own (their rows have 127 levels), so the quality is that
// of the int8 weights.
//
// Every dot product is an exact integer, so the VNNI tiles, the AVX2 tiles and the plain loop give every output the
// same bits, and a row's result never depends on the other rows of the call.
#include "t5_kernels.h"

long t5k_a16_levels(long in) {
    // |Σ_k q_k · w_k| ≤ in · levels · 128 must stay below 2^31 (a crafted int8 file may hold -128).
    const long fit = 2147483647L / ((in > 0 ? in : 1) * 128L);
    return fit < 32767 ? fit : 32767;
}

/// The definition of a row's rounding, which every path follows bit for bit.
static void a16_quantize_row(const float *x, long n, short *q, float *scale) {
    float maxAbs = 0;
    int finite = 1;
    for (long k = 0; k < n; k++) {
        const float a = __builtin_fabsf(x[k]);
        if (!(a <= 3.40282347e38f)) finite = 0;  // inf or NaN
        else if (a > maxAbs) maxAbs = a;
    }
    // A non-finite row gives NaN outputs (as f32 arithmetic would give inf or NaN); a row whose largest value is below
    // 2^-100 counts as zero (its inverse scale could overflow).
    if (!finite || maxAbs < 0x1p-100f) {
        for (long k = 0; k < n; k++) q[k] = 0;
        *scale = finite ? 0.0f : __builtin_nanf("");
        return;
    }
    const float levels = (float)t5k_a16_levels(n), inverse = levels / maxAbs;
    *scale = maxAbs / levels;
    for (long k = 0; k < n; k++) {
        float v = __builtin_rintf(x[k] * inverse);  // to nearest, ties to even (the default rounding mode)
        v = v > levels ? levels : v < -levels ? -levels : v;
        q[k] = (short)v;
    }
}

void t5k_quantize_a16_plain(const float *x, long ldx, long rows, long n, short *q, float *scales) {
    for (long r = 0; r < rows; r++) a16_quantize_row(x + r * ldx, n, q + r * n, scales + r);
}

/// The definition every path follows: y[r, o] (+)= ((float)(Σ_k xq[r, k] · w[o, k]) · ws[o]) · xs[r].
static inline __attribute__((always_inline)) void a16_store(const T5KLinearA16 *j, long r, long o, int dot) {
    float *yp = j->y + r * j->ldy + o;
    const float v = ((float)dot * j->wscales[o]) * j->xscales[r];
    *yp = j->accumulate ? *yp + v : v;
}

void t5k_linear_a16_plain(const T5KLinearA16 *j, long begin, long end) {
    for (long o = begin; o < end; o++) {
        const signed char *w = j->w + o * j->in;
        for (long r = 0; r < j->rows; r++) {
            const short *x = j->xq + r * j->in;
            int dot = 0;  // cannot overflow: |q| ≤ t5k_a16_levels(in)
            for (long k = 0; k < j->in; k++) dot += (int)x[k] * (int)w[k];
            a16_store(j, r, o, dot);
        }
    }
}

#if defined(__x86_64__) && defined(__clang__)
#include <immintrin.h>

#pragma clang attribute push(__attribute__((target("avx512f,avx512bw,avx512vl,avx512dq,avx512vnni,avx2,fma"))), apply_to = function)

typedef int a16_vi __attribute__((ext_vector_type(16)));
#include "reduce16.h"
#include "int_tiles.h"
DEFINE_REDUCE16(a16_reduce16, a16_vi)

int t5k_quantize_a16_avx512(const float *x, long ldx, long rows, long n, short *q, float *scales) {
    const __m512i absMask = _mm512_set1_epi32(0x7fffffff);
    for (long r = 0; r < rows; r++) {
        const float *xr = x + r * ldx;
        short *qr = q + r * n;
        // Largest |x| as integer bits: every finite value orders below inf, and inf below NaN.
        __m512i mv = _mm512_setzero_si512();
        for (long k = 0; k < n; k += 16) {
            const __mmask16 m = n - k >= 16 ? 0xFFFF : (__mmask16)((1u << (n - k)) - 1);
            mv = _mm512_max_epi32(mv, _mm512_and_si512(_mm512_maskz_loadu_epi32(m, xr + k), absMask));
        }
        const int bits = _mm512_reduce_max_epi32(mv);
        float maxAbs;
        __builtin_memcpy(&maxAbs, &bits, 4);
        if (bits >= 0x7f800000 || maxAbs < 0x1p-100f) {
            for (long k = 0; k < n; k++) qr[k] = 0;
            scales[r] = bits >= 0x7f800000 ? __builtin_nanf("") : 0.0f;
            continue;
        }
        const float levels = (float)t5k_a16_levels(n), inverse = levels / maxAbs;
        scales[r] = maxAbs / levels;
        const __m512 inv = _mm512_set1_ps(inverse);
        const __m512i hi = _mm512_set1_epi32((int)levels), lo = _mm512_set1_epi32(-(int)levels);
        for (long k = 0; k < n; k += 16) {
            const __mmask16 m = n - k >= 16 ? 0xFFFF : (__mmask16)((1u << (n - k)) - 1);
            // cvtps2dq rounds to nearest even, as rintf in the default mode.
            __m512i v = _mm512_cvtps_epi32(_mm512_mul_ps(_mm512_maskz_loadu_ps(m, xr + k), inv));
            v = _mm512_max_epi32(_mm512_min_epi32(v, hi), lo);
            _mm256_mask_storeu_epi16(qr + k, m, _mm512_cvtepi32_epi16(v));
        }
    }
    return 1;
}

/// Weight rows o..<o+OB against input rows r..<r+RBN: one 32-bit accumulator vector per pair, summed over k in steps
/// of 32. OB and RBN are constants at every call site, so the accumulators live in registers.
static inline __attribute__((always_inline)) void a16_tile(const T5KLinearA16 *j, long o, long r, const int OB,
                                                           const int RBN) {
    const long n = j->in;
    const signed char *w = j->w + o * n;
    const short *x = j->xq + r * n;
    __m512i acc[8][4];
    for (int a = 0; a < OB; a++) for (int b = 0; b < RBN; b++) acc[a][b] = _mm512_setzero_si512();
    for (long k = 0; k < n; k += 32) {
        // The next tile's weights, a line per row every other step (rows are short: 512 B at d_model 512).
        if ((k & 63) == 0) for (int a = 0; a < OB; a++) __builtin_prefetch(w + (OB + a) * n + k);
        // Zero-filled tails: a row of any width needs no scalar loop.
        const __mmask32 m = n - k >= 32 ? 0xFFFFFFFFu : (__mmask32)((1u << (n - k)) - 1);
        __m512i wv[8];
        for (int a = 0; a < OB; a++) wv[a] = _mm512_cvtepi8_epi16(_mm256_maskz_loadu_epi8(m, w + a * n + k));
        for (int b = 0; b < RBN; b++) {
            const __m512i xv = _mm512_maskz_loadu_epi16(m, x + b * n + k);
            for (int a = 0; a < OB; a++) acc[a][b] = _mm512_dpwssd_epi32(acc[a][b], xv, wv[a]);
        }
    }
    if (OB == 4 && RBN == 4) {
        a16_vi v[16];
        for (int b = 0; b < 4; b++) for (int a = 0; a < 4; a++) v[4 * b + a] = (a16_vi)acc[a][b];
        int_tile_store4x4((__m512i)a16_reduce16(v), j->wscales + o, j->xscales + r, j->y + r * j->ldy + o, j->ldy,
                          j->accumulate);
        return;
    }
    for (int a = 0; a < OB; a++)
        for (int b = 0; b < RBN; b++) a16_store(j, r + b, o + a, _mm512_reduce_add_epi32(acc[a][b]));
}

DEFINE_INT_TILES(t5k_linear_a16_vnni, T5KLinearA16, a16_tile)

#pragma clang attribute pop

#pragma clang attribute push(__attribute__((target("avx2,fma"))), apply_to = function)

int t5k_quantize_a16_avx2(const float *x, long ldx, long rows, long n, short *q, float *scales) {
    const __m256i absMask = _mm256_set1_epi32(0x7fffffff);
    for (long r = 0; r < rows; r++) {
        const float *xr = x + r * ldx;
        short *qr = q + r * n;
        // Largest |x| as integer bits (finite values order below inf, inf below NaN), as the AVX-512 version.
        __m256i mv = _mm256_setzero_si256();
        long k = 0;
        for (; k + 8 <= n; k += 8) mv = _mm256_max_epi32(mv, _mm256_and_si256(_mm256_loadu_si256((const __m256i *)(xr + k)), absMask));
        int lanes[8], bits = 0;
        _mm256_storeu_si256((__m256i *)lanes, mv);
        for (int l = 0; l < 8; l++) bits = lanes[l] > bits ? lanes[l] : bits;
        for (; k < n; k++) {
            int b;
            __builtin_memcpy(&b, xr + k, 4);
            b &= 0x7fffffff;
            bits = b > bits ? b : bits;
        }
        float maxAbs;
        __builtin_memcpy(&maxAbs, &bits, 4);
        if (bits >= 0x7f800000 || maxAbs < 0x1p-100f) {
            for (k = 0; k < n; k++) qr[k] = 0;
            scales[r] = bits >= 0x7f800000 ? __builtin_nanf("") : 0.0f;
            continue;
        }
        const float levels = (float)t5k_a16_levels(n), inverse = levels / maxAbs;
        scales[r] = maxAbs / levels;
        const __m256 inv = _mm256_set1_ps(inverse);
        const __m256i hi = _mm256_set1_epi32((int)levels), lo = _mm256_set1_epi32(-(int)levels);
        for (k = 0; k + 16 <= n; k += 16) {
            // cvtps2dq rounds to nearest even, as rintf in the default mode; the pack keeps 128-bit lanes apart.
            __m256i a = _mm256_cvtps_epi32(_mm256_mul_ps(_mm256_loadu_ps(xr + k), inv));
            __m256i b = _mm256_cvtps_epi32(_mm256_mul_ps(_mm256_loadu_ps(xr + k + 8), inv));
            a = _mm256_max_epi32(_mm256_min_epi32(a, hi), lo);
            b = _mm256_max_epi32(_mm256_min_epi32(b, hi), lo);
            _mm256_storeu_si256((__m256i *)(qr + k), _mm256_permute4x64_epi64(_mm256_packs_epi32(a, b), 0xD8));
        }
        for (; k < n; k++) {
            float v = __builtin_rintf(xr[k] * inverse);
            v = v > levels ? levels : v < -levels ? -levels : v;
            qr[k] = (short)v;
        }
    }
    return 1;
}

/// AVX2 (and AVX-512 without VNNI): weights sign-extended to 16 bits, `vpmaddwd` sums pairs into 32 bits. Any partial
/// sum is bounded by the sum of the products' magnitudes, which `t5k_a16_levels` keeps below 2^31, so lanes in any
/// order never overflow. Four weight rows x two input rows, sixteen inputs per step.
static inline __attribute__((always_inline)) void a16_tile_avx2(const T5KLinearA16 *j, long o, long r, const int OB,
                                                                const int RBN) {
    const long n = j->in;
    const signed char *w = j->w + o * n;
    const short *x = j->xq + r * n;
    __m256i acc[8][2];
    for (int a = 0; a < OB; a++) for (int b = 0; b < RBN; b++) acc[a][b] = _mm256_setzero_si256();
    long k = 0;
    for (; k + 16 <= n; k += 16) {
        __m256i wv[8];
        for (int a = 0; a < OB; a++) wv[a] = _mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)(w + a * n + k)));
        for (int b = 0; b < RBN; b++) {
            const __m256i xv = _mm256_loadu_si256((const __m256i *)(x + b * n + k));
            for (int a = 0; a < OB; a++) acc[a][b] = _mm256_add_epi32(acc[a][b], _mm256_madd_epi16(xv, wv[a]));
        }
    }
    for (int a = 0; a < OB; a++)
        for (int b = 0; b < RBN; b++) {
            int lanes[8];
            _mm256_storeu_si256((__m256i *)lanes, acc[a][b]);
            int dot = 0;
            for (int l = 0; l < 8; l++) dot += lanes[l];
            for (long t = k; t < n; t++) dot += (int)x[b * n + t] * (int)w[a * n + t];
            a16_store(j, r + b, o + a, dot);
        }
}

int t5k_linear_a16_avx2(const T5KLinearA16 *j, long begin, long end) {
    const long rows = j->rows;
    long o = begin;
    if (rows == 1) {
        // Eight weight rows side by side, as the VNNI kernel at batch 1.
        for (; o + 8 <= end; o += 8) a16_tile_avx2(j, o, 0, 8, 1);
    } else {
        for (; o + 4 <= end; o += 4) {
            long r = 0;
            for (; r + 2 <= rows; r += 2) a16_tile_avx2(j, o, r, 4, 2);
            if (r < rows) a16_tile_avx2(j, o, r, 4, 1);
        }
    }
    for (; o < end; o++) for (long r = 0; r < rows; r++) a16_tile_avx2(j, o, r, 1, 1);
    return 1;
}

#pragma clang attribute pop

#else

int t5k_quantize_a16_avx512(const float *x, long ldx, long rows, long n, short *q, float *scales) {
    (void)x; (void)ldx; (void)rows; (void)n; (void)q; (void)scales; return 0;
}
int t5k_linear_a16_vnni(const T5KLinearA16 *j, long begin, long end) { (void)j; (void)begin; (void)end; return 0; }
int t5k_quantize_a16_avx2(const float *x, long ldx, long rows, long n, short *q, float *scales) {
    (void)x; (void)ldx; (void)rows; (void)n; (void)q; (void)scales; return 0;
}
int t5k_linear_a16_avx2(const T5KLinearA16 *j, long begin, long end) { (void)j; (void)begin; (void)end; return 0; }

#endif
