import DeepGEMMCore
import DeepGEMMKernelHost
import Testing
@testable import DeepGEMMCUDA

extension ScheduledProblem {
    /// The same shapes and group layout as a 1D2D FP8 problem (E4M3 operands, BF16 output).
    var fp8: ScheduledProblem {
        var copy = self
        copy.problem.typeA = .float8E4M3
        copy.problem.typeB = .float8E4M3
        copy.problem.typeCD = .bfloat16
        copy.problem.kernelType = .oneD2D
        return copy
    }
}

@Suite("SM90 FP8 1D2D kernel arithmetic on the host: scheduling, scale blocks, shared memory, launch plan")
struct SM90FP8KernelHostTests {
    /// Configurations the FP8 heuristics can pick for `problem`: the best one and a seeded sample of the rest.
    static func configs(_ problem: GEMMKernelProblem, using rng: inout SplitMix) throws -> [SM90GEMMConfig] {
        let candidates = SM90FP8Heuristics.candidates(for: problem)
        return [try SM90FP8Heuristics.bestConfig(for: problem)] + (0..<3).compactMap { _ in candidates.randomElement(using: &rng) }
    }

    @Test("every tile is scheduled exactly once with its group and valid rows (empty groups, masked rows, K tails)",
          arguments: [GEMMKind.normal, .mGroupedContiguous, .mGroupedContiguousPsum, .mGroupedMasked])
    func coverage(kind: GEMMKind) throws {
        var rng = SplitMix(state: 0xf8 + UInt64(GEMMKind.allCases.firstIndex(of: kind)!))
        var emptyGroups = 0, clusters = 0
        for trial in 0..<30 {
            var scheduled = ScheduledProblem.random(kind, using: &rng).fp8
            scheduled.problem.k = Int.random(in: 1...1000, using: &rng)
            // Every other trial empties one group: no rows (masked), or an end at the previous aligned end (psum)
            if trial % 2 == 0 && !scheduled.layout.isEmpty {
                let group = Int.random(in: 0..<scheduled.layout.count, using: &rng)
                if kind == .mGroupedMasked { scheduled.layout[group] = 0 }
                if kind == .mGroupedContiguousPsum {
                    scheduled.layout[group] = group == 0 ? 0 : Int32(align(Int(scheduled.layout[group - 1]), scheduled.problem.mkAlignment))
                }
            }
            if kind == .mGroupedMasked { emptyGroups += scheduled.layout.filter { $0 == 0 }.count }
            if kind == .mGroupedContiguousPsum { emptyGroups += zip([0] + scheduled.layout, scheduled.layout).filter { $0 == $1 }.count }
            for config in try Self.configs(scheduled.problem, using: &rng) {
                let context = "trial \(trial): \(scheduled) with \(config)"
                let (count, tiles) = scheduled.schedule(config)
                let keys = tiles.map { TileKey(group: Int($0.group), m: Int($0.m_block), n: Int($0.n_block)) }
                let expected = scheduled.expectedTiles(config)
                #expect(count == expected.count && Set(keys).count == keys.count && Set(keys) == Set(expected), "\(context)")
                for (tile, key) in zip(tiles, keys) {
                    let rows = stride(from: 0, to: config.blockM, by: 64).enumerated()
                    #expect(rows.allSatisfy { bit, row in (tile.valid_row_blocks >> bit & 1 == 1) == scheduled.rowsValid(key, row: row, config) },
                            "rows of \(key): \(context)")
                }
                if config.clusterSize == 2 {
                    KernelArithmeticHostTests().checkClusterPairs(tiles, config: config, context: context)
                    clusters += 1
                }
            }
        }
        #expect(clusters > 0, "no cluster configuration was sampled")
        if kind == .mGroupedMasked || kind == .mGroupedContiguousPsum { #expect(emptyGroups > 0, "no empty group was sampled") }
    }

    @Test("each 8-column fragment of a tile reads the B scale block of its columns; the kernel takes the heuristics' block Ns")
    func scaleBlocks() {
        let candidates = Set(SM90FP8HeuristicsTests.goldens.flatMap { SM90FP8Heuristics.candidates(for: $0.problem).map(\.blockN) })
        for blockN in stride(from: 16, through: 256, by: 16) {
            let accepted = dg_host_sm90_fp8_tile_scale_blocks(0, UInt32(blockN), 1).kernel_accepts
            #expect(accepted == (blockN <= 128 || blockN % (blockN - 128) == 0 || 128 % (blockN - 128) == 0), "block_n \(blockN)")
            #expect(!candidates.contains(blockN) || accepted, "the heuristics pick block_n \(blockN), which the kernel rejects")
            guard accepted else { continue }
            for n in [1, 100, 128, 129, 200, 256, 577, 2112, 7168] {
                for nBlock in 0..<ceilDiv(n, blockN) {
                    let blocks = dg_host_sm90_fp8_tile_scale_blocks(UInt32(nBlock), UInt32(blockN), UInt32(n))
                    let context = "block_n \(blockN) n \(n) n_block \(nBlock): \(blocks)"
                    #expect(blocks.first_columns % 8 == 0 && blocks.first_columns > 0 && blocks.first_columns <= blockN, "\(context)")
                    #expect(Int(blocks.second_block) < ceilDiv(n, 128), "\(context)")
                    if 128 % blockN == 0 { #expect(Int(blocks.first_columns) == blockN, "\(context)") }
                    for column in stride(from: 0, to: blockN, by: 8) where nBlock * blockN + column < n {
                        let used = column < blocks.first_columns ? blocks.first_block : blocks.second_block
                        #expect(Int(used) == (nBlock * blockN + column) / 128 && (nBlock * blockN + column + 7) / 128 == Int(used) || nBlock * blockN + column + 7 >= n,
                                "column \(column): \(context)")
                    }
                }
            }
        }
    }

    @Test("shared memory: every candidate fits 227 KB and covers the kernel's layout for its K")
    func sharedMemory() throws {
        var rng = SplitMix(state: 0xf8f8)
        var problems = SM90FP8HeuristicsTests.goldens.map(\.problem)
        for kind in GEMMKind.allCases {
            problems += (0..<25).map { _ in
                var problem = ScheduledProblem.random(kind, using: &rng).fp8.problem
                problem.k = Int.random(in: 1...20000, using: &rng)
                return problem
            }
        }
        var checked = 0
        for problem in problems {
            for config in SM90FP8Heuristics.candidates(for: problem) {
                let used = Int(dg_host_sm90_fp8_1d2d_smem_bytes(UInt32(config.blockM), UInt32(config.blockN), UInt32(config.numStages), UInt32(problem.k)))
                #expect(used <= config.sharedMemoryBytes && config.sharedMemoryBytes <= 232_448, "\(problem): \(config) uses \(used)")
                checked += 1
            }
        }
        #expect(checked > 1000)
    }

    /// The layouts of one FP8 launch: K-major operands with padded rows, MN-major TMA-aligned A scales,
    /// K-major B scales, row-major D.
    static func layouts(_ problem: GEMMKernelProblem, sfaKMajor: Bool = false) -> GEMMOperandLayouts {
        let base: UInt64 = 0x7f00_0000_0000
        let (m, n, k, groups) = (problem.m, problem.n, problem.k, problem.numGroups)
        let masked = problem.kind == .mGroupedMasked, grouped = problem.kind != .normal
        let (kBlocks, nBlocks, alignedM) = (ceilDiv(k, 128), ceilDiv(n, 128), align(m, 4))
        func stacked(_ layout: StridedLayout, _ stack: Bool, size: Int) -> StridedLayout {
            stack ? StridedLayout(address: layout.address, dtype: layout.dtype, shape: [groups] + layout.shape, strides: [size] + layout.strides) : layout
        }
        let rowK = align(k, 16) + 16
        let sfa = sfaKMajor ? StridedLayout(address: base + 0x3_0000_0000, dtype: .float32, shape: [m, kBlocks], strides: [kBlocks, 1])
            : StridedLayout(address: base + 0x3_0000_0000, dtype: .float32, shape: [m, kBlocks], strides: [1, alignedM])
        return GEMMOperandLayouts(
            a: stacked(StridedLayout(address: base, dtype: .float8E4M3, shape: [m, k], strides: [rowK, 1]), masked, size: m * rowK),
            b: stacked(StridedLayout(address: base + 0x1_0000_0000, dtype: .float8E4M3, shape: [n, k], strides: [rowK, 1]), grouped, size: n * rowK),
            d: stacked(StridedLayout(address: base + 0x2_0000_0000, dtype: .bfloat16, shape: [m, n], strides: [align(n, 8), 1]), masked,
                       size: m * align(n, 8)),
            groupedLayout: grouped ? base + 0x5_0000_0000 : 0,
            sfa: stacked(sfa, masked, size: alignedM * kBlocks),
            sfb: stacked(StridedLayout(address: base + 0x4_0000_0000, dtype: .float32, shape: [nBlocks, kBlocks], strides: [kBlocks, 1]), grouped,
                         size: nBlocks * kBlocks))
    }

    @Test("launch plans: argument order, byte-typed 128-byte-swizzled operand maps, one BLOCK_M x 1 A-scale box per stage")
    func plans() throws {
        var rng = SplitMix(state: 0x91a)
        let family = SM90FP8GEMMFamily()
        var checked = 0
        for trial in 0..<80 {
            let kind = GEMMKind.allCases.randomElement(using: &rng)!
            var problem = ScheduledProblem.random(kind, using: &rng).fp8.problem
            problem.n = 8 * ceilDiv(problem.n, 8)
            problem.k = 16 * Int.random(in: 1...100, using: &rng)
            let config = try SM90FP8Heuristics.bestConfig(for: problem)
            let plan = try family.plan(problem, layouts: Self.layouts(problem), pdl: false)
            let context = "trial \(trial): \(problem) with \(config)"
            #expect(plan.arguments.count == 12, "\(context)")
            guard case .tensorMap(let a) = plan.arguments[8], case .tensorMap(let b) = plan.arguments[9],
                  case .tensorMap(let sfa) = plan.arguments[10], case .tensorMap(let d) = plan.arguments[11] else {
                Issue.record("maps out of place: \(context)")
                continue
            }
            #expect(a.elementType == .byte && b.elementType == .byte && a.swizzleBytes == 128 && b.swizzleBytes == 128, "\(context)")
            #expect(a.box == [128, UInt32(config.blockM), 1] && b.box == [128, UInt32(config.blockN), 1], "\(context)")
            #expect(sfa.elementType == .float32 && sfa.box == [UInt32(config.blockM), 1, 1] && sfa.swizzleBytes == 0, "\(context)")
            #expect(sfa.dimensions == [UInt64(problem.m), UInt64(ceilDiv(problem.k, 128)), UInt64(kind == .mGroupedMasked ? problem.numGroups : 1)],
                    "\(context)")
            #expect(d.elementType == .bfloat16 && Int(d.box[1]) == config.blockM && Int(d.box[0]) * 2 == config.swizzleD, "\(context)")
            #expect(plan.arguments[5] == .u32(UInt32(ceilDiv(problem.k, 128))) && plan.arguments[6] == .u32(1), "\(context)")
            #expect(plan.launch.sharedMemoryBytes == config.sharedMemoryBytes && plan.launch.clusterSize == config.clusterSize, "\(context)")
            checked += 1
        }
        #expect(checked == 80)
    }

    @Test("skip_head_mid: product column n lands at h·(L+Mid+R) + (r < L ? r : r + Mid), and the plan stores into D's full width")
    func skipHeadMid() throws {
        for (left, mid, right) in [(128, 64, 128), (64, 0, 192), (0, 64, 128), (192, 128, 0)] {
            for column in 0..<(4 * (left + right)) {
                let (head, offset) = column.quotientAndRemainder(dividingBy: left + right)
                let expected = head * (left + mid + right) + (offset < left ? offset : offset + mid)
                #expect(Int(dg_host_head_mid_column(UInt32(column), UInt32(left), UInt32(mid), UInt32(right))) == expected,
                        "(\(left), \(mid), \(right)) column \(column)")
            }
        }
        var problem = fp8Problem(.normal, m: 4096, n: 32768, k: 512)
        problem.headSplits = [128, 64, 128]
        var layouts = Self.layouts(problem)
        let width = 32768 + 32768 / 256 * 64
        layouts.d = StridedLayout(address: layouts.d.address, dtype: .bfloat16, shape: [4096, width], strides: [width, 1])
        let plan = try SM90FP8GEMMFamily().plan(problem, layouts: layouts, pdl: false)
        #expect(plan.selection.source.code.contains("dg::HeadMidColumns<128, 64, 128>"))
        guard case .tensorMap(let d) = plan.arguments[11] else { Issue.record("no D map"); return }
        #expect(d.dimensions[0] == UInt64(width))
        problem.headSplits = [96, 64, 160]
        #expect(throws: DeepGEMMError.self) { try SM90FP8Heuristics.bestConfig(for: problem) }
    }

    @Test("launch plans reject A scales that are not MN-major, and scales of the wrong shape, naming a_sf / b_sf")
    func planRejections() throws {
        let family = SM90FP8GEMMFamily()
        let problem = fp8Problem(.normal, m: 256, n: 512, k: 1024)
        #expect(throws: DeepGEMMError.self) { try family.plan(problem, layouts: Self.layouts(problem, sfaKMajor: true), pdl: false) }
        do {
            _ = try family.plan(problem, layouts: Self.layouts(problem, sfaKMajor: true), pdl: false)
        } catch let DeepGEMMError.invalidArgument(argument, _) {
            #expect(argument == "a_sf")
        }
        var layouts = Self.layouts(problem)
        layouts.sfb?.shape = [3, 8]
        do {
            _ = try family.plan(problem, layouts: layouts, pdl: false)
            Issue.record("a wrong SFB shape was accepted")
        } catch let DeepGEMMError.invalidArgument(argument, _) {
            #expect(argument == "b_sf")
        }
    }
}
