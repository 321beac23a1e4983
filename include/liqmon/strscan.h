/*
 * strscan.h - finding the bytes of a JSON string body that need a look:
 * '"', '\\' and control characters.  Shared by the tokenizer (jtok.c) and
 * the capture reader (capture.c), which scan the same kind of text: venue
 * frames, whose strings are mostly prices, sizes and names.
 *
 * Sixteen bytes at a step with SSE2 (every x86-64), eight with SWAR
 * elsewhere on little-endian machines, then byte by byte.  A step of
 * sixteen ends most of a frame's strings at once, whatever their length,
 * so the loop's exit is not a branch that depends on the data (measured:
 * about 3% of a depth diff's time against the eight-byte step).
 */
#ifndef LIQMON_STRSCAN_H
#define LIQMON_STRSCAN_H

#include <stdint.h>
#include <string.h>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

/* The bytes of the 8-byte word x that are '"', '\\' or below 0x20, as
 * their high bits (the classic has-zero / has-less tests).  A borrow can
 * only mark a byte above a true hit, so the lowest mark is exact: on a
 * little-endian machine ctz / 8 is the index of the first such byte. */
static inline uint64_t strscan_special8(uint64_t x)
{
    const uint64_t ones = 0x0101010101010101ull, high = 0x8080808080808080ull;
    uint64_t q = x ^ (ones * '"'), b = x ^ (ones * '\\');

    return (((q - ones) & ~q) | ((b - ones) & ~b) | ((x - ones * 0x20) & ~x)) & high;
}

#if defined(__SSE2__)
/* The bytes of the block x equal to c, and those below 0x20, as bit masks
 * (bit i: byte i). */
static inline unsigned strscan_eq16(__m128i x, char c)
{
    return (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(x, _mm_set1_epi8(c)));
}

static inline unsigned strscan_ctl16(__m128i x)
{
    return (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(
        _mm_max_epu8(x, _mm_set1_epi8(0x1f)), _mm_set1_epi8(0x1f)));
}
#endif

/* The first byte of q[0..end) that is '"', '\\' or a control character
 * (end if none). */
static inline const char *strscan_plain(const char *q, const char *end)
{
#if defined(__SSE2__)
    while (end - q >= 16) {
        const __m128i x = _mm_loadu_si128((const __m128i *)(const void *)q);
        unsigned m = strscan_eq16(x, '"') | strscan_eq16(x, '\\') | strscan_ctl16(x);
        if (m != 0)
            return q + __builtin_ctz(m);
        q += 16;
    }
#endif
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    while (end - q >= 8) {
        uint64_t x, m;
        memcpy(&x, q, 8);
        m = strscan_special8(x);
        if (m != 0)
            return q + (__builtin_ctzll(m) >> 3);
        q += 8;
    }
#endif
    while (q < end && *q != '"' && *q != '\\' && (unsigned char)*q >= 0x20)
        q++;
    return q;
}

#endif
