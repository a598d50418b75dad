// The many-row product (long prompts' encoder layers): `y = x · wᵀ` as a register-blocked outer-product kernel, for
// AVX-512 only. Included by linear.c inside its AVX-512 block, after linear_kernel.h (whose widening loads it uses).
//
// Why not sgemm: OpenBLAS runs its own threads beside the worker pool's, and on two cores the two sets spin against
// each other between calls; and a narrow-format weight had to be widened into an f32 copy first. Here every thread of
// the pool packs its own panels of 32 weight rows, widened to f32 as they are packed, into a small block on its stack
// (KC x 32 floats, 32 KB), then sweeps all input rows over it, MR rows at a time, with MR x 32 accumulators in
// registers. Each weight is read and widened once per call; the inputs are read once per panel, from cache
// (PERFORMANCE.md, "Encoder products on the pool").
//
// Results are not independent of `rows` (partial sums per k-block are added into y), so decode steps never come here.

#define L(name) CAT(name, KNAME)

#define GEMM_NR 32   // weight rows (output columns) per panel: two vectors
#define GEMM_MR 8    // input rows per register tile: 16 accumulators
#define GEMM_KC 256  // k per packed block: 32 KB of panel

/// 16 vectors of 16 floats transposed in registers: out[i][j] = in[j][i].
static inline __attribute__((always_inline)) void gemm_transpose16(__m512 r[16]) {
    __m512 t[16], u[16];
    for (int i = 0; i < 8; i++) {
        t[2 * i] = _mm512_unpacklo_ps(r[2 * i], r[2 * i + 1]);
        t[2 * i + 1] = _mm512_unpackhi_ps(r[2 * i], r[2 * i + 1]);
    }
    for (int i = 0; i < 4; i++) {
        __m512d a = _mm512_castps_pd(t[4 * i]), b = _mm512_castps_pd(t[4 * i + 1]);
        __m512d c = _mm512_castps_pd(t[4 * i + 2]), d = _mm512_castps_pd(t[4 * i + 3]);
        u[4 * i + 0] = _mm512_castpd_ps(_mm512_unpacklo_pd(a, c));
        u[4 * i + 1] = _mm512_castpd_ps(_mm512_unpackhi_pd(a, c));
        u[4 * i + 2] = _mm512_castpd_ps(_mm512_unpacklo_pd(b, d));
        u[4 * i + 3] = _mm512_castpd_ps(_mm512_unpackhi_pd(b, d));
    }
    // u[4i + j], 128-bit lane L, holds element 4L + j of rows 4i..4i+3.
    for (int j = 0; j < 4; j++) {
        __m512 v = _mm512_shuffle_f32x4(u[j], u[4 + j], 0x88), w = _mm512_shuffle_f32x4(u[j], u[4 + j], 0xdd);
        __m512 v2 = _mm512_shuffle_f32x4(u[8 + j], u[12 + j], 0x88), w2 = _mm512_shuffle_f32x4(u[8 + j], u[12 + j], 0xdd);
        r[j] = _mm512_shuffle_f32x4(v, v2, 0x88);
        r[8 + j] = _mm512_shuffle_f32x4(v, v2, 0xdd);
        r[4 + j] = _mm512_shuffle_f32x4(w, w2, 0x88);
        r[12 + j] = _mm512_shuffle_f32x4(w, w2, 0xdd);
    }
}

/// Packs weight rows o..<o+nn (nn <= 32), k in k0..<k0+kc, widened and scaled, as panel[k][32]; rows past nn are 0.
#define DEFINE_GEMM_PACK(FMT, BYTES)                                                                                  \
static void gemm_pack_##FMT(const T5KLinear *j, long o, long nn, long k0, long kc, float *restrict panel) {            \
    const char *w = (const char *)j->w;                                                                                 \
    const long ldw = j->ldw;                                                                                            \
    for (int half = 0; half < 2; half++) {                                                                              \
        const long c0 = 16 * half;                                                                                      \
        long k = 0;                                                                                                     \
        for (; k + 16 <= kc; k += 16) {                                                                                 \
            __m512 r[16];                                                                                               \
            for (int i = 0; i < 16; i++) {                                                                              \
                const long c = c0 + i;                                                                                  \
                if (c < nn) {                                                                                           \
                    /* Sixteen rows advance together, too many streams for the hardware: 64 elements ahead, into   */ \
                    /* L2 (64-row products +12 %, PERFORMANCE.md, "Encoder products on the pool").                   */ \
                    __builtin_prefetch(w + ((o + c) * ldw + k0 + k + 64) * BYTES, 0, 1);                                \
                    const float s = j->scales ? j->scales[o + c] : 1.0f;                                                \
                    L(vf) v = L(load_##FMT)(w + (o + c) * ldw * BYTES, k0 + k) * s;                                     \
                    r[i] = (__m512)v;                                                                                   \
                } else {                                                                                                \
                    r[i] = _mm512_setzero_ps();                                                                         \
                }                                                                                                       \
            }                                                                                                           \
            gemm_transpose16(r);                                                                                        \
            for (int i = 0; i < 16; i++) _mm512_storeu_ps(panel + (k + i) * GEMM_NR + c0, r[i]);                        \
        }                                                                                                               \
        for (; k < kc; k++)                                                                                             \
            for (long i = 0; i < 16; i++) {                                                                             \
                const long c = c0 + i;                                                                                  \
                panel[k * GEMM_NR + c] = c < nn                                                                         \
                    ? L(one_##FMT)(w + (o + c) * ldw * BYTES, k0 + k) * (j->scales ? j->scales[o + c] : 1.0f) : 0.0f;  \
            }                                                                                                           \
    }                                                                                                                   \
}
DEFINE_GEMM_PACK(f32, 4)
DEFINE_GEMM_PACK(int8, 1)
DEFINE_GEMM_PACK(bf16, 2)
DEFINE_GEMM_PACK(f16, 2)

/// Input rows x[0..<R] (rows `ldx` apart; R <= MR, a constant at each call site) times `kc` k-rows of a panel (32 floats
/// each, `ldp` apart; lanes outside m0/m1 are not read), into y's 32 (masked) columns, added to what y holds when
/// `load`. Every (row, column) is one accumulator lane summed over k in order.
static inline __attribute__((always_inline)) void gemm_tile(const float *restrict x, long ldx, const float *restrict p,
                                                            long ldp, long kc, float *y, long ldy, int load,
                                                            __mmask16 m0, __mmask16 m1, const int R, const int full) {
    __m512 c0[GEMM_MR], c1[GEMM_MR];
    for (int i = 0; i < R; i++) { c0[i] = _mm512_setzero_ps(); c1[i] = _mm512_setzero_ps(); }
    for (long k = 0; k < kc; k++) {
        // Masked loads cost ~3 % in the inner loop, so whole panels use plain ones.
        const __m512 w0 = full ? _mm512_loadu_ps(p + k * ldp) : _mm512_maskz_loadu_ps(m0, p + k * ldp);
        const __m512 w1 = full ? _mm512_loadu_ps(p + k * ldp + 16) : _mm512_maskz_loadu_ps(m1, p + k * ldp + 16);
        for (int i = 0; i < R; i++) {
            const __m512 b = _mm512_set1_ps(x[i * ldx + k]);
            c0[i] = _mm512_fmadd_ps(w0, b, c0[i]);
            c1[i] = _mm512_fmadd_ps(w1, b, c1[i]);
        }
    }
    for (int i = 0; i < R; i++) {
        float *yr = y + i * ldy;
        if (load) {
            c0[i] = _mm512_add_ps(_mm512_maskz_loadu_ps(m0, yr), c0[i]);
            c1[i] = _mm512_add_ps(_mm512_maskz_loadu_ps(m1, yr + 16), c1[i]);
        }
        _mm512_mask_storeu_ps(yr, m0, c0[i]);
        _mm512_mask_storeu_ps(yr + 16, m1, c1[i]);
    }
}

/// Lane masks of a panel holding `nn` (<= 32) columns.
static inline __attribute__((always_inline)) void gemm_masks(long nn, __mmask16 *m0, __mmask16 *m1) {
    *m0 = rows_mask(nn);
    *m1 = nn <= 16 ? 0 : rows_mask(nn - 16);
}

/// All `rows` input rows against one panel: MR at a time, then the remainder.
static inline __attribute__((always_inline)) void gemm_rows(const float *x, long ldx, long rows, const float *p,
                                                            long ldp, long kc, float *y, long ldy, int load,
                                                            __mmask16 m0, __mmask16 m1, const int full) {
    long r = 0;
    for (; r + GEMM_MR <= rows; r += GEMM_MR)
        gemm_tile(x + r * ldx, ldx, p, ldp, kc, y + r * ldy, ldy, load, m0, m1, GEMM_MR, full);
    const float *xr = x + r * ldx;
    float *yr = y + r * ldy;
    switch (rows - r) {
    case 1: gemm_tile(xr, ldx, p, ldp, kc, yr, ldy, load, m0, m1, 1, full); break;
    case 2: gemm_tile(xr, ldx, p, ldp, kc, yr, ldy, load, m0, m1, 2, full); break;
    case 3: gemm_tile(xr, ldx, p, ldp, kc, yr, ldy, load, m0, m1, 3, full); break;
    case 4: gemm_tile(xr, ldx, p, ldp, kc, yr, ldy, load, m0, m1, 4, full); break;
    case 5: gemm_tile(xr, ldx, p, ldp, kc, yr, ldy, load, m0, m1, 5, full); break;
    case 6: gemm_tile(xr, ldx, p, ldp, kc, yr, ldy, load, m0, m1, 6, full); break;
    case 7: gemm_tile(xr, ldx, p, ldp, kc, yr, ldy, load, m0, m1, 7, full); break;
    default: break;
    }
}

/// A panel of `nn` (<= 32) columns, k-rows `ldp` apart, against all `rows` input rows; lanes past `nn` are not read.
static void gemm_panel(const float *x, long ldx, long rows, const float *p, long ldp, long kc, float *y, long ldy,
                       int load, long nn) {
    __mmask16 m0, m1;
    gemm_masks(nn, &m0, &m1);
    if (nn == GEMM_NR) gemm_rows(x, ldx, rows, p, ldp, kc, y, ldy, load, m0, m1, 1);
    else gemm_rows(x, ldx, rows, p, ldp, kc, y, ldy, load, m0, m1, 0);
}

/// `y[rows, begin..<end] = x · wᵀ (+ y when accumulate)`; `begin` a multiple of 32 except at `out`.
int t5k_gemm_avx512(const T5KLinear *j, long begin, long end) {
    if (j->format < T5K_F32 || j->format > T5K_F16) return 0;
    float panel[GEMM_KC * GEMM_NR] __attribute__((aligned(64)));
    const long n = j->in;
    for (long o = begin; o < end; o += GEMM_NR) {
        const long nn = end - o < GEMM_NR ? end - o : GEMM_NR;
        for (long k0 = 0; k0 < n; k0 += GEMM_KC) {
            const long kc = n - k0 < GEMM_KC ? n - k0 : GEMM_KC;
            switch (j->format) {
            case T5K_F32: gemm_pack_f32(j, o, nn, k0, kc, panel); break;
            case T5K_INT8: gemm_pack_int8(j, o, nn, k0, kc, panel); break;
            case T5K_BF16: gemm_pack_bf16(j, o, nn, k0, kc, panel); break;
            default: gemm_pack_f16(j, o, nn, k0, kc, panel); break;
            }
            gemm_panel(j->x + k0, j->ldx, j->rows, panel, GEMM_NR, kc, j->y + o, j->ldy, j->accumulate || k0 > 0, nn);
        }
    }
    return 1;
}

int t5k_pack_keys_avx512(const float *k, long ld, long n, long dkv, float *dst) {
    const T5KLinear j = {.x = 0, .w = k, .scales = 0, .y = 0, .rows = 0, .in = dkv, .out = n, .format = T5K_F32,
                         .accumulate = 0, .ldx = 0, .ldw = ld, .ldy = 0};
    for (long o = 0; o < n; o += GEMM_NR)
        gemm_pack_f32(&j, o, n - o < GEMM_NR ? n - o : GEMM_NR, 0, dkv, dst + o * dkv);
    return 1;
}

int t5k_encoder_attention_avx512(const T5KAttentionHead *h, long begin, long end) {
    const long n = h->n, dkv = h->dkv, rows = end - begin;
    float *s = h->scores + begin * n;
    // scores[begin..<end] = Q · Kᵀ over the packed key panels (no 1/sqrt(d_kv) in T5).
    for (long o = 0; o < n; o += GEMM_NR)
        gemm_panel(h->q + begin * h->ld, h->ld, rows, h->keyPanels + o * dkv, GEMM_NR, dkv, s + o, n, 0,
                   n - o < GEMM_NR ? n - o : GEMM_NR);
    for (long i = 0; i < rows; i++) rows_softmax_bias(s + i * n, n, h->biasRow0 - (begin + i));
    // ctx[begin..<end] = P · V, V's rows read in place as the panel's k-rows.
    for (long o = 0; o < dkv; o += GEMM_NR)
        gemm_panel(s, n, rows, h->v + o, h->ld, n, h->ctx + begin * h->ldc + o, h->ldc, 0,
                   dkv - o < GEMM_NR ? dkv - o : GEMM_NR);
    return 1;
}

#undef L
#undef GEMM_NR
#undef GEMM_MR
#undef GEMM_KC
