@_exported import DeepGEMMCore
