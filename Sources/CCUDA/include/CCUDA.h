// Our own minimal declarations of the CUDA driver ABI pieces the backend uses. Nothing here comes
// from NVIDIA's headers; the library is loaded with dlopen at run time, never linked.
#pragma once

/// CUresult: 0 is success.
typedef int dg_cu_result;

/// cuInit(unsigned int flags).
typedef dg_cu_result (*dg_cu_init_fn)(unsigned int flags);
/// cuDeviceGetCount(int *count).
typedef dg_cu_result (*dg_cu_device_get_count_fn)(int *count);
/// cuGetErrorName(CUresult, const char **name).
typedef dg_cu_result (*dg_cu_get_error_name_fn)(dg_cu_result error, const char **name);
