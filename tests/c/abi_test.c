/*
 * C test of libdeepgemm: compiled against include/deepgemm.h alone and linked to the library.
 * Checks a GEMM through dg_call, a quantization helper's results, an int result, the DLPack
 * export, error codes and messages, settings and the op table.
 */
#include "deepgemm.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

static int failures = 0;

#define CHECK(condition, ...)                                                   \
    do {                                                                        \
        if (!(condition)) {                                                     \
            fprintf(stderr, "FAIL %s:%d: ", __FILE__, __LINE__);                \
            fprintf(stderr, __VA_ARGS__);                                       \
            fprintf(stderr, " (last error: %s)\n", dg_last_error_message());    \
            failures++;                                                         \
        }                                                                       \
    } while (0)

/* The legacy DLPack managed tensor, declared here as a framework would. */
typedef struct managed_tensor {
    dg_tensor dl_tensor;
    void *manager_ctx;
    void (*deleter)(struct managed_tensor *self);
} managed_tensor;

static dg_tensor host_tensor(void *data, dg_dtype dtype, int32_t ndim, int64_t *shape, int64_t *strides) {
    dg_tensor t = {data, {DG_DEVICE_CPU, 0}, ndim, dtype, shape, strides, 0};
    return t;
}

static dg_arg tensor_arg(const char *name, const dg_tensor *t) {
    dg_arg a = {name, DG_ARG_TENSOR, 0, {.tensor = t}};
    return a;
}

/* cublaslt_gemm_nt with f32 operands: D = A·Bᵀ, checked exactly on small integers. */
static void test_gemm(void) {
    const dg_dtype f32 = {DG_DTYPE_FLOAT, 32, 1};
    float a[2 * 3] = {1, 2, 3, 4, 5, 6}, b[2 * 3] = {1, 0, 1, 0, 1, 0}, d[2 * 2] = {0};
    int64_t a_shape[2] = {2, 3}, b_shape[2] = {2, 3}, d_shape[2] = {2, 2};
    dg_tensor ta = host_tensor(a, f32, 2, a_shape, NULL), tb = host_tensor(b, f32, 2, b_shape, NULL);
    dg_tensor td = host_tensor(d, f32, 2, d_shape, NULL);
    dg_arg args[3] = {tensor_arg("a", &ta), tensor_arg("b", &tb), tensor_arg("d", &td)};
    dg_results *results = NULL;
    int status = dg_call("cublaslt_gemm_nt", args, 3, &results);
    CHECK(status == DG_OK, "cublaslt_gemm_nt status %d", status);
    CHECK(d[0] == 4 && d[1] == 2 && d[2] == 10 && d[3] == 5, "d = %g %g %g %g", d[0], d[1], d[2], d[3]);
    CHECK(dg_results_count(results) == 1 && strcmp(dg_results_name(results, 0), "d") == 0, "one result d");
    CHECK(dg_results_tensor(results, 0)->data == (void *)d, "in-place d aliases the caller's memory");
    dg_results_free(results);

    /* A wrong shape: an error naming the argument, and d untouched. */
    float before = d[0];
    b_shape[1] = 2;
    status = dg_call("cublaslt_gemm_nt", args, 3, &results);
    CHECK(status == DG_ERROR_INVALID_ARGUMENT && results == NULL, "mismatched k gives invalid argument, got %d", status);
    CHECK(strlen(dg_last_error_argument()) > 0, "the error names an argument");
    CHECK(d[0] == before, "nothing written on failure");
}

/* per_token_cast_to_fp8 returns two tensors; export one through DLPack. */
static void test_cast_and_dlpack(void) {
    const dg_dtype f32 = {DG_DTYPE_FLOAT, 32, 1};
    float x[2 * 128];
    for (int i = 0; i < 256; i++) x[i] = (float)(i % 17) - 8.0f;
    int64_t shape[2] = {2, 128};
    dg_tensor tx = host_tensor(x, f32, 2, shape, NULL);
    dg_arg args[2] = {tensor_arg("x", &tx), {"use_ue8m0", DG_ARG_BOOL, 0, {.b = 0}}};
    dg_results *results = NULL;
    int status = dg_call("per_token_cast_to_fp8", args, 2, &results);
    CHECK(status == DG_OK, "per_token_cast_to_fp8 status %d", status);
    CHECK(dg_results_count(results) == 2, "two results");
    const dg_tensor *data = dg_results_tensor(results, 0), *sf = dg_results_tensor(results, 1);
    CHECK(data->dtype.code == DG_DTYPE_FLOAT8_E4M3FN && data->ndim == 2 && data->shape[1] == 128, "fp8 data [2, 128]");
    CHECK(sf->dtype.code == DG_DTYPE_FLOAT && sf->shape[0] == 2 && sf->shape[1] == 1, "f32 scales [2, 1]");
    CHECK(fabsf(((const float *)sf->data)[0] - 8.0f / 448.0f) < 1e-6f, "scale amax/448, got %g", ((const float *)sf->data)[0]);
    unsigned char first[4];
    memcpy(first, data->data, sizeof first);
    managed_tensor *exported = (managed_tensor *)dg_results_export_dlpack(results, 0);
    CHECK(exported != NULL && exported->dl_tensor.dtype.code == DG_DTYPE_UINT && exported->dl_tensor.dtype.bits == 8,
          "fp8 exports as uint8");
    dg_results_free(results);
    /* The export keeps the memory alive after dg_results_free (ASan builds catch a use after free). */
    if (exported) {
        CHECK(exported->dl_tensor.ndim == 2 && exported->dl_tensor.shape[0] == 2 && exported->dl_tensor.shape[1] == 128, "export shape");
        CHECK(memcmp(exported->dl_tensor.data, first, sizeof first) == 0, "export holds the data after dg_results_free");
        exported->deleter(exported);
    }
}

/* An op returning a Python int. */
static void test_int_result(void) {
    dg_arg args[2] = {{"x", DG_ARG_INT, 0, {.i = 5}}, {"element_size", DG_ARG_INT, 0, {.i = 4}}};
    dg_results *results = NULL;
    CHECK(dg_call("get_tma_aligned_size", args, 2, &results) == DG_OK, "get_tma_aligned_size");
    int64_t value = 0;
    CHECK(dg_results_int(results, 0, &value) == DG_OK && value == 8, "aligned size 8, got %lld", (long long)value);
    dg_results_free(results);
}

/* Errors: unknown op, unknown argument, wrong kind, bad descriptors. */
static void test_errors(void) {
    dg_results *results = NULL;
    CHECK(dg_call("no_such_op", NULL, 0, &results) == DG_ERROR_UNKNOWN_OP, "unknown op");
    dg_arg unknown[1] = {{"bogus", DG_ARG_INT, 0, {.i = 1}}};
    CHECK(dg_call("ceil_to_ue8m0", unknown, 1, &results) == DG_ERROR_INVALID_ARGUMENT, "unknown argument");
    CHECK(strcmp(dg_last_error_argument(), "bogus") == 0, "names bogus, got '%s'", dg_last_error_argument());
    dg_arg wrong_kind[1] = {{"x", DG_ARG_INT, 0, {.i = 1}}};
    CHECK(dg_call("ceil_to_ue8m0", wrong_kind, 1, &results) == DG_ERROR_TYPE, "int for a tensor is a type error");
    CHECK(strcmp(dg_last_error_argument(), "x") == 0, "names x");
    int64_t shape[1] = {4};
    dg_tensor null_data = host_tensor(NULL, (dg_dtype){DG_DTYPE_FLOAT, 32, 1}, 1, shape, NULL);
    dg_arg null_arg[1] = {tensor_arg("x", &null_data)};
    CHECK(dg_call("ceil_to_ue8m0", null_arg, 1, &results) == DG_ERROR_INVALID_ARGUMENT, "NULL data with elements");
    float x[4] = {1, 2, 3, 4};
    dg_tensor bad_dtype = host_tensor(x, (dg_dtype){99, 32, 1}, 1, shape, NULL);
    dg_arg bad_dtype_arg[1] = {tensor_arg("x", &bad_dtype)};
    CHECK(dg_call("ceil_to_ue8m0", bad_dtype_arg, 1, &results) == DG_ERROR_TYPE, "unknown dtype code");
    CHECK(strcmp(dg_last_error_argument(), "x") == 0, "names x");
    CHECK(dg_call("ceil_to_ue8m0", NULL, 0, &results) == DG_ERROR_INVALID_ARGUMENT, "missing required x");
    CHECK(results == NULL, "no results on failure");
}

static void test_settings_and_table(void) {
    CHECK(dg_abi_version() == DG_ABI_VERSION, "abi version");
    CHECK(strlen(dg_version()) > 0, "version");
    CHECK(strstr(dg_info_json(), "\"cpu_kernel_level\"") != NULL, "info json");
    const char *table = dg_op_table_json();
    CHECK(strstr(table, "\"name\":\"fp8_gemm_nt\"") != NULL, "table lists fp8_gemm_nt");
    CHECK(strstr(table, "\"abi_version\":1") != NULL, "table abi_version");
    CHECK(dg_set_mk_alignment_for_contiguous_layout(0) == DG_ERROR_INVALID_ARGUMENT, "alignment 0 rejected");
    CHECK(dg_set_mk_alignment_for_contiguous_layout(256) == DG_OK && dg_get_mk_alignment_for_contiguous_layout() == 256, "alignment set");
    CHECK(dg_set_mk_alignment_for_contiguous_layout(128) == DG_OK, "alignment reset");
    CHECK(dg_set_arch("sm75") == DG_ERROR_INVALID_ARGUMENT, "unknown arch rejected");
    CHECK(dg_set_arch("") == DG_OK, "arch reset");
    CHECK(dg_set_tc_util(101) == DG_ERROR_INVALID_ARGUMENT, "tc_util over 100 rejected");
}

int main(void) {
    test_gemm();
    test_cast_and_dlpack();
    test_int_result();
    test_errors();
    test_settings_and_table();
    if (failures) {
        fprintf(stderr, "%d check(s) failed\n", failures);
        return 1;
    }
    printf("abi_test: all checks passed\n");
    return 0;
}
