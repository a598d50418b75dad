// Attention over f32 and int8 key/value caches in a decode step (scores = K·q, context = Vᵀ·p per row and head). The
// Swift SIMD loops build at baseline SSE2; at batch 8 they took a fifth of the step, and made int8 caches slower than
// f32 ones (PERFORMANCE.md, "Decode attention on the pool, in C", "int8 cache attention in C"). One template serves
// both element types: int8 rows are sign-extended and converted W lanes at a time, and carry one f32 scale per row
// (`scales[i * stride]`), applied once per dot product or folded into the row's weight.
#include "t5_kernels.h"
#include "reduce16.h"

#define DEFINE_VECTORS(SUFFIX, W)                                                                                      \
typedef float vf_##SUFFIX __attribute__((ext_vector_type(W)));                                                         \
typedef signed char vi8_##SUFFIX __attribute__((ext_vector_type(W)));                                                  \
static inline vf_##SUFFIX load_f32_##SUFFIX(const float *p) { vf_##SUFFIX v; __builtin_memcpy(&v, p, sizeof v); return v; } \
static inline vf_##SUFFIX load_i8_##SUFFIX(const signed char *p) {                                                     \
    vi8_##SUFFIX v; __builtin_memcpy(&v, p, sizeof v); return __builtin_convertvector(v, vf_##SUFFIX);               \
}                                                                                                                      \
/* Lanes summed by halving (log2 W dependent adds; a lane-by-lane loop made each key wait on W of them). */         \
static inline float sum_##SUFFIX(vf_##SUFFIX v) {                                                                      \
    float lanes[W]; __builtin_memcpy(lanes, &v, sizeof v);                                                             \
    for (int width = W / 2; width >= 1; width /= 2)                                                                    \
        for (int l = 0; l < width; l++) lanes[l] += lanes[l + width];                                                  \
    return lanes[0];                                                                                                   \
}

/// Sixteen keys at a time on AVX-512 (when the head's width is a whole number of vectors): their accumulators are
/// reduced together by `reduce16`, which sums each by the same tree as `sum_` does alone, so a key's score has the
/// same bits in a block as in the four-key loop. Reducing one key at a time took more instructions than its 64
/// multiply-adds (PERFORMANCE.md, "Cache attention: sixteen keys reduced at once").
#define KEYS16(E, T, SCALED, SUFFIX)                                                                                   \
    if (n % 16 == 0)                                                                                                   \
        for (; i + 16 <= m; i += 16) {                                                                                 \
            const T *r = a + i * lda;                                                                                  \
            for (int q = 0; q < 16; q++)                                                                               \
                for (long c = 0; c < n; c += 64 / (long)sizeof(T)) __builtin_prefetch(r + (16 + q) * lda + c);        \
            vf_##SUFFIX acc[16];                                                                                       \
            for (int q = 0; q < 16; q++) acc[q] = (vf_##SUFFIX)0;                                                      \
            for (long j = 0; j < n; j += 16) {                                                                         \
                vf_##SUFFIX xv = load_f32_##SUFFIX(x + j);                                                             \
                for (int q = 0; q < 16; q++)                                                                           \
                    acc[q] = __builtin_elementwise_fma(load_##E##_##SUFFIX(r + q * lda + j), xv, acc[q]);              \
            }                                                                                                          \
            vf_##SUFFIX s = reduce16_##SUFFIX(acc);                                                                    \
            if (SCALED) {                                                                                              \
                float sc[16];                                                                                          \
                for (int q = 0; q < 16; q++) sc[q] = scales[(i + q) * stride];                                        \
                s = s * load_f32_##SUFFIX(sc);                                                                         \
            }                                                                                                          \
            __builtin_memcpy(y + i, &s, sizeof s);                                                                     \
        }
#define NO_KEYS16(E, T, SCALED, SUFFIX)

/// `matvec_<E>_<SUFFIX>` and `matvec_t_<E>_<SUFFIX>` over rows of type T, loaded by `load_<E>_<SUFFIX>`; SCALED (a
/// constant) says whether rows carry scales; BLOCK is `KEYS16` where the level has `reduce16`, else `NO_KEYS16`.
#define DEFINE_CACHE_ATTENTION(E, T, SCALED, SUFFIX, W, BLOCK)                                                         \
static void matvec_##E##_##SUFFIX(const T *a, long lda, long m, long n, const float *scales, long stride,             \
                                  const float *x, float *y) {                                                          \
    long i = 0;                                                                                                        \
    BLOCK(E, T, SCALED, SUFFIX)                                                                                        \
    /* Four keys at a time: four independent accumulators hide the FMA latency. */                                    \
    for (; i + 4 <= m; i += 4) {                                                                                       \
        const T *r0 = a + i * lda, *r1 = r0 + lda, *r2 = r1 + lda, *r3 = r2 + lda;                                     \
        /* A head's keys are short runs (256 B in f32) a cache row apart: the lines of the keys 8 ahead are      */   \
        /* asked for now (one thread, from memory: 8.1 -> 10.4 GB/s; PERFORMANCE.md, "Decode attention: keys   */   \
        /* prefetched").                                                                                         */   \
        for (int q = 0; q < 4; q++)                                                                                    \
            for (long c = 0; c < n; c += 64 / (long)sizeof(T)) __builtin_prefetch(a + (i + 8 + q) * lda + c);          \
        vf_##SUFFIX c0 = 0, c1 = 0, c2 = 0, c3 = 0;                                                                    \
        long j = 0;                                                                                                    \
        for (; j + W <= n; j += W) {                                                                                   \
            vf_##SUFFIX xv = load_f32_##SUFFIX(x + j);                                                                 \
            c0 = __builtin_elementwise_fma(load_##E##_##SUFFIX(r0 + j), xv, c0);                                       \
            c1 = __builtin_elementwise_fma(load_##E##_##SUFFIX(r1 + j), xv, c1);                                       \
            c2 = __builtin_elementwise_fma(load_##E##_##SUFFIX(r2 + j), xv, c2);                                       \
            c3 = __builtin_elementwise_fma(load_##E##_##SUFFIX(r3 + j), xv, c3);                                       \
        }                                                                                                              \
        float s0 = sum_##SUFFIX(c0), s1 = sum_##SUFFIX(c1), s2 = sum_##SUFFIX(c2), s3 = sum_##SUFFIX(c3);              \
        for (; j < n; j++) { s0 += r0[j] * x[j]; s1 += r1[j] * x[j]; s2 += r2[j] * x[j]; s3 += r3[j] * x[j]; }         \
        if (SCALED) {                                                                                                  \
            s0 *= scales[i * stride]; s1 *= scales[(i + 1) * stride];                                                  \
            s2 *= scales[(i + 2) * stride]; s3 *= scales[(i + 3) * stride];                                            \
        }                                                                                                              \
        y[i] = s0; y[i + 1] = s1; y[i + 2] = s2; y[i + 3] = s3;                                                        \
    }                                                                                                                  \
    for (; i < m; i++) {                                                                                               \
        const T *r = a + i * lda;                                                                                      \
        vf_##SUFFIX c = 0;                                                                                             \
        long j = 0;                                                                                                    \
        for (; j + W <= n; j += W) c = __builtin_elementwise_fma(load_##E##_##SUFFIX(r + j), load_f32_##SUFFIX(x + j), c); \
        float s = sum_##SUFFIX(c);                                                                                     \
        for (; j < n; j++) s += r[j] * x[j];                                                                           \
        y[i] = SCALED ? s * scales[i * stride] : s;                                                                    \
    }                                                                                                                  \
}                                                                                                                      \
static void matvec_t_##E##_##SUFFIX(const T *a, long lda, long m, long n, const float *scales, long stride,           \
                                    const float *x, float *y) {                                                        \
    long j = 0;                                                                                                        \
    /* Four vectors of the output stay in registers over every key (a head of 64 at AVX-512). */                      \
    for (; j + 4 * W <= n; j += 4 * W) {                                                                               \
        vf_##SUFFIX c0 = 0, c1 = 0, c2 = 0, c3 = 0;                                                                    \
        for (long i = 0; i < m; i++) {                                                                                 \
            const T *r = a + i * lda + j;                                                                              \
            vf_##SUFFIX p = SCALED ? x[i] * scales[i * stride] : x[i];                                                 \
            c0 = __builtin_elementwise_fma(load_##E##_##SUFFIX(r), p, c0);                                             \
            c1 = __builtin_elementwise_fma(load_##E##_##SUFFIX(r + W), p, c1);                                         \
            c2 = __builtin_elementwise_fma(load_##E##_##SUFFIX(r + 2 * W), p, c2);                                     \
            c3 = __builtin_elementwise_fma(load_##E##_##SUFFIX(r + 3 * W), p, c3);                                     \
        }                                                                                                              \
        __builtin_memcpy(y + j, &c0, sizeof c0); __builtin_memcpy(y + j + W, &c1, sizeof c1);                          \
        __builtin_memcpy(y + j + 2 * W, &c2, sizeof c2); __builtin_memcpy(y + j + 3 * W, &c3, sizeof c3);              \
    }                                                                                                                  \
    for (; j + W <= n; j += W) {                                                                                       \
        vf_##SUFFIX c = 0;                                                                                             \
        for (long i = 0; i < m; i++)                                                                                   \
            c = __builtin_elementwise_fma(load_##E##_##SUFFIX(a + i * lda + j),                                        \
                                          (vf_##SUFFIX)(SCALED ? x[i] * scales[i * stride] : x[i]), c);                \
        __builtin_memcpy(y + j, &c, sizeof c);                                                                         \
    }                                                                                                                  \
    for (; j < n; j++) {                                                                                               \
        float s = 0;                                                                                                   \
        for (long i = 0; i < m; i++) s += (SCALED ? x[i] * scales[i * stride] : x[i]) * a[i * lda + j];               \
        y[j] = s;                                                                                                      \
    }                                                                                                                  \
}

#if defined(__x86_64__) && defined(__clang__)
#pragma clang attribute push(__attribute__((target("avx2,fma"))), apply_to = function)
DEFINE_VECTORS(avx2, 8)
DEFINE_CACHE_ATTENTION(f32, float, 0, avx2, 8, NO_KEYS16)
DEFINE_CACHE_ATTENTION(i8, signed char, 1, avx2, 8, NO_KEYS16)
#pragma clang attribute pop
#pragma clang attribute push(__attribute__((target("avx512f,avx512bw,avx512vl,avx2,fma"))), apply_to = function)
DEFINE_VECTORS(avx512, 16)
DEFINE_REDUCE16(reduce16_avx512, vf_avx512)
DEFINE_CACHE_ATTENTION(f32, float, 0, avx512, 16, KEYS16)
DEFINE_CACHE_ATTENTION(i8, signed char, 1, avx512, 16, KEYS16)
#pragma clang attribute pop
#define CALL(KERNEL, ...)                                                                                              \
    if (level >= T5K_LEVEL_AVX512) { KERNEL##_avx512(__VA_ARGS__); return 1; }                                        \
    if (level >= T5K_LEVEL_AVX2) { KERNEL##_avx2(__VA_ARGS__); return 1; }
#else
#define CALL(KERNEL, ...)
#endif

int t5k_f32_matvec(const float *a, long lda, long m, long n, const float *x, float *y, int level) {
    CALL(matvec_f32, a, lda, m, n, 0, 0, x, y)
    (void)a; (void)lda; (void)m; (void)n; (void)x; (void)y; (void)level;
    return 0;
}

int t5k_f32_matvec_t(const float *a, long lda, long m, long n, const float *x, float *y, int level) {
    CALL(matvec_t_f32, a, lda, m, n, 0, 0, x, y)
    (void)a; (void)lda; (void)m; (void)n; (void)x; (void)y; (void)level;
    return 0;
}

int t5k_i8_matvec(const signed char *a, long lda, long m, long n, const float *scales, long scaleStride, const float *x,
                  float *y, int level) {
    CALL(matvec_i8, a, lda, m, n, scales, scaleStride, x, y)
    (void)a; (void)lda; (void)m; (void)n; (void)scales; (void)scaleStride; (void)x; (void)y; (void)level;
    return 0;
}

int t5k_i8_matvec_t(const signed char *a, long lda, long m, long n, const float *scales, long scaleStride,
                    const float *x, float *y, int level) {
    CALL(matvec_t_i8, a, lda, m, n, scales, scaleStride, x, y)
    (void)a; (void)lda; (void)m; (void)n; (void)scales; (void)scaleStride; (void)x; (void)y; (void)level;
    return 0;
}
