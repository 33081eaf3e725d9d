import Testing
import DeepGEMMCore
@testable import DeepGEMMCPU

/// Which C level of the indexer kernels a kernel variant runs (dispatch codes of `CDeepGEMMCPU.h`
/// and `dg_mqa.h`: portable 0, AVX2 1, AVX-512 2, AMX 3, dot extension 0x100).
@Suite struct MQAKernelLevelTests {
    static let (portable, avx2, avx512Dot, amxDot): (Int32, Int32, Int32, Int32) = (0, 1, 2 | 0x100, 3 | 0x100)

    @Test(arguments: [MQAInputFormat.fp8, .fp4])
    func variantsChooseTheirLevelOrTheBestOneBelow(format: MQAInputFormat) {
        let features = CPUFeatures.current
        let fallback = features.hasAVX2 ? Self.avx2 : Self.portable
        #expect(MQAKernel(variant: .reference, format: format) == .reference)
        #expect(MQAKernel(variant: .portable, format: format) == .native(isa: Self.portable))
        // An unsupported level never reaches its instructions: AVX2 without AVX2 runs the portable loops.
        #expect(MQAKernel(variant: .avx2, format: format) == .native(isa: fallback))
        let dot = format == .fp8 ? features.hasAVX512BF16 : features.hasAVX512VNNI
        #expect(MQAKernel(variant: .avx512, format: format) == .native(isa: dot ? Self.avx512Dot : fallback))
        // `.amx` runs FP4 scores on AMX-INT8 tiles where the process may; else (and for FP8) the `.avx512` kernels.
        let tiles = format == .fp4 && features.hasAMXINT8
        #expect(MQAKernel(variant: .amx, format: format) == (tiles ? .native(isa: Self.amxDot) : MQAKernel(variant: .avx512, format: format)))
    }
}
