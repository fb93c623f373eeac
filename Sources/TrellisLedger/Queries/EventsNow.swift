import TrellisCore
/// Events a command records as happening now (a retraction, an erasure): an envelope with
/// `occurred_at` the current second in UTC, appended through the same rules as any import.
extension Ledger {
    /// The envelope of a `type` event occurring at `micros` (to the second, `Z`), its data
    /// the given string fields in the order given.
    public static func envelope(_ type: EventType, _ fields: KeyValuePairs<String, String>, actor: String?, micros: Int64) -> String {
        var env = JSONObject()
        env["type"] = .string(type.rawValue)
        env["occurred_at"] = .string(Timestamp.recordedText(micros: micros).prefix(19) + "Z")
        if let actor { env["actor"] = .string(actor) }
        env["data"] = .object(JSONObject(fields.map { ($0.key, JSONValue.string($0.value)) }))
        return JSONValue.object(env).rendered()
    }

}

extension LedgerStore {
    /// Appends a `type` event that happens now (`retract`, `erase`), all or nothing.
    public func appendNow(_ type: EventType, _ fields: KeyValuePairs<String, String>, actor: String?) throws -> AppendOutcome {
        try append(json: Ledger.envelope(type, fields, actor: actor, micros: Timestamp.nowMicros()))
    }
}
