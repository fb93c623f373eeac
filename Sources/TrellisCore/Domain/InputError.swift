/// A problem with one input line, phrased for the person who wrote the file:
/// `line 12: AttendanceRecorded.status: one of present, apologies, absent, got "late"`.
public struct InputError: Error, Equatable, Sendable, CustomStringConvertible {
    /// 1-based line number in the input (0 when the input is a single command-line argument).
    public var line: Int
    /// `<type>.<field>` (`ReviewCompleted.outcomes[0].judgement`), `envelope.<field>`, or
    /// empty when the whole line is at fault (not JSON, too long).
    public var path: String
    public var expected: String
    /// What was found; nil when the message says everything (a JSON syntax error).
    public var found: String?
    /// The input file, when an import reads several.
    public var source: String?

    public init(line: Int, path: String, expected: String, found: String?, source: String? = nil) {
        self.line = line; self.path = path; self.expected = expected; self.found = found; self.source = source
    }

    public var description: String {
        var s = source.map { $0 + ": " } ?? ""
        if line > 0 { s += "line \(line): " }
        if !path.isEmpty { s += path + ": " }
        s += expected
        if let found { s += ", got " + found }
        return s
    }
}
