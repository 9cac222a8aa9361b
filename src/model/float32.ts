// The core computes in float32: a number past its range becomes infinity there, so options that
// reach a tensor (learning rates, optimizer settings) are checked against it first.
export const FLOAT32_MAX = 3.4028234663852886e38
