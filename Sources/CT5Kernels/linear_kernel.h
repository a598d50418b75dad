// The linear-layer kernel, written once and included by linear.c once per instruction-set level with:
//   KNAME  the exported function's name      W   f32 lanes per vector (8: AVX2, 16: AVX-512)
//   WNAME  the exported widening function's name
//   RB     input rows per register tile       (and the level's `#pragma clang attribute` target around the include)
// Weight-stationary: a tile of OB weight rows is widened once per k-step and multiplied into RB input rows, so each
// weight is read from memory once per call for all rows. Every (row, output) pair has exactly one accumulator vector
// summed over k in order, then reduced by the same tree, so results are independent of the tiling and of `rows`.

#define CAT_(a, b) a##b
#define CAT(a, b) CAT_(a, b)
#define L(name) CAT(name, KNAME)

#include "reduce16.h"

typedef float L(vf) __attribute__((ext_vector_type(W)));
typedef unsigned int L(vu) __attribute__((ext_vector_type(W)));
typedef signed char L(vi8) __attribute__((ext_vector_type(W)));
typedef unsigned short L(vu16) __attribute__((ext_vector_type(W)));
typedef _Float16 L(vh) __attribute__((ext_vector_type(W)));

static inline __attribute__((always_inline)) L(vf) L(load_f32)(const void *p, long i) {
    L(vf) v; __builtin_memcpy(&v, (const char *)p + 4 * i, sizeof v); return v;
}
static inline __attribute__((always_inline)) L(vf) L(load_int8)(const void *p, long i) {
    L(vi8) v; __builtin_memcpy(&v, (const char *)p + i, sizeof v);
    return __builtin_convertvector(v, L(vf));
}
static inline __attribute__((always_inline)) L(vf) L(load_bf16)(const void *p, long i) {
    L(vu16) v; __builtin_memcpy(&v, (const char *)p + 2 * i, sizeof v);
    return (L(vf))(__builtin_convertvector(v, L(vu)) << 16);
}
static inline __attribute__((always_inline)) L(vf) L(load_f16)(const void *p, long i) {
    L(vh) v; __builtin_memcpy(&v, (const char *)p + 2 * i, sizeof v);
    return __builtin_convertvector(v, L(vf));
}
static inline __attribute__((always_inline)) float L(one_f32)(const void *p, long i) {
    float v; __builtin_memcpy(&v, (const char *)p + 4 * i, 4); return v;
}
static inline __attribute__((always_inline)) float L(one_int8)(const void *p, long i) { return (float)((const signed char *)p)[i]; }
static inline __attribute__((always_inline)) float L(one_bf16)(const void *p, long i) {
    unsigned short h; __builtin_memcpy(&h, (const char *)p + 2 * i, 2);
    unsigned int b = (unsigned int)h << 16; float f; __builtin_memcpy(&f, &b, 4); return f;
}
static inline __attribute__((always_inline)) float L(one_f16)(const void *p, long i) {
    _Float16 h; __builtin_memcpy(&h, (const char *)p + 2 * i, 2); return (float)h;
}

/// Lanes summed by halving: the same tree for every accumulator.
static inline __attribute__((always_inline)) float L(reduce)(L(vf) v) {
#if W == 16
    __attribute__((ext_vector_type(8))) float a = v.lo + v.hi;
#else
    __attribute__((ext_vector_type(8))) float a = v;
#endif
    __attribute__((ext_vector_type(4))) float b = a.lo + a.hi;
    __attribute__((ext_vector_type(2))) float c = b.lo + b.hi;
    return c.x + c.y;
}

#if W == 16
/// `reduce` of sixteen accumulators at once: out[i] = reduce(v[i]), bit for bit (reduce16.h). A 4 x 4 tile over
/// k = 512 spent a fifth of its time reducing (PERFORMANCE.md, "Tile epilogue: sixteen reductions at once").
DEFINE_REDUCE16(L(reduce16), L(vf))
#endif

/// The 4 x 4 tiles' epilogue on AVX-512: sixteen sums at once, ordered so that lanes 4b..4b+3 are row b's four
/// outputs (one 16-byte store each); scaled and accumulated exactly as the one-by-one loop after it.
#if W == 16
#define EPILOGUE_4X4                                                                                                    \
    if (OB == 4 && RBN == 4 && k == n) {                                                                                \
        L(vf) v[16];                                                                                                    \
        for (int b = 0; b < 4; b++) for (int a = 0; a < 4; a++) v[4 * b + a] = acc[a][b];                              \
        L(vf) d = L(reduce16)(v);                                                                                       \
        __attribute__((ext_vector_type(4))) float s4 = 1.0f;                                                            \
        if (j->scales) __builtin_memcpy(&s4, j->scales + o, sizeof s4);                                                 \
        __attribute__((ext_vector_type(4))) float db[4] = {d.lo.lo, d.lo.hi, d.hi.lo, d.hi.hi};                        \
        for (int b = 0; b < 4; b++) {                                                                                   \
            __attribute__((ext_vector_type(4))) float yb;                                                               \
            float *yp = j->y + (r + b) * ldy + o;                                                                       \
            if (j->accumulate) { __builtin_memcpy(&yb, yp, sizeof yb); yb = yb + db[b] * s4; }                          \
            else yb = db[b] * s4;                                                                                       \
            __builtin_memcpy(yp, &yb, sizeof yb);                                                                       \
        }                                                                                                               \
        return;                                                                                                         \
    }
#else
#define EPILOGUE_4X4
#endif

/// One tile: weight rows o..<o+OB against input rows r..<r+RBN. OB and RBN are constants at every call site, so the
/// accumulator array lives in registers.
#define DEFINE_TILE(FMT, BYTES)                                                                                       \
static inline __attribute__((always_inline)) void L(tile_##FMT)(const T5KLinear *j, long o, long r, const int OB,      \
                                                                const int RBN) {                                        \
    const long n = j->in, ldx = j->ldx, ldw = j->ldw, ldy = j->ldy;                                                     \
    const char *w = (const char *)j->w + o * ldw * BYTES;                                                               \
    const float *x = j->x + r * ldx;                                                                                    \
    L(vf) acc[8][RB];                                                                                                   \
    for (int a = 0; a < OB; a++) for (int b = 0; b < RBN; b++) acc[a][b] = (L(vf))0;                                    \
    long k = 0;                                                                                                         \
    /* Software prefetch of the next tile, swept at the pace this one is read: int8/half rows are short (512 B     */ \
    /* for a 512-wide int8 layer) and the hardware prefetcher, which trains per stream and stops at page ends,     */ \
    /* left most of them to demand misses; f32 row-by-row tiles at several input rows gain a quarter from it.     */ \
    /* An f32 row alone (batch 1) is one long sequential stream the hardware follows: prefetching only cost     */ \
    /* issue slots (PERFORMANCE.md, "Narrow formats no slower than f32", "Weight rows as sequential streams").   */ \
    /* f32 tiles at several rows run ~8 FMAs per weight line and issue their misses too late from one tile ahead  */ \
    /* into L1 (~12 GB/s per core at 8 rows); three tiles ahead into L2 they stream at the batch-1 rate (~39 GB/s  */ \
    /* on two cores) (PERFORMANCE.md, "Batched f32 decode: prefetch into L2").                                      */ \
    const int prefetch = BYTES < 4 || (OB < 8 && OB * RBN > 1), far = BYTES == 4;                                      \
    for (; k + W <= n; k += W) {                                                                                        \
        /* Swept at the pace this tile is read. */                                                                     \
        if (prefetch && far)                                                                                            \
            for (long q = 0; q < OB * W * BYTES; q += 64)                                                               \
                __builtin_prefetch(w + 3 * OB * ldw * BYTES + k * OB * BYTES + q, 0, 1);                                \
        else if (prefetch)                                                                                              \
            for (long q = 0; q < OB * W * BYTES; q += 64) __builtin_prefetch(w + OB * ldw * BYTES + k * OB * BYTES + q);\
        L(vf) wv[8];                                                                                                    \
        for (int a = 0; a < OB; a++) wv[a] = L(load_##FMT)(w + a * ldw * BYTES, k);                                     \
        for (int b = 0; b < RBN; b++) {                                                                                 \
            L(vf) xv = L(load_f32)(x + b * ldx, k);                                                                     \
            for (int a = 0; a < OB; a++) acc[a][b] = __builtin_elementwise_fma(wv[a], xv, acc[a][b]);                  \
        }                                                                                                               \
    }                                                                                                                   \
    EPILOGUE_4X4                                                                                                        \
    for (int a = 0; a < OB; a++) {                                                                                      \
        const float s = j->scales ? j->scales[o + a] : 1.0f;                                                            \
        for (int b = 0; b < RBN; b++) {                                                                                 \
            float d = L(reduce)(acc[a][b]);                                                                             \
            for (long t = k; t < n; t++) d = __builtin_fmaf(L(one_##FMT)(w + a * ldw * BYTES, t), x[b * ldx + t], d);  \
            float *yp = j->y + (r + b) * ldy + o + a;                                                                   \
            *yp = j->accumulate ? *yp + d * s : d * s;                                                                  \
        }                                                                                                               \
    }                                                                                                                   \
}                                                                                                                       \
/* Output columns begin..<end for every input row. At batch 1, f32 and half-width weight rows are read one after */  \
/* another, as one sequential stream (the next rows' FMA chains overlap out of order); int8 reads eight rows side */  \
/* by side (a 512-byte row is too short to hide one FMA chain's latency). At several rows every format uses 4 x RB */ \
/* tiles: each weight vector loaded (and widened) once per RB rows, each input vector once per four weight rows  */  \
/* (PERFORMANCE.md, "Weight rows as sequential streams", "Batched f32 decode: prefetch into L2").                 */  \
static void L(rows_##FMT)(const T5KLinear *j, long begin, long end) {                                                   \
    const long rows = j->rows;                                                                                          \
    long o = begin;                                                                                                     \
    if (rows == 1) {                                                                                                    \
        if (BYTES >= 2) for (; o < end; o++) L(tile_##FMT)(j, o, 0, 1, 1);                                              \
        else for (; o + 8 <= end; o += 8) L(tile_##FMT)(j, o, 0, 8, 1);                                                \
    } else {                                                                                                            \
        for (; o + 4 <= end; o += 4) {                                                                                  \
            long r = 0;                                                                                                 \
            for (; r + RB <= rows; r += RB) L(tile_##FMT)(j, o, r, 4, RB);                                              \
            switch (rows - r) {                                                                                         \
            case 1: L(tile_##FMT)(j, o, r, 4, 1); break;                                                                \
            case 2: if (RB > 2) L(tile_##FMT)(j, o, r, 4, 2); break;                                                    \
            case 3: if (RB > 3) L(tile_##FMT)(j, o, r, 4, 3); break;                                                    \
            default: break;                                                                                             \
            }                                                                                                           \
        }                                                                                                               \
    }                                                                                                                   \
    for (; o < end; o++) for (long r = 0; r < rows; r++) L(tile_##FMT)(j, o, r, 1, 1);                                  \
}

DEFINE_TILE(f32, 4)
DEFINE_TILE(int8, 1)
DEFINE_TILE(bf16, 2)
DEFINE_TILE(f16, 2)

/// Weight rows begin..<end as f32 times the row's scale, `in` floats apart from `dst`: the panels sgemm multiplies.
#define DEFINE_WIDEN(FMT, BYTES)                                                                                      \
static void L(widen_##FMT)(const T5KLinear *j, long begin, long end, float *dst) {                                     \
    const long n = j->in;                                                                                               \
    for (long o = begin; o < end; o++) {                                                                                \
        const char *w = (const char *)j->w + o * n * BYTES;                                                             \
        float *d = dst + (o - begin) * n;                                                                               \
        const float s = j->scales ? j->scales[o] : 1.0f;                                                                \
        long k = 0;                                                                                                     \
        for (; k + W <= n; k += W) {                                                                                    \
            L(vf) v = L(load_##FMT)(w, k) * s;                                                                          \
            __builtin_memcpy(d + k, &v, sizeof v);                                                                      \
        }                                                                                                               \
        for (; k < n; k++) d[k] = L(one_##FMT)(w, k) * s;                                                               \
    }                                                                                                                   \
}

DEFINE_WIDEN(f32, 4)
DEFINE_WIDEN(int8, 1)
DEFINE_WIDEN(bf16, 2)
DEFINE_WIDEN(f16, 2)

int WNAME(const T5KLinear *job, long begin, long end, float *dst) {
    switch (job->format) {
    case T5K_F32: L(widen_f32)(job, begin, end, dst); break;
    case T5K_INT8: L(widen_int8)(job, begin, end, dst); break;
    case T5K_BF16: L(widen_bf16)(job, begin, end, dst); break;
    case T5K_F16: L(widen_f16)(job, begin, end, dst); break;
    default: return 0;
    }
    return 1;
}

int KNAME(const T5KLinear *job, long begin, long end) {
    switch (job->format) {
    case T5K_F32: L(rows_f32)(job, begin, end); break;
    case T5K_INT8: L(rows_int8)(job, begin, end); break;
    case T5K_BF16: L(rows_bf16)(job, begin, end); break;
    case T5K_F16: L(rows_f16)(job, begin, end); break;
    default: return 0;
    }
    return 1;
}

#undef EPILOGUE_4X4
#undef L
