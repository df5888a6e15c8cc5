#ifndef LSG_C_VECTOR_KERNELS_H
#define LSG_C_VECTOR_KERNELS_H

/// The encoder's elementwise kernels and row reductions, compiled once per x86 vector level
/// (AVX-512, AVX2 with FMA, baseline) and picked at run time for the CPU. Every variant runs
/// the same float operations in the same order (no contraction into FMA, reductions over 16
/// fixed lanes summed in lane order), so all variants give bit-identical results.
typedef struct {
    /// "avx512", "avx2" or "baseline".
    const char *name;
    void (*gelu)(float *values, long count);
    void (*gelu_tanh)(float *values, long count);
    void (*silu)(float *values, long count);
    void (*add)(const float *source, float *destination, long count);
    void (*scale)(float *values, float factor, long count);
    float (*sum)(const float *values, long count);
    float (*maximum)(const float *values, long count);
    float (*sum_of_squares)(const float *values, long count);
    float (*dot)(const float *a, const float *b, long count);
    void (*softmax)(float *row, long count);
    void (*layer_norm)(float *row, long count, const float *weight, const float *bias, float eps);
} lsg_vector_kernels;

/// Chosen once, at load: the fastest variant this CPU runs, or the one the environment variable
/// LSG_VECTOR_LEVEL names ("avx2", "baseline", ...) when this CPU runs it.
const lsg_vector_kernels *lsg_vector_kernels_selected(void);

/// The variant `name` ("avx512", "avx2", "baseline"), or NULL when this CPU cannot run it or
/// it was not compiled (other architectures have "baseline" only).
const lsg_vector_kernels *lsg_vector_kernels_named(const char *name);

/// Scalar functions, the same arithmetic as the kernels use element by element.
float lsg_exp(float x);
float lsg_erf(float x);
float lsg_tanh(float x);

#endif
