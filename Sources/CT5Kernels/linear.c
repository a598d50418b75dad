// The linear-layer kernel (linear_kernel.h) built for AVX2+FMA+F16C and for AVX-512, plus the CPUID check that
// says which of them may run. Function-level target attributes need no compiler flags, so this builds in any package.
#include "t5_kernels.h"

#if defined(__x86_64__) && defined(__clang__)
#include <cpuid.h>
#include <immintrin.h>

int t5k_cpu_level(void) {
    unsigned a, b, c, d;
    if (!__get_cpuid(1, &a, &b, &c, &d)) return T5K_LEVEL_BASELINE;
    const int fma = (c >> 12) & 1, osxsave = (c >> 27) & 1, avx = (c >> 28) & 1, f16c = (c >> 29) & 1;
    if (!(fma && osxsave && avx && f16c)) return T5K_LEVEL_BASELINE;
    unsigned lo, hi;
    __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
    if ((lo & 0x6) != 0x6) return T5K_LEVEL_BASELINE;              // XMM and YMM state saved by the OS
    if (!__get_cpuid_count(7, 0, &a, &b, &c, &d)) return T5K_LEVEL_BASELINE;
    const int avx2 = (b >> 5) & 1, avx512f = (b >> 16) & 1, avx512dq = (b >> 17) & 1, avx512bw = (b >> 30) & 1,
              avx512vl = (b >> 31) & 1;
    if (!avx2) return T5K_LEVEL_BASELINE;
    if (avx512f && avx512dq && avx512bw && avx512vl && (lo & 0xE6) == 0xE6) return T5K_LEVEL_AVX512;  // + opmask, ZMM
    return T5K_LEVEL_AVX2;
}

#pragma clang attribute push(__attribute__((target("avx2,fma,f16c"))), apply_to = function)
#define KNAME t5k_linear_avx2
#define WNAME t5k_widen_avx2
#define W 8
#define RB 2
#include "linear_kernel.h"
#undef KNAME
#undef WNAME
#undef W
#undef RB
#pragma clang attribute pop

#pragma clang attribute push(__attribute__((target("avx512f,avx512bw,avx512vl,avx512dq,avx2,fma,f16c"))), apply_to = function)
#define KNAME t5k_linear_avx512
#define WNAME t5k_widen_avx512
#define W 16
#define RB 4
#include "linear_kernel.h"
#include "rows_kernel.h"
#include "gemm_kernel.h"
#undef KNAME
#undef WNAME
#undef W
#undef RB
#pragma clang attribute pop

#else

int t5k_cpu_level(void) { return T5K_LEVEL_BASELINE; }
int t5k_linear_avx2(const T5KLinear *job, long begin, long end) { (void)job; (void)begin; (void)end; return 0; }
int t5k_linear_avx512(const T5KLinear *job, long begin, long end) { (void)job; (void)begin; (void)end; return 0; }
int t5k_widen_avx2(const T5KLinear *job, long begin, long end, float *dst) { (void)job; (void)begin; (void)end; (void)dst; return 0; }
int t5k_widen_avx512(const T5KLinear *job, long begin, long end, float *dst) { (void)job; (void)begin; (void)end; (void)dst; return 0; }
int t5k_gemm_avx512(const T5KLinear *job, long begin, long end) { (void)job; (void)begin; (void)end; return 0; }
int t5k_pack_keys_avx512(const float *k, long ld, long n, long dkv, float *dst) { (void)k; (void)ld; (void)n; (void)dkv; (void)dst; return 0; }
int t5k_encoder_attention_avx512(const T5KAttentionHead *head, long begin, long end) { (void)head; (void)begin; (void)end; return 0; }
int t5k_rms_norm_avx512(const float *x, long dim, const float *weight, float eps, float *y, long begin, long end) { (void)x; (void)dim; (void)weight; (void)eps; (void)y; (void)begin; (void)end; return 0; }
int t5k_gated_avx512(float *pair, long width, int activation, long begin, long end) { (void)pair; (void)width; (void)activation; (void)begin; (void)end; return 0; }
int t5k_gate_avx512(float *a, const float *g, long n, int activation) { (void)a; (void)g; (void)n; (void)activation; return 0; }
long t5k_argmax_avx512(const float *p, long n) { (void)p; (void)n; return -1; }
int t5k_quantize_rows_avx512(const float *x, long rows, long cols, signed char *values, float *scales) { (void)x; (void)rows; (void)cols; (void)values; (void)scales; return 0; }
int t5k_store_f16_avx512(const float *x, long n, unsigned short *dst) { (void)x; (void)n; (void)dst; return 0; }

#endif
