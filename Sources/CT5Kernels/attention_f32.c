// Attention over f32 key/value caches in a decode step (scores = K·q, context = Vᵀ·p per row and head). The Swift
// SIMD loops build at baseline SSE2; at batch 8 they took a fifth of the step (PERFORMANCE.md, "Decode attention
// on the pool, in C").
#include "t5_kernels.h"

#define DEFINE_ATTENTION(SUFFIX, W)                                                                                    \
typedef float vf_##SUFFIX __attribute__((ext_vector_type(W)));                                                         \
static inline vf_##SUFFIX load_##SUFFIX(const float *p) { vf_##SUFFIX v; __builtin_memcpy(&v, p, sizeof v); return v; } \
/* Lanes summed by halving (log2 W dependent adds; a lane-by-lane loop made each key wait on W of them). */         \
static inline float sum_##SUFFIX(vf_##SUFFIX v) {                                                                      \
    float lanes[W]; __builtin_memcpy(lanes, &v, sizeof v);                                                             \
    for (int width = W / 2; width >= 1; width /= 2)                                                                    \
        for (int l = 0; l < width; l++) lanes[l] += lanes[l + width];                                                  \
    return lanes[0];                                                                                                   \
}                                                                                                                      \
static void matvec_##SUFFIX(const float *a, long lda, long m, long n, const float *x, float *y) {                      \
    long i = 0;                                                                                                        \
    /* Four keys at a time: four independent accumulators hide the FMA latency. */                                    \
    for (; i + 4 <= m; i += 4) {                                                                                       \
        const float *r0 = a + i * lda, *r1 = r0 + lda, *r2 = r1 + lda, *r3 = r2 + lda;                                 \
        /* A head's keys are short runs (256 B) a cache row apart: the lines of the keys 8 ahead are asked for    */  \
        /* now (one thread, from memory: 8.1 -> 10.4 GB/s; PERFORMANCE.md, "Decode attention: keys prefetched"). */  \
        for (int q = 0; q < 4; q++)                                                                                    \
            for (long c = 0; c < n; c += 16) __builtin_prefetch(a + (i + 8 + q) * lda + c);                            \
        vf_##SUFFIX c0 = 0, c1 = 0, c2 = 0, c3 = 0;                                                                    \
        long j = 0;                                                                                                    \
        for (; j + W <= n; j += W) {                                                                                   \
            vf_##SUFFIX xv = load_##SUFFIX(x + j);                                                                     \
            c0 = __builtin_elementwise_fma(load_##SUFFIX(r0 + j), xv, c0);                                             \
            c1 = __builtin_elementwise_fma(load_##SUFFIX(r1 + j), xv, c1);                                             \
            c2 = __builtin_elementwise_fma(load_##SUFFIX(r2 + j), xv, c2);                                             \
            c3 = __builtin_elementwise_fma(load_##SUFFIX(r3 + j), xv, c3);                                             \
        }                                                                                                              \
        float s0 = sum_##SUFFIX(c0), s1 = sum_##SUFFIX(c1), s2 = sum_##SUFFIX(c2), s3 = sum_##SUFFIX(c3);              \
        for (; j < n; j++) { s0 += r0[j] * x[j]; s1 += r1[j] * x[j]; s2 += r2[j] * x[j]; s3 += r3[j] * x[j]; }         \
        y[i] = s0; y[i + 1] = s1; y[i + 2] = s2; y[i + 3] = s3;                                                        \
    }                                                                                                                  \
    for (; i < m; i++) {                                                                                               \
        const float *r = a + i * lda;                                                                                  \
        vf_##SUFFIX c = 0;                                                                                             \
        long j = 0;                                                                                                    \
        for (; j + W <= n; j += W) c = __builtin_elementwise_fma(load_##SUFFIX(r + j), load_##SUFFIX(x + j), c);      \
        float s = sum_##SUFFIX(c);                                                                                     \
        for (; j < n; j++) s += r[j] * x[j];                                                                           \
        y[i] = s;                                                                                                      \
    }                                                                                                                  \
}                                                                                                                      \
static void matvec_t_##SUFFIX(const float *a, long lda, long m, long n, const float *x, float *y) {                   \
    long j = 0;                                                                                                        \
    /* Four vectors of the output stay in registers over every key (a head of 64 at AVX-512). */                      \
    for (; j + 4 * W <= n; j += 4 * W) {                                                                               \
        vf_##SUFFIX c0 = 0, c1 = 0, c2 = 0, c3 = 0;                                                                    \
        for (long i = 0; i < m; i++) {                                                                                 \
            const float *r = a + i * lda + j;                                                                          \
            vf_##SUFFIX p = x[i];                                                                                      \
            c0 = __builtin_elementwise_fma(load_##SUFFIX(r), p, c0);                                                   \
            c1 = __builtin_elementwise_fma(load_##SUFFIX(r + W), p, c1);                                               \
            c2 = __builtin_elementwise_fma(load_##SUFFIX(r + 2 * W), p, c2);                                           \
            c3 = __builtin_elementwise_fma(load_##SUFFIX(r + 3 * W), p, c3);                                           \
        }                                                                                                              \
        __builtin_memcpy(y + j, &c0, sizeof c0); __builtin_memcpy(y + j + W, &c1, sizeof c1);                          \
        __builtin_memcpy(y + j + 2 * W, &c2, sizeof c2); __builtin_memcpy(y + j + 3 * W, &c3, sizeof c3);              \
    }                                                                                                                  \
    for (; j + W <= n; j += W) {                                                                                       \
        vf_##SUFFIX c = 0;                                                                                             \
        for (long i = 0; i < m; i++) c = __builtin_elementwise_fma(load_##SUFFIX(a + i * lda + j), (vf_##SUFFIX)x[i], c); \
        __builtin_memcpy(y + j, &c, sizeof c);                                                                         \
    }                                                                                                                  \
    for (; j < n; j++) {                                                                                               \
        float s = 0;                                                                                                   \
        for (long i = 0; i < m; i++) s += x[i] * a[i * lda + j];                                                       \
        y[j] = s;                                                                                                      \
    }                                                                                                                  \
}

#if defined(__x86_64__) && defined(__clang__)
#pragma clang attribute push(__attribute__((target("avx2,fma"))), apply_to = function)
DEFINE_ATTENTION(avx2, 8)
#pragma clang attribute pop
#pragma clang attribute push(__attribute__((target("avx512f,avx512vl,avx2,fma"))), apply_to = function)
DEFINE_ATTENTION(avx512, 16)
#pragma clang attribute pop
#endif

int t5k_f32_matvec(const float *a, long lda, long m, long n, const float *x, float *y, int level) {
#if defined(__x86_64__) && defined(__clang__)
    if (level >= T5K_LEVEL_AVX512) { matvec_avx512(a, lda, m, n, x, y); return 1; }
    if (level >= T5K_LEVEL_AVX2) { matvec_avx2(a, lda, m, n, x, y); return 1; }
#endif
    (void)a; (void)lda; (void)m; (void)n; (void)x; (void)y; (void)level;
    return 0;
}

int t5k_f32_matvec_t(const float *a, long lda, long m, long n, const float *x, float *y, int level) {
#if defined(__x86_64__) && defined(__clang__)
    if (level >= T5K_LEVEL_AVX512) { matvec_t_avx512(a, lda, m, n, x, y); return 1; }
    if (level >= T5K_LEVEL_AVX2) { matvec_t_avx2(a, lda, m, n, x, y); return 1; }
#endif
    (void)a; (void)lda; (void)m; (void)n; (void)x; (void)y; (void)level;
    return 0;
}
