import DeepGEMMCore

/// Where the tensors of one GEMM launch are (nt orientation; grouped operands 3-D).
public struct GEMMOperandLayouts: Sendable, Equatable {
    /// A.
    public var a: StridedLayout
    /// B.
    public var b: StridedLayout
    /// D.
    public var d: StridedLayout
    /// Device address of the int32 grouped layout or `masked_m` (0 for none).
    public var groupedLayout: UInt64
    /// A's scale factors, for the scaled kernel types (nil for none).
    public var sfa: StridedLayout?
    /// B's scale factors, for the scaled kernel types (nil for none).
    public var sfb: StridedLayout?

    /// Creates the layouts of one launch.
    public init(a: StridedLayout, b: StridedLayout, d: StridedLayout, groupedLayout: UInt64 = 0,
                sfa: StridedLayout? = nil, sfb: StridedLayout? = nil) {
        self.a = a
        self.b = b
        self.d = d
        self.groupedLayout = groupedLayout
        self.sfa = sfa
        self.sfb = sfb
    }
}

/// One kernel parameter, in the order the generated entry point declares them.
public enum KernelArgument: Sendable, Equatable {
    /// A device pointer.
    case pointer(UInt64)
    /// A 32-bit unsigned integer.
    case u32(UInt32)
    /// A TMA descriptor, encoded by the device's driver at launch (a `__grid_constant__` parameter).
    case tensorMap(TensorMapDescription)
}

/// Everything one launch needs, computed on the host without a device: the selected kernel, its
/// arguments (TMA descriptions included), and the launch configuration (grid, block, shared memory,
/// cluster, PDL). The NVRTC options are the architecture's (``NVRTCCompiler/options(for:)``).
public struct KernelPlan: Sendable {
    /// The family's choice and its generated source.
    public var selection: KernelSelection
    /// The parameters, in order.
    public var arguments: [KernelArgument]
    /// Grid, block, shared memory, cluster and PDL.
    public var launch: LaunchConfiguration

    /// Creates a plan.
    public init(selection: KernelSelection, arguments: [KernelArgument], launch: LaunchConfiguration) {
        self.selection = selection
        self.arguments = arguments
        self.launch = launch
    }

    /// The TMA descriptions among the arguments, in order.
    public var tensorMaps: [TensorMapDescription] {
        arguments.compactMap { if case .tensorMap(let map) = $0 { return map } else { return nil } }
    }

    /// The arguments packed for `cuLaunchKernelEx`, tensor maps encoded by `device`'s driver.
    func packedArguments(on device: CUDADevice) throws -> KernelArguments {
        var packed = KernelArguments()
        for argument in arguments {
            switch argument {
            case .pointer(let address): packed.append(address)
            case .u32(let value): packed.append(value)
            case .tensorMap(let map): packed.append(try map.encode(on: device))
            }
        }
        return packed
    }
}
