import Testing
import DeepGEMMTestSupport

/// Expects every call to throw ``DeepGEMMError/backendUnavailable(backend:reason:)`` for CUDA.
func expectCUDAUnavailable(_ calls: [() throws -> Void], sourceLocation: SourceLocation = #_sourceLocation) {
    for call in calls {
        #expect(sourceLocation: sourceLocation) {
            try call()
        } throws: { isBackendUnavailable($0) }
    }
}
