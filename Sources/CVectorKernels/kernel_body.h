// Included once per vector level by vector_kernels.c, with KERNEL_TARGET (a target attribute or
// nothing) and KERNEL_NAME(name) (the name with the level's suffix) defined. The scalar helpers
// of scalar_math.h are inlined into each function and vectorised at that function's level.

KERNEL_TARGET static void KERNEL_NAME(gelu)(float *values, long count) {
    for (long i = 0; i < count; i++) {
        float x = values[i];
        values[i] = x * 0.5f * (1.0f + scalar_erf(x * 0.707106781f));
    }
}

KERNEL_TARGET static void KERNEL_NAME(gelu_tanh)(float *values, long count) {
    for (long i = 0; i < count; i++) {
        float x = values[i];
        values[i] = 0.5f * x * (1.0f + scalar_tanh(0.79788456f * (x + 0.044715f * x * x * x)));
    }
}

KERNEL_TARGET static void KERNEL_NAME(silu)(float *values, long count) {
    for (long i = 0; i < count; i++) {
        float x = values[i];
        values[i] = x / (1.0f + scalar_exp(-x));
    }
}

KERNEL_TARGET static void KERNEL_NAME(add)(const float *source, float *destination, long count) {
    for (long i = 0; i < count; i++) destination[i] += source[i];
}

KERNEL_TARGET static void KERNEL_NAME(scale)(float *values, float factor, long count) {
    for (long i = 0; i < count; i++) values[i] *= factor;
}

// Reductions: lane j of 16 accumulates elements j, j + 16, ...; the lanes are then added in
// lane order starting from -0, and the tail element by element.

KERNEL_TARGET static float KERNEL_NAME(sum)(const float *values, long count) {
    float lanes[LANES] = {0};
    long i = 0;
    for (; i + LANES <= count; i += LANES)
        for (int j = 0; j < LANES; j++) lanes[j] += values[i + j];
    float total = lane_total(lanes);
    for (; i < count; i++) total += values[i];
    return total;
}

KERNEL_TARGET static float KERNEL_NAME(maximum)(const float *values, long count) {
    float lanes[LANES];
    for (int j = 0; j < LANES; j++) lanes[j] = -__builtin_inff();
    long i = 0;
    for (; i + LANES <= count; i += LANES)
        for (int j = 0; j < LANES; j++) lanes[j] = values[i + j] > lanes[j] ? values[i + j] : lanes[j];
    float result = lanes[0];
    for (int j = 1; j < LANES; j++) result = lanes[j] >= result ? lanes[j] : result;
    for (; i < count; i++) result = values[i] >= result ? values[i] : result;
    return result;
}

KERNEL_TARGET static float KERNEL_NAME(sum_of_squares)(const float *values, long count) {
    float lanes[LANES] = {0};
    long i = 0;
    for (; i + LANES <= count; i += LANES)
        for (int j = 0; j < LANES; j++) lanes[j] += values[i + j] * values[i + j];
    float total = lane_total(lanes);
    for (; i < count; i++) total += values[i] * values[i];
    return total;
}

KERNEL_TARGET static float KERNEL_NAME(dot)(const float *a, const float *b, long count) {
    float lanes[LANES] = {0};
    long i = 0;
    for (; i + LANES <= count; i += LANES)
        for (int j = 0; j < LANES; j++) lanes[j] += a[i + j] * b[i + j];
    float total = lane_total(lanes);
    for (; i < count; i++) total += a[i] * b[i];
    return total;
}

/// exp(x - max) / sum, in place; a row where every score is the float minimum comes out uniform.
KERNEL_TARGET static void KERNEL_NAME(softmax)(float *row, long count) {
    float top = KERNEL_NAME(maximum)(row, count);
    for (long i = 0; i < count; i++) row[i] = scalar_exp(row[i] - top);
    float total = KERNEL_NAME(sum)(row, count);
    KERNEL_NAME(scale)(row, 1.0f / total, count);
}

/// LayerNorm with the biased variance, as PyTorch computes it.
KERNEL_TARGET static void KERNEL_NAME(layer_norm)(float *row, long count, const float *weight, const float *bias,
                                                  float eps) {
    float mean = KERNEL_NAME(sum)(row, count) / (float)count;
    for (long i = 0; i < count; i++) row[i] -= mean;
    float variance = KERNEL_NAME(sum_of_squares)(row, count) / (float)count;
    float inverse_deviation = 1.0f / __builtin_sqrtf(variance + eps);
    for (long i = 0; i < count; i++) row[i] = row[i] * inverse_deviation * weight[i] + bias[i];
}

static const lsg_vector_kernels KERNEL_NAME(table) = {
    KERNEL_LEVEL,
    KERNEL_NAME(gelu), KERNEL_NAME(gelu_tanh), KERNEL_NAME(silu), KERNEL_NAME(add), KERNEL_NAME(scale),
    KERNEL_NAME(sum), KERNEL_NAME(maximum), KERNEL_NAME(sum_of_squares), KERNEL_NAME(dot),
    KERNEL_NAME(softmax), KERNEL_NAME(layer_norm),
};
