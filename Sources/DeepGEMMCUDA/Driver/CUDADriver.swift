import DeepGEMMCore
internal import CCUDA

/// The CUDA driver API entry points the backend uses, resolved from `libcuda.so.1` through
/// `cuGetProcAddress` at the CUDA 12.0 ABI, so the signatures declared in `CCUDA` stay valid on
/// newer drivers.
final class CUDADriver: Sendable {
    /// The ABI version the entry points are requested at.
    static let abiVersion: Int32 = 12000

    /// The library the functions come from.
    let library: DynamicLibrary
    /// `cuDriverGetVersion`, e.g. 13000 for CUDA 13.0.
    let driverVersion: Int32

    let getErrorName: dg_cu_get_error_name_fn
    let deviceGetCount: dg_cu_device_get_count_fn
    let deviceGet: dg_cu_device_get_fn
    let deviceGetName: dg_cu_device_get_name_fn
    let deviceGetAttribute: dg_cu_device_get_attribute_fn
    let primaryContextRetain: dg_cu_device_primary_ctx_retain_fn
    let contextSetCurrent: dg_cu_ctx_set_current_fn
    let memAlloc: dg_cu_mem_alloc_fn
    let memFree: dg_cu_mem_free_fn
    let memcpyHostToDevice: dg_cu_memcpy_htod_async_fn
    let memcpyDeviceToHost: dg_cu_memcpy_dtoh_async_fn
    let memcpyDeviceToDevice: dg_cu_memcpy_dtod_async_fn
    let memsetD8: dg_cu_memset_d8_async_fn
    let streamCreate: dg_cu_stream_create_fn
    let streamDestroy: dg_cu_stream_destroy_fn
    let streamSynchronize: dg_cu_stream_synchronize_fn
    let streamQuery: dg_cu_stream_query_fn
    let eventCreate: dg_cu_event_create_fn
    let eventDestroy: dg_cu_event_destroy_fn
    let eventRecord: dg_cu_event_record_fn
    let eventSynchronize: dg_cu_event_synchronize_fn
    let eventElapsedTime: dg_cu_event_elapsed_time_fn
    let moduleLoadData: dg_cu_module_load_data_fn
    let moduleUnload: dg_cu_module_unload_fn
    let moduleGetFunction: dg_cu_module_get_function_fn
    let functionSetAttribute: dg_cu_func_set_attribute_fn
    let launchKernelEx: dg_cu_launch_kernel_ex_fn
    let tensorMapEncodeTiled: dg_cu_tensor_map_encode_tiled_fn

    /// The driver search of this process (run on first use): every candidate tried and why it was
    /// rejected, and the driver built from the first accepted one.
    static let search: LibrarySearchResult<CUDADriver> = load(candidates: CUDASearchPaths.current.driverCandidates)

    /// The driver of this process, loaded and initialised on first use, or why it cannot be.
    static let shared: Result<CUDADriver, DeepGEMMError> = search.result

    /// Tries `candidates` in order: the first library that opens, provides every entry point and whose
    /// `cuInit` succeeds is kept; the others are closed, each with the reason it was rejected.
    static func load(candidates: [String]) -> LibrarySearchResult<CUDADriver> {
        DynamicLibrary.load(first: candidates, missing: { attempts in
            "no usable CUDA driver library (libcuda.so.1): \(LibrarySearch.summary(attempts)); "
                + "install an NVIDIA driver or set DG_CUDA_HOME"
        }, CUDADriver.init(library:))
    }

    private init(library: DynamicLibrary) throws {
        self.library = library
        guard let getProcAddressSymbol = library.symbol("cuGetProcAddress_v2"),
              let errorNameSymbol = library.symbol("cuGetErrorName") else {
            throw unavailable("\(library.path) is not a CUDA 12 (or newer) driver: cuGetProcAddress_v2 is missing")
        }
        let getProcAddress = unsafeBitCast(getProcAddressSymbol, to: dg_cu_get_proc_address_fn.self)
        getErrorName = unsafeBitCast(errorNameSymbol, to: dg_cu_get_error_name_fn.self)

        func resolve<F>(_ name: String, as type: F.Type) throws -> F {
            var pointer: UnsafeMutableRawPointer?
            var status: Int32 = 0
            let result = getProcAddress(name, &pointer, CUDADriver.abiVersion, 0, &status)
            guard result == 0, let pointer else {
                throw unavailable("\(library.path) does not provide \(name) (cuGetProcAddress returned \(result)); a CUDA 12 driver is required")
            }
            return unsafeBitCast(pointer, to: type)
        }

        let initialize = try resolve("cuInit", as: dg_cu_init_fn.self)
        let getVersion = try resolve("cuDriverGetVersion", as: dg_cu_driver_get_version_fn.self)
        deviceGetCount = try resolve("cuDeviceGetCount", as: dg_cu_device_get_count_fn.self)
        deviceGet = try resolve("cuDeviceGet", as: dg_cu_device_get_fn.self)
        deviceGetName = try resolve("cuDeviceGetName", as: dg_cu_device_get_name_fn.self)
        deviceGetAttribute = try resolve("cuDeviceGetAttribute", as: dg_cu_device_get_attribute_fn.self)
        primaryContextRetain = try resolve("cuDevicePrimaryCtxRetain", as: dg_cu_device_primary_ctx_retain_fn.self)
        contextSetCurrent = try resolve("cuCtxSetCurrent", as: dg_cu_ctx_set_current_fn.self)
        memAlloc = try resolve("cuMemAlloc", as: dg_cu_mem_alloc_fn.self)
        memFree = try resolve("cuMemFree", as: dg_cu_mem_free_fn.self)
        memcpyHostToDevice = try resolve("cuMemcpyHtoDAsync", as: dg_cu_memcpy_htod_async_fn.self)
        memcpyDeviceToHost = try resolve("cuMemcpyDtoHAsync", as: dg_cu_memcpy_dtoh_async_fn.self)
        memcpyDeviceToDevice = try resolve("cuMemcpyDtoDAsync", as: dg_cu_memcpy_dtod_async_fn.self)
        memsetD8 = try resolve("cuMemsetD8Async", as: dg_cu_memset_d8_async_fn.self)
        streamCreate = try resolve("cuStreamCreate", as: dg_cu_stream_create_fn.self)
        streamDestroy = try resolve("cuStreamDestroy", as: dg_cu_stream_destroy_fn.self)
        streamSynchronize = try resolve("cuStreamSynchronize", as: dg_cu_stream_synchronize_fn.self)
        streamQuery = try resolve("cuStreamQuery", as: dg_cu_stream_query_fn.self)
        eventCreate = try resolve("cuEventCreate", as: dg_cu_event_create_fn.self)
        eventDestroy = try resolve("cuEventDestroy", as: dg_cu_event_destroy_fn.self)
        eventRecord = try resolve("cuEventRecord", as: dg_cu_event_record_fn.self)
        eventSynchronize = try resolve("cuEventSynchronize", as: dg_cu_event_synchronize_fn.self)
        eventElapsedTime = try resolve("cuEventElapsedTime", as: dg_cu_event_elapsed_time_fn.self)
        moduleLoadData = try resolve("cuModuleLoadData", as: dg_cu_module_load_data_fn.self)
        moduleUnload = try resolve("cuModuleUnload", as: dg_cu_module_unload_fn.self)
        moduleGetFunction = try resolve("cuModuleGetFunction", as: dg_cu_module_get_function_fn.self)
        functionSetAttribute = try resolve("cuFuncSetAttribute", as: dg_cu_func_set_attribute_fn.self)
        launchKernelEx = try resolve("cuLaunchKernelEx", as: dg_cu_launch_kernel_ex_fn.self)
        tensorMapEncodeTiled = try resolve("cuTensorMapEncodeTiled", as: dg_cu_tensor_map_encode_tiled_fn.self)

        let initResult = initialize(0)
        guard initResult == 0 else {
            throw unavailable("cuInit failed: \(CUDADriver.errorName(initResult, getErrorName)) (\(initResult))")
        }
        var version: Int32 = 0
        _ = getVersion(&version)
        driverVersion = version
    }

    /// Throws a ``CUDAError`` naming `call` unless `result` is success.
    func check(_ result: Int32, _ call: @autoclosure () -> String) throws(CUDAError) {
        if result != 0 {
            throw CUDAError(library: .driver, call: call(), code: result, name: CUDADriver.errorName(result, getErrorName))
        }
    }

    private static func errorName(_ result: Int32, _ getErrorName: dg_cu_get_error_name_fn) -> String {
        var name: UnsafePointer<CChar>?
        guard getErrorName(result, &name) == 0, let name else { return "CUDA_ERROR_UNKNOWN_CODE" }
        return String(cString: name)
    }
}

/// The backend-unavailable error with `reason`.
func unavailable(_ reason: String) -> DeepGEMMError {
    .backendUnavailable(backend: "cuda", reason: reason)
}
