import DeepGEMMCore
import DeepGEMMKernelHost
import Testing
@testable import DeepGEMMCUDA

/// The k-grouped tile scheduler of the SM90 FP8 1D1D kernel (`scheduler/sm90_k_grouped_scheduler.cuh`),
/// compiled for the host and run for every CTA of the grid on random problems.
@Suite("SM90 k-grouped scheduler (host build)")
struct SM90KGroupedSchedulerHostTests {
    /// A (group, m block, n block, scale block along K) visit.
    struct Visit: Hashable {
        var group: Int
        var m: Int
        var n: Int
        var kBlock: Int
    }

    /// Runs the host scheduler for one problem and configuration.
    static func schedule(m: Int, n: Int, ks: [Int], config: SM90GEMMConfig) -> [dg_host_sm90_k_grouped_tile] {
        let shape = dg_host_sm90_tile_shape(kind: 0, block_m: UInt32(config.blockM), block_n: UInt32(config.blockN), num_groups: UInt32(ks.count),
                                            cluster_size: UInt32(config.clusterSize), multicast_on_a: config.multicastOnA,
                                            band_width: UInt32(config.bandWidth), num_sms: UInt32(config.numSMs))
        let groupKs = ks.map(UInt32.init)
        let capacity = ks.filter { $0 > 0 }.count * ceilDiv(m, config.blockM) * ceilDiv(n, config.blockN) + 1
        var tiles = [dg_host_sm90_k_grouped_tile](repeating: dg_host_sm90_k_grouped_tile(), count: capacity)
        let count = dg_host_sm90_k_grouped_schedule(shape, UInt32(m), UInt32(n), groupKs, &tiles, capacity)
        return Array(tiles.prefix(min(count, capacity)))
    }

    @Test("every tile and K block of every non-empty group is visited exactly once; empty groups get none", arguments: 0..<40)
    func coverage(trial: Int) throws {
        var rng = SplitMix(state: UInt64(trial) &* 0x2545_f491_4f6c_dd1d)
        let groups = Int.random(in: 2...9, using: &rng)
        // Multiples of 128 (SM90's k-grouped rule), some groups empty, the first one empty sometimes
        let ks = (0..<groups).map { _ in Bool.random(using: &rng) && Bool.random(using: &rng) ? 0 : 128 * Int.random(in: 1...6, using: &rng) }
        let (m, n) = (Int.random(in: 1...700, using: &rng), Int.random(in: 1...900, using: &rng))
        let problem = fp8Problem1D1D(m: m, n: n, k: max(ks.max()!, 128), groups: groups, numSMs: [8, 16, 78, 132].randomElement(using: &rng)!)
        let candidates = SM90FP8GEMM1D1DHeuristics.candidates(for: problem)
        let config = candidates.randomElement(using: &rng)!
        let tiles = Self.schedule(m: m, n: n, ks: ks, config: config)

        var visits: [Visit: Int] = [:]
        for tile in tiles {
            let group = Int(tile.group)
            #expect(Int(tile.shape_k) == ks[group] && ks[group] > 0)
            #expect(Int(tile.k_offset) == ks[..<group].reduce(0, +))
            #expect(Int(tile.sf_k_offset) * 128 == Int(tile.k_offset))
            for kBlock in 0..<(Int(tile.shape_k) / 128) {
                visits[Visit(group: group, m: Int(tile.m_block), n: Int(tile.n_block), kBlock: Int(tile.sf_k_offset) + kBlock), default: 0] += 1
            }
        }
        var expected: Set<Visit> = []
        var kBlockStart = 0
        for (group, k) in ks.enumerated() {
            for mBlock in 0..<ceilDiv(m, config.blockM) {
                for nBlock in 0..<ceilDiv(n, config.blockN) {
                    for kBlock in 0..<(k / 128) { expected.insert(Visit(group: group, m: mBlock, n: nBlock, kBlock: kBlockStart + kBlock)) }
                }
            }
            kBlockStart += k / 128
        }
        #expect(Set(visits.keys) == expected, "trial \(trial): \(problem) \(config) ks \(ks)")
        #expect(visits.values.allSatisfy { $0 == 1 }, "trial \(trial): a tile or K block was visited twice")
    }

    @Test("a cluster's two CTAs get tiles of one group that share the multicast operand", arguments: 0..<30)
    func clusterPairs(trial: Int) throws {
        var rng = SplitMix(state: UInt64(trial) &* 0x9e37_79b9 &+ 7)
        let groups = Int.random(in: 2...4, using: &rng)
        let ks = (0..<groups).map { _ in Bool.random(using: &rng) && Bool.random(using: &rng) ? 0 : 128 * Int.random(in: 1...4, using: &rng) }
        let (m, n) = (Int.random(in: 1...900, using: &rng), Int.random(in: 1...900, using: &rng))
        let problem = fp8Problem1D1D(m: m, n: n, k: max(ks.max()!, 128), groups: groups, numSMs: [8, 16, 132].randomElement(using: &rng)!)
        let clustered = SM90FP8GEMM1D1DHeuristics.candidates(for: problem).filter { $0.clusterSize == 2 }
        guard let config = clustered.randomElement(using: &rng) else { return }
        let tiles = Self.schedule(m: m, n: n, ks: ks, config: config)
        let byRound = Dictionary(grouping: tiles) { [$0.round, $0.cta / 2] }
        for pair in byRound.values {
            if pair.count == 2 {
                let (first, second) = (pair[0], pair[1])
                #expect(first.group == second.group && first.shape_k == second.shape_k, "trial \(trial): a pair spans two groups")
                #expect(first.peer_alive && second.peer_alive)
                #expect(first.multicast == second.multicast)
                if first.multicast {
                    #expect(config.multicastOnA ? first.m_block == second.m_block : first.n_block == second.n_block)
                }
            } else {
                #expect(pair.count == 1 && !pair[0].peer_alive && !pair[0].multicast)
            }
        }
    }
}
