extension LineReader {
    /// The whole text of a small file (or `-`, standard input), each line ending in `\n`; a
    /// line longer than ``maxLineBytes`` is refused as in ``forEachLine(_:)``.
    public static func text(of path: String) throws -> String {
        let reader = try LineReader(path: path)
        defer { reader.close() }
        var text = ""
        try reader.forEachLine { line, _, _ in text += String(decoding: line, as: UTF8.self) + "\n"; return true }
        return text
    }
}
