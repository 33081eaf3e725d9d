internal import CCUDA

extension TensorMapDescription {
    /// The opaque 128-byte descriptor for this description, encoded by the driver of `device`.
    func encode(on device: CUDADevice) throws -> dg_cu_tensor_map {
        // The driver writes the descriptor only to 64-byte aligned memory
        let scratch = UnsafeMutableRawPointer.allocate(byteCount: MemoryLayout<dg_cu_tensor_map>.size, alignment: 64)
        defer { scratch.deallocate() }
        let map = scratch.bindMemory(to: dg_cu_tensor_map.self, capacity: 1)
        let dataType: Int32
        switch elementType {
        case .bfloat16: dataType = Int32(DG_CU_TENSOR_MAP_DATA_TYPE_BFLOAT16)
        case .float32: dataType = Int32(DG_CU_TENSOR_MAP_DATA_TYPE_FLOAT32)
        case .tfloat32: dataType = Int32(DG_CU_TENSOR_MAP_DATA_TYPE_TFLOAT32)
        case .byte: dataType = Int32(DG_CU_TENSOR_MAP_DATA_TYPE_UINT8)
        }
        let swizzle: Int32
        switch swizzleBytes {
        case 32: swizzle = Int32(DG_CU_TENSOR_MAP_SWIZZLE_32B)
        case 64: swizzle = Int32(DG_CU_TENSOR_MAP_SWIZZLE_64B)
        case 128: swizzle = Int32(DG_CU_TENSOR_MAP_SWIZZLE_128B)
        default: swizzle = Int32(DG_CU_TENSOR_MAP_SWIZZLE_NONE)
        }
        let elementStrides: [UInt32] = [1, 1, 1]
        try device.makeCurrent()
        try device.driver.check(
            device.driver.tensorMapEncodeTiled(
                map, dataType, UInt32(dimensions.count), UnsafeMutableRawPointer(bitPattern: UInt(address)),
                dimensions, byteStrides, box, elementStrides,
                Int32(DG_CU_TENSOR_MAP_INTERLEAVE_NONE), swizzle,
                Int32(DG_CU_TENSOR_MAP_L2_PROMOTION_L2_256B), Int32(DG_CU_TENSOR_MAP_FLOAT_OOB_FILL_NONE)),
            "cuTensorMapEncodeTiled(dims \(dimensions), strides \(byteStrides), box \(box), swizzle \(swizzleBytes))")
        return map.pointee
    }
}
