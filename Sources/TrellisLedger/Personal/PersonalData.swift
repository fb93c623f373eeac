import Crypto
import TrellisCore
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Personal fields (`PersonRegistered.name`, `.email`) are stored as AES-256-GCM ciphertext
/// under a key per person; the ciphertext is what the hash chain covers. Destroying the
/// key (``EventType/personErased``) makes the plaintext unrecoverable while every hash stays valid.
///
/// Stored form: `"aes256gcm:" + base64(nonce ‖ ciphertext ‖ tag)`, with the person id and
/// field name as authenticated data, so a ciphertext cannot be moved to another person.
public enum PersonalData {
    public static let prefix = "aes256gcm:"
    /// What every output shows in place of an erased person's fields.
    public static let erased = "(erased)"

    public static func newKey() -> [UInt8] {
        SymmetricKey(size: .bits256).withUnsafeBytes { Array($0) }
    }

    static func aad(person: String, field: String) -> [UInt8] {
        Array("trellis:v1:PersonRegistered:\(person):\(field)".utf8)
    }

    public static func seal(_ plaintext: String, key: [UInt8], person: String, field: String) throws -> String {
        let box = try AES.GCM.seal(Array(plaintext.utf8), using: SymmetricKey(data: key), authenticating: aad(person: person, field: field))
        guard let combined = box.combined else { throw CryptoKitError.incorrectParameterSize }
        return prefix + combined.base64EncodedString()
    }

    /// The plaintext, or nil when the key is wrong or the text is not a sealed field.
    public static func open(_ sealed: String, key: [UInt8], person: String, field: String) -> String? {
        guard sealed.hasPrefix(prefix), let combined = Data(base64Encoded: String(sealed.dropFirst(prefix.count))),
              let box = try? AES.GCM.SealedBox(combined: combined),
              let plain = try? AES.GCM.open(box, using: SymmetricKey(data: key), authenticating: aad(person: person, field: field))
        else { return nil }
        return String(decoding: plain, as: UTF8.self)
    }

    /// What a pseudonymised archive carries in place of a name (see TrellisResearch's Pseudonymiser).
    public static let withheld = "(withheld)"
    /// Nonce (12 bytes) and tag (16 bytes): the shortest sealed field, for an empty plaintext.
    static let minimumSealedBytes = 28

    /// Whether `text` is in the sealed form: the prefix, then valid base64 of at least 28 bytes.
    public static func isSealed(_ text: String) -> Bool {
        guard text.hasPrefix(prefix), let combined = Data(base64Encoded: String(text.dropFirst(prefix.count))) else { return false }
        return combined.count >= minimumSealedBytes
    }

    /// Why a personal field as an archive carries it is not acceptable, or nil: the sealed form,
    /// or for `name` exactly ``withheld`` (what a pseudonymised archive writes). Anything else
    /// would bring personal data into the ledger in clear, beyond the reach of erasure.
    public static func archivedFieldProblem(_ field: String, _ value: String) -> String? {
        if isSealed(value) || (field == "name" && value == withheld) { return nil }
        let shown = value.hasPrefix(prefix) ? "text that starts like a sealed field but is not valid ciphertext" : "text in clear"
        return "sealed ciphertext (\(prefix)<base64 of at least \(minimumSealedBytes) bytes>)" + (field == "name" ? " or \(withheld)" : "") + ", got " + shown
    }

    /// What is wrong with a personal field given for sealing (an NDJSON import), or nil. A
    /// value that already looks sealed (copied from `log --format ndjson`) would be sealed
    /// again and shown as gibberish; `(erased)` or `(withheld)` would pass for an erased or
    /// withheld person while the key still exists.
    public static func clearFieldProblem(_ value: String) -> String? {
        if value.hasPrefix(prefix) { return "text that is already sealed (\(prefix)…)" }
        if value == erased || value == withheld { return "\"\(value)\" (what outputs show for an erased or withheld person)" }
        return nil
    }

    /// Personal field names of a type (empty for all but PersonRegistered).
    public static func fields(of type: EventType) -> [String] {
        type.fields.filter(\.personal).map(\.name)
    }

    /// `data` with its personal fields sealed under `key`.
    static func sealing(_ data: JSONObject, of type: EventType, key: [UInt8]) throws -> JSONObject {
        var out = data
        let person = data.string("person_id") ?? ""
        for field in fields(of: type) {
            if let plain = data.string(field) {
                out[field] = .string(try seal(plain, key: key, person: person, field: field))
            }
        }
        return out
    }

    /// `data` with its personal fields opened with `key`, or shown as erased when there is none.
    public static func opening(_ data: JSONObject, of type: EventType, key: [UInt8]?) -> JSONObject {
        var out = data
        let person = data.string("person_id") ?? ""
        for field in fields(of: type) {
            guard let sealed = data.string(field) else { continue }
            let plain = key.flatMap { open(sealed, key: $0, person: person, field: field) }
            out[field] = .string(plain ?? erased)
        }
        return out
    }
}
