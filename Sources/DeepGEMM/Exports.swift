@_exported import DeepGEMMCore
@_exported import DeepGEMMCPU
