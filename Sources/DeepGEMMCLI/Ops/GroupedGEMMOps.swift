import DeepGEMM

/// Grouped GEMM ops (spec §7, §8) and the HyperConnection prenorm GEMM (§13).
let groupedGEMMOps: [OpDefinition] = []
