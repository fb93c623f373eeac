import ArgumentParser
import TrellisLedger
import TrellisResearch

extension CheckpointCommand {
    struct Keygen: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Make an Ed25519 key pair for checkpoints: NAME.key (secret, mode 0600) and NAME.pub.",
            discussion: """
                Both files are one line in the signed-note key format of
                golang.org/x/mod/sumdb/note (NAME.pub: <key name>+<key hash>+<base64
                key>), so other note tooling reads them. The private key is never
                printed.
                Example: trellis checkpoint keygen --out board-2026
                """)

        @Option(help: ArgumentHelp("Where to write: NAME.key and NAME.pub.", valueName: "NAME"))
        var out: String

        @Option(help: ArgumentHelp("The key name in signature lines (default: the last part of NAME; no spaces or '+').", valueName: "text"))
        var name: String?

        @Flag(help: "Replace NAME.key and NAME.pub if they exist.")
        var force = false

        func validate() throws {
            if out.isEmpty || out.hasSuffix("/") { throw ValidationError("--out NAME must name a file (NAME.key and NAME.pub are written)") }
            if !NoteKey.isValidName(keyName) { throw ValidationError("the key name \"\(keyName)\" must be non-empty, without spaces or '+' (give --name)") }
        }

        var keyName: String { name ?? String(out.split(separator: "/").last ?? Substring(out)) }

        func run() throws {
            let key = try NoteSigningKey.generate(name: keyName)
            let paths = try NoteKeyFile.writePair(key, base: out, force: force)
            Console.out("""
                wrote \(paths.key) (private: mode 0600, keep it secret) and \(paths.pub)
                public key \(key.verifier.encoded)
                """)
        }
    }
}
