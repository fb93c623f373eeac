import TrellisCore
/// Person names for display: decrypted while the person's key exists, "(erased)" once it is
/// destroyed. One scan of the log's `PersonRegistered` events; a later registration of the
/// same id wins.
///
/// ## Topics
/// - ``init(ledger:)``
/// - ``lookup(_:)``
public struct PersonNames: Sendable {
    private var names: [String: String] = [:]

    /// `keys` is where the persons' keys are (default: `ledger`): a cache of a shared log
    /// holds none, they stay in the shared store.
    public init(ledger: any LedgerStore, keys: (any LedgerStore)? = nil) throws {
        let keys = try (keys ?? ledger).personKeys()
        var names: [String: String] = [:]
        // The rows' bytes, lent: only a registration's data is parsed (building every row's
        // strings was a second of `trellis audit` at 1 M events).
        let registered = EventType.personRegistered.rawValue, type = ByteText(registered)
        try ledger.scanStored(from: 1, through: .max, matching: StoredRowFilter(types: [registered])) { e in
            guard e.isType(type) else { return true }
            if let data = (try? JSONParser.parse(e.data))?.object, let person = data.string("person_id") {
                names[person] = PersonalData.opening(data, of: .personRegistered, key: keys[person]).string("name")
            }
            return true
        }
        self.names = names
    }

    /// The name of `person` ("(erased)" after erasure), nil when no such person was registered.
    public func lookup(_ person: String) -> String? { names[person] }
}
