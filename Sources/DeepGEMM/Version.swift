/// The library version printed by `deepgemm --version`, `deepgemm info` and `dg_version()`.
public enum DeepGEMMVersion {
    /// Semantic version of this package.
    public static let string = "0.1.0"
}
