extension LineReader {
    /// The whole text of a small file (or `-`, standard input), each line ending in `\n`. It
    /// is read up to `limit` bytes and no further (a pipe that never ends, `/dev/zero`, a
    /// wrong file): past that, or a line longer than ``forEachLine(_:)`` takes, it is refused
    /// saying what the file should have been (`what`, e.g. "a projection definition").
    public static func text(of path: String, limit: Int = 4 << 20, what: String) throws -> String {
        let reader = try LineReader(path: path)
        defer { reader.close() }
        var text = ""
        do {
            try reader.forEachLine { line, _, _ in
                if text.utf8.count + line.count + 1 > limit { throw Failure.fileTooLong(reader.name, limit: limit, what: what) }
                text += String(decoding: line, as: UTF8.self) + "\n"
                return true
            }
        } catch Failure.lineTooLong(let name, let line, let lineLimit) {
            throw Failure.textLineTooLong(name, line: line, limit: lineLimit, what: what)
        }
        return text
    }
}
