import TrellisCore
import TrellisLedger

extension ImportPlan {
    /// Appends the plan's events as one batch through the ledger's import path (all or
    /// nothing, the same rules as `trellis import`). A rule the ledger refuses becomes an
    /// error naming the cell the event came from. Returns nil when there is nothing to append.
    public func append(to ledger: any LedgerStore) throws -> AppendOutcome? {
        guard errors.isEmpty else { throw SheetRejected(problems: errors, truncated: truncated) }
        if lines.isEmpty { return nil }
        do {
            return try ledger.append { visit in
                for (i, line) in lines.enumerated() {
                    var text = line
                    let more = try text.withUTF8 { try visit($0, i + 1, nil) }
                    if !more { return }
                }
            }
        } catch let rejected as AppendRejected {
            let problems = rejected.errors.map { e -> SheetProblem in
                let place = e.line >= 1 && e.line <= origins.count ? origins[e.line - 1] : nil
                var message = e.path.isEmpty ? e.expected : "\(e.path): \(e.expected)"
                if let found = e.found { message += ", got \(found)" }
                return SheetProblem(file: file, sheet: sheet, place: place, message: message)
            }
            throw SheetRejected(problems: problems, truncated: rejected.truncated)
        }
    }
}

/// A sheet that cannot be imported: every problem (up to 100) names its cell; nothing was appended.
public struct SheetRejected: Error, Sendable, CustomStringConvertible {
    public var problems: [SheetProblem]
    public var truncated: Bool
    public init(problems: [SheetProblem], truncated: Bool) { self.problems = problems; self.truncated = truncated }
    public var description: String {
        problems.map(\.description).joined(separator: "\n") + (truncated ? "\n(stopped after \(problems.count) errors)" : "")
    }
}
