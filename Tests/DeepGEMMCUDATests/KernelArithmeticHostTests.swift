import DeepGEMMCore
import DeepGEMMKernelHost
import Testing
@testable import DeepGEMMCUDA

/// A small seeded generator, so failures name a reproducible trial.
struct SplitMix: RandomNumberGenerator {
    var state: UInt64
    mutating func next() -> UInt64 {
        state &+= 0x9e37_79b9_7f4a_7c15
        var z = state
        z = (z ^ (z >> 30)) &* 0xbf58_476d_1ce4_e5b9
        z = (z ^ (z >> 27)) &* 0x94d0_49bb_1331_11eb
        return z ^ (z >> 31)
    }
}

/// A random problem with its grouped layout (contiguous: per-row groups; psum: cumulative ends;
/// masked: rows per group), as the ops would hand it to the CUDA backend.
struct ScheduledProblem: CustomStringConvertible {
    var problem: GEMMKernelProblem
    var layout: [Int32]

    var description: String { "\(problem) layout \(layout.count <= 16 ? "\(layout)" : "[\(layout.count) entries]")" }

    static func random(_ kind: GEMMKind, using rng: inout SplitMix) -> ScheduledProblem {
        let numSMs = [8, 16, 78, 132].randomElement(using: &rng)!
        let n = Int.random(in: 1...1600, using: &rng)
        let k = 64 * Int.random(in: 1...8, using: &rng)
        let alignment = [64, 128, 256].randomElement(using: &rng)!
        switch kind {
        case .normal:
            let m = Int.random(in: 1...1500, using: &rng)
            let problem = GEMMProblem(kind: .normal, m: m, n: n, k: k, typeCD: Bool.random(using: &rng) ? .float32 : .bfloat16)
            return ScheduledProblem(problem: GEMMKernelProblem(problem, numSMs: numSMs), layout: [])
        case .mGroupedContiguous:
            let groups = Int.random(in: 1...6, using: &rng)
            var layout: [Int32] = []
            for group in 0..<groups {
                let rows = Int.random(in: 0...400, using: &rng)
                layout += Array(repeating: Int32(group), count: rows) + Array(repeating: -1, count: align(rows, alignment) - rows)
            }
            if layout.isEmpty { layout = Array(repeating: -1, count: alignment) }
            let problem = GEMMProblem(kind: .mGroupedContiguous, m: layout.count, n: n, k: k, numGroups: groups, mkAlignment: alignment)
            return ScheduledProblem(problem: GEMMKernelProblem(problem, numSMs: numSMs), layout: layout)
        case .mGroupedContiguousPsum:
            let groups = Int.random(in: 1...6, using: &rng)
            var ends: [Int32] = []
            var end = 0
            for _ in 0..<groups {
                end = align(end, alignment) + Int.random(in: 0...400, using: &rng)
                ends.append(Int32(end))
            }
            let expectedM = Bool.random(using: &rng) ? Int.random(in: 1...400, using: &rng) : nil
            let problem = GEMMProblem(kind: .mGroupedContiguousPsum, m: max(end, 1), n: n, k: k, numGroups: groups, expectedM: expectedM,
                                      mkAlignment: alignment)
            return ScheduledProblem(problem: GEMMKernelProblem(problem, numSMs: numSMs), layout: ends)
        case .mGroupedMasked:
            let (groups, maxM) = (Int.random(in: 1...8, using: &rng), Int.random(in: 1...600, using: &rng))
            let masked = (0..<groups).map { _ in Int32(Int.random(in: 0...maxM, using: &rng)) }
            let problem = GEMMProblem(kind: .mGroupedMasked, m: maxM, n: n, k: k, numGroups: groups, expectedM: Int.random(in: 1...maxM, using: &rng))
            return ScheduledProblem(problem: GEMMKernelProblem(problem, numSMs: numSMs), layout: masked)
        }
    }

    /// `dg::GemmKind` of the kernel sources.
    var kernelKind: UInt32 {
        switch problem.kind {
        case .normal: return 0
        case .mGroupedContiguous: return 1
        case .mGroupedMasked: return 2
        case .mGroupedContiguousPsum: return 3
        }
    }

    /// The (group, m block, n block) tiles the problem has, each once.
    func expectedTiles(_ config: SM90GEMMConfig) -> [TileKey] {
        let nBlocks = ceilDiv(problem.n, config.blockN)
        func grid(group: Int, mBlocks: Range<Int>) -> [TileKey] {
            mBlocks.flatMap { m in (0..<nBlocks).map { TileKey(group: group, m: m, n: $0) } }
        }
        switch problem.kind {
        case .normal:
            return grid(group: 0, mBlocks: 0..<ceilDiv(problem.m, config.blockM))
        case .mGroupedContiguous:
            return (0..<ceilDiv(problem.m, config.blockM)).flatMap { m in
                grid(group: max(Int(layout[m * config.blockM]), 0), mBlocks: m..<(m + 1))
            }
        case .mGroupedContiguousPsum:
            return layout.indices.flatMap { g in
                let start = g == 0 ? 0 : align(Int(layout[g - 1]), config.blockM)
                return grid(group: g, mBlocks: (start / config.blockM)..<ceilDiv(Int(layout[g]), config.blockM))
            }
        case .mGroupedMasked:
            return layout.indices.flatMap { grid(group: $0, mBlocks: 0..<ceilDiv(Int(layout[$0]), config.blockM)) }
        }
    }

    /// Whether the 64-row sub-block at `row` of tile (group, m block) holds real work.
    func rowsValid(_ tile: TileKey, row: Int, _ config: SM90GEMMConfig) -> Bool {
        let first = tile.m * config.blockM + row
        switch problem.kind {
        case .normal, .mGroupedMasked: return true
        case .mGroupedContiguous: return first < problem.m && layout[first] >= 0
        case .mGroupedContiguousPsum: return first < Int(layout[tile.group])
        }
    }

    /// Runs the kernel's scheduler (compiled for the host) of every CTA for `config`: how many tiles
    /// it handed out, and those tiles when they are no more than the problem has.
    func schedule(_ config: SM90GEMMConfig) -> (count: Int, tiles: [dg_host_sm90_tile]) {
        let shape = dg_host_sm90_tile_shape(
            kind: kernelKind, block_m: UInt32(config.blockM), block_n: UInt32(config.blockN), num_groups: UInt32(problem.scheduledGroups),
            cluster_size: UInt32(config.clusterSize), multicast_on_a: config.multicastOnA, band_width: UInt32(config.bandWidth),
            num_sms: UInt32(config.numSMs))
        let capacity = expectedTiles(config).count
        var tiles = [dg_host_sm90_tile](repeating: dg_host_sm90_tile(), count: capacity)
        let count = layout.withUnsafeBufferPointer { layoutBuffer in
            tiles.withUnsafeMutableBufferPointer {
                dg_host_sm90_schedule(shape, UInt32(problem.m), UInt32(problem.n), layoutBuffer.baseAddress, $0.baseAddress, capacity)
            }
        }
        return (count, Array(tiles.prefix(count)))
    }
}

/// A tile's identity.
struct TileKey: Hashable {
    var group: Int
    var m: Int
    var n: Int
}

@Suite("Kernel arithmetic on the host: tile scheduler, TMA maps, shared memory")
struct KernelArithmeticHostTests {
    /// Configurations the heuristics can pick for `problem`: the best one and a seeded sample of the rest.
    static func configs(_ problem: GEMMKernelProblem, using rng: inout SplitMix) throws -> [SM90GEMMConfig] {
        let candidates = SM90BF16Heuristics.candidates(for: problem)
        return [try SM90BF16Heuristics.bestConfig(for: problem)] + (0..<3).compactMap { _ in candidates.randomElement(using: &rng) }
    }

    @Test("every tile of random shapes and group layouts is scheduled exactly once, with its group and valid rows",
          arguments: [GEMMKind.normal, .mGroupedContiguous, .mGroupedContiguousPsum, .mGroupedMasked])
    func coverage(kind: GEMMKind) throws {
        var rng = SplitMix(state: 0x5eed + UInt64(GEMMKind.allCases.firstIndex(of: kind)!))
        var checkedClusters = 0
        for trial in 0..<30 {
            let scheduled = ScheduledProblem.random(kind, using: &rng)
            for config in try Self.configs(scheduled.problem, using: &rng) {
                let context = "trial \(trial): \(scheduled) with \(config)"
                let (count, tiles) = scheduled.schedule(config)
                let keys = tiles.map { TileKey(group: Int($0.group), m: Int($0.m_block), n: Int($0.n_block)) }
                let expected = scheduled.expectedTiles(config)
                #expect(count == expected.count, "\(context)")
                #expect(Set(keys).count == keys.count, "a tile is scheduled twice: \(context)")
                #expect(Set(keys) == Set(expected), "\(context)")
                for (tile, key) in zip(tiles, keys) {
                    let rows = stride(from: 0, to: config.blockM, by: 64).enumerated()
                    let valid = rows.allSatisfy { bit, row in (tile.valid_row_blocks >> bit & 1 == 1) == scheduled.rowsValid(key, row: row, config) }
                    #expect(valid, "rows of \(key): \(context)")
                }
                if config.clusterSize == 2 {
                    checkClusterPairs(tiles, config: config, context: context)
                    checkedClusters += 1
                }
            }
        }
        #expect(checkedClusters > 0, "no cluster configuration was sampled")
    }

    /// The two CTAs of a cluster: in every round both have a tile, or the one that has it knows its
    /// peer has none; when they multicast they agree on it and share the multicast operand's block
    /// and group, inside one band of paired tiles.
    func checkClusterPairs(_ tiles: [dg_host_sm90_tile], config: SM90GEMMConfig, context: String) {
        struct Slot: Hashable { var round: UInt32; var cta: UInt32 }
        var bySlot: [Slot: dg_host_sm90_tile] = [:]
        for tile in tiles { bySlot[Slot(round: tile.round, cta: tile.cta)] = tile }
        let clusters = Set(tiles.map { Slot(round: $0.round, cta: $0.cta / 2 * 2) })
        for cluster in clusters {
            let leader = bySlot[cluster], follower = bySlot[Slot(round: cluster.round, cta: cluster.cta + 1)]
            guard let leader, let follower else {
                // Only one CTA of the pair has a tile this round
                let alone = leader ?? follower!
                #expect(!alone.peer_alive && !alone.multicast, "round \(alone.round) cta \(alone.cta) expects a peer tile: \(context)")
                continue
            }
            #expect(leader.peer_alive && follower.peer_alive, "\(context)")
            #expect(leader.multicast == follower.multicast, "cluster disagrees on multicast in round \(leader.round): \(context)")
            #expect(leader.band_width == follower.band_width, "cluster pair spans two bands: \(context)")
            if leader.multicast {
                #expect(leader.group == follower.group, "\(context)")
                if config.multicastOnA {
                    #expect(leader.m_block == follower.m_block && leader.n_block + 1 == follower.n_block, "A multicast pair: \(context)")
                } else {
                    #expect(leader.n_block == follower.n_block && leader.m_block + 1 == follower.m_block, "B multicast pair: \(context)")
                }
            }
        }
    }

    @Test("shared memory: every configuration the heuristics can pick fits 227 KB and covers the kernel's layout")
    func sharedMemory() throws {
        var rng = SplitMix(state: 7)
        var problems = SM90BF16HeuristicsTests.goldens.map(\.problem)
        for kind in GEMMKind.allCases {
            problems += (0..<25).map { _ in ScheduledProblem.random(kind, using: &rng).problem }
        }
        var checked = 0
        for problem in problems {
            for config in SM90BF16Heuristics.candidates(for: problem) {
                let used = Int(dg_host_sm90_bf16_smem_bytes(UInt32(config.blockM), UInt32(config.blockN), UInt32(config.blockK),
                                                            UInt32(problem.typeCD.size), UInt32(config.numStages)))
                #expect(used <= config.sharedMemoryBytes && config.sharedMemoryBytes <= 232_448, "\(problem): \(config) uses \(used)")
                checked += 1
            }
        }
        #expect(checked > 1000)
    }

    @Test("TMA maps of every configuration the heuristics can pick follow the 16-byte rules and load whole tiles")
    func tensorMaps() throws {
        var rng = SplitMix(state: 11)
        let base: UInt64 = 0x7f00_0000_0000
        var checked = 0
        for trial in 0..<120 {
            let kind = GEMMKind.allCases.randomElement(using: &rng)!
            var problem = ScheduledProblem.random(kind, using: &rng).problem
            if kind == .normal {
                problem.majorA = Bool.random(using: &rng) ? .k : .mn
                problem.majorB = Bool.random(using: &rng) ? .k : .mn
                problem.m = 8 * Int.random(in: 1...300, using: &rng)
            }
            if kind == .mGroupedContiguous || kind == .mGroupedContiguousPsum { problem.majorB = Bool.random(using: &rng) ? .k : .mn }
            problem.n = 8 * ceilDiv(problem.n, 8)
            let (m, n, k, groups) = (problem.m, problem.n, problem.k, problem.numGroups)
            // Row strides padded by a random multiple of 8 elements (16 bytes)
            func operand(rows: Int, major: GEMMMajor, grouped: Bool, address: UInt64) -> StridedLayout {
                let pad = 8 * Int.random(in: 0...2, using: &rng)
                let (shape, strides) = major == .k ? ([rows, k], [k + pad, 1]) : ([rows, k], [1, rows + pad])
                let size = (major == .k ? rows * (k + pad) : k * (rows + pad))
                return grouped ? StridedLayout(address: address, dtype: .bfloat16, shape: [groups] + shape, strides: [size] + strides)
                    : StridedLayout(address: address, dtype: .bfloat16, shape: shape, strides: strides)
            }
            let masked = kind == .mGroupedMasked
            let layouts = GEMMOperandLayouts(
                a: operand(rows: m, major: problem.majorA, grouped: masked, address: base),
                b: operand(rows: n, major: problem.majorB, grouped: kind != .normal, address: base + 0x1_0000_0000),
                d: masked ? StridedLayout(address: base + 0x2_0000_0000, dtype: problem.typeCD, shape: [groups, m, n], strides: [m * n, n, 1])
                    : StridedLayout(address: base + 0x2_0000_0000, dtype: problem.typeCD, shape: [m, n], strides: [n, 1]))
            for config in SM90BF16Heuristics.candidates(for: problem) {
                let context = "trial \(trial): \(problem) with \(config)"
                let maps = try SM90BF16GEMMFamily.tensorMaps(problem, config: config, layouts: layouts)
                for map in [maps.a, maps.b, maps.d] {
                    let size = UInt64(map.elementType.size)
                    #expect(map.address % 16 == 0 && map.byteStrides.allSatisfy { $0 > 0 && $0 % 16 == 0 }, "\(context)")
                    #expect(map.box.allSatisfy { $0 >= 1 && $0 <= 256 } && (UInt64(map.box[0]) * size) % 16 == 0, "\(context)")
                    #expect(map.swizzleBytes == 0 || UInt64(map.box[0]) * size <= UInt64(map.swizzleBytes), "\(context)")
                }
                // The boxes of one stage make up exactly the BLOCK x BLOCK_K tile the kernel expects
                for (map, major, block) in [(maps.a, problem.majorA, config.blockM), (maps.b, problem.majorB, config.blockN)] {
                    let tileElements = major == .k ? Int(map.box[0]) * Int(map.box[1]) : block / Int(map.box[0]) * Int(map.box[0]) * Int(map.box[1])
                    #expect(tileElements == block * config.blockK && (major == .k || block % Int(map.box[0]) == 0), "\(context)")
                }
                #expect(Int(maps.d.box[1]) == config.blockM && config.blockN % Int(maps.d.box[0]) == 0 && config.blockN / Int(maps.d.box[0]) <= 32,
                        "\(context)")
                checked += 1
            }
        }
        #expect(checked > 1000)
    }
}
