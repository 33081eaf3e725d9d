import DeepGEMM
import FuzzSupport

/// libFuzzer entry: the input is a safetensors file. Parsing must either throw a typed error or
/// give tensors whose every byte can be read; a parsed file must serialize and parse again to the
/// same names, element sizes, shapes, bytes and metadata.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzSafeTensors(_ data: UnsafePointer<UInt8>?, _ count: Int) -> Int32 {
    var input = FuzzInput(data, count)
    expectTypedErrors {
        let file = try SafeTensorsFile(bytes: input.remainingBytes())
        let tensors = try file.names.map { name -> (name: String, tensor: Tensor) in
            guard let tensor = try file.tensor(name) else { fatalError("listed tensor \(name) is missing") }
            return (name, tensor)
        }
        let again = try SafeTensorsFile(bytes: SafeTensorsWriter.serialize(tensors, metadata: file.metadata))
        guard again.metadata == file.metadata, Set(again.names) == Set(file.names) else {
            fatalError("round trip changed the names or metadata: \(file.names) -> \(again.names)")
        }
        for (name, tensor) in tensors {
            // The file name of a dtype may change (F8_E8M0 is written as U8), its element size may not.
            guard let copy = try again.tensor(name), copy.dtype.size == tensor.dtype.size, copy.shape == tensor.shape,
                  elementBytes(copy) == elementBytes(tensor) else {
                fatalError("round trip changed tensor \(name)")
            }
        }
    }
    return 0
}
