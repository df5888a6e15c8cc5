#include "CVectorKernels.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

// Separate multiplies and adds everywhere: a fused multiply-add rounds once instead of twice,
// and would make the AVX2/AVX-512 variants differ from the baseline (and from earlier results).
#pragma clang fp contract(off)

#define LANES 16

static inline float lane_total(const float lanes[LANES]) {
    float total = -0.0f;
    for (int j = 0; j < LANES; j++) total += lanes[j];
    return total;
}

/// e^x to within about 1 ulp, 0 below -87.33 (where e^x leaves the normal range), saturating at
/// e^88. Range reduction x = n·ln2 + r with |r| <= ln2/2, then a degree-7 Taylor polynomial
/// (truncation error < 6e-9 relative) scaled by 2^n built from bits.
static inline float scalar_exp(float x) {
    float clamped = 88.0f < x ? 88.0f : x;
    const float rounding_shift = 12582912.0f;  // 1.5 * 2^23: adding it rounds to an integer in the low bits
    float shifted = clamped * 1.44269504f + rounding_shift;
    float n = shifted - rounding_shift;
    float r = (clamped - n * 0.69314575f) - n * 1.4286068e-6f;
    float p = 1.0f / 5040.0f;
    p = p * r + 1.0f / 720.0f;
    p = p * r + 1.0f / 120.0f;
    p = p * r + 1.0f / 24.0f;
    p = p * r + 1.0f / 6.0f;
    p = p * r + 0.5f;
    p = p * r + 1.0f;
    p = p * r + 1.0f;
    int32_t bits;
    memcpy(&bits, &shifted, sizeof bits);
    int32_t exponent = bits - 0x4B400000 + 127;
    uint32_t scale_bits = (uint32_t)(exponent > 1 ? exponent : 1) << 23;
    float scale;
    memcpy(&scale, &scale_bits, sizeof scale);
    return x < -87.33f ? 0.0f : p * scale;
}

/// erf(x) to within 1.3e-7 absolute. |x| <= 1: x·P(x²); 1 < |x|: 1 - e^(-x²)·Q(|x|), where Q fits
/// erfc(x)·e^(x²) on [1, 4] (erf is 1 in float beyond 4). Least-squares fits on Chebyshev nodes.
static inline float scalar_erf(float x) {
    float magnitude_of_x = __builtin_fabsf(x);
    float a = 4.0f < magnitude_of_x ? 4.0f : magnitude_of_x;
    float a2 = a * a;
    float small = 7.882497198e-05f;
    small = small * a2 - 8.018855019e-04f;
    small = small * a2 + 5.189311946e-03f;
    small = small * a2 - 2.685432880e-02f;
    small = small * a2 + 1.128359746e-01f;
    small = small * a2 - 3.761262690e-01f;
    small = small * a2 + 1.128379166f;
    small *= a;
    float t = a - 2.5f;
    float q = 1.671801785e-06f;
    q = q * t - 6.386085704e-06f;
    q = q * t + 1.435366257e-05f;
    q = q * t - 5.358580906e-05f;
    q = q * t + 2.129720802e-04f;
    q = q * t - 7.389975677e-04f;
    q = q * t + 2.465982358e-03f;
    q = q * t - 7.999345595e-03f;
    q = q * t + 2.493820374e-02f;
    q = q * t - 7.434760093e-02f;
    q = q * t + 2.108063575e-01f;
    float large = 1.0f - scalar_exp(-a2) * q;
    float magnitude = a <= 1.0f ? small : large;
    return x < 0.0f ? -magnitude : magnitude;
}

/// tanh(x) = 1 - 2 / (e^(2x) + 1), on |x| with the sign restored, for accuracy on both sides.
static inline float scalar_tanh(float x) {
    float magnitude_of_x = __builtin_fabsf(x);
    float a = 10.0f < magnitude_of_x ? 10.0f : magnitude_of_x;
    float e = scalar_exp(2.0f * a);
    float magnitude = 1.0f - 2.0f / (e + 1.0f);
    return x < 0.0f ? -magnitude : magnitude;
}

float lsg_exp(float x) { return scalar_exp(x); }
float lsg_erf(float x) { return scalar_erf(x); }
float lsg_tanh(float x) { return scalar_tanh(x); }

#define KERNEL_LEVEL "baseline"
#define KERNEL_TARGET
#define KERNEL_NAME(name) name##_baseline
#include "kernel_body.h"
#undef KERNEL_LEVEL
#undef KERNEL_TARGET
#undef KERNEL_NAME

#if defined(__x86_64__)
#define KERNEL_LEVEL "avx2"
#define KERNEL_TARGET __attribute__((target("avx2,fma")))
#define KERNEL_NAME(name) name##_avx2
#include "kernel_body.h"
#undef KERNEL_LEVEL
#undef KERNEL_TARGET
#undef KERNEL_NAME

#define KERNEL_LEVEL "avx512"
#define KERNEL_TARGET __attribute__((target("avx512f,avx512bw,avx512dq,avx512vl,avx2,fma"), min_vector_width(512)))
#define KERNEL_NAME(name) name##_avx512
#include "kernel_body.h"
#undef KERNEL_LEVEL
#undef KERNEL_TARGET
#undef KERNEL_NAME
#endif

const lsg_vector_kernels *lsg_vector_kernels_named(const char *name) {
#if defined(__x86_64__)
    __builtin_cpu_init();
    if (strcmp(name, "avx512") == 0) {
        int supported = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw")
            && __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512vl");
        return supported ? &table_avx512 : NULL;
    }
    if (strcmp(name, "avx2") == 0) {
        return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") ? &table_avx2 : NULL;
    }
#endif
    return strcmp(name, "baseline") == 0 ? &table_baseline : NULL;
}

static const lsg_vector_kernels *selected;

/// The best level the CPU runs, or the one LSG_VECTOR_LEVEL names when the CPU runs it (to
/// measure the AVX2 or baseline path on a newer CPU).
__attribute__((constructor)) static void select_kernels(void) {
    const char *requested = getenv("LSG_VECTOR_LEVEL");
    if (requested && lsg_vector_kernels_named(requested)) {
        selected = lsg_vector_kernels_named(requested);
        return;
    }
    const char *order[] = {"avx512", "avx2", "baseline"};
    for (unsigned i = 0; i < sizeof order / sizeof order[0]; i++) {
        const lsg_vector_kernels *kernels = lsg_vector_kernels_named(order[i]);
        if (kernels) {
            selected = kernels;
            return;
        }
    }
}

const lsg_vector_kernels *lsg_vector_kernels_selected(void) { return selected ? selected : &table_baseline; }
