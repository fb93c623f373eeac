import ArgumentParser
import TrellisLedger
import TrellisCore
import TrellisGenerator
#if canImport(Glibc)
import Glibc
#endif

struct GenerateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "generate",
        abstract: "Write a realistic synthetic region as NDJSON on standard output (deterministic for a seed).",
        discussion: """
            Several networks of trusts over English academic years: half-termly meetings and
            registers (some typed up weeks late), trusts drifting into isolation, document
            shares and adoptions, review triads (some overdue or withdrawn), members joining
            and leaving, a few retractions. About 42 events per organisation per year.
            Examples:
              trellis generate --seed 7 | trellis import -
              trellis generate --networks 12 --orgs 2500 --years 10 --events 1000000 > big.ndjson
            """)

    @Option(help: "Number of networks.") var networks = 3
    @Option(help: "Number of organisations in the region.") var orgs = 60
    @Option(help: "Academic years to cover.") var years = 3
    @Option(help: "Seed: the same options and seed give the same bytes.") var seed: UInt64 = 1
    @Option(help: "Stop after this many events.") var events: Int?
    @Option(help: "First academic year (2022 means 2022/23).") var startYear = 2022

    func validate() throws {
        if networks < 1 { throw ValidationError("--networks must be at least 1") }
        if orgs < 1 { throw ValidationError("--orgs must be at least 1") }
        if years < 1 || years > 100 { throw ValidationError("--years must be from 1 to 100") }
        if let events, events < 1 { throw ValidationError("--events must be at least 1") }
    }

    func run() throws {
        let generator = RegionGenerator(GeneratorOptions(networks: networks, orgs: orgs, years: years, seed: seed, maxEvents: events, startYear: startYear))
        var broken = false
        generator.runChunks { chunk in
            guard !broken else { return }
            var off = 0
            while off < chunk.count {
                let n = write(1, chunk.baseAddress! + off, chunk.count - off)
                if n <= 0 { if errno == EINTR { continue }; broken = true; return }  // reader went away (| head)
                off += n
            }
        }
    }
}
