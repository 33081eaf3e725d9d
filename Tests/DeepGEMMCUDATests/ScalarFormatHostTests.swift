import DeepGEMMKernelHost
import Testing

@Suite("Kernel scalar formats on the host")
struct ScalarFormatHostTests {
    @Test("the kernels' format rules (scalar_formats.cuh) give the CPU backend's bits: widenings, E4M3 and E2M1 encodes, UE8M0 ceiling, group scales")
    func matchesCPUFormats() {
        #expect(dg_host_scalar_format_mismatches(251) == 0)
    }
}
