import CDeepGEMMABI
import DeepGEMM
import DeepGEMMOps

/// `dg_call`: runs op `op` of the table's ABI surface with `count` named arguments.
@_cdecl("dg_call")
public func abiCall(_ op: UnsafePointer<CChar>?, _ args: UnsafePointer<dg_arg>?, _ count: Int64,
                    _ results: UnsafeMutablePointer<OpaquePointer?>?) -> Int32 {
    results?.pointee = nil
    return withStatus {
        let name = try string(op, argument: "op")
        try DeepGEMMError.require(count >= 0 && (count == 0 || args != nil), "args", "must hold nargs = \(count) arguments")
        let arguments = try (0..<Int(count)).map { try opArgument(args![$0], index: $0) }
        let outputs = try OpTable.call(name, arguments: arguments, surface: .abi)
        results?.pointee = OpaquePointer(Unmanaged.passRetained(ABIResults(outputs)).toOpaque())
    }
}

/// The table's form of one C argument, after checking its name, kind and descriptor.
private func opArgument(_ arg: dg_arg, index: Int) throws -> (name: String, value: OpArgument) {
    let name = try string(arg.name, argument: "args[\(index)].name")
    switch UInt32(bitPattern: arg.kind) {
    case DG_ARG_NONE.rawValue: return (name, .none)
    case DG_ARG_TENSOR.rawValue: return (name, .tensor(try borrowedTensor(arg.value.tensor, argument: name)))
    case DG_ARG_INT.rawValue: return (name, .int(Int(arg.value.i)))
    case DG_ARG_FLOAT.rawValue: return (name, .float(arg.value.f))
    case DG_ARG_BOOL.rawValue: return (name, .bool(arg.value.b != 0))
    case DG_ARG_STRING.rawValue: return (name, .string(try string(arg.value.s, argument: name)))
    case DG_ARG_INTS.rawValue:
        let list = arg.value.ints
        try DeepGEMMError.require(list.count >= 0 && (list.count == 0 || list.items != nil), name, "must hold \(list.count) integers")
        return (name, .ints((0..<Int(list.count)).map { Int(list.items[$0]) }))
    case DG_ARG_BUFFER.rawValue:
        guard let buffer = arg.value.buffer else { throw DeepGEMMError.invalidArgument(argument: name, rule: "buffer must not be NULL") }
        return (name, .buffer(ABIMegaMoEBuffer.from(buffer).buffer))
    default:
        throw OpCallError.wrongKind(argument: name, rule: "unknown argument kind \(arg.kind)")
    }
}
