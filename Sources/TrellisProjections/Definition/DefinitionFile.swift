import TrellisLedger

extension ProjectionDefinition {
    /// The definition in the file at `path` (`--projection FILE.sql`); errors name the file.
    public static func read(path: String) throws -> ProjectionDefinition {
        try parse(LineReader.text(of: path, what: "a projection definition"), source: path)
    }
}
