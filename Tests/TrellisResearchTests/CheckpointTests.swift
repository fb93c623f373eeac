import Foundation
import Testing
@testable import TrellisLedger
import TrellisResearch
@testable import TrellisCore

// Go's note vectors (golang.org/x/mod/sumdb/note, note_test.go; BSD licence, Copyright 2019
// The Go Authors): a signer key, its verifier key, and a note it signed.
private let goSignerKey = "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz"
private let goVerifierKey = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
private let goText = "If you think cryptography is the answer to your problem,\nthen you don't know what your problem is.\n"
private let goSignatureLine = "— PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM="

/// Rewrites history consistently, as someone holding the file could: the actor of the event
/// at `seq` is changed, every later hash recomputed so that the chain verifies, and the
/// append-only triggers recreated afterwards.
private func rewriteConsistently(_ db: String, from seq: Int, actor: String) throws {
    let select = "SELECT seq, id, type, v, occurred_at, recorded_at, actor, data FROM events WHERE seq >= \(seq) ORDER BY seq"
    let rows = TestStore.isFile ? try tool("sqlite3", ["-json", db, select])
        : try TestStore.psql(db, "SELECT json_agg(t ORDER BY seq) FROM (\(select)) t").outcome
    guard rows.status == 0, let list = try JSONSerialization.jsonObject(with: Data(rows.stdout.utf8)) as? [[String: Any]] else {
        throw SupportFailure("reading the events failed: \(rows)")
    }
    var previous = CanonicalEnvelope.genesis
    if seq > 1 {
        let h = try ledgerRows(db, "SELECT hex(hash) FROM events WHERE seq = \(seq - 1)", postgres: "SELECT encode(hash, 'hex') FROM events WHERE seq = \(seq - 1)")
            .trimmingCharacters(in: .whitespacesAndNewlines)
        previous = try #require(Hex.decode(h))
    }
    var updates = ""
    for (i, row) in list.enumerated() {
        var e = RecordedEvent(seq: (row["seq"] as? NSNumber)?.int64Value ?? 0, id: row["id"] as? String ?? "", type: row["type"] as? String ?? "",
                              v: (row["v"] as? NSNumber)?.int64Value ?? 0, occurredAt: row["occurred_at"] as? String ?? "",
                              recordedAt: row["recorded_at"] as? String ?? "", actor: row["actor"] as? String, data: row["data"] as? String ?? "", hash: [])
        if i == 0 { e.actor = actor }
        let bytes = CanonicalEnvelope.bytes(e)
        previous = bytes.withUnsafeBufferPointer { CanonicalEnvelope.chain(previous, $0) }
        let setActor = i == 0 ? "actor = '\(actor.replacingOccurrences(of: "'", with: "''"))', " : ""
        updates += "UPDATE events SET \(setActor)hash = " + (TestStore.isFile ? "X'\(Hex.encode(previous))'" : "decode('\(Hex.encode(previous))', 'hex')")
            + " WHERE seq = \(e.seq);\n"
    }
    if TestStore.isPostgreSQL {
        // As the database's owner, past the append-only triggers, which stay as they are.
        let r = try TestStore.psql(db, "SET LOCAL session_replication_role = replica;\n" + updates)
        guard r.status == 0, r.stderr.isEmpty else { throw SupportFailure("rewrite failed: \(r)") }
        return
    }
    // The trigger is put back exactly as it was, as a careful forger would.
    let trigger = try sqliteRows(db, "SELECT sql FROM sqlite_master WHERE type = 'trigger' AND name = 'events_no_update'")
        .trimmingCharacters(in: .whitespacesAndNewlines)
    let sql = "BEGIN; DROP TRIGGER events_no_update;\n" + updates + trigger + ";\nCOMMIT;\n"
    let script = db + ".rewrite.sql"
    try sql.write(toFile: script, atomically: true, encoding: .utf8)
    let r = try tool("sqlite3", [db], stdinFile: script)
    guard r.status == 0, r.stderr.isEmpty else { throw SupportFailure("rewrite failed: \(r)") }
}

/// A key pair made by the real binary in `dir`.
private func keygen(_ dir: Scratch, _ name: String) throws -> (key: String, pub: String) {
    let r = try trellis("checkpoint", "keygen", "--out", dir.file(name))
    guard r.status == 0 else { throw SupportFailure("keygen failed: \(r)") }
    return (dir.file(name + ".key"), dir.file(name + ".pub"))
}

private func checkpoint(_ db: String, key: String, to file: String, _ extra: String...) throws -> String {
    let r = try run(Paths.trellis, ["checkpoint", "--db", db, "--key", key] + extra)
    guard r.status == 0 else { throw SupportFailure("checkpoint failed: \(r)") }
    try r.stdout.write(toFile: file, atomically: true, encoding: .utf8)
    return r.stdout
}

/// A region's NDJSON split in two: the first `fraction` of its lines, then the rest.
private func splitRegion(_ dir: Scratch, seed: Int = 7) throws -> (first: String, rest: String) {
    let gen = try trellis("generate", "--seed", String(seed), "--orgs", "20", "--years", "1")
    guard gen.status == 0 else { throw SupportFailure("generate failed: \(gen)") }
    let lines = gen.stdout.split(separator: "\n", omittingEmptySubsequences: true)
    let cut = lines.count * 3 / 5
    let first = dir.file("first.ndjson"), rest = dir.file("rest.ndjson")
    try (lines[..<cut].joined(separator: "\n") + "\n").write(toFile: first, atomically: true, encoding: .utf8)
    try (lines[cut...].joined(separator: "\n") + "\n").write(toFile: rest, atomically: true, encoding: .utf8)
    return (first, rest)
}

@Suite("Signed checkpoints and verify --checkpoint")
struct CheckpointTests {
    @Test func noteKeysAndSignaturesMatchGoSumdbNote() throws {
        let signer = try NoteSigningKey(encoded: goSignerKey)
        #expect(signer.verifier.encoded == goVerifierKey)
        #expect(signer.encoded == goSignerKey)
        let verifier = try NoteVerifierKey(encoded: goVerifierKey)
        #expect(verifier.keyHash == 0xc74f20a3)
        // Go's signature verifies here; ours verifies and, Ed25519 being deterministic, is Go's.
        let raw = try #require(Data(base64Encoded: String(goSignatureLine.split(separator: " ")[2])))
        #expect(Array(raw.prefix(4)) == [0xc7, 0x4f, 0x20, 0xa3])
        #expect(verifier.verifies(Array(raw.dropFirst(4)), of: Array(goText.utf8)))
        let ours = try signer.sign(Array(goText.utf8))
        #expect(verifier.verifies(ours, of: Array(goText.utf8)))
        #if os(Linux)
        #expect(ours == Array(raw.dropFirst(4)))
        #endif
        #expect(!verifier.verifies(ours, of: Array((goText + "x").utf8)))
        // Manglings Go refuses are refused here too.
        for bad in ["PeterNeumann+c74f20a4+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
                    "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TX",
                    "PeterNeumann+cc469956+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TWBADKEY==",
                    "PeterNeumann+173116ae+ZRpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
                    "Peter Neumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
                    "PeterNeumann+c74f20a3", String(goVerifierKey.dropLast())] {
            #expect(throws: NoteKeyError.self, "\(bad)") { try NoteVerifierKey(encoded: bad) }
        }
        #expect(throws: NoteKeyError.self) { try NoteSigningKey(encoded: goVerifierKey) }
    }

    @Test func checkpointIsATlogCheckpointSignedNote() throws {
        let signer = try NoteSigningKey(encoded: goSignerKey)
        let root = Array(repeating: UInt8(7), count: 32)
        let note = try Checkpoint(origin: "example.org/log", size: 1042, root: root).signed(by: signer)
        let lines = note.split(separator: "\n", omittingEmptySubsequences: false)
        #expect(lines.count == 6)
        #expect(lines[0] == "example.org/log" && lines[1] == "1042" && lines[2] == "BwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwc=")
        #expect(lines[3] == "" && lines[4].hasPrefix("— PeterNeumann ") && lines[5] == "")
        let parsed = try Checkpoint.parse(Array(note.utf8), source: "note")
        #expect(parsed.origin == "example.org/log" && parsed.size == 1042 && parsed.root == root)
        #expect(parsed.signature(by: signer.verifier) == .valid)
        // The signature covers the text: a changed size no longer verifies.
        let forged = note.replacingOccurrences(of: "\n1042\n", with: "\n1043\n")
        #expect(try Checkpoint.parse(Array(forged.utf8), source: "forged").signature(by: signer.verifier) == .invalid)
        for (bad, why) in [("example.org/log\n01042\nBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwc=\n\n— a AAAAAAA=\n", "leading zeros"),
                           ("example.org/log\n1042\nBwcH\n\n— a AAAAAAA=\n", "32 bytes"),
                           ("example.org/log\n1042\nBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwc=\n\n- a AAAAAAA=\n", "em dash"),
                           ("example.org/log\n1042\nBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwc=\n", "blank line")] {
            #expect(throws: Checkpoint.Malformed.self, "\(why)") { try Checkpoint.parse(Array(bad.utf8), source: "bad") }
        }
    }

    @Test func keygenWritesAPrivateKeyOnlyItsOwnerReadsAndNeverOverwrites() throws {
        let dir = try Scratch()
        defer { dir.remove() }
        let r = try trellis("checkpoint", "keygen", "--out", dir.file("board"))
        #expect(r.status == 0, "\(r)")
        let keyText = try String(contentsOfFile: dir.file("board.key"), encoding: .utf8)
        let pubText = try String(contentsOfFile: dir.file("board.pub"), encoding: .utf8)
        #expect(keyText.hasPrefix("PRIVATE+KEY+board+") && pubText.hasPrefix("board+"))
        // PRIVATE+KEY+name+hash+base64: the secret is everything after the fourth "+" (base64
        // itself may contain "+", so the last "+"-separated piece could be a few characters).
        let secret = keyText.trimmingCharacters(in: .newlines).split(separator: "+", maxSplits: 4).last.map(String.init) ?? "?"
        #expect(secret.count >= 40, "\(secret)")
        #expect(!r.stdout.contains(secret), "the private key is never printed")
        #expect(r.stdout.contains(pubText.trimmingCharacters(in: .newlines)))
        let mode = try #require(FileManager.default.attributesOfItem(atPath: dir.file("board.key"))[.posixPermissions] as? Int)
        #expect(mode == 0o600)
        let pair = (try NoteSigningKey(encoded: keyText.trimmingCharacters(in: .newlines)).verifier,
                    try NoteVerifierKey(encoded: pubText.trimmingCharacters(in: .newlines)))
        #expect(pair.0 == pair.1)
        let again = try trellis("checkpoint", "keygen", "--out", dir.file("board"))
        #expect(again.status == 64 && again.stderr.contains("exists"), "\(again)")
        #expect(try String(contentsOfFile: dir.file("board.key"), encoding: .utf8) == keyText)
        let forced = try trellis("checkpoint", "keygen", "--out", dir.file("board"), "--force")
        let replaced = try String(contentsOfFile: dir.file("board.key"), encoding: .utf8)
        #expect(forced.status == 0 && replaced != keyText)
        // Key files: missing 66, malformed 65.
        let db = try regionLedger(in: dir, seed: 3, orgs: 8)
        #expect(try trellis("checkpoint", "--db", db, "--key", dir.file("nope.key")).status == 66)
        try "PRIVATE+KEY+board+00000000+AAAA\n".write(toFile: dir.file("bad.key"), atomically: true, encoding: .utf8)
        let bad = try trellis("checkpoint", "--db", db, "--key", dir.file("bad.key"))
        #expect(bad.status == 65 && bad.stderr.contains("bad.key"), "\(bad)")
        try String(repeating: "x", count: 10_000).write(toFile: dir.file("big.key"), atomically: true, encoding: .utf8)
        #expect(try trellis("checkpoint", "--db", db, "--key", dir.file("big.key")).status == 65)
        #expect(try trellis("checkpoint", "--db", db, "--key", dir.file("board.pub")).status == 65)
    }

    @Test func anHonestLedgerExtendsItsCheckpointAndTheProofsAgree() throws {
        let dir = try Scratch()
        defer { dir.remove() }
        let keys = try keygen(dir, "board")
        let (first, rest) = try splitRegion(dir)
        let db = dir.file("ledger.db")
        #expect(try trellis("import", "--db", db, first).status == 0)
        let note = try checkpoint(db, key: keys.key, to: dir.file("cp.txt"))
        let size = try #require(Int(note.split(separator: "\n")[1]))
        let origin = String(note.split(separator: "\n")[0])
        #expect(origin.hasPrefix("trellis/") && origin.count == "trellis/".count + 16)
        #expect(try trellis("import", "--db", db, rest).status == 0)
        let head = try #require(try jsonObject(try trellis("status", "--db", db, "--format", "json").stdout)["head_seq"] as? Int)
        #expect(head > size)

        let ok = try trellis("verify", "--db", db, "--checkpoint", dir.file("cp.txt"), "--public-key", keys.pub)
        #expect(ok.status == 0 && ok.stdout.contains("extends the checkpoint") && ok.stdout.contains("signed by board"), "\(ok)")
        let unsigned = try trellis("verify", "--db", db, "--checkpoint", dir.file("cp.txt"))
        #expect(unsigned.status == 0 && unsigned.stdout.contains("signature not checked"), "\(unsigned)")

        // The honest-ledger failure of issue 9: the root published at the old size checks as --old-root.
        let rootAtSize = try jsonObject(try trellis("proof", "root", "--db", db, "--size", String(size)).stdout)["root"] as? String ?? ""
        let c = try trellis("proof", "consistency", "--db", db, String(size))
        try c.stdout.write(toFile: dir.file("c.json"), atomically: true, encoding: .utf8)
        let checked = try trellis("proof", "check", dir.file("c.json"), "--old-root", rootAtSize)
        #expect(checked.status == 0, "\(checked)")
        let py = try tool("python3", [Paths.verifyProof, "check", dir.file("c.json"), "--old-root", rootAtSize])
        #expect(py.status == 0, "\(py)")
        // The checkpoint's base64 root is that same root.
        #expect(Hex.encode(Array(Data(base64Encoded: String(note.split(separator: "\n")[2])) ?? Data())) == rootAtSize)
        // Given as --root (the new root), it is refused with a pointer to --old-root.
        let misuse = try trellis("proof", "check", dir.file("c.json"), "--root", rootAtSize)
        #expect(misuse.status == 1 && misuse.stdout.contains("--old-root"), "\(misuse)")
        let wrongOld = try trellis("proof", "check", dir.file("c.json"), "--old-root", String(repeating: "ab", count: 32))
        #expect(wrongOld.status == 1 && wrongOld.stdout.contains("old root"), "\(wrongOld)")

        // The same checkpoint against an export of the ledger.
        let archive = dir.file("all.lz4")
        #expect(try trellis("export", "--db", db, "--out", archive).status == 0)
        let a = try trellis("verify", "--archive", archive, "--checkpoint", dir.file("cp.txt"), "--public-key", keys.pub)
        #expect(a.status == 0 && a.stdout.contains("the archive extends the checkpoint"), "\(a)")
    }

    @Test func aConsistentRewriteIsCaughtOnlyByTheCheckpoint() throws {
        let dir = try Scratch()
        defer { dir.remove() }
        let keys = try keygen(dir, "board")
        let (first, rest) = try splitRegion(dir, seed: 11)
        let db = dir.file("ledger.db")
        #expect(try trellis("import", "--db", db, first).status == 0)
        let note = try checkpoint(db, key: keys.key, to: dir.file("cp.txt"))
        let size = try #require(Int(note.split(separator: "\n")[1]))
        let cpRoot = Hex.encode(Array(Data(base64Encoded: String(note.split(separator: "\n")[2])) ?? Data()))
        #expect(try trellis("import", "--db", db, rest).status == 0)
        let archiveBefore = dir.file("before.lz4")
        #expect(try trellis("export", "--db", db, "--out", archiveBefore).status == 0)

        try rewriteConsistently(db, from: size / 2, actor: "Someone Else")
        let chain = try trellis("verify", "--db", db, "--chain-only")
        #expect(chain.status == 0, "the chain alone cannot see a consistent rewrite: \(chain)")
        let anchored = try trellis("verify", "--db", db, "--checkpoint", dir.file("cp.txt"), "--public-key", keys.pub)
        #expect(anchored.status == 1, "\(anchored)")
        #expect(anchored.stdout.contains("does not extend the checkpoint") && anchored.stdout.contains("at size \(size)")
                && anchored.stdout.contains(cpRoot), "\(anchored)")
        let newRoot = try jsonObject(try trellis("proof", "root", "--db", db, "--size", String(size)).stdout)["root"] as? String ?? "?"
        #expect(newRoot != cpRoot && anchored.stdout.contains(newRoot), "\(anchored)")

        // An archive of the rewritten ledger fails the same way; the one exported before passes.
        let archiveAfter = dir.file("after.lz4")
        #expect(try trellis("export", "--db", db, "--out", archiveAfter).status == 0)
        #expect(try trellis("verify", "--archive", archiveAfter).status == 0)
        let a = try trellis("verify", "--archive", archiveAfter, "--checkpoint", dir.file("cp.txt"))
        #expect(a.status == 1 && a.stdout.contains("the archive does not extend the checkpoint"), "\(a)")
        #expect(try trellis("verify", "--archive", archiveBefore, "--checkpoint", dir.file("cp.txt")).status == 0)
    }

    @Test func tamperedSignatureWrongKeyAndTruncationAreCaught() throws {
        let dir = try Scratch()
        defer { dir.remove() }
        let keys = try keygen(dir, "board")
        let other = try keygen(dir, "other")
        let db = try regionLedger(in: dir, seed: 4, orgs: 8)
        let note = try checkpoint(db, key: keys.key, to: dir.file("cp.txt"))
        #expect(try trellis("verify", "--db", db, "--checkpoint", dir.file("cp.txt"), "--public-key", keys.pub).status == 0)

        // One signature byte changed.
        var lines = note.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        var raw = Array(try #require(Data(base64Encoded: String(lines[4].split(separator: " ")[2]))))
        raw[10] ^= 1
        lines[4] = "— board " + Data(raw).base64EncodedString()
        try lines.joined(separator: "\n").write(toFile: dir.file("tampered.txt"), atomically: true, encoding: .utf8)
        let t = try trellis("verify", "--db", db, "--checkpoint", dir.file("tampered.txt"), "--public-key", keys.pub)
        #expect(t.status == 1 && t.stdout.contains("signature by board does not verify"), "\(t)")

        // A signed text altered (a smaller size, keeping the signature).
        let size = try #require(Int(lines[1]))
        var altered = note.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        altered[1] = String(size - 1)
        try altered.joined(separator: "\n").write(toFile: dir.file("altered.txt"), atomically: true, encoding: .utf8)
        #expect(try trellis("verify", "--db", db, "--checkpoint", dir.file("altered.txt"), "--public-key", keys.pub).status == 1)

        // Someone else's public key.
        let w = try trellis("verify", "--db", db, "--checkpoint", dir.file("cp.txt"), "--public-key", other.pub)
        #expect(w.status == 1 && w.stdout.contains("not signed by the key other+"), "\(w)")

        // A checkpoint larger than the ledger: a truncated copy.
        let short = dir.file("short.db")
        #expect(try trellis("export", "--db", db, "--out", dir.file("short.lz4"), "--until-seq", String(size - 3)).status == 0)
        #expect(try trellis("import", "--db", short, dir.file("short.lz4")).status == 0)
        let s = try trellis("verify", "--db", short, "--checkpoint", dir.file("cp.txt"), "--public-key", keys.pub)
        #expect(s.status == 1 && s.stdout.contains("shorter than the checkpoint (truncated?)") && s.stdout.contains("\(size)"), "\(s)")

        // Malformed checkpoint: 65; missing: 66; --public-key alone: 64.
        try "not a checkpoint\n".write(toFile: dir.file("junk.txt"), atomically: true, encoding: .utf8)
        let j = try trellis("verify", "--db", db, "--checkpoint", dir.file("junk.txt"))
        #expect(j.status == 65 && j.stderr.contains("junk.txt"), "\(j)")
        let none = try trellis("verify", "--db", db, "--checkpoint", dir.file("none.txt"))
        #expect(none.status == 66 && none.stderr.contains("none.txt: no such file"), "\(none)")
        #expect(try trellis("verify", "--db", db, "--public-key", keys.pub).status == 64)
    }

    @Test func theBoardSummaryFooterCarriesTheCheckpoint() throws {
        let dir = try Scratch()
        defer { dir.remove() }
        let keys = try keygen(dir, "board")
        let db = try regionLedger(in: dir, seed: 6, orgs: 8)
        let html = dir.file("board.html")
        let r = try trellis("report", "summary", "--db", db, "--format", "html", "--out", html, "--checkpoint-key", keys.key)
        #expect(r.status == 0, "\(r)")
        let page = try String(contentsOfFile: html, encoding: .utf8)
        let note = try checkpoint(db, key: keys.key, to: dir.file("cp.txt"))
        let escaped = note.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;").replacingOccurrences(of: ">", with: "&gt;")
        #expect(page.contains("<pre class=\"checkpoint\">\(escaped)</pre>"), "the footer shows the same signed checkpoint")
        let plain = try trellis("report", "summary", "--db", db, "--format", "json", "--checkpoint-key", keys.key)
        #expect(plain.status == 64, "\(plain)")
    }
}
