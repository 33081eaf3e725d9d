import CDeepGEMMABI
import DeepGEMM
import DeepGEMMOps

/// `dg_op_table_json`: the ABI surface of the op table (static lifetime).
@_cdecl("dg_op_table_json")
public func abiOpTableJSON() -> UnsafePointer<CChar> { InternedStrings.pointer(OpTable.json) }

/// `dg_version`.
@_cdecl("dg_version")
public func abiVersion() -> UnsafePointer<CChar> { InternedStrings.pointer(DeepGEMMVersion.string) }

/// `dg_info_json`: version, CPU kernel level and threads, and the CUDA probe.
@_cdecl("dg_info_json")
public func abiInfoJSON() -> UnsafePointer<CChar> {
    let cuda: String
    switch CUDAProbe.availability {
    case .available(let count): cuda = "{\"available\": true, \"device_count\": \(count)}"
    case .unavailable(let reason): cuda = "{\"available\": false, \"reason\": \(jsonString(reason))}"
    }
    return InternedStrings.pointer("{\"version\": \(jsonString(DeepGEMMVersion.string)), \"cpu_kernel_level\": \(jsonString(CPUKernelVariant.best.rawValue)), "
                                   + "\"cpu_threads\": \(CPUParallelism.threadCount), \"cuda\": \(cuda)}")
}

/// `text` as a JSON string literal.
private func jsonString(_ text: String) -> String {
    var result = "\""
    for scalar in text.unicodeScalars {
        switch scalar {
        case "\"": result += "\\\""
        case "\\": result += "\\\\"
        case "\n": result += "\\n"
        case _ where scalar.value < 0x20: result += "\\u" + String(repeating: "0", count: 4 - String(scalar.value, radix: 16).count) + String(scalar.value, radix: 16)
        default: result.unicodeScalars.append(scalar)
        }
    }
    return result + "\""
}

/// `dg_set_num_sms`.
@_cdecl("dg_set_num_sms")
public func abiSetNumSMs(_ count: Int64) -> Int32 { withStatus { try RuntimeSettings.setNumSMs(Int(count)) } }

/// `dg_get_num_sms`: the setting, or the CPU schedule's default when none was made.
@_cdecl("dg_get_num_sms")
public func abiGetNumSMs() -> Int64 { Int64(RuntimeSettings.current.numSMs ?? PagedMQASchedule.defaultNumSMs) }

/// `dg_set_mk_alignment_for_contiguous_layout`.
@_cdecl("dg_set_mk_alignment_for_contiguous_layout")
public func abiSetMKAlignment(_ alignment: Int64) -> Int32 {
    withStatus { try RuntimeSettings.setMKAlignmentForContiguousLayout(Int(alignment)) }
}

/// `dg_get_mk_alignment_for_contiguous_layout`.
@_cdecl("dg_get_mk_alignment_for_contiguous_layout")
public func abiGetMKAlignment() -> Int64 { Int64(RuntimeSettings.current.mkAlignmentForContiguousLayout) }

/// `dg_get_theoretical_mk_alignment_for_contiguous_layout` (expected_m < 0: None).
@_cdecl("dg_get_theoretical_mk_alignment_for_contiguous_layout")
public func abiTheoreticalMKAlignment(_ expectedM: Int64) -> Int64 {
    Int64(getTheoreticalMKAlignmentForContiguousLayout(expectedM: expectedM < 0 ? nil : Int(expectedM), settings: RuntimeSettings.current.opSettings))
}

/// `dg_set_tc_util`.
@_cdecl("dg_set_tc_util")
public func abiSetTCUtil(_ percent: Int64) -> Int32 { withStatus { try RuntimeSettings.setTCUtil(Int(percent)) } }

/// `dg_get_tc_util`.
@_cdecl("dg_get_tc_util")
public func abiGetTCUtil() -> Int64 { Int64(RuntimeSettings.current.tcUtil) }

/// `dg_set_pdl`.
@_cdecl("dg_set_pdl")
public func abiSetPDL(_ enable: Int32) -> Int32 { withStatus { try RuntimeSettings.update { $0.pdl = enable != 0 } } }

/// `dg_get_pdl`.
@_cdecl("dg_get_pdl")
public func abiGetPDL() -> Int32 { RuntimeSettings.current.pdl ? 1 : 0 }

/// `dg_set_ignore_compile_dims`.
@_cdecl("dg_set_ignore_compile_dims")
public func abiSetIgnoreCompileDims(_ ignore: Int32) -> Int32 {
    withStatus { try RuntimeSettings.update { $0.ignoreCompileDims = ignore != 0 } }
}

/// `dg_set_block_size_multiple_of`.
@_cdecl("dg_set_block_size_multiple_of")
public func abiSetBlockSizeMultiple(_ m: Int64, _ n: Int64) -> Int32 {
    withStatus { try RuntimeSettings.setBlockSizeMultiple(m: Int(m), n: Int(n)) }
}

/// `dg_set_arch`: `sm90`, `sm100`, or "" / NULL for the default.
@_cdecl("dg_set_arch")
public func abiSetArch(_ arch: UnsafePointer<CChar>?) -> Int32 {
    withStatus { try RuntimeSettings.setArch(arch.map { String(cString: $0) } ?? "") }
}

/// `dg_get_arch`: the personality in effect, "sm90" or "sm100" (static strings).
@_cdecl("dg_get_arch")
public func abiGetArch() -> UnsafePointer<CChar> {
    let name: StaticString = RuntimeSettings.current.opSettings.arch == .sm90 ? "sm90" : "sm100"
    return UnsafeRawPointer(name.utf8Start).assumingMemoryBound(to: CChar.self)
}

/// `dg_set_num_threads`: returns the previous count, or -1 (error recorded) for a negative count.
@_cdecl("dg_set_num_threads")
public func abiSetNumThreads(_ threads: Int64) -> Int32 {
    var previous: Int32 = -1
    _ = withStatus { previous = Int32(try CPUParallelism.setThreadCount(Int(threads))) }
    return previous
}

/// `dg_cuda_set_current_stream`: the stream later CUDA ops run on (process-wide in this version).
@_cdecl("dg_cuda_set_current_stream")
public func abiCUDASetCurrentStream(_ deviceID: Int32, _ stream: UnsafeMutableRawPointer?) -> Int32 {
    withStatus {
        try DeepGEMMError.require(deviceID == 0, "device_id", "the CUDA backend drives device 0 only in this version, got \(deviceID)")
        if case .unavailable(let reason) = CUDAProbe.availability {
            throw DeepGEMMError.backendUnavailable(backend: "cuda", reason: reason)
        }
        CUDAStream.setCurrent(stream == nil ? nil : CUDAStream(adopting: UInt(bitPattern: stream), device: try CUDADevice.current()))
    }
}
