import TrellisLedger
import TrellisCore

/// The first line of an archive: what it holds, how it was made, and where it came from.
/// ARCHITECTURE.md ("Archives") and `schemas/archive-manifest.schema.json` describe every field.
///
/// ## Topics
/// - ``currentFormatVersion``
/// - ``json``
/// - ``parse(_:path:)``
public struct ArchiveManifest: Sendable, Equatable {
    /// The archive format this build writes and reads; a higher one is refused.
    public static let currentFormatVersion: Int64 = 1

    public var formatVersion: Int64 = ArchiveManifest.currentFormatVersion
    /// Event lines after the manifest.
    public var events: Int64
    /// Seq of the first and last event line (1 and `events` for every export of a prefix);
    /// nil when the archive holds no event.
    public var firstSeq: Int64?
    public var lastSeq: Int64?
    /// The hash of the last event line (hex): the archive's own chain head.
    public var headHash: String
    public var firstRecordedAt: String?
    public var lastRecordedAt: String?
    /// Event type → the `data` versions the event lines may use.
    public var schemaVersions: [String: [Int64]]
    public var createdAt: String
    public var options: Options
    public var source: Source
    /// Present in a pseudonymised archive.
    public var pseudonyms: Pseudonyms?

    /// How the archive was made.
    public struct Options: Sendable, Equatable {
        public var untilSeq: Int64?
        public var knownAt: String?
        public var compression: String
        public var pseudonymised: Bool
        /// Reports computed from the archive suppress cells counting fewer than this.
        public var minCount: Int64?
        public init(untilSeq: Int64? = nil, knownAt: String? = nil, compression: String = "lz4", pseudonymised: Bool = false, minCount: Int64? = nil) {
            self.untilSeq = untilSeq; self.knownAt = knownAt; self.compression = compression
            self.pseudonymised = pseudonymised; self.minCount = minCount
        }
    }

    /// The ledger it was exported from, at the time of export.
    public struct Source: Sendable, Equatable {
        /// The source ledger's head when the export ran (it may be past `lastSeq`).
        public var headSeq: Int64
        public var headHash: String
        /// The source's own hash at `lastSeq`. For a plain export it equals `headHash` of the
        /// manifest; for a pseudonymised one it names the original events the archive was derived from.
        public var lastSeqHash: String
        public init(headSeq: Int64, headHash: String, lastSeqHash: String) {
            self.headSeq = headSeq; self.headHash = headHash; self.lastSeqHash = lastSeqHash
        }
    }

    /// How identifiers were replaced, so that two archives made with one key can be joined.
    public struct Pseudonyms: Sendable, Equatable {
        public var scheme: String
        /// SHA-256 of a fixed label and the key, first 16 hex digits: equal fingerprints, same key.
        public var keyFingerprint: String
        public var withheld: [String]
        public init(scheme: String, keyFingerprint: String, withheld: [String]) {
            self.scheme = scheme; self.keyFingerprint = keyFingerprint; self.withheld = withheld
        }
    }

    public init(events: Int64, firstSeq: Int64?, lastSeq: Int64?, headHash: String, firstRecordedAt: String?, lastRecordedAt: String?,
                schemaVersions: [String: [Int64]], createdAt: String, options: Options, source: Source, pseudonyms: Pseudonyms?) {
        self.events = events; self.firstSeq = firstSeq; self.lastSeq = lastSeq; self.headHash = headHash
        self.firstRecordedAt = firstRecordedAt; self.lastRecordedAt = lastRecordedAt; self.schemaVersions = schemaVersions
        self.createdAt = createdAt; self.options = options; self.source = source; self.pseudonyms = pseudonyms
    }

    /// Every type with the versions this build knows: an export only holds events this
    /// build's decoder accepted, so these are exactly the versions its lines may use.
    public static var catalogueVersions: [String: [Int64]] {
        var out: [String: [Int64]] = [:]
        for t in EventType.allCases { out[t.rawValue] = Array(EventType.knownVersions) }
        return out
    }

    /// The manifest as one JSON object, keys in a fixed, readable order.
    public var json: JSONValue {
        func opt(_ v: Int64?) -> JSONValue { v.map(JSONValue.int) ?? .null }
        var o = JSONObject()
        o["trellis_archive"] = .int(1)
        o["format_version"] = .int(formatVersion)
        o["events"] = .int(events)
        o["first_seq"] = opt(firstSeq)
        o["last_seq"] = opt(lastSeq)
        o["head_hash"] = .string(headHash)
        o["first_recorded_at"] = .optional(firstRecordedAt)
        o["last_recorded_at"] = .optional(lastRecordedAt)
        o["hash_chain"] = .string("sha256(previous ‖ canonical envelope), from 32 zero bytes; see ARCHITECTURE.md")
        var versions = JSONObject()
        for key in schemaVersions.keys.sorted() { versions[key] = .array(schemaVersions[key]!.map(JSONValue.int)) }
        o["schema_versions"] = .object(versions)
        o["created_at"] = .string(createdAt)
        o["created_by"] = .string("trellis")
        o["options"] = .object(JSONObject([
            ("until_seq", opt(options.untilSeq)), ("known_at", .optional(options.knownAt)),
            ("compression", .string(options.compression)), ("pseudonymised", .bool(options.pseudonymised)),
            ("min_count", opt(options.minCount)),
        ]))
        o["source"] = .object(JSONObject([
            ("head_seq", .int(source.headSeq)), ("head_hash", .string(source.headHash)), ("last_seq_hash", .string(source.lastSeqHash)),
        ]))
        if let p = pseudonyms {
            o["pseudonyms"] = .object(JSONObject([
                ("scheme", .string(p.scheme)), ("key_fingerprint", .string(p.keyFingerprint)),
                ("withheld", .array(p.withheld.map(JSONValue.string))),
            ]))
        }
        return .object(o)
    }

    /// Reads the manifest line. Refuses what is not a manifest and a newer format version;
    /// ignores keys it does not know (a same-version writer may add informative ones).
    public static func parse(_ line: UnsafeBufferPointer<UInt8>, path: String) throws(ArchiveError) -> ArchiveManifest {
        let value: JSONValue
        do { value = try JSONParser.parse(line) } catch {
            throw .notAnArchive(path: path, reason: "its first line is not JSON (\(error.message)): an archive starts with its manifest")
        }
        guard case .object(let o) = value, o["trellis_archive"] != nil else {
            throw .notAnArchive(path: path, reason: "its first line is not an archive manifest (no \"trellis_archive\" key)")
        }
        guard let version = o.int("format_version"), version >= 1 else {
            throw .notAnArchive(path: path, reason: "the manifest has no valid format_version")
        }
        if version > currentFormatVersion { throw .newerFormat(path: path, version: version) }
        func bad(_ field: String, _ expected: String) -> ArchiveError {
            .broken(seq: nil, why: "the manifest's \(field) is not \(expected)")
        }
        func optionalInt(_ obj: JSONObject, _ key: String) throws(ArchiveError) -> Int64? {
            guard let v = obj[key], v != .null else { return nil }
            guard let i = v.int else { throw bad(key, "an integer or null") }
            return i
        }
        func optionalString(_ obj: JSONObject, _ key: String) throws(ArchiveError) -> String? {
            guard let v = obj[key], v != .null else { return nil }
            guard let s = v.string else { throw bad(key, "text or null") }
            return s
        }
        guard let events = o.int("events"), events >= 0 else { throw bad("events", "a count") }
        guard let head = o.string("head_hash"), head.utf8.count == 64, Hex.decode(head) != nil else { throw bad("head_hash", "64 hex digits") }
        var versions: [String: [Int64]] = [:]
        guard let vo = o["schema_versions"]?.object else { throw bad("schema_versions", "an object") }
        for (k, v) in vo.pairs {
            guard let list = v.array?.compactMap(\.int) else { throw bad("schema_versions.\(k)", "a list of versions") }
            versions[k] = list
        }
        let opts = o["options"]?.object ?? JSONObject()
        let src = o["source"]?.object ?? JSONObject()
        var pseudonyms: Pseudonyms?
        if let p = o["pseudonyms"]?.object {
            pseudonyms = Pseudonyms(scheme: p.string("scheme") ?? "", keyFingerprint: p.string("key_fingerprint") ?? "", withheld: p.strings("withheld"))
        }
        var m = ArchiveManifest(
            events: events, firstSeq: try optionalInt(o, "first_seq"), lastSeq: try optionalInt(o, "last_seq"), headHash: head,
            firstRecordedAt: try optionalString(o, "first_recorded_at"), lastRecordedAt: try optionalString(o, "last_recorded_at"),
            schemaVersions: versions, createdAt: o.string("created_at") ?? "",
            options: Options(untilSeq: try optionalInt(opts, "until_seq"), knownAt: try optionalString(opts, "known_at"),
                             compression: opts.string("compression") ?? "lz4", pseudonymised: opts["pseudonymised"] == .bool(true),
                             minCount: try optionalInt(opts, "min_count")),
            source: Source(headSeq: src.int("head_seq") ?? 0, headHash: src.string("head_hash") ?? "", lastSeqHash: src.string("last_seq_hash") ?? ""),
            pseudonyms: pseudonyms)
        m.formatVersion = version
        if events > 0 {
            guard m.firstSeq == 1 else { throw bad("first_seq", "1 (an archive holds a prefix of the log, from its first event)") }
            guard m.lastSeq == events else { throw bad("last_seq", "equal to events (\(events))") }
        } else {
            guard m.firstSeq == nil, m.lastSeq == nil, head == Hex.encode(CanonicalEnvelope.genesis) else {
                throw bad("head", "the zero hash with no first_seq and last_seq (the archive holds no event)")
            }
        }
        return m
    }
}
