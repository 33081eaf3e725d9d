import DeepGEMM
import DeepGEMMCLI
import FuzzSupport

/// Every op with its tensor and value argument names, read once.
let signatures = OpRunner.signatures

/// Value texts that `--set` parses into each kind of argument value (and some it must reject).
let valueTexts = ["true", "false", "none", "0.5", "-1e308", "nan", "inf", "1,128,128", "1,1,128", "1,1,32", "1,32",
                  "128,128", "[]", "[0]", "0,1", "2,3", "[1,128,128]", "1,-1,2", "swiglu", "bhr,hdr->bhd", "bhd,hdr->bhr",
                  "bhd,bhr->hdr", "nk", "sm90", "sm100", "bf16", "f32", "16,2,16", ""]

/// Names every op reads besides its listed arguments, and names no op reads.
let extraNames = ["arch", "mk_alignment", "num_sms", "d_dtype", "sqr_sum_dtype", "unused", ""]

/// libFuzzer entry: what `deepgemm run OP --input ... --set ...` does after reading the file, on
/// fuzz-built tensors (any dtype, shape and strides) for the op's tensor arguments and fuzz-chosen
/// `--set` strings. Every call must return outputs or throw a typed error.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzRunOp(_ data: UnsafePointer<UInt8>?, _ count: Int) -> Int32 {
    var input = FuzzInput(data, count)
    let op = input.pick(signatures)
    var tensors: [String: Tensor] = [:]
    for name in op.tensors where input.below(4) != 0 {
        tensors[name] = input.tensor()
    }
    var settings: [String] = []
    for name in op.values + extraNames where input.below(3) == 0 {
        let value: String
        switch input.below(4) {
        case 0: value = String(input.integer())
        case 1: value = input.pick(valueTexts)
        case 2: value = (0..<input.below(4)).map { _ in String(input.integer()) }.joined(separator: ",")
        default: value = input.text(maxLength: 12)
        }
        settings.append(input.below(16) == 0 ? input.text(maxLength: 8) : "\(name)=\(value)")
    }
    expectTypedErrors {
        for (_, tensor) in try OpRunner.execute(op: op.op, tensors: tensors, settings: settings) {
            _ = tensor.clone()
        }
    }
    return 0
}
