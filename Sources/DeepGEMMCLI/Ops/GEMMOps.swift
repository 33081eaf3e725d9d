import DeepGEMM

/// Dense GEMM ops (spec §4-§6, §9-§11): fp8/fp8_fp4/bf16/cublaslt GEMMs, skip_head_mid, einsum.
let denseGEMMOps: [OpDefinition] = []
