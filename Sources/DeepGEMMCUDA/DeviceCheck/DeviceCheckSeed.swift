/// The input seed of a device-check case: FNV-1a of its description, so a case gets the same data
/// whatever list, filter, stage or part it runs in.
public func deviceCheckSeed(_ description: String) -> UInt64 {
    description.utf8.reduce(0xcbf2_9ce4_8422_2325 as UInt64) { ($0 ^ UInt64($1)) &* 0x100_0000_01b3 }
}
