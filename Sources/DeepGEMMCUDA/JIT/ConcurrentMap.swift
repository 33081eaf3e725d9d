import DeepGEMMCore
import Dispatch
import Synchronization

/// `transform` applied to every element with up to `jobs` elements in flight at once (compiles are
/// independent and NVRTC is thread-safe), results in input order.
func concurrentMap<Element: Sendable, Result: Sendable>(_ elements: [Element], jobs: Int,
                                                         _ transform: @Sendable (Element) -> Result) -> [Result] {
    let results = Locked([Result?](repeating: nil, count: elements.count))
    let next = Atomic<Int>(0)
    DispatchQueue.concurrentPerform(iterations: max(1, min(jobs, elements.count))) { _ in
        while true {
            let index = next.add(1, ordering: .relaxed).oldValue
            guard index < elements.count else { return }
            let result = transform(elements[index])
            results.withLock { $0[index] = result }
        }
    }
    return results.withLock { $0.map { $0! } }
}
