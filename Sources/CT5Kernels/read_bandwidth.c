// A STREAM-like read loop for `t5 bench`'s roofline: the sum of a float array, at the widest vectors this CPU runs.
// In C for the same reason as the linear kernels: a Swift loop builds at baseline SSE2 and under-measures the memory
// system (17.7 GB/s against 25.7 GB/s reached by the AVX-512 linear kernel in one measurement), which would put
// fractions of the bound over 100 % (PERFORMANCE.md, "Roofline in t5 bench").
#include "t5_kernels.h"

#define READ_LOOP(W)                                                                                                   \
    typedef float vf __attribute__((ext_vector_type(W)));                                                              \
    vf a0 = 0, a1 = 0, a2 = 0, a3 = 0;                                                                                 \
    long i = 0;                                                                                                        \
    for (; i + 4 * W <= n; i += 4 * W) {                                                                               \
        vf v0, v1, v2, v3;                                                                                             \
        __builtin_memcpy(&v0, p + i, sizeof v0);                                                                       \
        __builtin_memcpy(&v1, p + i + W, sizeof v1);                                                                   \
        __builtin_memcpy(&v2, p + i + 2 * W, sizeof v2);                                                               \
        __builtin_memcpy(&v3, p + i + 3 * W, sizeof v3);                                                               \
        a0 += v0; a1 += v1; a2 += v2; a3 += v3;                                                                        \
    }                                                                                                                  \
    vf a = (a0 + a1) + (a2 + a3);                                                                                      \
    float s = 0;                                                                                                       \
    for (int l = 0; l < W; l++) s += a[l];                                                                             \
    for (; i < n; i++) s += p[i];                                                                                      \
    return s;

static float read_sum_baseline(const float *p, long n) { READ_LOOP(4) }

#if defined(__x86_64__) && defined(__clang__)
__attribute__((target("avx2"))) static float read_sum_avx2(const float *p, long n) { READ_LOOP(8) }
__attribute__((target("avx512f"))) static float read_sum_avx512(const float *p, long n) { READ_LOOP(16) }
#endif

float t5k_read_sum(const float *p, long n, int level) {
#if defined(__x86_64__) && defined(__clang__)
    if (level >= T5K_LEVEL_AVX512 && t5k_cpu_level() >= T5K_LEVEL_AVX512) return read_sum_avx512(p, n);
    if (level >= T5K_LEVEL_AVX2 && t5k_cpu_level() >= T5K_LEVEL_AVX2) return read_sum_avx2(p, n);
#endif
    (void)level;
    return read_sum_baseline(p, n);
}
