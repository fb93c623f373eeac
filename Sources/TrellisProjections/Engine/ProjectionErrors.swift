import TrellisLedger

extension ProjectionError: UserFacingError {
    /// A projection name or a `--known-at` the user got wrong is usage (64); the rest is internal (70).
    public var exitCode: Int32 {
        switch self {
        case .unknown, .beforeFirstEvent: return 64
        case .internalError: return 70
        }
    }
    public var diagnostic: String { description }
}

extension DefinitionError: UserFacingError {
    /// A definition file that cannot be used is bad input (65).
    public var exitCode: Int32 { 65 }
    public var diagnostic: String { "projection definition: \(description)" }
}
