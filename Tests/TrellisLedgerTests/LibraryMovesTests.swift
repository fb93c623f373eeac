import Foundation
import Testing
@testable import TrellisLedger
import TrellisCore

/// What used to live in the CLI and is now library API (issue 12): each behaves as the CLI's
/// copy did.
@Suite struct LibraryMovesTests {
    func ledger(_ dir: ScratchDir) throws -> Ledger {
        let l = try Ledger.open(at: dir.ledgerPath, create: true)
        _ = try l.append { visit in
            for (i, line) in Fixture.lines.enumerated() {
                var text = line
                _ = try text.withUTF8 { try visit($0, i + 1, nil) }
            }
        }
        return l
    }

    @Test func personNamesAreDecryptedWhileTheKeyExistsAndGoneAfterErasure() throws {
        let dir = try ScratchDir("moves")
        defer { dir.remove() }
        let l = try ledger(dir)
        let names = try PersonNames(ledger: l)
        #expect(names.lookup("p-oak") == "Olive Oakes")
        #expect(names.lookup("p-ash") == "Ashok Patel")
        #expect(names.lookup("p-nobody") == nil)
        _ = try l.appendNow(.personErased, ["person_id": "p-oak", "reason": "request"], actor: nil)
        let after = try PersonNames(ledger: l)
        #expect(after.lookup("p-oak") == "(erased)")
        #expect(after.lookup("p-ash") == "Ashok Patel")
    }

    @Test func anEventHappeningNowIsOccurredAtTheCurrentSecondWithItsFieldsInOrder() throws {
        // 2026-03-12T09:30:15.123456Z: the fraction is dropped.
        let micros = (Timestamp.micros("2026-03-12T09:30:15Z") ?? 0) + 123_456
        #expect(micros > 0)
        let text = Ledger.envelope(.eventRetracted, ["event_id": "reg-1", "reason": "wrong meeting"], actor: "lead", micros: micros)
        #expect(text == #"{"type":"EventRetracted","occurred_at":"2026-03-12T09:30:15Z","actor":"lead","data":{"event_id":"reg-1","reason":"wrong meeting"}}"#)
        let noActor = Ledger.envelope(.personErased, ["person_id": "p", "reason": "r"], actor: nil, micros: micros)
        #expect(!noActor.contains("actor"))
    }

    @Test func appendNowGoesThroughTheRules() throws {
        let dir = try ScratchDir("moves")
        defer { dir.remove() }
        let l = try ledger(dir)
        let before = try l.head().seq
        let outcome = try l.appendNow(.eventRetracted, ["event_id": "f-p-ash", "reason": "duplicate"], actor: nil)
        #expect(outcome.appended == 1 && outcome.head.seq == before + 1)
        #expect(try l.retractions().values.contains(before + 1))
        // An unknown event id is refused by the same rules as an import: nothing appended.
        #expect(throws: AppendRejected.self) { try l.appendNow(.eventRetracted, ["event_id": "nope", "reason": "x"], actor: nil) }
        #expect(try l.head().seq == before + 1)
    }

    @Test func atomicFileReplacesWholeOrNotAtAll() throws {
        let dir = try ScratchDir("moves")
        defer { dir.remove() }
        let path = dir.file("report.json")
        try AtomicFile.write("first\n", to: path)
        try AtomicFile.write(Array("second\n".utf8), to: path)
        #expect(try String(contentsOfFile: path, encoding: .utf8) == "second\n")
        let nowhere = dir.file("no/such/dir/out.json")
        do {
            try AtomicFile.write("x", to: nowhere)
            Issue.record("writing into a missing directory must fail")
        } catch {
            #expect(error.exitCode == 66)
            #expect(error.diagnostic.hasPrefix("cannot write \(nowhere): "))
        }
        // Nothing left behind beside the file: no .tmp-<pid>.
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path).sorted() == ["report.json"])
    }

    @Test func wholeTextOfAFileEndsEachLineWithANewline() throws {
        let dir = try ScratchDir("moves")
        defer { dir.remove() }
        let path = try dir.write("def.sql", "a\r\nb")
        #expect(try LineReader.text(of: path, what: "a test file") == "a\nb\n")
        #expect(throws: LineReader.Failure.self) { try LineReader.text(of: dir.file("missing"), what: "a test file") }
        #expect(try LineReader.text(of: path, limit: 4, what: "a test file") == "a\nb\n", "exactly the limit")
        #expect(throws: LineReader.Failure.self) { try LineReader.text(of: path, limit: 3, what: "a test file") }
    }

    @Test func errorsCarryTheirExitCodes() throws {
        let cases: [(any UserFacingError, Int32)] = [
            (LedgerError.missing(path: "x"), 66), (LedgerError.busy(path: "x", seconds: 5), 75),
            (LedgerError.storage(path: "x", reason: "full"), 74), (LedgerError.corrupt(path: "x", reason: "r"), 65),
            (AppendRejected(errors: [], truncated: false), 65), (LineReader.Failure.missing("f"), 66),
            (LineReader.Failure.lineTooLong("f", line: 1, limit: 1 << 20), 65),
            (LineReader.Failure.fileTooLong("f", limit: 4 << 20, what: "a proof"), 65),
            (LineReader.Failure.textLineTooLong("f", line: 1, limit: 1 << 20, what: "a proof"), 65),
            (ScratchFailure(path: "/tmp/x", reason: "full"), 74), (CommandFailure.usage("u"), 64),
        ]
        for (error, code) in cases { #expect(error.exitCode == code, "\(error)") }
        let error = InputError(line: 3, path: "MemberJoined.org_id", expected: "an id", found: "nothing")
        let rejected = AppendRejected(errors: [error, error], truncated: true)
        #expect(rejected.diagnostic == "nothing was appended (2+ errors)")
        #expect(AppendRejected(errors: [error], truncated: false).diagnostic == "nothing was appended (1 error)")
        #expect(rejected.details == [rejected.description])
    }
}
