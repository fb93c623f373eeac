import ArgumentParser
import TrellisLedger
import TrellisProjections
import TrellisReports
import struct TrellisSheets.SheetError

extension ReportCommand {
    struct Graph: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "The collaboration graph and its network figures; exports for Gephi, networkx, Pajek, Graphviz.",
            discussion: """
                Nodes: organisations that were members of the chosen networks on any day of the
                period. Edge weight: ties of the chosen kinds in the period, both directions
                summed (co_attendance: meetings both attended; document: adoptions; review:
                completed reviews, per reviewer). An edge's columns for kinds not chosen are 0.
                Per node: degree, weighted degree, betweenness (unweighted, normalised as
                networkx), clustering, component. Reciprocity is of the directed review ties
                among the nodes, whatever --ties says. E-I index across networks counts an
                organisation in several networks in the one it was a member of on most days
                of the period (ties: the smallest id); across regions, by its region.

                --slice year|term: one graph per academic year, or per term (autumn
                September–December, spring January–March, summer April–August), each
                clipped to the period; in json, csv, table, md and gexf (as spells).

                Formats: table, json, csv (edge list; --nodes FILE writes the node table),
                md, graphml, gexf (1.3), pajek (.net, labels are organisation ids), dot,
                xlsx (Nodes and Edges sheets).
                Examples:
                  trellis report graph --format graphml --out region.graphml
                  trellis report graph --ties review --format csv --nodes n.csv --out e.csv
                  trellis report graph --slice term --format gexf --out waves.gexf
                """)
        @OptionGroup var options: ReportOptions
        @Option(help: ArgumentHelp("Kinds of tie, comma-separated: co_attendance, document, review (default: all).", valueName: "kinds"))
        var ties: String?
        @Option(help: ArgumentHelp("One graph per year or per term.", valueName: "year|term")) var slice: String?
        @Option(help: ArgumentHelp("With --format csv: also write the node table to this file.", valueName: "file")) var nodes: String?
        @Option(help: "table, json, csv, md, graphml, gexf, pajek, dot or xlsx.") var format: GraphFormat?

        func validate() throws {
            try options.check(format)
            _ = try kinds()
            if let slice, Period.Slicing(rawValue: slice) == nil { throw ValidationError("--slice must be year or term") }
            let f = options.format(format?.format)
            if slice != nil, [.graphml, .pajek, .dot].contains(f) {
                throw ValidationError("--slice works with --format json, csv, table, md or gexf (GEXF keeps the slices as spells)")
            }
            if nodes != nil, f != .csv { throw ValidationError("--nodes goes with --format csv") }
        }

        func kinds() throws -> [TieKind] {
            guard let ties else { return TieKind.allCases }
            var out: [TieKind] = []
            for part in ties.split(separator: ",") {
                let name = String(part).trimmingWhitespace()
                guard let k = TieKind(rawValue: name) else {
                    throw ValidationError("unknown kind of tie '\(name)'; one of " + TieKind.allCases.map(\.rawValue).joined(separator: ", "))
                }
                if !out.contains(k) { out.append(k) }
            }
            if out.isEmpty { throw ValidationError("--ties needs at least one kind") }
            return out
        }

        func run() throws {
            // --nodes writes a second file: computed each time, never cached.
            try ReportRun.cached(options, cacheable: nodes == nil) { source in
                let kinds = try kinds()
                let slicing = slice.flatMap(Period.Slicing.init(rawValue:))
                let (report, provenance) = try ReportRun.figures { try source.graph(options.query, kinds: kinds, slicing: slicing) }.pair
                let f = options.format(format?.format)
                try options.refuseUnlessJSON(f)
                if ![.table, .json, .md].contains(f) { _ = try options.warnings(day: nil) }
                switch f {
                case .graphml: try options.write(GraphExports.graphML(report))
                case .gexf: try options.write(GraphExports.gexf(report))
                case .pajek: try options.write(GraphExports.pajek(report.whole))
                case .dot: try options.write(GraphExports.dot(report))
                case .xlsx: _ = try options.writeXLSX(f, { () throws(SheetError) in try XLSXReports.graph(report, provenance: provenance) }, warned: true)
                case .csv:
                    if let nodes { try AtomicFile.write(GraphExports.nodesCSV(report).csv(), to: nodes) }
                    try options.write(GraphExports.edgesCSV(report).csv())
                default:
                    try options.emit(f, json: { JSONReports.graph(report, provenance: provenance) },
                                     sections: { TextReports.graph(report) }, heading: "Collaboration graph",
                                     csv: { GraphExports.edgesCSV(report) })
                }
            }
        }
    }
}
