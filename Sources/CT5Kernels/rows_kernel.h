// Row-wise passes of the encoder for AVX-512 (softmax, RMS norm, gated activation), included by linear.c inside its
// AVX-512 block before gemm_kernel.h. The Swift versions build at baseline SSE2 and run on one thread; these run on
// the pool, 16 lanes and fused multiply-adds (PERFORMANCE.md, "Encoder products on the pool").

/// The lanes of a 16-float vector that hold data when `left` values remain (all of them from 16 up).
static inline __attribute__((always_inline)) __mmask16 rows_mask(long left) {
    return left >= 16 ? 0xFFFF : (__mmask16)((1u << left) - 1);
}

/// `e^x` lane by lane: VectorMath.swift's exp16 (Cephes' expf), the same constants and steps, with fused
/// multiply-adds.
static inline __attribute__((always_inline)) __m512 rows_exp(__m512 x) {
    const __m512 lo = _mm512_set1_ps(-87.3f), hi = _mm512_set1_ps(88.3f), shifter = _mm512_set1_ps(12582912.0f);
    const __m512 v = _mm512_min_ps(_mm512_max_ps(x, lo), hi);
    const __m512 t = _mm512_fmadd_ps(v, _mm512_set1_ps(1.44269504f), shifter);
    const __m512 n = _mm512_sub_ps(t, shifter);
    __m512 r = _mm512_fnmadd_ps(n, _mm512_set1_ps(0.693359375f), v);
    r = _mm512_fmadd_ps(n, _mm512_set1_ps(2.1219444e-4f), r);
    __m512 p = _mm512_set1_ps(1.9875691e-4f);
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.3981999e-3f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(8.333452e-3f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(4.1665796e-2f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.6666665e-1f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(5.0000001e-1f));
    p = _mm512_add_ps(_mm512_fmadd_ps(p, _mm512_mul_ps(r, r), r), _mm512_set1_ps(1.0f));
    const __m512i bits = _mm512_add_epi32(_mm512_castps_si512(t), _mm512_set1_epi32(127 - 0x4B400000));
    __m512 e = _mm512_mul_ps(p, _mm512_castsi512_ps(_mm512_slli_epi32(bits, 23)));
    e = _mm512_mask_mov_ps(e, _mm512_cmp_ps_mask(x, lo, _CMP_LT_OQ), _mm512_setzero_ps());
    e = _mm512_mask_mov_ps(e, _mm512_cmp_ps_mask(x, hi, _CMP_GT_OQ), _mm512_set1_ps(__builtin_inff()));
    return _mm512_mask_mov_ps(e, _mm512_cmp_ps_mask(x, x, _CMP_UNORD_Q), x);
}

/// `x = softmax(x + bias)` over n scores, in place.
static void rows_softmax_bias(float *x, long n, const float *bias) {
    __m512 mv = _mm512_set1_ps(-__builtin_inff());
    for (long i = 0; i < n; i += 16) {
        const __mmask16 m = rows_mask(n - i);
        const __m512 v = _mm512_add_ps(_mm512_maskz_loadu_ps(m, x + i), _mm512_maskz_loadu_ps(m, bias + i));
        _mm512_mask_storeu_ps(x + i, m, v);
        mv = _mm512_mask_max_ps(mv, m, mv, v);
    }
    const __m512 mb = _mm512_set1_ps(_mm512_reduce_max_ps(mv));
    __m512 sv = _mm512_setzero_ps();
    for (long i = 0; i < n; i += 16) {
        const __mmask16 m = rows_mask(n - i);
        const __m512 e = rows_exp(_mm512_sub_ps(_mm512_maskz_loadu_ps(m, x + i), mb));
        _mm512_mask_storeu_ps(x + i, m, e);
        sv = _mm512_mask_add_ps(sv, m, sv, e);
    }
    const __m512 inv = _mm512_set1_ps(1.0f / _mm512_reduce_add_ps(sv));
    for (long i = 0; i < n; i += 16) {
        const __mmask16 m = rows_mask(n - i);
        _mm512_mask_storeu_ps(x + i, m, _mm512_mul_ps(_mm512_maskz_loadu_ps(m, x + i), inv));
    }
}

/// `y[r] = weight * x[r] / sqrt(mean(x[r]^2) + eps)` for rows begin..<end, `dim` apart (T5's RMS norm: no mean, no bias).
int t5k_rms_norm_avx512(const float *x, long dim, const float *weight, float eps, float *y, long begin, long end) {
    for (long r = begin; r < end; r++) {
        const float *xr = x + r * dim;
        float *yr = y + r * dim;
        __m512 sv = _mm512_setzero_ps();
        for (long i = 0; i < dim; i += 16) {
            const __mmask16 m = rows_mask(dim - i);
            const __m512 v = _mm512_maskz_loadu_ps(m, xr + i);
            sv = _mm512_fmadd_ps(v, v, sv);
        }
        // sqrtss, not sqrtf (a libm call kept for errno).
        const float rms = _mm_cvtss_f32(_mm_sqrt_ss(_mm_set_ss(_mm512_reduce_add_ps(sv) / (float)dim + eps)));
        const __m512 scale = _mm512_set1_ps(1.0f / rms);
        for (long i = 0; i < dim; i += 16) {
            const __mmask16 m = rows_mask(dim - i);
            const __m512 v = _mm512_mul_ps(_mm512_maskz_loadu_ps(m, xr + i), scale);
            _mm512_mask_storeu_ps(yr + i, m, _mm512_mul_ps(_mm512_maskz_loadu_ps(m, weight + i), v));
        }
    }
    return 1;
}

/// a[i] = act(a[i]) * g[i] for i < n (`activation` one of the T5K_ACT_* this file knows).
static inline __attribute__((always_inline)) void gate_span(float *a, const float *g, long n, int activation) {
    const __m512 c = _mm512_set1_ps(2 * 0.7978845608028654f), cube = _mm512_set1_ps(0.044715f);
    const __m512 one = _mm512_set1_ps(1.0f);
    for (long i = 0; i < n; i += 16) {
        const __mmask16 m = rows_mask(n - i);
        const __m512 v = _mm512_maskz_loadu_ps(m, a + i);
        __m512 f;
        if (activation == T5K_ACT_RELU) {
            f = _mm512_max_ps(v, _mm512_setzero_ps());
        } else {
            // gelu_new as x·sigmoid(2·√(2/π)·(x + 0.044715·x³)), silu as x·sigmoid(x) (Activations.swift).
            const __m512 z = activation == T5K_ACT_SILU
                ? v : _mm512_mul_ps(c, _mm512_fmadd_ps(_mm512_mul_ps(cube, v), _mm512_mul_ps(v, v), v));
            f = _mm512_div_ps(v, _mm512_add_ps(one, rows_exp(_mm512_sub_ps(_mm512_setzero_ps(), z))));
        }
        _mm512_mask_storeu_ps(a + i, m, _mm512_mul_ps(f, _mm512_maskz_loadu_ps(m, g + i)));
    }
}

static inline int known_activation(int activation) {
    return activation == T5K_ACT_RELU || activation == T5K_ACT_GELU_TANH || activation == T5K_ACT_SILU;
}

/// Rows begin..<end of `pair` (`[rows, 2 * width]`: wi_0·h then wi_1·h): the first half of each row becomes
/// act(first) * second, in place (the next product reads it `2 * width` apart). `activation`: T5K_ACT_*; 0 if unknown.
int t5k_gated_avx512(float *pair, long width, int activation, long begin, long end) {
    if (!known_activation(activation)) return 0;
    for (long r = begin; r < end; r++) gate_span(pair + 2 * r * width, pair + 2 * r * width + width, width, activation);
    return 1;
}

int t5k_gate_avx512(float *a, const float *g, long n, int activation) {
    if (!known_activation(activation)) return 0;
    gate_span(a, g, n, activation);
    return 1;
}

long t5k_argmax_avx512(const float *p, long n) {
    if (n <= 0) return -1;
    // Pass 1: the largest value, and whether any value is NaN (unordered with itself).
    __m512 best = _mm512_set1_ps(-__builtin_inff());
    __mmask16 nan = 0;
    long i = 0;
    for (; i + 16 <= n; i += 16) {
        const __m512 v = _mm512_loadu_ps(p + i);
        nan |= _mm512_cmp_ps_mask(v, v, _CMP_UNORD_Q);
        best = _mm512_max_ps(best, v);
    }
    float m = _mm512_reduce_max_ps(best);
    for (long t = i; t < n; t++) {
        if (p[t] != p[t]) return -1;
        if (p[t] > m) m = p[t];
    }
    if (nan) return -1;
    // Pass 2: the first index holding it.
    const __m512 mv = _mm512_set1_ps(m);
    for (i = 0; i + 16 <= n; i += 16) {
        const __mmask16 eq = _mm512_cmp_ps_mask(_mm512_loadu_ps(p + i), mv, _CMP_EQ_OQ);
        if (eq) return i + __builtin_ctz(eq);
    }
    for (; i < n; i++) if (p[i] == m) return i;
    return 0;
}

/// Symmetric int8 rows with one scale each, exactly as `Int8Quantize.quantize` computes them: scale = max|x| / 127
/// (NaN ignored by the maximum), q = round-half-away-from-zero(x / scale) clamped to ±127 (NaN to 127).
int t5k_quantize_rows_avx512(const float *x, long rows, long cols, signed char *values, float *scales) {
    const __m512 absMask = _mm512_castsi512_ps(_mm512_set1_epi32(0x7FFFFFFF));
    const __m512 half = _mm512_set1_ps(0.5f), hi = _mm512_set1_ps(127.0f), lo = _mm512_set1_ps(-127.0f);
    for (long r = 0; r < rows; r++) {
        const float *src = x + r * cols;
        signed char *dst = values + r * cols;
        __m512 m = _mm512_setzero_ps();
        for (long i = 0; i < cols; i += 16) {
            const __mmask16 k = rows_mask(cols - i);
            // (a > m) ? a : m, as Swift's max(m, a) keeps m when a is NaN.
            m = _mm512_max_ps(_mm512_and_ps(_mm512_maskz_loadu_ps(k, src + i), absMask), m);
        }
        const float maxAbs = _mm512_reduce_max_ps(m), scale = maxAbs / 127;
        scales[r] = scale;
        const __m512 inverse = _mm512_set1_ps(scale > 0 ? 1 / scale : 0);
        for (long i = 0; i < cols; i += 16) {
            const __mmask16 k = rows_mask(cols - i);
            const __m512 v = _mm512_mul_ps(_mm512_maskz_loadu_ps(k, src + i), inverse);
            // Half away from zero: the truncation, plus the sign where the dropped fraction is at least a half (exact
            // for every float: below 2^23 the fraction is exact, above it there is none).
            const __m512 t = _mm512_roundscale_ps(v, _MM_FROUND_TO_ZERO | _MM_FROUND_NO_EXC);
            const __mmask16 up = _mm512_cmp_ps_mask(_mm512_and_ps(_mm512_sub_ps(v, t), absMask), half, _CMP_GE_OQ);
            const __m512 sign = _mm512_or_ps(_mm512_andnot_ps(absMask, v), _mm512_set1_ps(1.0f));
            const __m512 q = _mm512_mask_add_ps(t, up, t, sign);
            // min(127, q) then max(-127, ·) in Swift's operand order: NaN becomes 127.
            const __m512 c = _mm512_max_ps(_mm512_min_ps(q, hi), lo);
            _mm_mask_storeu_epi8(dst + i, k, _mm512_cvtepi32_epi8(_mm512_cvttps_epi32(c)));
        }
    }
    return 1;
}

/// `n` floats to IEEE half (round to nearest even), clamped to ±65504 first (NaN to 65504), exactly as the Swift
/// `Float16(max(-65504, min(65504, x)))` of `KVRows.store`.
int t5k_store_f16_avx512(const float *x, long n, unsigned short *dst) {
    const __m512 hi = _mm512_set1_ps(65504.0f), lo = _mm512_set1_ps(-65504.0f);
    for (long i = 0; i < n; i += 16) {
        const __mmask16 k = rows_mask(n - i);
        const __m512 c = _mm512_max_ps(_mm512_min_ps(_mm512_maskz_loadu_ps(k, x + i), hi), lo);
        _mm256_mask_storeu_epi16(dst + i, k, _mm512_cvtps_ph(c, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC));
    }
    return 1;
}
