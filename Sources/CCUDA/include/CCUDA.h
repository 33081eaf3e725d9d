// Our own minimal declarations of the CUDA driver and NVRTC ABI pieces the CUDA backend uses,
// written from the documented interfaces. Nothing here is copied from NVIDIA's headers; both
// libraries are loaded with dlopen at run time and never linked.
#pragma once

#include <stddef.h>
#include <stdint.h>

// MARK: - Driver handles and scalar types

/// CUresult: 0 is success; other values are driver error codes.
typedef int dg_cu_result;
/// CUdevice: an ordinal.
typedef int dg_cu_device;
/// CUdeviceptr: a device address.
typedef uint64_t dg_cu_deviceptr;
/// Opaque driver handles (CUcontext, CUmodule, CUfunction, CUstream, CUevent).
typedef struct dg_cu_context_opaque *dg_cu_context;
typedef struct dg_cu_module_opaque *dg_cu_module;
typedef struct dg_cu_function_opaque *dg_cu_function;
typedef struct dg_cu_stream_opaque *dg_cu_stream;
typedef struct dg_cu_event_opaque *dg_cu_event;

/// CUtensorMap: 128 opaque bytes passed to kernels by value. cuTensorMapEncodeTiled needs the
/// object it writes to be 64-byte aligned; Swift cannot import over-aligned structs, so callers
/// encode into aligned scratch memory and copy the bytes.
typedef struct dg_cu_tensor_map {
    uint64_t opaque[16];
} dg_cu_tensor_map;

// MARK: - Driver enum values the backend passes

enum {
    DG_CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT = 16,
    DG_CU_DEVICE_ATTRIBUTE_L2_CACHE_SIZE = 38,
    DG_CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR = 75,
    DG_CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR = 76,
    DG_CU_DEVICE_ATTRIBUTE_MAX_SHARED_MEMORY_PER_BLOCK_OPTIN = 97,
};

enum {
    DG_CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES = 8,
};

enum {
    DG_CU_LAUNCH_ATTRIBUTE_CLUSTER_DIMENSION = 4,
    DG_CU_LAUNCH_ATTRIBUTE_PROGRAMMATIC_STREAM_SERIALIZATION = 6,
};

enum {
    DG_CU_STREAM_NON_BLOCKING = 1,
    DG_CU_EVENT_DEFAULT = 0,
};

/// CUtensorMapDataType values.
enum {
    DG_CU_TENSOR_MAP_DATA_TYPE_UINT8 = 0,
    DG_CU_TENSOR_MAP_DATA_TYPE_UINT16 = 1,
    DG_CU_TENSOR_MAP_DATA_TYPE_UINT32 = 2,
    DG_CU_TENSOR_MAP_DATA_TYPE_INT32 = 3,
    DG_CU_TENSOR_MAP_DATA_TYPE_FLOAT16 = 6,
    DG_CU_TENSOR_MAP_DATA_TYPE_FLOAT32 = 7,
    DG_CU_TENSOR_MAP_DATA_TYPE_BFLOAT16 = 9,
    DG_CU_TENSOR_MAP_DATA_TYPE_TFLOAT32 = 11,
};

/// CUtensorMapSwizzle values.
enum {
    DG_CU_TENSOR_MAP_SWIZZLE_NONE = 0,
    DG_CU_TENSOR_MAP_SWIZZLE_32B = 1,
    DG_CU_TENSOR_MAP_SWIZZLE_64B = 2,
    DG_CU_TENSOR_MAP_SWIZZLE_128B = 3,
};

/// CUtensorMapInterleave, CUtensorMapL2promotion and CUtensorMapFloatOOBfill values.
enum {
    DG_CU_TENSOR_MAP_INTERLEAVE_NONE = 0,
    DG_CU_TENSOR_MAP_L2_PROMOTION_L2_256B = 3,
    DG_CU_TENSOR_MAP_FLOAT_OOB_FILL_NONE = 0,
};

// MARK: - Launch configuration (cuLaunchKernelEx)

/// CUlaunchAttributeValue: a 64-byte union; the members the backend sets.
typedef union dg_cu_launch_attribute_value {
    char pad[64];
    struct {
        unsigned int x;
        unsigned int y;
        unsigned int z;
    } cluster_dim;
    int programmatic_stream_serialization_allowed;
} dg_cu_launch_attribute_value;

/// CUlaunchAttribute: an id padded to 8 bytes, then the value.
typedef struct dg_cu_launch_attribute {
    int id;
    char pad[4];
    dg_cu_launch_attribute_value value;
} dg_cu_launch_attribute;

/// CUlaunchConfig.
typedef struct dg_cu_launch_config {
    unsigned int grid_dim_x;
    unsigned int grid_dim_y;
    unsigned int grid_dim_z;
    unsigned int block_dim_x;
    unsigned int block_dim_y;
    unsigned int block_dim_z;
    unsigned int shared_mem_bytes;
    dg_cu_stream stream;
    dg_cu_launch_attribute *attrs;
    unsigned int num_attrs;
} dg_cu_launch_config;

// MARK: - Driver entry points (CUDA 12 ABI, resolved through cuGetProcAddress)

typedef dg_cu_result (*dg_cu_get_proc_address_fn)(const char *symbol, void **pfn, int cuda_version, uint64_t flags, int *symbol_status);
typedef dg_cu_result (*dg_cu_get_error_name_fn)(dg_cu_result error, const char **name);
typedef dg_cu_result (*dg_cu_get_error_string_fn)(dg_cu_result error, const char **text);
typedef dg_cu_result (*dg_cu_init_fn)(unsigned int flags);
typedef dg_cu_result (*dg_cu_driver_get_version_fn)(int *version);
typedef dg_cu_result (*dg_cu_device_get_count_fn)(int *count);
typedef dg_cu_result (*dg_cu_device_get_fn)(dg_cu_device *device, int ordinal);
typedef dg_cu_result (*dg_cu_device_get_name_fn)(char *name, int length, dg_cu_device device);
typedef dg_cu_result (*dg_cu_device_get_attribute_fn)(int *value, int attribute, dg_cu_device device);
typedef dg_cu_result (*dg_cu_device_primary_ctx_retain_fn)(dg_cu_context *context, dg_cu_device device);
typedef dg_cu_result (*dg_cu_ctx_set_current_fn)(dg_cu_context context);
typedef dg_cu_result (*dg_cu_mem_alloc_fn)(dg_cu_deviceptr *pointer, size_t bytes);
typedef dg_cu_result (*dg_cu_mem_free_fn)(dg_cu_deviceptr pointer);
typedef dg_cu_result (*dg_cu_memcpy_htod_async_fn)(dg_cu_deviceptr destination, const void *source, size_t bytes, dg_cu_stream stream);
typedef dg_cu_result (*dg_cu_memcpy_dtoh_async_fn)(void *destination, dg_cu_deviceptr source, size_t bytes, dg_cu_stream stream);
typedef dg_cu_result (*dg_cu_memcpy_dtod_async_fn)(dg_cu_deviceptr destination, dg_cu_deviceptr source, size_t bytes, dg_cu_stream stream);
typedef dg_cu_result (*dg_cu_memset_d8_async_fn)(dg_cu_deviceptr destination, unsigned char value, size_t count, dg_cu_stream stream);
typedef dg_cu_result (*dg_cu_stream_create_fn)(dg_cu_stream *stream, unsigned int flags);
typedef dg_cu_result (*dg_cu_stream_destroy_fn)(dg_cu_stream stream);
typedef dg_cu_result (*dg_cu_stream_synchronize_fn)(dg_cu_stream stream);
typedef dg_cu_result (*dg_cu_stream_query_fn)(dg_cu_stream stream);
typedef dg_cu_result (*dg_cu_event_create_fn)(dg_cu_event *event, unsigned int flags);
typedef dg_cu_result (*dg_cu_event_destroy_fn)(dg_cu_event event);
typedef dg_cu_result (*dg_cu_event_record_fn)(dg_cu_event event, dg_cu_stream stream);
typedef dg_cu_result (*dg_cu_event_synchronize_fn)(dg_cu_event event);
typedef dg_cu_result (*dg_cu_event_elapsed_time_fn)(float *milliseconds, dg_cu_event start, dg_cu_event end);
typedef dg_cu_result (*dg_cu_module_load_data_fn)(dg_cu_module *module, const void *image);
typedef dg_cu_result (*dg_cu_module_unload_fn)(dg_cu_module module);
typedef dg_cu_result (*dg_cu_module_get_function_fn)(dg_cu_function *function, dg_cu_module module, const char *name);
typedef dg_cu_result (*dg_cu_func_set_attribute_fn)(dg_cu_function function, int attribute, int value);
typedef dg_cu_result (*dg_cu_launch_kernel_ex_fn)(const dg_cu_launch_config *config, dg_cu_function function, void **params, void **extra);
typedef dg_cu_result (*dg_cu_tensor_map_encode_tiled_fn)(
    dg_cu_tensor_map *tensor_map, int data_type, uint32_t rank, void *global_address,
    const uint64_t *global_dims, const uint64_t *global_strides, const uint32_t *box_dims,
    const uint32_t *element_strides, int interleave, int swizzle, int l2_promotion, int oob_fill);

// MARK: - NVRTC

/// nvrtcResult: 0 is success.
typedef int dg_nvrtc_result;
/// nvrtcProgram.
typedef struct dg_nvrtc_program_opaque *dg_nvrtc_program;

typedef dg_nvrtc_result (*dg_nvrtc_version_fn)(int *major, int *minor);
typedef const char *(*dg_nvrtc_get_error_string_fn)(dg_nvrtc_result result);
typedef dg_nvrtc_result (*dg_nvrtc_create_program_fn)(
    dg_nvrtc_program *program, const char *source, const char *name, int num_headers,
    const char *const *headers, const char *const *include_names);
typedef dg_nvrtc_result (*dg_nvrtc_destroy_program_fn)(dg_nvrtc_program *program);
typedef dg_nvrtc_result (*dg_nvrtc_compile_program_fn)(dg_nvrtc_program program, int num_options, const char *const *options);
typedef dg_nvrtc_result (*dg_nvrtc_get_size_fn)(dg_nvrtc_program program, size_t *size);
typedef dg_nvrtc_result (*dg_nvrtc_get_bytes_fn)(dg_nvrtc_program program, char *buffer);

// MARK: - cuBLASLt (libcublasLt.so, loaded with dlopen like the driver)

/// cublasStatus_t: 0 is success.
typedef int dg_cublas_status;
/// Opaque cuBLASLt handles (cublasLtHandle_t, cublasLtMatmulDesc_t, cublasLtMatrixLayout_t,
/// cublasLtMatmulPreference_t).
typedef struct dg_cublaslt_context_opaque *dg_cublaslt_handle;
typedef struct dg_cublaslt_matmul_desc_opaque *dg_cublaslt_matmul_desc;
typedef struct dg_cublaslt_matrix_layout_opaque *dg_cublaslt_matrix_layout;
typedef struct dg_cublaslt_preference_opaque *dg_cublaslt_preference;

/// cublasLtMatmulAlgo_t: 64 opaque bytes.
typedef struct dg_cublaslt_matmul_algo {
    uint64_t data[8];
} dg_cublaslt_matmul_algo;

/// cublasLtMatmulHeuristicResult_t.
typedef struct dg_cublaslt_heuristic_result {
    dg_cublaslt_matmul_algo algo;
    size_t workspace_size;
    dg_cublas_status state;
    float waves_count;
    int reserved[4];
} dg_cublaslt_heuristic_result;

/// cudaDataType values of the operands the backend passes.
enum {
    DG_CUDA_R_32F = 0,
    DG_CUDA_R_16BF = 14,
    DG_CUDA_R_8F_E4M3 = 28,
};

/// cublasComputeType_t values.
enum {
    DG_CUBLAS_COMPUTE_32F = 68,
    DG_CUBLAS_COMPUTE_32F_FAST_TF32 = 77,
};

/// cublasOperation_t values.
enum {
    DG_CUBLAS_OP_N = 0,
    DG_CUBLAS_OP_T = 1,
};

/// cublasLtMatmulDescAttributes_t, cublasLtMatmulPreferenceAttributes_t and cublasLtReductionScheme_t values.
enum {
    DG_CUBLASLT_MATMUL_DESC_SCALE_TYPE = 1,
    DG_CUBLASLT_MATMUL_DESC_TRANSA = 3,
    DG_CUBLASLT_MATMUL_DESC_TRANSB = 4,
    DG_CUBLASLT_MATMUL_PREF_MAX_WORKSPACE_BYTES = 1,
    DG_CUBLASLT_MATMUL_PREF_REDUCTION_SCHEME_MASK = 3,
    DG_CUBLASLT_REDUCTION_SCHEME_COMPUTE_TYPE = 2,
};

typedef dg_cublas_status (*dg_cublaslt_create_fn)(dg_cublaslt_handle *handle);
typedef dg_cublas_status (*dg_cublaslt_destroy_fn)(dg_cublaslt_handle handle);
typedef const char *(*dg_cublaslt_get_status_name_fn)(dg_cublas_status status);
typedef size_t (*dg_cublaslt_get_version_fn)(void);
typedef dg_cublas_status (*dg_cublaslt_matmul_desc_create_fn)(dg_cublaslt_matmul_desc *desc, int compute_type, int scale_type);
typedef dg_cublas_status (*dg_cublaslt_matmul_desc_destroy_fn)(dg_cublaslt_matmul_desc desc);
typedef dg_cublas_status (*dg_cublaslt_matmul_desc_set_attribute_fn)(dg_cublaslt_matmul_desc desc, int attribute, const void *value, size_t bytes);
typedef dg_cublas_status (*dg_cublaslt_matrix_layout_create_fn)(dg_cublaslt_matrix_layout *layout, int type, uint64_t rows, uint64_t cols, int64_t ld);
typedef dg_cublas_status (*dg_cublaslt_matrix_layout_destroy_fn)(dg_cublaslt_matrix_layout layout);
typedef dg_cublas_status (*dg_cublaslt_preference_create_fn)(dg_cublaslt_preference *preference);
typedef dg_cublas_status (*dg_cublaslt_preference_destroy_fn)(dg_cublaslt_preference preference);
typedef dg_cublas_status (*dg_cublaslt_preference_set_attribute_fn)(dg_cublaslt_preference preference, int attribute, const void *value, size_t bytes);
typedef dg_cublas_status (*dg_cublaslt_matmul_algo_get_heuristic_fn)(
    dg_cublaslt_handle handle, dg_cublaslt_matmul_desc desc, dg_cublaslt_matrix_layout a, dg_cublaslt_matrix_layout b,
    dg_cublaslt_matrix_layout c, dg_cublaslt_matrix_layout d, dg_cublaslt_preference preference, int requested,
    dg_cublaslt_heuristic_result *results, int *returned);
typedef dg_cublas_status (*dg_cublaslt_matmul_fn)(
    dg_cublaslt_handle handle, dg_cublaslt_matmul_desc desc, const void *alpha, const void *a, dg_cublaslt_matrix_layout a_layout,
    const void *b, dg_cublaslt_matrix_layout b_layout, const void *beta, const void *c, dg_cublaslt_matrix_layout c_layout,
    void *d, dg_cublaslt_matrix_layout d_layout, const dg_cublaslt_matmul_algo *algo, void *workspace, size_t workspace_bytes,
    dg_cu_stream stream);
