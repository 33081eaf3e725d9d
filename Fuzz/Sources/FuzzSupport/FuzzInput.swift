import CFuzzerDriver
#if canImport(Glibc)
import Glibc
#endif
import DeepGEMM

/// Structured choices read from one libFuzzer input, front to back. Past the end every read gives
/// zero, so any byte string decodes to some sequence of choices and small mutations of the input
/// make small changes to the choices.
public struct FuzzInput {
    private let bytes: [UInt8]
    private var position = 0

    /// Wraps the `count` bytes at `data` (libFuzzer's arguments).
    public init(_ data: UnsafePointer<UInt8>?, _ count: Int) {
        bytes = data.map { Array(UnsafeBufferPointer(start: $0, count: count)) } ?? []
    }

    /// The next byte, or 0 past the end.
    public mutating func byte() -> UInt8 {
        guard position < bytes.count else { return 0 }
        defer { position += 1 }
        return bytes[position]
    }

    /// A number in `0..<bound` (0 when `bound` <= 1); reads two bytes when `bound` exceeds 256.
    public mutating func below(_ bound: Int) -> Int {
        guard bound > 1 else { return 0 }
        let raw = bound > 256 ? Int(byte()) << 8 | Int(byte()) : Int(byte())
        return raw % bound
    }

    /// True or false.
    public mutating func flag() -> Bool { byte() & 1 == 1 }

    /// One of `items` (which must not be empty).
    public mutating func pick<T>(_ items: [T]) -> T { items[below(items.count)] }

    /// Everything not read yet (and the input is then exhausted).
    public mutating func remainingBytes() -> [UInt8] {
        defer { position = bytes.count }
        return position < bytes.count ? Array(bytes[position...]) : []
    }

    /// A short string of the next `length` bytes (UTF-8 decoding with repair).
    public mutating func text(maxLength: Int) -> String {
        let length = below(maxLength + 1)
        return String(decoding: (0..<length).map { _ in byte() }, as: UTF8.self)
    }

    /// Sizes the op rules care about: empty, one, tails, the scale granularities and TMA alignments.
    public static let sizes = [0, 1, 2, 3, 4, 5, 7, 8, 9, 16, 17, 31, 32, 33, 64, 65, 96, 127, 128, 129, 256, 384, 512]

    /// A size from ``sizes`` or, rarely, any byte value.
    public mutating func size() -> Int {
        let choice = byte()
        return choice < 240 ? Self.sizes[Int(choice) % Self.sizes.count] : Int(byte())
    }

    /// Integers at the edges of every rule: sizes, negatives and the extremes of Int32 and Int.
    public static let integers = sizes + [-1, -2, -128, 1 << 20, Int(Int32.max), Int(Int32.max) + 1, Int(Int32.min),
                                          1 << 40, Int.max / 2, Int.max, Int.min]

    /// An integer from ``integers`` or any 16-bit value.
    public mutating func integer() -> Int {
        let choice = byte()
        return choice < 224 ? Self.integers[Int(choice) % Self.integers.count] : Int(Int16(bitPattern: UInt16(byte()) << 8 | UInt16(byte())))
    }

    /// A tensor of any dtype, rank 0-4, fuzz-chosen sizes (at most `elementLimit` elements) and one
    /// of five stride patterns: contiguous, last two dimensions transposed, spread with an offset,
    /// one broadcast (zero-stride) dimension, or arbitrary (possibly overlapping) strides. The
    /// elements are random bytes or small values of the dtype (small integers for index tensors).
    public mutating func tensor(elementLimit: Int = 1 << 12) -> Tensor {
        let dtype = pick(DType.allCases)
        var shape = (0..<below(5)).map { _ in size() }
        while shape.reduce(1, *) > elementLimit, let largest = shape.indices.max(by: { shape[$0] < shape[$1] }) {
            shape[largest] /= 2
        }
        var strides = Tensor.contiguousStrides(shape)
        var offset = 0
        switch below(5) {
        case 1 where shape.count >= 2:
            var swapped = shape
            swapped.swapAt(shape.count - 1, shape.count - 2)
            strides = Tensor.contiguousStrides(swapped)
            strides.swapAt(shape.count - 1, shape.count - 2)
        case 2:
            let spread = 2 + below(3)
            strides = strides.map { $0 * spread }
            offset = below(8)
        case 3 where !shape.isEmpty:
            strides[below(shape.count)] = 0
        case 4:
            strides = shape.map { _ in size() }
            offset = below(4)
        default:
            break
        }
        let count = shape.reduce(1, *)
        let lastElement = count == 0 ? offset : offset + zip(shape, strides).reduce(0) { $0 + ($1.0 - 1) * $1.1 }
        let storage = TensorStorage(byteCount: (lastElement + 1) * dtype.size)
        var generator = SeededGenerator(seed: UInt64(byte()))
        if flag() {
            for i in stride(from: 0, to: storage.byteCount, by: 8) {
                withUnsafeBytes(of: generator.next()) { word in
                    (storage.baseAddress + i).copyMemory(from: word.baseAddress!, byteCount: min(8, storage.byteCount - i))
                }
            }
        } else {
            let small = dtype.isFloatingPoint ? { (g: inout SeededGenerator) in g.nextNormal() * 4 }
                                              : { (g: inout SeededGenerator) in Double(Int(g.next() % 20) - 2) }
            for i in 0...lastElement { dtype.encode(small(&generator), to: storage.baseAddress + i * dtype.size) }
        }
        do {
            return try Tensor(storage: storage, dtype: dtype, shape: shape, strides: strides, offset: offset)
        } catch {
            fatalError("fuzz harness built an out-of-bounds view: \(error)")
        }
    }
}

/// The bytes of `tensor`'s elements in row-major order.
public func elementBytes(_ tensor: Tensor) -> [UInt8] {
    let packed = tensor.contiguous()
    return Array(UnsafeRawBufferPointer(start: packed.dataPointer, count: packed.byteCount))
}

/// Runs one fuzz iteration's `body`: a thrown ``DeepGEMMError`` or ``SafeTensorsError`` is the
/// expected answer to bad input; any other error breaks the library's contract and stops the
/// fuzzer like a crash would.
public func expectTypedErrors(_ body: () throws -> Void) {
    do {
        try body()
    } catch is DeepGEMMError {
    } catch is SafeTensorsError {
    } catch {
        fatalError("untyped error \(type(of: error)): \(error)")
    }
}

/// Runs libFuzzer on this executable's `LLVMFuzzerTestOneInput` with the process's command line
/// and exits with its status.
public func runFuzzer() -> Never {
    exit(deepgemm_fuzzer_run(CommandLine.argc, CommandLine.unsafeArgv))
}
