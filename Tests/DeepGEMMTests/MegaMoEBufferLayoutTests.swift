import Testing
import DeepGEMM

/// `MegaMoEBufferLayout`: the ring rules and region sizes against spec §1.4's computed examples and
/// a hand-computed small layout.
struct MegaMoEBufferLayoutTests {
    static func layout(ranks: Int, experts: Int, tokens: Int, topk: Int = 6, hidden: Int = 7168, intermediate: Int = 3072,
                       mma: MegaMoEBufferLayout.MMAType = .fp8xfp4) throws -> MegaMoEBufferLayout {
        let t = MegaMoEBufferLayout.alignedMaxTokens(tokens)
        let ring = MegaMoEBufferLayout.defaultRingTokens(maxTokensPerRank: t, expertsPerRank: experts / ranks, topk: topk, ranks: ranks)
        return try MegaMoEBufferLayout(ranks: ranks, numExperts: experts, numMaxTokensPerRank: t, topk: topk, hidden: hidden,
                                       intermediateHidden: intermediate, mmaType: mma, numRingTokens: ring)
    }

    @Test func specExamples() throws {
        let gib = Double(1 << 30), mib = Double(1 << 20)
        #expect(MegaMoEBufferLayout.alignedMaxTokens(8192) == 8448)
        // The EP72 reference ring used below 6144 tokens.
        #expect(MegaMoEBufferLayout.ringLimits(maxTokensPerRank: 4224, expertsPerRank: 6, topk: 6, ranks: 72).upperBound == 1_824_768)
        let ep8 = try Self.layout(ranks: 8, experts: 384, tokens: 8192)
        #expect(ep8.ringTokens == 423_936 && ep8.sfRingTokens == 16 * 423_936)
        #expect(abs(Double(ep8.totalBytes) / gib - 6.9) < 0.05, "\(Double(ep8.totalBytes) / gib) GiB")
        #expect(abs(Double(ep8.workspace.byteCount) / mib - 105) < 1, "\(Double(ep8.workspace.byteCount) / mib) MiB")
        let small = try Self.layout(ranks: 8, experts: 384, tokens: 512)
        #expect(abs(Double(small.totalBytes) / gib - 0.87) < 0.01, "\(Double(small.totalBytes) / gib) GiB")
        let ep72 = try Self.layout(ranks: 72, experts: 432, tokens: 4096)
        #expect(abs(Double(ep72.totalBytes) / gib - 27) < 0.5, "\(Double(ep72.totalBytes) / gib) GiB")
    }

    @Test func handComputedSmallLayout() throws {
        // R = 1, E = 2, T = 384, k = 2, H = 512, I = 512, FP8. Ring limits: [384, min(768, align(768 + 2·383, 384) = 1536)] = [384, 768].
        #expect(MegaMoEBufferLayout.ringLimits(maxTokensPerRank: 384, expertsPerRank: 2, topk: 2, ranks: 1) == 384...768)
        let l = try MegaMoEBufferLayout(ranks: 1, numExperts: 2, numMaxTokensPerRank: 384, topk: 2, hidden: 512, intermediateHidden: 512,
                                        mmaType: .fp8xfp4, numRingTokens: 384)
        // Workspace: 32 + 2·16 + 2·8 + 4·(384/8)·4 + 2·1·384·4 + align(384·2 + 2·191, 384)·12 = 32 + 32 + 16 + 768 + 3072 + 1152·12.
        #expect(l.workspace == .init(offset: 0, byteCount: 17744))
        #expect(l.sfRingTokens == 384 / 8 * 128)
        #expect(l.x == .init(offset: 17744, byteCount: 384 * 512))
        #expect(l.xSF.byteCount == 384 * 16 && l.topkIdx.byteCount == 384 * 2 * 8 && l.topkWeights.byteCount == 384 * 2 * 4)
        #expect(l.l1Tokens.byteCount == 384 * 512 && l.l1SF.byteCount == 6144 * 16 && l.l1TopkWeights.byteCount == 384 * 4)
        #expect(l.l2Tokens.offset == l.l1TopkWeights.end && l.l2SF.byteCount == 6144 * 16)
        #expect(l.combine == .init(offset: l.l2SF.end, byteCount: 2 * 384 * 512 * 2) && l.totalBytes == l.combine.end)
        let bf16 = try MegaMoEBufferLayout(ranks: 1, numExperts: 2, numMaxTokensPerRank: 384, topk: 2, hidden: 512, intermediateHidden: 512,
                                           mmaType: .bf16xbf16, numRingTokens: 384)
        #expect(bf16.xSF.byteCount == 0 && bf16.l1SF.byteCount == 0 && bf16.x.byteCount == 384 * 512 * 2)
    }

    @Test func activationSFRowsFollowTheUTCCPOrder() {
        // Token 32j + i of a block goes to row 4i + j; blocks of BM = 96 own 128 rows, BM = 192 own 256.
        #expect([0, 1, 31, 32, 33, 127].map { MegaMoEBufferLayout.activationSFRow(block: 0, blockM: 128, index: $0) } == [0, 4, 124, 1, 5, 127])
        #expect(MegaMoEBufferLayout.activationSFRow(block: 2, blockM: 96, index: 40) == 256 + 4 * 8 + 1)
        #expect(MegaMoEBufferLayout.activationSFRow(block: 1, blockM: 192, index: 130) == 256 + 128 + 8)
        // Over one 128-token block it is the inverse of the weight-side UTCCP map.
        #expect((0..<128).allSatisfy { MegaMoEWeightLayout.utccpSourceRow(MegaMoEBufferLayout.activationSFRow(block: 0, blockM: 128, index: $0)) == $0 })
    }

    @Test func badArgumentsAreNamed() {
        let cases: [(String, Int, Int, Int, Int, Int, Int, Int)] = [
            // name, ranks, experts, tokens, topk, hidden, intermediate, ring
            ("num_ranks", 0, 2, 384, 2, 512, 512, 384),
            ("num_experts", 2, 3, 384, 2, 512, 512, 768),
            ("num_max_tokens_per_rank", 1, 2, 500, 2, 512, 512, 384),
            ("num_topk", 1, 2, 384, 33, 512, 512, 384),
            ("hidden", 1, 2, 384, 2, 256, 512, 384),
            ("intermediate_hidden", 1, 2, 384, 2, 512, 200, 384),
            ("num_ring_tokens", 1, 2, 384, 2, 512, 512, 1152),
            ("num_ring_tokens", 1, 2, 384, 2, 512, 512, 400),
        ]
        for (name, ranks, experts, tokens, topk, hidden, intermediate, ring) in cases {
            #expect(MegaMoEWeightTransformTests.argument {
                _ = try MegaMoEBufferLayout(ranks: ranks, numExperts: experts, numMaxTokensPerRank: tokens, topk: topk, hidden: hidden,
                                            intermediateHidden: intermediate, mmaType: .fp8xfp4, numRingTokens: ring)
            } == name)
        }
    }
}
