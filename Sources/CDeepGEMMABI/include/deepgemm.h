/*
 * deepgemm.h: the C ABI of swift-deepgemm (libdeepgemm.so).
 *
 * One generic entry point, dg_call, runs any op of the op table by DeepGEMM's name with named
 * arguments; dg_op_table_json describes every op (its parameters in DeepGEMM's Python order,
 * their kinds and defaults, what it returns and what it writes in place), so bindings are
 * generated from the table instead of being written per op.
 *
 * Threads: every function may be called from any thread. The error state is per thread.
 * Memory: tensors passed in are borrowed for the duration of the call only (nothing is kept);
 * results are owned by a dg_results object until dg_results_free.
 */
#ifndef DEEPGEMM_H
#define DEEPGEMM_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/** Version of this header's ABI; dg_abi_version() returns the library's. */
#define DG_ABI_VERSION 1

/* ---- Status codes (every int-returning function; 0 is success) ---------------------------- */
typedef enum dg_status {
    DG_OK = 0,
    DG_ERROR_INVALID_ARGUMENT = 1,   /* an argument broke a rule; dg_last_error_argument names it */
    DG_ERROR_TYPE = 2,               /* an argument has the wrong kind or an unsupported dtype code */
    DG_ERROR_UNSUPPORTED = 3,        /* valid, but not supported by this architecture or backend */
    DG_ERROR_BACKEND_UNAVAILABLE = 4,/* e.g. a CUDA tensor and no driver */
    DG_ERROR_IO = 5,
    DG_ERROR_RANK_FAILURE = 6,       /* a Mega MoE peer rank died, failed or timed out; dg_last_error_rank */
    DG_ERROR_UNKNOWN_OP = 7,
    DG_ERROR_INTERNAL = 8
} dg_status;

/** Message of the calling thread's last error ("" if none); valid until its next dg_ call. */
const char *dg_last_error_message(void);
/** DeepGEMM argument name of the last error ("" when the error is not about one argument). */
const char *dg_last_error_argument(void);
/** Rank named by the last DG_ERROR_RANK_FAILURE, else -1. */
int32_t dg_last_error_rank(void);

/* ---- Tensors: the layout of DLPack's DLTensor (v0.8+/v1.x), so a DLTensor* can be passed --- */
/** DLPack device types used here. */
enum { DG_DEVICE_CPU = 1, DG_DEVICE_CUDA = 2 };
/** DLPack dtype codes used here (with bits): */
enum {
    DG_DTYPE_INT = 0,      /* bits 8, 16, 32, 64. int8 is also DeepGEMM's packed FP4 (2 x E2M1 per byte) */
    DG_DTYPE_UINT = 1,     /* bits 8 */
    DG_DTYPE_FLOAT = 2,    /* bits 16, 32, 64 */
    DG_DTYPE_BFLOAT = 4,   /* bits 16 */
    DG_DTYPE_BOOL = 6,     /* bits 8 */
    DG_DTYPE_FLOAT8_E4M3FN = 10, /* bits 8 */
    DG_DTYPE_FLOAT8_E5M2 = 12,   /* bits 8 */
    DG_DTYPE_FLOAT8_E8M0FNU = 14,/* bits 8: UE8M0 scale bytes */
    DG_DTYPE_FLOAT4_E2M1FN = 17  /* bits 4, lanes 2 accepted as packed FP4 too */
};
typedef struct dg_device { int32_t device_type; int32_t device_id; } dg_device;
typedef struct dg_dtype { uint8_t code; uint8_t bits; uint16_t lanes; } dg_dtype;
/** A strided tensor view. strides are in elements (NULL: row-major contiguous); byte_offset is
 *  added to data. 0-dim tensors have ndim 0. */
typedef struct dg_tensor {
    void *data;
    dg_device device;
    int32_t ndim;
    dg_dtype dtype;
    int64_t *shape;
    int64_t *strides;
    uint64_t byte_offset;
} dg_tensor;

/* ---- Arguments --------------------------------------------------------------------------- */
typedef struct dg_mega_moe_buffer dg_mega_moe_buffer;
typedef enum dg_arg_kind {
    DG_ARG_NONE = 0,    /* Python None: for an optional parameter the same as leaving it out; a required
                           one passed as None counts as given (the op decides whether it takes None) */
    DG_ARG_TENSOR = 1,
    DG_ARG_INT = 2,
    DG_ARG_FLOAT = 3,
    DG_ARG_BOOL = 4,
    DG_ARG_STRING = 5,  /* also dtypes, by name: "float32", "bfloat16", ... */
    DG_ARG_INTS = 6,    /* a tuple/list of integers */
    DG_ARG_BUFFER = 7   /* a dg_mega_moe_buffer (the sym_buffer argument) */
} dg_arg_kind;
/** One named argument. For DeepGEMM's (data, sf) tuple parameters pass two arguments,
 *  "<name>" and "<name>_sf" (the latter DG_ARG_NONE or absent for None). */
typedef struct dg_arg {
    const char *name;
    int32_t kind;
    int32_t reserved;
    union {
        const dg_tensor *tensor;
        int64_t i;
        double f;
        int32_t b;
        const char *s;
        struct { const int64_t *items; int64_t count; } ints;
        dg_mega_moe_buffer *buffer;
    } value;
} dg_arg;

/* ---- Calls --------------------------------------------------------------------------------- */
typedef struct dg_results dg_results;
/**
 * Runs op `op` (DeepGEMM's name) with `nargs` named arguments. On success *results (if
 * results != NULL) receives every tensor the op produced or wrote, by name, in the order the
 * op table lists them ("outputs"); in-place outputs alias the caller's tensors. On failure
 * nothing has been written to any caller tensor, *results is NULL and the status and
 * dg_last_error_* say why. Unknown argument names, repeated names, missing required arguments and
 * bad descriptors (NULL data with elements, NULL shape, negative sizes or strides, ndim > 8) are
 * DG_ERROR_INVALID_ARGUMENT; an argument of the wrong kind or an unknown dtype code is
 * DG_ERROR_TYPE; an unknown op is DG_ERROR_UNKNOWN_OP. dg_last_error_argument names the argument.
 * Tensors on CUDA run on the current stream set with dg_cuda_set_current_stream.
 */
int dg_call(const char *op, const dg_arg *args, int64_t nargs, dg_results **results);
int64_t dg_results_count(const dg_results *results);
/** Name of result i (e.g. "d", "out0"). */
const char *dg_results_name(const dg_results *results, int64_t i);
/** View of result i, valid until dg_results_free (shape/strides owned by results). */
const dg_tensor *dg_results_tensor(const dg_results *results, int64_t i);
/** An integer result (ops returning a Python int, e.g. get_tma_aligned_size): result i as int64. */
int dg_results_int(const dg_results *results, int64_t i, int64_t *value);
/**
 * Exports result i as a DLPack DLManagedTensor (legacy, unversioned: what every framework's
 * from_dlpack accepts in a "dltensor" capsule); it keeps the memory alive after dg_results_free
 * until its deleter is called. FP8/UE8M0 results export as uint8 (code 1, bits 8); packed FP4
 * as int8; callers reinterpret by the dtype dg_results_tensor reports. Returns NULL on error.
 */
void *dg_results_export_dlpack(dg_results *results, int64_t i);
void dg_results_free(dg_results *results);

/* ---- The op table ------------------------------------------------------------------------ */
/**
 * JSON (UTF-8, static lifetime) describing every op dg_call accepts:
 * {"abi_version": 1, "ops": [{
 *    "name": "fp8_gemm_nt", "summary": "...",
 *    "params": [ {"name": "a", "kind": "pair", "doc": "..."},           (no "default": required)
 *                {"name": "c", "kind": "tensor", "default": null, "doc": "..."},
 *                {"name": "compiled_dims", "kind": "str", "default": "nk", "doc": "..."}, ...],
 *    "returns": [],            names of results the Python function returns (0: None, 1: value, n: tuple)
 *    "inplace": ["d"],          names of tensor params the op writes
 *    "outputs": ["d"]           names of all results dg_call reports, in order
 * }, ...]}
 * params are in DeepGEMM's Python order with DeepGEMM's defaults. kinds: "tensor", "pair"
 * ((data, sf|None) tuple -> args name and name_sf), "int", "float", "bool", "str", "ints",
 * "dtype" (passed as DG_ARG_STRING "float32"/"bfloat16"/...), "buffer", "tensors" (not used yet).
 */
const char *dg_op_table_json(void);

/* ---- Library info and settings ------------------------------------------------------------ */
int32_t dg_abi_version(void);
/** e.g. "0.1.0"; static lifetime. */
const char *dg_version(void);
/** JSON: {"version":..., "cpu_kernel_level": "avx512"|..., "cpu_threads": n, "cuda": {...probe...}};
 *  static lifetime. */
const char *dg_info_json(void);
int dg_set_num_sms(int64_t num_sms);
int64_t dg_get_num_sms(void);
int dg_set_mk_alignment_for_contiguous_layout(int64_t alignment);
int64_t dg_get_mk_alignment_for_contiguous_layout(void);
/** expected_m < 0 means None. */
int64_t dg_get_theoretical_mk_alignment_for_contiguous_layout(int64_t expected_m);
int dg_set_tc_util(int64_t percent);
int64_t dg_get_tc_util(void);
int dg_set_pdl(int32_t enable);
int32_t dg_get_pdl(void);
int dg_set_ignore_compile_dims(int32_t ignore);
int dg_set_block_size_multiple_of(int64_t m_multiple, int64_t n_multiple);
/** The architecture personality whose rules CPU calls follow: "sm90", "sm100" (default), or "" to reset. */
int dg_set_arch(const char *arch);
/** The personality in effect: "sm90" or "sm100" (static lifetime). */
const char *dg_get_arch(void);
/** Number of CPU threads ops use (0: all); returns the previous count. */
int dg_set_num_threads(int64_t threads);
/** The CUstream (NULL: the legacy default stream) CUDA ops of `device_id` run on. In this version
 *  the setting is process-wide (every thread) and only device 0 is driven; without a usable CUDA
 *  driver it returns DG_ERROR_BACKEND_UNAVAILABLE. */
int dg_cuda_set_current_stream(int32_t device_id, void *stream);

/* ---- Mega MoE symmetric buffer ------------------------------------------------------------- */
typedef struct dg_mega_moe_buffer_options {
    int32_t rank;            /* this process's rank in the group, 0..num_ranks-1 */
    int32_t num_ranks;
    const char *group_id;    /* the same unique string on every rank (e.g. broadcast by rank 0) */
    int64_t num_experts;
    int64_t num_max_tokens_per_rank;
    int64_t num_topk;
    int64_t hidden;
    int64_t intermediate_hidden;
    int32_t use_fp8_dispatch;/* -1: None, 0: False, 1: True */
    const char *mma_type;    /* "fp8xfp4" or "bf16xbf16" (NULL: fp8xfp4) */
    const char *activation;  /* "swiglu" (NULL: swiglu) */
    double timeout_seconds;  /* <= 0: 60 */
    int32_t threads_per_rank;/* 0: all threads */
} dg_mega_moe_buffer_options;
/** Collective: every rank of the group calls it with the same options (but its own rank). */
int dg_mega_moe_buffer_create(const dg_mega_moe_buffer_options *options, dg_mega_moe_buffer **buffer);
/** A view into the buffer: name is "x", "x_sf", "topk_idx" or "topk_weights"; valid until destroy.
 *  Returns DG_ERROR_INVALID_ARGUMENT for "x_sf" when the buffer has none. */
int dg_mega_moe_buffer_tensor(dg_mega_moe_buffer *buffer, const char *name, dg_tensor *view);
void dg_mega_moe_buffer_destroy(dg_mega_moe_buffer *buffer);

#ifdef __cplusplus
}
#endif
#endif /* DEEPGEMM_H */
