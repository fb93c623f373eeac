import Crypto
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Ed25519 keys in the text forms of C2SP signed-note (as golang.org/x/mod/sumdb/note writes
/// them), so that Go's note tooling and Trellis read each other's keys:
///
///     verifier key   <name>+<key hash, 8 hex>+<base64(0x01 ‖ 32-byte public key)>
///     signer key     PRIVATE+KEY+<name>+<key hash, 8 hex>+<base64(0x01 ‖ 32-byte seed)>
///     key hash       the first 4 bytes (big-endian) of SHA-256(name ‖ "\n" ‖ 0x01 ‖ public key)
///
/// ## Topics
/// - ``NoteSigningKey``
/// - ``NoteVerifierKey``
/// - ``NoteKeyError``
public enum NoteKey {
    /// The signed-note algorithm byte for Ed25519.
    static let ed25519: UInt8 = 1
    /// Key files are a line of text; anything larger is not a key file.
    public static let maximumFileBytes = 4096

    /// The 4-byte key hash that signature lines carry.
    public static func keyHash(name: String, publicKey: [UInt8]) -> UInt32 {
        var h = SHA256()
        h.update(data: Array(name.utf8) + [0x0A, ed25519] + publicKey)
        return Array(h.finalize()).prefix(4).reduce(0) { $0 << 8 | UInt32($1) }
    }

    /// Non-empty, no Unicode spaces, no "+" (signed-note's rule for key names).
    public static func isValidName(_ name: String) -> Bool {
        !name.isEmpty && !name.contains("+") && !name.unicodeScalars.contains { $0.properties.isWhitespace || $0.value < 0x20 }
    }

    public static func hex8(_ v: UInt32) -> String {
        let s = String(v, radix: 16)
        return String(repeating: "0", count: 8 - s.count) + s
    }

    /// `name+hash+base64(0x01 ‖ 32 bytes)`: the three fields, the hash checked.
    static func parseFields(_ text: String, what: String) throws(NoteKeyError) -> (name: String, hash: UInt32, key: [UInt8]) {
        // Base64 may hold "+": the key is everything after the second "+".
        let parts = text.split(separator: "+", maxSplits: 2, omittingEmptySubsequences: false)
        guard parts.count == 3 else { throw .malformed("a \(what) is <name>+<8 hex digits>+<base64 key>") }
        let name = String(parts[0])
        guard isValidName(name) else { throw .malformed("the key name \"\(name)\" is empty or holds a space or \"+\"") }
        guard parts[1].utf8.count == 8, let hash = UInt32(parts[1], radix: 16), parts[1].allSatisfy(\.isHexDigit) else {
            throw .malformed("the key hash \"\(parts[1])\" is not 8 hex digits")
        }
        guard let raw = Base64.decode(String(parts[2])) else { throw .malformed("the key is not base64") }
        guard raw.count == 33, raw[0] == ed25519 else {
            throw .malformed("the key is not an Ed25519 key (algorithm byte 0x01 and 32 bytes)")
        }
        return (name, hash, Array(raw[1...]))
    }
}

public enum NoteKeyError: Error, CustomStringConvertible, Sendable, Equatable {
    case missing(String)
    case unreadable(String, String)
    case malformed(String)
    /// A key file that is not what it should be: the path and why.
    case badFile(String, String)
    case exists(String)

    public var description: String {
        switch self {
        case .missing(let p): return "no key file at \(p) (make a key pair with: trellis checkpoint keygen --out NAME)"
        case .unreadable(let p, let why): return "cannot read \(p): \(why)"
        case .malformed(let why): return why
        case .badFile(let p, let why): return "\(p): \(why)"
        case .exists(let p): return "\(p) exists; give --force to replace it (a replaced key cannot sign for the old public key)"
        }
    }

    /// CLI.md: 66 missing or unreadable, 65 malformed, 64 an output that exists without --force.
    public var exitCode: Int32 {
        switch self {
        case .missing, .unreadable: return 66
        case .malformed, .badFile: return 65
        case .exists: return 64
        }
    }
}

/// A note verifier key (the `.pub` file): checks signature lines made by its signer.
public struct NoteVerifierKey: Sendable, Equatable {
    public let name: String
    public let keyHash: UInt32
    public let publicKey: [UInt8]

    public init(name: String, publicKey: [UInt8]) {
        self.name = name
        self.publicKey = publicKey
        keyHash = NoteKey.keyHash(name: name, publicKey: publicKey)
    }

    /// Parses `name+hash+base64(0x01 ‖ key)`; the hash must be the key's.
    public init(encoded: String) throws(NoteKeyError) {
        let f = try NoteKey.parseFields(encoded, what: "public key")
        guard NoteKey.keyHash(name: f.name, publicKey: f.key) == f.hash else {
            throw .malformed("the key hash \(NoteKey.hex8(f.hash)) does not match the name and key (altered?)")
        }
        guard (try? Curve25519.Signing.PublicKey(rawRepresentation: f.key)) != nil else { throw .malformed("not an Ed25519 public key") }
        self.init(name: f.name, publicKey: f.key)
    }

    public var encoded: String {
        "\(name)+\(NoteKey.hex8(keyHash))+\(Base64.encode([NoteKey.ed25519] + publicKey))"
    }

    /// Whether `signature` (64 bytes) is this key's Ed25519 signature of `message`.
    public func verifies(_ signature: [UInt8], of message: [UInt8]) -> Bool {
        guard let key = try? Curve25519.Signing.PublicKey(rawRepresentation: publicKey) else { return false }
        return key.isValidSignature(signature, for: message)
    }
}

/// A note signer key (the `.key` file, secret). Its description never shows the key.
public struct NoteSigningKey: Sendable, CustomStringConvertible {
    public let name: String
    private let privateKey: Curve25519.Signing.PrivateKey

    public init(name: String, seed: [UInt8]) throws(NoteKeyError) {
        guard NoteKey.isValidName(name) else { throw .malformed("the key name \"\(name)\" is empty or holds a space or \"+\"") }
        guard seed.count == 32, let k = try? Curve25519.Signing.PrivateKey(rawRepresentation: seed) else {
            throw .malformed("an Ed25519 private key is 32 bytes")
        }
        self.name = name
        privateKey = k
    }

    /// A new random key.
    public static func generate(name: String) throws(NoteKeyError) -> NoteSigningKey {
        try NoteSigningKey(name: name, seed: Array(Curve25519.Signing.PrivateKey().rawRepresentation))
    }

    /// Parses `PRIVATE+KEY+name+hash+base64(0x01 ‖ seed)`; the hash must be the derived public key's.
    public init(encoded: String) throws(NoteKeyError) {
        guard encoded.hasPrefix("PRIVATE+KEY+") else { throw .malformed("a private key starts with PRIVATE+KEY+") }
        let f = try NoteKey.parseFields(String(encoded.dropFirst("PRIVATE+KEY+".count)), what: "private key")
        try self.init(name: f.name, seed: f.key)
        guard verifier.keyHash == f.hash else {
            throw .malformed("the key hash \(NoteKey.hex8(f.hash)) does not match the name and key (altered?)")
        }
    }

    public var verifier: NoteVerifierKey {
        NoteVerifierKey(name: name, publicKey: Array(privateKey.publicKey.rawRepresentation))
    }

    /// The secret text form, for the key file only.
    public var encoded: String {
        "PRIVATE+KEY+\(name)+\(NoteKey.hex8(verifier.keyHash))+\(Base64.encode([NoteKey.ed25519] + Array(privateKey.rawRepresentation)))"
    }

    public func sign(_ message: [UInt8]) throws -> [UInt8] {
        Array(try privateKey.signature(for: message))
    }

    public var description: String { "signing key \(name)+\(NoteKey.hex8(verifier.keyHash))" }
}

// MARK: - Key files

public enum NoteKeyFile {
    /// The first line of a small text file (at most ``NoteKey/maximumFileBytes``).
    public static func readLine(_ path: String) throws(NoteKeyError) -> String {
        let bytes = try readBounded(path, limit: NoteKey.maximumFileBytes)
        guard let text = String(validating: bytes, as: UTF8.self) else { throw .badFile(path, "not UTF-8 text") }
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        let rest = lines.dropFirst().filter { !$0.isEmpty }
        guard let first = lines.first, !first.isEmpty, rest.isEmpty else { throw .badFile(path, "a key file holds one line") }
        return String(first.hasSuffix("\r") ? first.dropLast() : first)
    }

    public static func signingKey(_ path: String) throws(NoteKeyError) -> NoteSigningKey {
        let line = try readLine(path)
        do { return try NoteSigningKey(encoded: line) } catch { throw .badFile(path, "not a Trellis/signed-note private key: \(error)") }
    }

    public static func verifierKey(_ path: String) throws(NoteKeyError) -> NoteVerifierKey {
        let line = try readLine(path)
        if line.hasPrefix("PRIVATE+KEY+") { throw .badFile(path, "this is a private key; give the .pub file") }
        do { return try NoteVerifierKey(encoded: line) } catch { throw .badFile(path, "not a signed-note public key: \(error)") }
    }

    /// Reads at most `limit` bytes; a larger file is refused rather than read.
    static func readBounded(_ path: String, limit: Int) throws(NoteKeyError) -> [UInt8] {
        let fd = open(path, O_RDONLY)
        if fd < 0 {
            if errno == ENOENT { throw .missing(path) }
            throw .unreadable(path, String(cString: strerror(errno)))
        }
        defer { close(fd) }
        var st = stat()
        if fstat(fd, &st) == 0, (st.st_mode & S_IFMT) == S_IFDIR { throw .unreadable(path, "it is a directory") }
        var out: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n < 0 { if errno == EINTR { continue }; throw .unreadable(path, String(cString: strerror(errno))) }
            if n == 0 { break }
            out.append(contentsOf: buffer[0..<n])
            if out.count > limit { throw .badFile(path, "larger than \(limit) bytes") }
        }
        return out
    }

    /// Writes `NAME.key` (mode 0600) and `NAME.pub` for a new key; refuses to replace either
    /// unless `force`. Each file appears whole or not at all (written aside, then linked or renamed).
    public static func writePair(_ key: NoteSigningKey, base: String, force: Bool) throws(NoteKeyError) -> (key: String, pub: String) {
        let keyPath = base + ".key", pubPath = base + ".pub"
        if !force {
            for p in [keyPath, pubPath] where access(p, F_OK) == 0 { throw .exists(p) }
        }
        try place(key.encoded + "\n", at: keyPath, mode: 0o600, force: force)
        try place(key.verifier.encoded + "\n", at: pubPath, mode: 0o644, force: force)
        return (keyPath, pubPath)
    }

    static func place(_ text: String, at path: String, mode: mode_t, force: Bool) throws(NoteKeyError) {
        let temp = path + ".tmp-\(getpid())"
        let fd = open(temp, O_WRONLY | O_CREAT | O_EXCL, mode)
        guard fd >= 0 else { throw .unreadable(temp, "cannot create: \(String(cString: strerror(errno)))") }
        let bytes = Array(text.utf8)
        let written = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        let ok = written == bytes.count && fchmod(fd, mode) == 0 && fsync(fd) == 0
        close(fd)
        guard ok else { unlink(temp); throw .unreadable(path, "cannot write: \(String(cString: strerror(errno)))") }
        // link() fails if the target exists, so without --force nothing is ever replaced.
        let placed = force ? rename(temp, path) : link(temp, path)
        let why = String(cString: strerror(errno))
        let existed = errno == EEXIST
        if !force || placed != 0 { unlink(temp) }
        if placed != 0 { throw existed ? .exists(path) : .unreadable(path, "cannot write: \(why)") }
    }
}

// MARK: - Base64 (RFC 4648 standard alphabet, padded; strict)

enum Base64 {
    static let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)
    static let values: [UInt8] = {
        var v = [UInt8](repeating: 0xFF, count: 256)
        for (i, c) in alphabet.enumerated() { v[Int(c)] = UInt8(i) }
        return v
    }()

    static func encode(_ bytes: [UInt8]) -> String {
        var out: [UInt8] = []
        out.reserveCapacity((bytes.count + 2) / 3 * 4)
        var i = 0
        while i < bytes.count {
            let n = min(3, bytes.count - i)
            let b0 = bytes[i], b1 = n > 1 ? bytes[i + 1] : 0, b2 = n > 2 ? bytes[i + 2] : 0
            out.append(alphabet[Int(b0 >> 2)])
            out.append(alphabet[Int((b0 & 3) << 4 | b1 >> 4)])
            out.append(n > 1 ? alphabet[Int((b1 & 15) << 2 | b2 >> 6)] : UInt8(ascii: "="))
            out.append(n > 2 ? alphabet[Int(b2 & 63)] : UInt8(ascii: "="))
            i += 3
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// nil unless `text` is canonical padded base64.
    static func decode(_ text: String) -> [UInt8]? {
        let s = Array(text.utf8)
        guard s.count % 4 == 0 else { return nil }
        var out: [UInt8] = []
        out.reserveCapacity(s.count / 4 * 3)
        var i = 0
        while i < s.count {
            let last = i + 4 == s.count
            let pad = last ? (s[i + 3] == UInt8(ascii: "=") ? (s[i + 2] == UInt8(ascii: "=") ? 2 : 1) : 0) : 0
            var v: UInt32 = 0
            for j in 0..<(4 - pad) {
                let d = values[Int(s[i + j])]
                guard d != 0xFF else { return nil }
                v = v << 6 | UInt32(d)
            }
            v <<= UInt32(6 * pad)
            let chunk = [UInt8(v >> 16 & 0xFF), UInt8(v >> 8 & 0xFF), UInt8(v & 0xFF)]
            out.append(contentsOf: chunk.prefix(3 - pad))
            // Canonical: the bits the padding drops must be zero.
            if pad > 0, chunk[3 - pad] != 0 { return nil }
            i += 4
        }
        return out
    }
}
