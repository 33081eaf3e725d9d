import Testing
import DeepGEMMCore
import DeepGEMMTestSupport

/// The one major-ness rule of A/B operands, on the size-1 and stride-0 corners PyTorch produces.
struct GEMMMajorTests {
    @Test func contiguousAndTransposedViews() throws {
        #expect(try GEMMMajor(shape: [8, 64], strides: [64, 1], name: "a") == .k)
        #expect(try GEMMMajor(shape: [8, 64], strides: [1, 8], name: "a") == .mn)
        // Both strides 1 (a [1, 1] view, or PyTorch's [K, 1] transposed): K-major is preferred.
        #expect(try GEMMMajor(shape: [1, 1], strides: [1, 1], name: "a") == .k)
        // Batched operands read the last two dimensions.
        #expect(try GEMMMajor(shape: [3, 8, 64], strides: [512, 1, 8], name: "b") == .mn)
    }

    @Test func sizeOneDimensionsHaveNoMeaningfulStride() throws {
        // K == 1: any K stride counts as contiguous.
        #expect(try GEMMMajor(shape: [8, 1], strides: [1, 8], name: "a") == .k)
        #expect(try GEMMMajor(shape: [8, 1], strides: [5, 7], name: "a") == .k)
        // MN == 1 with a strided K: MN-major (m = 1 in tn/tt layouts).
        #expect(try GEMMMajor(shape: [1, 64], strides: [64, 3], name: "a") == .mn)
    }

    @Test func broadcastAndGappedViewsAreRejectedNamingTheArgument() {
        // A stride of 0 over more than one element (expand) is neither major.
        #expect { try GEMMMajor(shape: [8, 64], strides: [64, 0], name: "b") } throws: { namesArgument($0, "b") }
        #expect { try GEMMMajor(shape: [8, 64], strides: [0, 2], name: "a") } throws: { namesArgument($0, "a") }
        #expect { try GEMMMajor(shape: [8, 64], strides: [128, 2], name: "a") } throws: { namesArgument($0, "a") }
    }

    @Test func checkABMajorUsesTheSameRule() throws {
        let kOne = try Tensor(storage: TensorStorage(byteCount: 64), dtype: .bfloat16, shape: [8, 1], strides: [1, 8])
        #expect(try checkABMajor(kOne, name: "a") == .k)
    }
}
