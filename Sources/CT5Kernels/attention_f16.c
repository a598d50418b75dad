// Attention over f16 key/value caches (t5 --kv-cache f16) with F16C widening: the portable Swift widening costs
// about a nanosecond per element, which made batch-8 decode a third slower than with f32 caches.
#include "t5_kernels.h"

#if defined(__x86_64__)
#include <immintrin.h>

__attribute__((target("avx2,fma,f16c")))
static inline float t5k_hsum256(__m256 v) {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_shuffle_ps(s, s, 1));
    return _mm_cvtss_f32(s);
}

__attribute__((target("avx2,fma,f16c")))
int t5k_f16_matvec_avx2(const unsigned short *a, long lda, long m, long n, const float *x, float *y) {
    for (long i = 0; i < m; i++) {
        const unsigned short *row = a + i * lda;
        __m256 acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps();
        long j = 0;
        for (; j + 16 <= n; j += 16) {
            acc0 = _mm256_fmadd_ps(_mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(row + j))), _mm256_loadu_ps(x + j), acc0);
            acc1 = _mm256_fmadd_ps(_mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(row + j + 8))), _mm256_loadu_ps(x + j + 8), acc1);
        }
        float sum = t5k_hsum256(_mm256_add_ps(acc0, acc1));
        for (; j < n; j++) sum += _cvtsh_ss(row[j]) * x[j];
        y[i] = sum;
    }
    return 1;
}

__attribute__((target("avx2,fma,f16c")))
int t5k_f16_matvec_t_avx2(const unsigned short *a, long lda, long m, long n, const float *x, float *y) {
    long j = 0;
    for (; j + 8 <= n; j += 8) {
        __m256 acc = _mm256_setzero_ps();
        for (long i = 0; i < m; i++) {
            acc = _mm256_fmadd_ps(_mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(a + i * lda + j))), _mm256_set1_ps(x[i]), acc);
        }
        _mm256_storeu_ps(y + j, acc);
    }
    for (; j < n; j++) {
        float sum = 0;
        for (long i = 0; i < m; i++) sum += x[i] * _cvtsh_ss(a[i * lda + j]);
        y[j] = sum;
    }
    return 1;
}

#else

int t5k_f16_matvec_avx2(const unsigned short *a, long lda, long m, long n, const float *x, float *y) {
    (void)a; (void)lda; (void)m; (void)n; (void)x; (void)y; return 0;
}
int t5k_f16_matvec_t_avx2(const unsigned short *a, long lda, long m, long n, const float *x, float *y) {
    (void)a; (void)lda; (void)m; (void)n; (void)x; (void)y; return 0;
}

#endif
