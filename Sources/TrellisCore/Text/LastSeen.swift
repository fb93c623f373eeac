#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A value made from some bytes, kept with those bytes and handed out again while the next
/// bytes are the same. A run of lines repeats a timestamp, an actor, a `recorded_at`; making
/// each anew was an allocation a line (a string of more than 15 bytes), and a parse for a
/// timestamp. The same bytes always make the same value, so handing it out again changes no
/// verdict; a value that could not be made is not kept. Kept by whoever reads a run of lines
/// (a chunk): the import's decoder (``EventDecoder/Recent``), the archive reader, and full
/// verify's replay of the log.
public struct LastSeen<Value> {
    // Inlinable, so that a reader in another module gets it specialized for its value (the
    // archive reader's generic calls cost 0.4 k instructions a line more).
    @usableFromInline var bytes: [UInt8] = []
    @usableFromInline var value: Value?

    @inlinable public init() {}

    /// The value of `b`: the kept one when `b` are the kept bytes, else `make(b)`, then kept.
    @inlinable public mutating func value(of b: UnsafeBufferPointer<UInt8>, orMake make: (UnsafeBufferPointer<UInt8>) -> Value) -> Value {
        if let value, isKept(b) { return value }
        return keep(make(b), for: b)
    }

    /// ``value(of:orMake:)`` for bytes that may make no value (nil, and nothing kept).
    @inlinable public mutating func value(of b: UnsafeBufferPointer<UInt8>, orTry make: (UnsafeBufferPointer<UInt8>) -> Value?) -> Value? {
        if let value, isKept(b) { return value }
        guard let made = make(b) else { return nil }
        return keep(made, for: b)
    }

    @inlinable @inline(__always) func isKept(_ b: UnsafeBufferPointer<UInt8>) -> Bool {
        guard bytes.count == b.count else { return false }
        // One memcmp (a loop over the bytes cost full verify's replay 0.3 k instructions a row).
        return bytes.withUnsafeBufferPointer { kept in
            guard let p = kept.baseAddress, let q = b.baseAddress else { return true }  // both empty
            return memcmp(p, q, b.count) == 0
        }
    }

    @inlinable mutating func keep(_ made: Value, for b: UnsafeBufferPointer<UInt8>) -> Value {
        bytes.removeAll(keepingCapacity: true)
        bytes.append(contentsOf: b)
        value = made
        return made
    }
}

extension LastSeen: Sendable where Value: Sendable {}
