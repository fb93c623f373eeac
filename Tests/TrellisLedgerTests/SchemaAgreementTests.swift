import Foundation
import Testing
@testable import TrellisLedger
@testable import TrellisCore

/// The JSON Schemas under schemas/ are the contract: for every example line, the Swift
/// decoder and the schema (through Python's jsonschema) must give the same verdict.
@Suite struct SchemaAgreementTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static let examples = root.appendingPathComponent("Tests/TrellisLedgerTests/Examples")

    static var exampleFiles: [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: examples.path)) ?? []).filter { $0.hasSuffix(".ndjson") }.sorted()
    }

    /// Verdicts of tools/check_schemas.py, one per line: true = accepted.
    static func schemaVerdicts(_ file: URL) throws -> [Bool] {
        let r = try runTool("python3", [root.appendingPathComponent("tools/check_schemas.py").path, file.path])
        return r.stdout.split(separator: "\n").map { $0.split(separator: "\t").dropFirst().first == "ok" }
    }

    @Test func everyEventTypeHasValidAndInvalidExamples() {
        for type in EventType.allCases {
            #expect(Self.exampleFiles.contains("\(type.rawValue).valid.ndjson"), "no valid examples for \(type.rawValue)")
            #expect(Self.exampleFiles.contains("\(type.rawValue).invalid.ndjson"), "no invalid examples for \(type.rawValue)")
        }
    }

    @Test(arguments: exampleFiles)
    func decoderAndSchemaAgreeLineByLine(_ name: String) throws {
        let url = Self.examples.appendingPathComponent(name)
        let lines = try String(contentsOf: url, encoding: .utf8).split(separator: "\n", omittingEmptySubsequences: false)
            .map(String.init).filter { !$0.isEmpty }
        let schema = try Self.schemaVerdicts(url)
        #expect(schema.count == lines.count)
        let expectValid = name.hasSuffix(".valid.ndjson")
        for (i, line) in lines.enumerated() where i < schema.count {
            let swift: Bool
            if case .success = EventDecoder.decode(json: line, number: i + 1) { swift = true } else { swift = false }
            #expect(swift == schema[i], "\(name) line \(i + 1): decoder says \(swift ? "valid" : "invalid"), schema says \(schema[i] ? "valid" : "invalid")")
            #expect(swift == expectValid, "\(name) line \(i + 1) should be \(expectValid ? "valid" : "invalid")")
        }
    }
}
