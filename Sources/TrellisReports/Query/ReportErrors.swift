import TrellisLedger

extension ReportError: UserFacingError {
    public var diagnostic: String { description }
}
