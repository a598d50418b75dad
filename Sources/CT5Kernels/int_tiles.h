// What the integer products' VNNI kernels share (linear_w8a8.c, linear_a16.c), included inside their AVX-512 VNNI
// target region after they define their tile function: the order in which tiles cover a call's outputs and rows, and
// the 4 x 4 tile's epilogue.
#ifndef T5K_INT_TILES_H
#define T5K_INT_TILES_H

#include <immintrin.h>

/// Sixteen exact dot products of a 4 x 4 tile, lane 4b + a holding input row r + b against weight row o + a:
/// converted and scaled as `((float)dot · wscales[o + a]) · xscales[r + b]`, then stored (or added) four per row, in
/// the order of the kernels' one-by-one stores. At d_model 512 a tile has only a handful of k-steps, and one-by-one
/// stores cost as much as they do.
static inline __attribute__((always_inline)) void int_tile_store4x4(__m512i dot, const float *wscales,
                                                                    const float *xscales, float *y, long ldy,
                                                                    int accumulate) {
    const __m512i lanes = _mm512_set_epi32(3, 3, 3, 3, 2, 2, 2, 2, 1, 1, 1, 1, 0, 0, 0, 0);
    const __m512 ws = _mm512_broadcast_f32x4(_mm_loadu_ps(wscales));
    const __m512 xs = _mm512_permutexvar_ps(lanes, _mm512_castps128_ps512(_mm_loadu_ps(xscales)));
    const __m512 v = _mm512_mul_ps(_mm512_mul_ps(_mm512_cvtepi32_ps(dot), ws), xs);
    for (int b = 0; b < 4; b++) {
        float *yp = y + b * ldy;
        const __m128 yb = b == 0 ? _mm512_extractf32x4_ps(v, 0) : b == 1 ? _mm512_extractf32x4_ps(v, 1)
                        : b == 2 ? _mm512_extractf32x4_ps(v, 2) : _mm512_extractf32x4_ps(v, 3);
        _mm_storeu_ps(yp, accumulate ? _mm_add_ps(_mm_loadu_ps(yp), yb) : yb);
    }
}

/// `int NAME(const JOB *j, long begin, long end)`: output columns begin..<end for every input row by `TILE(j, o, r,
/// OB, RBN)`: at one row, eight weight rows side by side (one row's chain of dot products is too short to hide its
/// latency); at several, 4 x 4 tiles and their 1-3-row tails; leftover outputs one by one.
#define DEFINE_INT_TILES(NAME, JOB, TILE)                                                                              \
int NAME(const JOB *j, long begin, long end) {                                                                         \
    const long rows = j->rows;                                                                                         \
    long o = begin;                                                                                                    \
    if (rows == 1) {                                                                                                   \
        for (; o + 8 <= end; o += 8) TILE(j, o, 0, 8, 1);                                                              \
    } else {                                                                                                           \
        for (; o + 4 <= end; o += 4) {                                                                                 \
            long r = 0;                                                                                                \
            for (; r + 4 <= rows; r += 4) TILE(j, o, r, 4, 4);                                                         \
            switch (rows - r) {                                                                                        \
            case 1: TILE(j, o, r, 4, 1); break;                                                                        \
            case 2: TILE(j, o, r, 4, 2); break;                                                                        \
            case 3: TILE(j, o, r, 4, 3); break;                                                                        \
            default: break;                                                                                            \
            }                                                                                                          \
        }                                                                                                              \
    }                                                                                                                  \
    for (; o < end; o++) for (long r = 0; r < rows; r++) TILE(j, o, r, 1, 1);                                         \
    return 1;                                                                                                          \
}

#endif
