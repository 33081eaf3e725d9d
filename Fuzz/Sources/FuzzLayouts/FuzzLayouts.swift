import DeepGEMM
import FuzzSupport

/// libFuzzer entry: one scale-factor layout utility, chosen by the first byte, on a fuzz-built
/// tensor (any dtype, shape and strides) with fuzz-chosen sizes, recipes, groups and settings.
/// Each call must return a result or throw a typed error; a returned tensor must be readable.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzLayouts(_ data: UnsafePointer<UInt8>?, _ count: Int) -> Int32 {
    var input = FuzzInput(data, count)
    let utility = input.below(6)
    var settings = DeepGEMMSettings()
    settings.arch = input.flag() ? .sm90 : .sm100
    if input.flag() { settings.mkAlignmentForContiguousLayout = input.integer() }
    let sf = input.tensor()
    let layout: Tensor? = input.flag() ? input.tensor(elementLimit: 64) : nil
    expectTypedErrors {
        let result: Tensor
        switch utility {
        case 0:
            result = try getMNMajorTMAAlignedTensor(sf)
        case 1:
            result = try getMNMajorTMAAlignedPackedUE8M0Tensor(sf, psumLayout: layout, settings: settings)
        case 2:
            let groupedLayout = layout ?? input.tensor(elementLimit: 64)
            let ks: [Int]? = input.flag() ? (0..<input.below(5)).map { _ in input.integer() } : nil
            result = try getKGroupedMNMajorTMAAlignedPackedUE8M0Tensor(
                sf, groupedLayout: groupedLayout, ksCPU: ks, granK: input.integer(), kAlignment: input.integer(),
                usePsumLayout: input.flag())
        case 3:
            let recipe: ScaleRecipe = input.flag()
                ? .shared(granM: input.integer(), granN: input.integer(), granK: input.integer())
                : .operand(granMN: input.integer(), granK: input.integer())
            let isSFA: Bool? = input.flag() ? input.flag() : nil
            let numGroups: Int? = input.flag() ? input.integer() : nil
            result = try transformSFIntoRequiredLayout(
                sf, mn: input.integer(), k: input.integer(), recipe: recipe, numGroups: numGroups, isSFA: isSFA,
                disableUE8M0Cast: input.flag(), psumLayout: layout, settings: settings)
        case 4:
            result = try Tensor([Int64(getTMAAlignedSize(input.integer(), elementSize: input.integer()))], shape: [])
        default:
            let expected: Int? = input.flag() ? input.integer() : nil
            result = try Tensor([Int64(getTheoreticalMKAlignmentForContiguousLayout(expectedM: expected, settings: settings))], shape: [])
        }
        _ = result.clone()
    }
    return 0
}
