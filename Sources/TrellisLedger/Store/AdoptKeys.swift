import Foundation
import GRDB
import TrellisCore

extension Ledger {
    public func adoptKeys(_ keys: [String: [UInt8]]) throws -> Int {
        if let mirrorOf { throw LedgerError.database("\(path) is a cache of \(mirrorOf): it holds no keys") }
        do {
            return try queue.write { db in
                var taken = 0
                for (person, key) in keys.sorted(by: { $0.key < $1.key }) where key.count == 32 {
                    let state = try Int64.fetchOne(db, sql: "SELECT state FROM rule_entities WHERE kind = ? AND key = ?",
                                                   arguments: [EntityKind.person.rawValue, person])
                    guard let state, !EntityFact.State(rawValue: state).contains(.erased) else { continue }
                    try db.execute(sql: "INSERT OR IGNORE INTO person_keys (person_id, key) VALUES (?, ?)", arguments: [person, Data(key)])
                    taken += db.changesCount
                }
                return taken
            }
        } catch {
            throw Ledger.translate(error, path: path)
        }
    }
}
