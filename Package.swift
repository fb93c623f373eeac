// swift-tools-version:6.1
import PackageDescription

let strict: [SwiftSetting] = [
    .swiftLanguageMode(.v6),
    // Every file imports the modules whose members it uses (SE-0444), so the layering in
    // ARCHITECTURE.md is what the compiler sees, not what transitive imports happen to allow.
    .enableUpcomingFeature("MemberImportVisibility"),
]

let package = Package(
    name: "Trellis",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "trellis", targets: ["TrellisCLI"]),
        .library(name: "TrellisCore", targets: ["TrellisCore"]),
        .library(name: "TrellisLedger", targets: ["TrellisLedger"]),
        .library(name: "TrellisProjections", targets: ["TrellisProjections"]),
        .library(name: "TrellisSheets", targets: ["TrellisSheets"]),
        .library(name: "TrellisPostgres", targets: ["TrellisPostgres"]),
    ],
    dependencies: [
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-crypto", from: "4.5.2"),
        .package(url: "https://github.com/weichsel/ZIPFoundation", from: "0.9.20"),
        // Tests only: property-based checks (Swift Testing).
        .package(url: "https://github.com/x-sheep/swift-property-based", from: "2.0.1"),
    ],
    targets: [
        // liblz4 from the system (apt: liblz4-dev), for the research archives' LZ4 frames.
        .systemLibrary(
            name: "CLZ4",
            pkgConfig: "liblz4",
            providers: [.apt(["liblz4-dev"])]),
        // zlib from the system (apt: zlib1g-dev), for the workbooks' deflated parts.
        .systemLibrary(
            name: "CTrellisZlib",
            pkgConfig: "zlib",
            providers: [.apt(["zlib1g-dev"])]),
        // SQLite's process-wide settings that must precede its first connection (C, at load).
        .target(
            name: "CTrellisSQLite",
            linkerSettings: [.linkedLibrary("sqlite3")]),
        // The pure core: JSON, the event catalogue and decoder, the append rules, the canonical
        // envelope and its chain step, the one event record type. No storage, no I/O.
        .target(
            name: "TrellisCore",
            dependencies: [
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            swiftSettings: strict),
        .target(
            name: "TrellisLedger",
            dependencies: [
                "TrellisCore",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "GRDBSQLite", package: "GRDB.swift"),
                .product(name: "Crypto", package: "swift-crypto"),
                "CTrellisSQLite",
            ],
            swiftSettings: strict),
        // The synthetic region of `trellis generate`: deterministic NDJSON from a seed.
        .target(
            name: "TrellisGenerator",
            dependencies: ["TrellisCore"],
            swiftSettings: strict),
        // libpq (apt: libpq5), loaded with dlopen when a PostgreSQL ledger is first opened,
        // so that a command on a ledger file does not load it and its ~20 libraries.
        .target(
            name: "CLibPQ",
            linkerSettings: [.linkedLibrary("dl")]),
        // The ledger in a PostgreSQL database: the same log, rules and chain as the SQLite file,
        // appended to by many writers (its own target: libpq stays out of TrellisLedger).
        .target(
            name: "TrellisPostgres",
            dependencies: ["TrellisCore", "TrellisLedger", "CLibPQ"],
            swiftSettings: strict),
        .target(
            name: "TrellisProjections",
            dependencies: [
                "TrellisCore",
                "TrellisLedger",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "GRDBSQLite", package: "GRDB.swift"),
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            swiftSettings: strict),
        // Network analysis of the collaboration graph: pure Swift, no dependencies.
        .target(
            name: "TrellisGraph",
            swiftSettings: strict),
        // Spreadsheets as they really come (CSV in any usual encoding/separator, xlsx) and
        // xlsx writing; knows nothing of ledgers.
        .target(
            name: "TrellisSheets",
            dependencies: [
                "TrellisCore",
                "CTrellisZlib",
                .product(name: "ZIPFoundation", package: "ZIPFoundation"),
            ],
            swiftSettings: strict),
        .target(
            name: "TrellisReports",
            dependencies: [
                "TrellisCore",
                "TrellisLedger",
                "TrellisProjections",
                "TrellisGraph",
                "TrellisSheets",
                "CLZ4",
                .product(name: "GRDB", package: "GRDB.swift"),
            ],
            swiftSettings: strict),
        // Research: verifiable LZ4 archives, pseudonymised exports, study databases, Merkle proofs.
        .target(
            name: "TrellisResearch",
            dependencies: [
                "TrellisCore",
                "TrellisLedger",
                "TrellisProjections",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "GRDBSQLite", package: "GRDB.swift"),
                .product(name: "Crypto", package: "swift-crypto"),
                "CLZ4",
            ],
            swiftSettings: strict),
        // Prints every graph metric of an edge list as JSON; tools/graph-check/compare.py
        // holds it against networkx.
        .executableTarget(
            name: "graph-check",
            dependencies: ["TrellisGraph"],
            path: "tools/graph-check",
            exclude: ["compare.py"],
            swiftSettings: strict),
        // Registers and member lists from spreadsheets: attendance and rosters checked cell by cell.
        .target(
            name: "TrellisRegisters",
            dependencies: [
                "TrellisSheets",
                "TrellisCore",
                "TrellisLedger",
                "TrellisProjections",
                "TrellisReports",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            swiftSettings: strict),
        .executableTarget(
            name: "TrellisCLI",
            dependencies: [
                "TrellisCore",
                "TrellisLedger",
                "TrellisGenerator",
                "TrellisPostgres",
                "TrellisProjections",
                "TrellisReports",
                "TrellisResearch",
                "TrellisSheets",
                "TrellisRegisters",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: strict),
        // Release-built benchmark: ours next to the raw sqlite3 limit, in one run.
        .executableTarget(
            name: "trellis-bench",
            dependencies: [
                "TrellisCore",
                "TrellisLedger",
                "TrellisGenerator",
                "TrellisProjections",
                "TrellisReports",
                "TrellisGraph",
                "TrellisResearch",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "GRDBSQLite", package: "GRDB.swift"),
            ],
            path: "tools/bench",
            swiftSettings: strict),
        // The PostgreSQL store's import next to a raw COPY of the same rows; four writers at once.
        .executableTarget(
            name: "trellis-pg-bench",
            dependencies: ["TrellisCore", "TrellisLedger", "TrellisGenerator", "TrellisPostgres", "CLibPQ"],
            path: "tools/pg-bench",
            swiftSettings: strict),
        // Reading and writing a large register, timed (not a test).
        .executableTarget(
            name: "sheets-bench",
            dependencies: ["TrellisSheets"],
            path: "tools/sheets-bench",
            swiftSettings: strict),
        // What every test target shares: the one process runner (finds the built `trellis`).
        .target(
            name: "TrellisTestSupport",
            dependencies: [.product(name: "Crypto", package: "swift-crypto")],
            path: "Tests/TrellisTestSupport",
            swiftSettings: strict),
        // The real binary end to end: the byte-identical guard, log, demo, generate.
        .testTarget(
            name: "TrellisCLITests",
            dependencies: ["TrellisTestSupport"],
            exclude: ["Fixtures"],
            swiftSettings: strict),
        .testTarget(
            name: "TrellisSheetsTests",
            dependencies: ["TrellisSheets", "TrellisTestSupport"],
            exclude: ["Fixtures"],
            swiftSettings: strict),
        .testTarget(
            name: "TrellisGraphTests",
            dependencies: ["TrellisGraph", "TrellisTestSupport"],
            swiftSettings: strict),
        .testTarget(
            name: "TrellisReportsTests",
            dependencies: ["TrellisReports", "TrellisProjections", "TrellisCore", "TrellisLedger", "TrellisGraph", "TrellisSheets", "TrellisTestSupport"],
            swiftSettings: strict),
        .testTarget(
            name: "TrellisProjectionsTests",
            dependencies: ["TrellisProjections", "TrellisCore", "TrellisLedger", "TrellisGenerator", "TrellisTestSupport"],
            swiftSettings: strict),
        .testTarget(
            name: "TrellisResearchTests",
            dependencies: ["TrellisResearch", "TrellisProjections", "TrellisCore", "TrellisLedger", "TrellisTestSupport"],
            exclude: ["Vectors"],
            swiftSettings: strict),
        .testTarget(
            name: "TrellisRegistersTests",
            dependencies: ["TrellisRegisters", "TrellisSheets", "TrellisReports", "TrellisProjections", "TrellisCore", "TrellisLedger", "TrellisTestSupport",
                           .product(name: "GRDB", package: "GRDB.swift")],
            swiftSettings: strict),
        .testTarget(
            name: "TrellisPostgresTests",
            dependencies: ["TrellisPostgres", "TrellisCore", "TrellisLedger", "TrellisGenerator", "TrellisTestSupport"],
            swiftSettings: strict),
        .testTarget(
            name: "TrellisLedgerTests",
            dependencies: ["TrellisCore", "TrellisLedger", "TrellisGenerator", "TrellisTestSupport",
                           .product(name: "PropertyBased", package: "swift-property-based"),
                           .product(name: "Crypto", package: "swift-crypto")],
            exclude: ["Examples"],
            swiftSettings: strict),
    ]
)
