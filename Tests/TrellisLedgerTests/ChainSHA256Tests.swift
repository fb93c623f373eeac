import Crypto
import Foundation
import Testing
import TrellisCore

/// The chain's SHA-256 calls BoringSSL directly (`ChainSHA256`): it must give what
/// `Crypto.SHA256` gives, for one buffer and for two buffers hashed as one.
@Suite struct ChainSHA256Tests {
    static func reference(_ bytes: [UInt8]) -> [UInt8] { Array(SHA256.hash(data: bytes)) }

    @Test func theStandardsVectors() {
        // FIPS 180-2, appendix B.1 and B.2, and the empty message.
        let vectors: [(String, String)] = [
            ("abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"),
            ("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq", "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"),
            ("", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"),
        ]
        for (message, hex) in vectors {
            let bytes = Array(message.utf8)
            let one = bytes.withUnsafeBytes { ChainSHA256.digest($0) }
            #expect(Hex.encode(one.withUnsafeBufferPointer { Array($0) }) == hex, "\(message)")
            for cut in 0...bytes.count {
                let two = bytes[..<cut].withUnsafeBytes { a in bytes[cut...].withUnsafeBytes { b in ChainSHA256.digest(a, b) } }
                #expect(two == one, "\(message) cut at \(cut)")
            }
        }
    }

    /// Every length from 0 to 600 bytes (across the 64-byte blocks and their padding), each
    /// also split at every point: the same digest as `Crypto.SHA256`.
    @Test func everyLengthAndEverySplitAgreesWithCrypto() {
        var rng = SystemRandomNumberGenerator()
        let all = (0..<600).map { _ in UInt8.random(in: 0...255, using: &rng) }
        var checked = 0
        for length in 0...all.count {
            let bytes = Array(all[..<length])
            let expected = Self.reference(bytes)
            let one = bytes.withUnsafeBytes { ChainSHA256.digest($0) }
            #expect(one.withUnsafeBufferPointer { Array($0) } == expected, "length \(length)")
            for cut in 0...length {
                let two = bytes[..<cut].withUnsafeBytes { a in bytes[cut...].withUnsafeBytes { b in ChainSHA256.digest(a, b) } }
                if two != one { Issue.record("length \(length) cut at \(cut)") }
                checked += 1
            }
        }
        #expect(checked == 601 * 602 / 2)
    }
}
