// Attention over int8 key/value caches (t5 --kv-cache int8: one f32 scale per position and head) in C. The portable
// Swift loops build at baseline SSE2 and made int8 caches slower than f32 ones (PERFORMANCE.md, "int8 cache
// attention in C"); widened here 8 or 16 lanes at a time with sign extension and one conversion.
#include "t5_kernels.h"

#define DEFINE_INT8_ATTENTION(SUFFIX, W)                                                                               \
typedef float vf8_##SUFFIX __attribute__((ext_vector_type(W)));                                                        \
typedef signed char vi8_##SUFFIX __attribute__((ext_vector_type(W)));                                                  \
static inline vf8_##SUFFIX widen8_##SUFFIX(const signed char *p) {                                                     \
    vi8_##SUFFIX v; __builtin_memcpy(&v, p, sizeof v); return __builtin_convertvector(v, vf8_##SUFFIX);              \
}                                                                                                                      \
static inline vf8_##SUFFIX loadf8_##SUFFIX(const float *p) { vf8_##SUFFIX v; __builtin_memcpy(&v, p, sizeof v); return v; } \
static inline float sum8_##SUFFIX(vf8_##SUFFIX v) {                                                                    \
    float lanes[W]; __builtin_memcpy(lanes, &v, sizeof v);                                                             \
    for (int width = W / 2; width >= 1; width /= 2)                                                                    \
        for (int l = 0; l < width; l++) lanes[l] += lanes[l + width];                                                  \
    return lanes[0];                                                                                                   \
}                                                                                                                      \
/* y[i] = scale(i) * (a[i] . x): four keys at a time, so four FMA chains overlap. */                                  \
static void i8_matvec_##SUFFIX(const signed char *a, long lda, long m, long n, const float *scales, long stride,     \
                               const float *x, float *y) {                                                             \
    long i = 0;                                                                                                        \
    for (; i + 4 <= m; i += 4) {                                                                                       \
        const signed char *r0 = a + i * lda, *r1 = r0 + lda, *r2 = r1 + lda, *r3 = r2 + lda;                           \
        /* The keys 8 ahead asked for now, as in attention_f32.c. */                                                  \
        for (int q = 0; q < 4; q++)                                                                                    \
            for (long c = 0; c < n; c += 64) __builtin_prefetch(a + (i + 8 + q) * lda + c);                            \
        vf8_##SUFFIX c0 = 0, c1 = 0, c2 = 0, c3 = 0;                                                                   \
        long j = 0;                                                                                                    \
        for (; j + W <= n; j += W) {                                                                                   \
            const vf8_##SUFFIX xv = loadf8_##SUFFIX(x + j);                                                            \
            c0 = __builtin_elementwise_fma(widen8_##SUFFIX(r0 + j), xv, c0);                                           \
            c1 = __builtin_elementwise_fma(widen8_##SUFFIX(r1 + j), xv, c1);                                           \
            c2 = __builtin_elementwise_fma(widen8_##SUFFIX(r2 + j), xv, c2);                                           \
            c3 = __builtin_elementwise_fma(widen8_##SUFFIX(r3 + j), xv, c3);                                           \
        }                                                                                                              \
        float s0 = sum8_##SUFFIX(c0), s1 = sum8_##SUFFIX(c1), s2 = sum8_##SUFFIX(c2), s3 = sum8_##SUFFIX(c3);          \
        for (; j < n; j++) { s0 += r0[j] * x[j]; s1 += r1[j] * x[j]; s2 += r2[j] * x[j]; s3 += r3[j] * x[j]; }         \
        y[i] = s0 * scales[i * stride]; y[i + 1] = s1 * scales[(i + 1) * stride];                                      \
        y[i + 2] = s2 * scales[(i + 2) * stride]; y[i + 3] = s3 * scales[(i + 3) * stride];                            \
    }                                                                                                                  \
    for (; i < m; i++) {                                                                                               \
        const signed char *r = a + i * lda;                                                                            \
        vf8_##SUFFIX c = 0;                                                                                            \
        long j = 0;                                                                                                    \
        for (; j + W <= n; j += W) c = __builtin_elementwise_fma(widen8_##SUFFIX(r + j), loadf8_##SUFFIX(x + j), c);  \
        float s = sum8_##SUFFIX(c);                                                                                    \
        for (; j < n; j++) s += r[j] * x[j];                                                                           \
        y[i] = s * scales[i * stride];                                                                                 \
    }                                                                                                                  \
}                                                                                                                      \
/* y[j] = sum_i x[i] * scale(i) * a[i, j]: up to four output vectors stay in registers over every key. */            \
static void i8_matvec_t_##SUFFIX(const signed char *a, long lda, long m, long n, const float *scales, long stride,   \
                                 const float *x, float *y) {                                                           \
    long j = 0;                                                                                                        \
    for (; j + 4 * W <= n; j += 4 * W) {                                                                               \
        vf8_##SUFFIX c0 = 0, c1 = 0, c2 = 0, c3 = 0;                                                                   \
        for (long i = 0; i < m; i++) {                                                                                 \
            const signed char *r = a + i * lda + j;                                                                    \
            const vf8_##SUFFIX p = x[i] * scales[i * stride];                                                          \
            c0 = __builtin_elementwise_fma(widen8_##SUFFIX(r), p, c0);                                                 \
            c1 = __builtin_elementwise_fma(widen8_##SUFFIX(r + W), p, c1);                                             \
            c2 = __builtin_elementwise_fma(widen8_##SUFFIX(r + 2 * W), p, c2);                                         \
            c3 = __builtin_elementwise_fma(widen8_##SUFFIX(r + 3 * W), p, c3);                                         \
        }                                                                                                              \
        __builtin_memcpy(y + j, &c0, sizeof c0); __builtin_memcpy(y + j + W, &c1, sizeof c1);                          \
        __builtin_memcpy(y + j + 2 * W, &c2, sizeof c2); __builtin_memcpy(y + j + 3 * W, &c3, sizeof c3);              \
    }                                                                                                                  \
    for (; j + W <= n; j += W) {                                                                                       \
        vf8_##SUFFIX c = 0;                                                                                            \
        for (long i = 0; i < m; i++)                                                                                   \
            c = __builtin_elementwise_fma(widen8_##SUFFIX(a + i * lda + j), (vf8_##SUFFIX)(x[i] * scales[i * stride]), c); \
        __builtin_memcpy(y + j, &c, sizeof c);                                                                         \
    }                                                                                                                  \
    for (; j < n; j++) {                                                                                               \
        float s = 0;                                                                                                   \
        for (long i = 0; i < m; i++) s += x[i] * scales[i * stride] * a[i * lda + j];                                  \
        y[j] = s;                                                                                                      \
    }                                                                                                                  \
}

#if defined(__x86_64__) && defined(__clang__)
#pragma clang attribute push(__attribute__((target("avx2,fma"))), apply_to = function)
DEFINE_INT8_ATTENTION(avx2, 8)
#pragma clang attribute pop
#pragma clang attribute push(__attribute__((target("avx512f,avx512bw,avx512vl,avx2,fma"))), apply_to = function)
DEFINE_INT8_ATTENTION(avx512, 16)
#pragma clang attribute pop
#endif

int t5k_i8_matvec(const signed char *a, long lda, long m, long n, const float *scales, long scaleStride, const float *x,
                  float *y, int level) {
#if defined(__x86_64__) && defined(__clang__)
    if (level >= T5K_LEVEL_AVX512) { i8_matvec_avx512(a, lda, m, n, scales, scaleStride, x, y); return 1; }
    if (level >= T5K_LEVEL_AVX2) { i8_matvec_avx2(a, lda, m, n, scales, scaleStride, x, y); return 1; }
#endif
    (void)a; (void)lda; (void)m; (void)n; (void)scales; (void)scaleStride; (void)x; (void)y; (void)level;
    return 0;
}

int t5k_i8_matvec_t(const signed char *a, long lda, long m, long n, const float *scales, long scaleStride,
                    const float *x, float *y, int level) {
#if defined(__x86_64__) && defined(__clang__)
    if (level >= T5K_LEVEL_AVX512) { i8_matvec_t_avx512(a, lda, m, n, scales, scaleStride, x, y); return 1; }
    if (level >= T5K_LEVEL_AVX2) { i8_matvec_t_avx2(a, lda, m, n, scales, scaleStride, x, y); return 1; }
#endif
    (void)a; (void)lda; (void)m; (void)n; (void)scales; (void)scaleStride; (void)x; (void)y; (void)level;
    return 0;
}
