// The chain's SHA-256, called straight into the BoringSSL that swift-crypto builds (its
// `CCryptoBoringSSL` module, which SwiftPM makes visible to every target that depends on
// `Crypto`). `Crypto.SHA256` allocates its context on the heap for every digest and zeroes it
// three times; the chain hashes every event once on import and verify, where that was a
// malloc, a free and 300 bytes of `memset` an event. These take a context on the stack and
// nothing else; the compression is the same BoringSSL code (SHA-NI where the CPU has it).
// `ChainSHA256Tests` holds them to `Crypto.SHA256` on inputs of every length up to 600 bytes,
// split at every point.
import CCryptoBoringSSL

package enum ChainSHA256 {
    /// SHA-256 of `bytes`.
    @inline(__always)
    package static func digest(_ bytes: UnsafeRawBufferPointer) -> Digest32 {
        var out = Digest32()
        withUnsafeMutableBytes(of: &out.words) { o in
            let d = bytes.baseAddress ?? UnsafeRawPointer(o.baseAddress!)
            _ = CCryptoBoringSSL_SHA256(d.assumingMemoryBound(to: UInt8.self), bytes.count, o.baseAddress!.assumingMemoryBound(to: UInt8.self))
        }
        return out
    }

    /// SHA-256 of `a ‖ b`.
    @inline(__always)
    package static func digest(_ a: UnsafeRawBufferPointer, _ b: UnsafeRawBufferPointer) -> Digest32 {
        var context = SHA256_CTX()
        var out = Digest32()
        withUnsafeMutableBytes(of: &out.words) { o in
            let any = UnsafeRawPointer(o.baseAddress!)
            _ = CCryptoBoringSSL_SHA256_Init(&context)
            _ = CCryptoBoringSSL_SHA256_Update(&context, a.baseAddress ?? any, a.count)
            _ = CCryptoBoringSSL_SHA256_Update(&context, b.baseAddress ?? any, b.count)
            _ = CCryptoBoringSSL_SHA256_Final(o.baseAddress!.assumingMemoryBound(to: UInt8.self), &context)
        }
        return out
    }
}
