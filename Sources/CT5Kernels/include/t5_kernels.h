// Hot decode kernels in C, compiled for several x86-64 levels in one build and chosen at run time by CPUID.
// Swift has no per-function target features, and `-target-cpu` is an unsafe flag a dependency may not use, so this
// target is how a plain `swift build` (and any package depending on T5Engine) gets AVX2/FMA or AVX-512 code
// (PERFORMANCE.md, "The README's build against T5_TARGET_CPU=native").
#ifndef T5_KERNELS_H
#define T5_KERNELS_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/// Element formats of a weight matrix (as PackedFormat in T5Tensor).
enum { T5K_F32 = 0, T5K_INT8 = 1, T5K_BF16 = 2, T5K_F16 = 3 };

/// Instruction-set levels the kernels are built for; `t5k_cpu_level` says which one this CPU and OS can run.
enum { T5K_LEVEL_BASELINE = 0, T5K_LEVEL_AVX2 = 1, T5K_LEVEL_AVX512 = 2 };

/// `y[rows, out] = x[rows, in] · wᵀ (+ y when accumulate)` for output columns `begin..<end`, rows `ld*` apart.
/// `w` is `[out, in]` row-major in `format`; `scales` (int8 only, else NULL) holds one f32 per output row.
/// Every (row, output) dot product is summed in the same order whatever `rows` is, so a row's result does not depend on
/// which other rows share the call.
typedef struct {
    const float *x;
    const void *w;
    const float *scales;
    float *y;
    long rows;
    long in;
    long out;
    int format;
    int accumulate;
    /// Row strides in elements of `x`, `w` and `y` (`in`, `in` and `out` for dense matrices); larger ones let the
    /// encoder's attention read heads in place (PERFORMANCE.md, "Peer comparison under load, encoder fusion, encoder
    /// attention on the pool").
    long ldx;
    long ldw;
    long ldy;
} T5KLinear;

/// The best level this CPU and operating system support (AVX state enabled by the OS included).
int t5k_cpu_level(void);

/// int8 weights times int8 activations (linear_w8a8.c): `y[r, o] (+)= ((float)(xq[r] · w[o]) · wscales[o]) · xscales[r]`
/// for output columns `begin..<end`, with `xq` each input row quantised to int8 (one scale per row) and the dot product
/// summed in 32-bit integers. `wsums[o]` is Σ_k w[o, k] (the VNNI kernel's offset correction). Every path gives the
/// same bits. `in` at most `T5K_W8A8_MAX_IN`, so that no 32-bit sum can overflow (255 · 127 · in < 2^31).
enum { T5K_W8A8_MAX_IN = 65536 };
typedef struct {
    const signed char *xq;
    const float *xscales;
    const signed char *w;
    const float *wscales;
    const int *wsums;
    float *y;
    long rows;
    long in;
    long out;
    /// Bytes between rows of `xq`, floats between rows of `y`.
    long ldxq;
    long ldy;
    int accumulate;
} T5KLinearW8A8;

/// Whether this CPU and OS run AVX-512 with VNNI (`t5k_linear_w8a8_vnni`).
int t5k_cpu_has_vnni(void);
/// The W8A8 product on AVX-512 VNNI; call only where `t5k_cpu_has_vnni` says so. Returns 0 (and does nothing) if the
/// target was built for another architecture.
int t5k_linear_w8a8_vnni(const T5KLinearW8A8 *job, long begin, long end);
/// The same product on AVX2 (16-bit pair sums); call only at `T5K_LEVEL_AVX2` or above. Same return rule.
int t5k_linear_w8a8_avx2(const T5KLinearW8A8 *job, long begin, long end);
/// The same product, one multiply-add at a time, on any CPU.
void t5k_linear_w8a8_plain(const T5KLinearW8A8 *job, long begin, long end);
/// Σ of each row of an int8 `[out, in]` matrix (`in` at most `T5K_W8A8_MAX_IN`): the row sums a W8A8 matrix needs,
/// computed once at load. The plain loop is the definition; integer sums do not depend on their order, so the AVX2
/// version (call only at `T5K_LEVEL_AVX2` or above; returns 0 if built for another architecture) gives the same values.
void t5k_int8_row_sums_plain(const signed char *w, long out, long in, int *sums);
int t5k_int8_row_sums_avx2(const signed char *w, long out, long in, int *sums);

/// int8 weights times 16-bit activations (linear_a16.c), the default int8 decode product on AVX2 and AVX-512:
/// `y[r, o] (+)= ((float)(xq[r] · w[o]) · wscales[o]) · xscales[r]` for output columns `begin..<end`, with `xq` each
/// input row rounded to at most `t5k_a16_levels(in)` levels each side (`t5k_quantize_a16_*`), rows `in` apart, and the
/// dot product an exact 32-bit integer. Every path gives the same bits.
typedef struct {
    const short *xq;
    const float *xscales;
    const signed char *w;
    const float *wscales;
    float *y;
    long rows;
    long in;
    long out;
    /// Floats between rows of `y`.
    long ldy;
    int accumulate;
} T5KLinearA16;

/// The largest |q| a row of `in` activations is rounded to: 32767, or fewer where `in · levels · 128` would not fit
/// in a 32-bit sum.
long t5k_a16_levels(long in);
/// Rows of `x` (`ldx` floats apart) rounded to 16-bit integers, `n` apart in `q`, with one scale per row:
/// q = rint(x · levels / max|x|), scale = max|x| / levels; a row with a non-finite value gets scale NaN and zeros,
/// one whose max|x| is below 2^-100 scale 0 and zeros. The AVX-512 version gives the same bits (returns 0 and does
/// nothing if built for another architecture; call only at `T5K_LEVEL_AVX512`).
void t5k_quantize_a16_plain(const float *x, long ldx, long rows, long n, short *q, float *scales);
int t5k_quantize_a16_avx512(const float *x, long ldx, long rows, long n, short *q, float *scales);
/// The same rounding with AVX2 (call only at `T5K_LEVEL_AVX2` or above); same bits, same return rule.
int t5k_quantize_a16_avx2(const float *x, long ldx, long rows, long n, short *q, float *scales);
/// The product on AVX-512 VNNI (call only where `t5k_cpu_has_vnni` says so; returns 0 and does nothing if built for
/// another architecture), and one multiply-add at a time on any CPU.
int t5k_linear_a16_vnni(const T5KLinearA16 *job, long begin, long end);
/// The same product with AVX2 (`vpmaddwd`; call only at `T5K_LEVEL_AVX2` or above), same bits, same return rule.
int t5k_linear_a16_avx2(const T5KLinearA16 *job, long begin, long end);
void t5k_linear_a16_plain(const T5KLinearA16 *job, long begin, long end);

/// The level-specific kernels; call only those `t5k_cpu_level` allows. They return 0 (and do nothing) if the
/// target was built for another architecture.
int t5k_linear_avx2(const T5KLinear *job, long begin, long end);
int t5k_linear_avx512(const T5KLinear *job, long begin, long end);

/// Many rows (long prompts): `y[rows, begin..<end] = x · wᵀ (+ y when accumulate)` with register-blocked panels of 32
/// weight rows widened as they are packed; `begin` a multiple of 32 (or `out`). Unlike the kernels above, a row's
/// result depends on the blocking, so decode steps must not use it. Returns 0 (and does nothing) if the target was
/// built for another architecture or `format` is unknown.
int t5k_gemm_avx512(const T5KLinear *job, long begin, long end);

/// One head of the encoder's self-attention over `n` positions: `ctx[i] = softmax(q[i]·Kᵀ + bias(i)) · V`.
typedef struct {
    /// `[n, dkv]` rows `ld` apart: the head's queries and values.
    const float *q;
    const float *v;
    long ld;
    /// The head's keys as `t5k_pack_keys_avx512` left them.
    const float *keyPanels;
    /// `[n, dkv]` rows `ldc` apart: the head's output.
    float *ctx;
    long ldc;
    /// `[n, n]` scratch.
    float *scores;
    /// Bias of query `i` for key `j` at `biasRow0[j - i]` (valid for `-(n-1)...(n-1)`).
    const float *biasRow0;
    long n;
    long dkv;
} T5KAttentionHead;

/// Keys `[n, dkv]` (rows `ld` apart) packed into `dst`, which holds `((n + 31) / 32) * 32 * dkv` floats.
int t5k_pack_keys_avx512(const float *k, long ld, long n, long dkv, float *dst);
/// Query rows `begin..<end` of `head`, with the packed-panel products and an AVX-512 softmax. Same return rule.
int t5k_encoder_attention_avx512(const T5KAttentionHead *head, long begin, long end);

/// T5's RMS norm of rows `begin..<end` (`dim` apart) of `x` into `y` (may be `x`), on AVX-512. Same return rule.
int t5k_rms_norm_avx512(const float *x, long dim, const float *weight, float eps, float *y, long begin, long end);

/// Feed-forward activations the AVX-512 gated pass knows.
enum { T5K_ACT_RELU = 0, T5K_ACT_GELU_TANH = 1, T5K_ACT_SILU = 2 };
/// Rows `begin..<end` of `pair` (`[rows, 2 * width]`, wi_0·h then wi_1·h): each row's first half becomes
/// `act(wi_0·h) * (wi_1·h)` in place, read `2 * width` apart afterwards. Returns 0 (and does nothing) for another
/// activation or architecture.
int t5k_gated_avx512(float *pair, long width, int activation, long begin, long end);
/// `a[i] = act(a[i]) * g[i]` for `i < n` (a decode step's gated feed-forward, wi_0 and wi_1 in separate rows), on
/// AVX-512. Same return rule.
int t5k_gate_avx512(float *a, const float *g, long n, int activation);

/// Rows of `cols` floats to symmetric int8 with one scale per row (`Int8Quantize.quantize`'s arithmetic, bit for bit),
/// and floats to IEEE half clamped to ±65504 (`KVRows.store`'s): the int8 and f16 KV caches' stores, on AVX-512. Same
/// return rule.
int t5k_quantize_rows_avx512(const float *x, long rows, long cols, signed char *values, float *scales);
int t5k_store_f16_avx512(const float *x, long n, unsigned short *dst);

/// Index of the largest of `p[0..<n]`, the first one on ties; -1 if any value is NaN or `n` is 0. AVX-512; call only
/// where `t5k_cpu_level` allows it.
long t5k_argmax_avx512(const float *p, long n);

/// Weight rows `begin..<end` of `job->w` widened to f32 and multiplied by their scale (int8), written `job->in` floats
/// apart from `dst` (`x`, `y` and `rows` are not read): panels for sgemm when a product has many rows. Same return rule.
int t5k_widen_avx2(const T5KLinear *job, long begin, long end, float *dst);
int t5k_widen_avx512(const T5KLinear *job, long begin, long end, float *dst);

/// The sum of `p[0..<n]`, read with the vectors of `level` (lowered to what this CPU runs): the read loop of the
/// bandwidth measurement in `t5 bench`.
float t5k_read_sum(const float *p, long n, int level);
/// f32 attention products over cached keys / values (`y[m] = a[m, n] · x`, and `y[n] = a[m, n]ᵀ · x`), rows `lda`
/// elements apart, with the vectors of `level` (a `T5K_LEVEL_*` that `t5k_cpu_level` allows; the caller checks, so
/// the per-head call does no CPUID). They return 0 (and do nothing) at the baseline level or on another architecture.
int t5k_f32_matvec(const float *a, long lda, long m, long n, const float *x, float *y, int level);
int t5k_f32_matvec_t(const float *a, long lda, long m, long n, const float *x, float *y, int level);
/// int8 attention products over caches with one f32 scale per row (`scales[i * scaleStride]` for row i):
/// `y[m] = scale ⊙ (a[m, n] · x)`, and `y[n] = a[m, n]ᵀ · (scale ⊙ x)`, rows `lda` bytes apart, with the vectors of
/// `level` (the caller checks it is allowed). They return 0 (and do nothing) at the baseline level or on another
/// architecture.
int t5k_i8_matvec(const signed char *a, long lda, long m, long n, const float *scales, long scaleStride, const float *x,
                  float *y, int level);
int t5k_i8_matvec_t(const signed char *a, long lda, long m, long n, const float *scales, long scaleStride,
                    const float *x, float *y, int level);
/// f16 attention products (`y[m] = a[m, n] · x`, and `y[n] = a[m, n]ᵀ · x`), rows `lda` elements apart, with F16C;
/// call only at `T5K_LEVEL_AVX2` or above. They return 0 (and do nothing) if the target was built for another architecture.
int t5k_f16_matvec_avx2(const unsigned short *a, long lda, long m, long n, const float *x, float *y);
int t5k_f16_matvec_t_avx2(const unsigned short *a, long lda, long m, long n, const float *x, float *y);

#ifdef __cplusplus
}
#endif

#endif
