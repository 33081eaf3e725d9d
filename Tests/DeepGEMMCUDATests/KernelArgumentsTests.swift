import CCUDA
import Testing
@testable import DeepGEMMCUDA

@Suite("Kernel argument packing")
struct KernelArgumentsTests {
    @Test("values land at their natural alignment, in order")
    func offsets() {
        var arguments = KernelArguments()
        arguments.append(UInt64(0x1122_3344_5566_7788))
        arguments.append(UInt32(7))
        arguments.append(UInt32(8))
        arguments.append(UInt32(9))
        var map = dg_cu_tensor_map()
        map.opaque.0 = 0xAB
        map.opaque.15 = 0xCD
        arguments.append(map)
        arguments.append(UInt8(1))
        arguments.append(UInt16(2))
        #expect(arguments.offsets == [0, 8, 12, 16, 24, 152, 154])
        #expect(arguments.bytes.count == 156)
        #expect(arguments.alignment == 8)
        #expect(arguments.bytes[24] == 0xAB && arguments.bytes[24 + 120] == 0xCD)
    }

    @Test("the parameter array points at each packed value")
    func parameterArray() {
        var arguments = KernelArguments()
        arguments.append(UInt64(42))
        arguments.append(UInt32(5))
        arguments.append(Int32(-3))
        arguments.withParameterArray { parameters in
            #expect(parameters[0]?.load(as: UInt64.self) == 42)
            #expect(parameters[1]?.load(as: UInt32.self) == 5)
            #expect(parameters[2]?.load(as: Int32.self) == -3)
            #expect(parameters[0].map { Int(bitPattern: $0) % 8 } == 0)
        }
    }
}

@Suite("Launch configuration")
struct LaunchConfigurationTests {
    @Test("a cluster and PDL become launch attributes")
    func attributes() {
        let plain = LaunchConfiguration(gridSize: 132, blockSize: 384, sharedMemoryBytes: 1000, clusterSize: 1, programmaticDependentLaunch: false)
        #expect(plain.attributes.isEmpty)
        let both = LaunchConfiguration(gridSize: 132, blockSize: 384, sharedMemoryBytes: 1000, clusterSize: 2, programmaticDependentLaunch: true)
        let attributes = both.attributes
        #expect(attributes.count == 2)
        #expect(attributes[0].id == 4)
        #expect(attributes[0].value.cluster_dim.x == 2 && attributes[0].value.cluster_dim.y == 1 && attributes[0].value.cluster_dim.z == 1)
        #expect(attributes[1].id == 6)
        #expect(attributes[1].value.programmatic_stream_serialization_allowed == 1)
        #expect(MemoryLayout<dg_cu_launch_attribute>.size == 72)
        #expect(MemoryLayout<dg_cu_tensor_map>.size == 128)
    }
}
