internal import CCUDA

/// Grid, block, dynamic shared memory, thread-block cluster and PDL settings of one launch.
public struct LaunchConfiguration: Sendable, Equatable {
    /// Thread blocks (x only: the kernels are persistent and 1-D).
    public var gridSize: Int
    /// Threads per block.
    public var blockSize: Int
    /// Dynamic shared memory per block, in bytes.
    public var sharedMemoryBytes: Int
    /// CTAs per cluster along x (1 for no cluster).
    public var clusterSize: Int
    /// Whether programmatic dependent launch is allowed (the kernel may start before the previous one ends).
    public var programmaticDependentLaunch: Bool

    /// Creates a configuration.
    public init(gridSize: Int, blockSize: Int, sharedMemoryBytes: Int, clusterSize: Int, programmaticDependentLaunch: Bool) {
        self.gridSize = gridSize
        self.blockSize = blockSize
        self.sharedMemoryBytes = sharedMemoryBytes
        self.clusterSize = clusterSize
        self.programmaticDependentLaunch = programmaticDependentLaunch
    }

    /// The launch attributes: a cluster dimension when `clusterSize > 1`, the PDL flag when enabled.
    var attributes: [dg_cu_launch_attribute] {
        var attributes: [dg_cu_launch_attribute] = []
        if clusterSize > 1 {
            var attribute = dg_cu_launch_attribute()
            attribute.id = Int32(DG_CU_LAUNCH_ATTRIBUTE_CLUSTER_DIMENSION)
            attribute.value.cluster_dim.x = UInt32(clusterSize)
            attribute.value.cluster_dim.y = 1
            attribute.value.cluster_dim.z = 1
            attributes.append(attribute)
        }
        if programmaticDependentLaunch {
            var attribute = dg_cu_launch_attribute()
            attribute.id = Int32(DG_CU_LAUNCH_ATTRIBUTE_PROGRAMMATIC_STREAM_SERIALIZATION)
            attribute.value.programmatic_stream_serialization_allowed = 1
            attributes.append(attribute)
        }
        return attributes
    }
}
