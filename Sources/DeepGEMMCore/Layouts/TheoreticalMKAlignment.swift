/// DeepGEMM's `get_theoretical_mk_alignment_for_contiguous_layout` (spec §14): the M (or K)
/// alignment a contiguous grouped layout would ideally use.
///
/// SM90 returns 128. SM100 returns the SM100 BLOCK_M: 224, or, given `expectedM`, the smallest of
/// 224, 192, …, 32 that still covers `expectedM` (steps of 32, never below 32).
public func getTheoreticalMKAlignmentForContiguousLayout(expectedM: Int? = nil, settings: DeepGEMMSettings = .default) -> Int {
    guard settings.arch == .sm100 else { return 128 }
    let step = 32
    var blockM = 224
    if let expectedM {
        while blockM > step && blockM - step >= expectedM { blockM -= step }
    }
    return blockM
}
