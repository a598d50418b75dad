// Sixteen vectors' lane sums at once, for kernels that finish sixteen dot products together (the linear tiles'
// epilogue, the cache attention's key blocks). Included by files that define their vector types first.
#ifndef T5K_REDUCE16_H
#define T5K_REDUCE16_H

/// `NAME(v)` returns, in lane i, the sum of v[i]'s lanes by the same halving tree as a one-vector reduction ((i, i+8),
/// then (i, i+4), (i, i+2), (0, 1)), done by two-source permutes that pair up the halves of two vectors, so 15 vector
/// adds replace 16 x 4 narrowing ones and every sum has the same bits as when reduced alone. VF has 16 float lanes.
#define DEFINE_REDUCE16(NAME, VF)                                                                                      \
static inline __attribute__((always_inline)) VF NAME(const VF v[16]) {                                               \
    VF a[8], b[4], c[2];                                                                                               \
    for (int i = 0; i < 8; i++)                                                                                        \
        a[i] = __builtin_shufflevector(v[2 * i], v[2 * i + 1], 0, 1, 2, 3, 4, 5, 6, 7, 16, 17, 18, 19, 20, 21, 22, 23) \
             + __builtin_shufflevector(v[2 * i], v[2 * i + 1], 8, 9, 10, 11, 12, 13, 14, 15, 24, 25, 26, 27, 28, 29, 30, 31); \
    /* a[i] holds the 8 halves' sums of v[2i] (lanes 0-7) and v[2i+1] (lanes 8-15). */                                 \
    for (int i = 0; i < 4; i++)                                                                                        \
        b[i] = __builtin_shufflevector(a[2 * i], a[2 * i + 1], 0, 1, 2, 3, 8, 9, 10, 11, 16, 17, 18, 19, 24, 25, 26, 27) \
             + __builtin_shufflevector(a[2 * i], a[2 * i + 1], 4, 5, 6, 7, 12, 13, 14, 15, 20, 21, 22, 23, 28, 29, 30, 31); \
    /* b[i]: four lanes each of v[4i] ... v[4i+3]. */                                                                   \
    for (int i = 0; i < 2; i++)                                                                                        \
        c[i] = __builtin_shufflevector(b[2 * i], b[2 * i + 1], 0, 1, 4, 5, 8, 9, 12, 13, 16, 17, 20, 21, 24, 25, 28, 29) \
             + __builtin_shufflevector(b[2 * i], b[2 * i + 1], 2, 3, 6, 7, 10, 11, 14, 15, 18, 19, 22, 23, 26, 27, 30, 31); \
    /* c[i]: two lanes each of v[8i] ... v[8i+7]. */                                                                    \
    return __builtin_shufflevector(c[0], c[1], 0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30)              \
         + __builtin_shufflevector(c[0], c[1], 1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 29, 31);             \
}

#endif
