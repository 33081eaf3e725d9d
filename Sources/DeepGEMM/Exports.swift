@_exported import DeepGEMMCore
@_exported import DeepGEMMCPU
@_exported import DeepGEMMCUDA
