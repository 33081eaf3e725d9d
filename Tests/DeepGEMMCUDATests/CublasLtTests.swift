import DeepGEMMCore
import Foundation
import Testing
import CCUDA
@testable import DeepGEMMCUDA

@Suite("cuBLASLt: loading and call plans")
struct CublasLtTests {
    // MARK: loading

    @Test("a missing cuBLASLt is one typed error naming every path tried and the wheel to install")
    func missingLibrary() {
        let search = CublasLtLibrary.load(candidates: ["/nonexistent/lib64/libcublasLt.so.13", "libcublasLt-missing.so"])
        guard case .failure(.backendUnavailable(let backend, let reason)) = search.result else {
            Issue.record("expected backendUnavailable, got \(search.result)")
            return
        }
        #expect(backend == "cuda")
        #expect(reason.contains("no usable cuBLASLt (libcublasLt.so) among 2 candidates"))
        #expect(reason.contains("/nonexistent/lib64/libcublasLt.so.13: rejected: "))
        #expect(reason.contains("libcublasLt-missing.so: rejected: "))
        #expect(reason.contains("pip install nvidia-cublas"))
        #expect(search.attempts.allSatisfy { $0.rejection?.isEmpty == false })
    }

    @Test("a file named like cuBLASLt that is no library, and a library without cuBLASLt's entry points, are both rejected with the reason")
    func fakeLibraries() throws {
        let home = NSTemporaryDirectory() + "deepgemm-cublaslt-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: home) }
        try FileManager.default.createDirectory(atPath: home + "/lib64", withIntermediateDirectories: true)
        #expect(FileManager.default.createFile(atPath: home + "/lib64/libcublasLt.so.13", contents: Data("not an ELF file".utf8)))
        let fake = CUDASearchPaths(environment: ["DG_CUDA_HOME": home], sitePackages: []).cublasLtCandidates.first
        #expect(fake == home + "/lib64/libcublasLt.so.13")

        let search = CublasLtLibrary.load(candidates: [home + "/lib64/libcublasLt.so.13", "libc.so.6"])
        #expect(search.attempts.count == 2)
        #expect(search.attempts.first?.rejection?.isEmpty == false)
        #expect(search.attempts.last?.rejection == "libc.so.6 lacks cublasLtGetVersion")
        guard case .failure(.backendUnavailable(_, let reason)) = search.result else {
            Issue.record("expected backendUnavailable, got \(search.result)")
            return
        }
        #expect(reason.contains("libc.so.6: rejected: libc.so.6 lacks cublasLtGetVersion"))
    }

    @Test("search order: each CUDA home's lib64 and lib, then Python's nvidia wheels, most versioned name first, then the system loader")
    func searchOrder() throws {
        let home = NSTemporaryDirectory() + "deepgemm-cublaslt-home-\(UUID().uuidString)"
        let site = NSTemporaryDirectory() + "deepgemm-cublaslt-site-\(UUID().uuidString)"
        defer {
            try? FileManager.default.removeItem(atPath: home)
            try? FileManager.default.removeItem(atPath: site)
        }
        try FileManager.default.createDirectory(atPath: home + "/lib64", withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: site + "/nvidia/cublas/lib", withIntermediateDirectories: true)
        for file in [home + "/lib64/libcublasLt.so.12", home + "/lib64/libcublasLt.so.12.9.1", home + "/lib64/libcublas.so.12",
                     site + "/nvidia/cublas/lib/libcublasLt.so.13"] {
            #expect(FileManager.default.createFile(atPath: file, contents: Data()))
        }
        let paths = CUDASearchPaths(environment: ["DG_CUDA_HOME": home], sitePackages: [site])
        #expect(paths.cublasLtCandidates == [
            home + "/lib64/libcublasLt.so.12.9.1", home + "/lib64/libcublasLt.so.12",
            site + "/nvidia/cublas/lib/libcublasLt.so.13",
            "libcublasLt.so.13", "libcublasLt.so.12", "libcublasLt.so",
        ])
    }

    // MARK: call plans

    static func layout(_ dtype: DType, _ shape: [Int], _ strides: [Int]) -> StridedLayout {
        StridedLayout(address: 0, dtype: dtype, shape: shape, strides: strides)
    }

    @Test("row-major D: the call computes Dᵀ = B · Aᵀ with B first; K-major operands enter as T (first) and N (second)")
    func rowMajorD() throws {
        let plan = try CublasLtMatmulPlan(a: Self.layout(.bfloat16, [5, 96], [104, 1]), b: Self.layout(.bfloat16, [7, 96], [96, 1]),
                                          d: Self.layout(.float32, [5, 7], [8, 1]), accumulate: true)
        #expect(plan.swapsOperands)
        #expect(plan.transA == Int32(DG_CUBLAS_OP_T) && plan.transB == Int32(DG_CUBLAS_OP_N))
        #expect(plan.matrixA == CublasLtMatrix(dataType: Int32(DG_CUDA_R_16BF), rows: 96, cols: 7, ld: 96))
        #expect(plan.matrixB == CublasLtMatrix(dataType: Int32(DG_CUDA_R_16BF), rows: 96, cols: 5, ld: 104))
        #expect(plan.matrixD == CublasLtMatrix(dataType: Int32(DG_CUDA_R_32F), rows: 7, cols: 5, ld: 8))
        #expect(plan.computeType == Int32(DG_CUBLAS_COMPUTE_32F))
        #expect(plan.beta == 1)
    }

    @Test("F32 inputs ask for TF32 tensor cores (as DeepGEMM); without C beta is 0")
    func float32ComputeType() throws {
        let plan = try CublasLtMatmulPlan(a: Self.layout(.float32, [4, 8], [8, 1]), b: Self.layout(.float32, [4, 8], [8, 1]),
                                          d: Self.layout(.float32, [4, 4], [4, 1]), accumulate: false)
        #expect(plan.computeType == Int32(DG_CUBLAS_COMPUTE_32F_FAST_TF32))
        #expect(plan.beta == 0)
    }

    @Test("FP8 needs K-major operands (cuBLASLt's TN rule on SM90): an MN-major a or b is unsupported, named")
    func fp8NeedsKMajor() throws {
        let kMajor = Self.layout(.float8E4M3, [16, 64], [64, 1]), mnMajor = Self.layout(.float8E4M3, [16, 64], [1, 16])
        let d = Self.layout(.bfloat16, [16, 16], [16, 1])
        #expect(throws: DeepGEMMError.unsupported(argument: "a", rule: "cuBLASLt runs FP8 on SM90 only with K-major operands (TN), got an MN-major a")) {
            try CublasLtMatmulPlan(a: mnMajor, b: kMajor, d: d, accumulate: false)
        }
        #expect { try CublasLtMatmulPlan(a: kMajor, b: mnMajor, d: d, accumulate: false) } throws: { ($0 as? DeepGEMMError)?.argument == "b" }
        let plan = try CublasLtMatmulPlan(a: kMajor, b: kMajor, d: d, accumulate: false)
        #expect(plan.transA == Int32(DG_CUBLAS_OP_T) && plan.transB == Int32(DG_CUBLAS_OP_N))
        #expect(plan.matrixA.dataType == Int32(DG_CUDA_R_8F_E4M3))
    }

    @Test("a D without a unit stride, or with overlapping rows, is unsupported and named")
    func unsupportedD() throws {
        let a = Self.layout(.bfloat16, [4, 8], [8, 1]), b = Self.layout(.bfloat16, [6, 8], [8, 1])
        #expect { try CublasLtMatmulPlan(a: a, b: b, d: Self.layout(.float32, [4, 6], [12, 2]), accumulate: false) } throws: {
            ($0 as? DeepGEMMError) == .unsupported(argument: "d", rule: "cuBLASLt needs a row-major or column-major d (one unit stride), got strides [12, 2]")
        }
        #expect { try CublasLtMatmulPlan(a: a, b: b, d: Self.layout(.float32, [4, 6], [3, 1]), accumulate: false) } throws: {
            ($0 as? DeepGEMMError)?.argument == "d"
        }
        #expect { try CublasLtMatmulPlan(a: Self.layout(.bfloat16, [4, 8], [1, 2]), b: b, d: Self.layout(.float32, [4, 6], [6, 1]), accumulate: false) } throws: {
            ($0 as? DeepGEMMError)?.argument == "a"
        }
    }

    /// Runs `plan` the way cuBLASLt defines it (column-major, `ld` between columns, op N/T) on host
    /// buffers: the oracle that the plan computes `A · Bᵀ (+ D)` for every orientation.
    static func interpret(_ plan: CublasLtMatmulPlan, a: [Float], b: [Float], d: inout [Float]) {
        let (bufferA, bufferB) = plan.swapsOperands ? (b, a) : (a, b)
        func element(_ buffer: [Float], _ matrix: CublasLtMatrix, transposed: Bool, _ i: Int, _ j: Int) -> Float {
            let (row, col) = transposed ? (j, i) : (i, j)
            return buffer[row + col * matrix.ld]
        }
        let transA = plan.transA == Int32(DG_CUBLAS_OP_T), transB = plan.transB == Int32(DG_CUBLAS_OP_T)
        let k = transA ? plan.matrixA.rows : plan.matrixA.cols
        for i in 0..<plan.matrixD.rows {
            for j in 0..<plan.matrixD.cols {
                var sum: Float = 0
                for p in 0..<k {
                    sum += element(bufferA, plan.matrixA, transposed: transA, i, p) * element(bufferB, plan.matrixB, transposed: transB, p, j)
                }
                d[i + j * plan.matrixD.ld] = sum + plan.beta * d[i + j * plan.matrixD.ld]
            }
        }
    }

    @Test("the planned call computes A · Bᵀ + C for every operand major, D orientation and padded stride",
          arguments: [(false, false, false), (true, false, false), (false, true, false), (true, true, false),
                      (false, false, true), (true, false, true), (false, true, true), (true, true, true)])
    func planComputesTheProduct(_ mnMajorA: Bool, _ mnMajorB: Bool, _ columnMajorD: Bool) throws {
        let (m, n, k, pad) = (3, 5, 7, 2)
        func operand(_ rows: Int, mnMajor: Bool) -> (StridedLayout, [Float], (Int, Int) -> Int) {
            let strides = mnMajor ? [1, rows + pad] : [k + pad, 1]
            let index = { (r: Int, c: Int) in r * strides[0] + c * strides[1] }
            var buffer = [Float](repeating: .nan, count: (rows + pad) * (k + pad))
            for r in 0..<rows { for c in 0..<k { buffer[index(r, c)] = Float((r * 31 + c * 17) % 11) - 5 } }
            return (Self.layout(.bfloat16, [rows, k], strides), buffer, index)
        }
        let (layoutA, a, indexA) = operand(m, mnMajor: mnMajorA), (layoutB, b, indexB) = operand(n, mnMajor: mnMajorB)
        let dStrides = columnMajorD ? [1, m + pad] : [n + pad, 1]
        let indexD = { (r: Int, c: Int) in r * dStrides[0] + c * dStrides[1] }
        var d = [Float](repeating: 0, count: (m + pad) * (n + pad))
        for r in 0..<m { for c in 0..<n { d[indexD(r, c)] = Float(r - c) } }
        let plan = try CublasLtMatmulPlan(a: layoutA, b: layoutB, d: Self.layout(.float32, [m, n], dStrides), accumulate: true)
        #expect(plan.swapsOperands == !columnMajorD)
        Self.interpret(plan, a: a, b: b, d: &d)
        for r in 0..<m {
            for c in 0..<n {
                let expected = (0..<k).reduce(Float(r - c)) { $0 + a[indexA(r, $1)] * b[indexB(c, $1)] }
                #expect(d[indexD(r, c)] == expected, "D[\(r), \(c)]")
            }
        }
    }

    @Test("a single row or column has no meaningful stride: the leading dimension is the matrix's own height")
    func singleRowOrColumn() throws {
        let plan = try CublasLtMatmulPlan(a: Self.layout(.bfloat16, [1, 8], [3, 1]), b: Self.layout(.bfloat16, [6, 8], [8, 1]),
                                          d: Self.layout(.bfloat16, [1, 6], [2, 1]), accumulate: false)
        #expect(plan.matrixB.ld == 8)
        #expect(plan.matrixD.ld == 6)
    }
}
