import ArgumentParser
import TrellisLedger
import TrellisProjections
import TrellisReports
import struct TrellisSheets.SheetError
import TrellisCore
#if canImport(Glibc)
import Glibc
#endif

struct ReportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report",
        abstract: "Participation, review coverage, the collaboration graph, outcomes, documents, and a board summary.",
        discussion: """
            Every figure is computed from the read models; docs/figures.md (installed in
            share/doc/trellis) gives each one's exact definition. In a sentence each:
              participation rate  present / meetings expected while a member; a
                                  network's is the mean of its members' rates, its
                                  attendance rate total present / total expected
              review coverage     share of the members on day d reviewed in (d - W, d]
              reviewer coverage   share of them that reviewed in that window
              overdue             committed by d, due before d, not completed or
                                  withdrawn by d
              outcome sharing     share of the window's completed reviews whose
                                  outcome was shared by d
              graph figures       density, betweenness, clustering, components,
                                  reciprocity, E-I index (see report graph --help)
              documents           shared, adopted, and adoptions received, in the period

            Which networks: --network ID (repeatable); default every network. An unknown id
            exits 64 and lists the known ones. --org ID-or-NAME (repeatable) narrows the
            rows of participation and documents to some organisations.
            Which period (closed-open, by the day things occurred):
              --year 2025/26            1 September 2025 to 31 August 2026
              --from D --to D           [D, D); --from alone runs to the end of that
                                        academic year, --to alone from its start
              (default)                 the academic year of the latest meeting of the
                                        chosen networks (with --as-of T: the latest by T)
            When: --as-of T (the world as it was at T) and/or --known-at T (what the ledger
            knew at T: reproduces an earlier report byte for byte).
            Output: --format table (default on a terminal) | json (default otherwise) |
            csv | md | xlsx (a workbook: an About sheet, then typed sheets), and more per
            report; --out FILE writes to a file (format from its extension when --format is
            not given; an extension that contradicts --format is refused).

            Examples:
              trellis report participation --network n01 --year 2024/25
              trellis report coverage --on 2025-07-31 --format json
              trellis report graph --slice term --format gexf --out waves.gexf
              trellis report summary --format html --out board-report.html

            Exit codes: 64 usage (unknown network or organisation, bad or backward dates,
            --known-at before the first event), 66 no ledger or --out cannot be written.
            --org takes an id or a name (case, spaces and punctuation ignored); a period or
            --on day where the ledger has no events still reports (all empty) but warns on
            stderr and in JSON ("warnings": [...]). Dates: YYYY-MM-DD or DD/MM/YYYY.
            """,
        subcommands: [Participation.self, Coverage.self, Graph.self, Outcomes.self, Documents.self, Summary.self])
}

extension Reported {
    var pair: (Report, Provenance) { (report, provenance) }
}
