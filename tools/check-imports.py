#!/usr/bin/env python3
"""Fails when a module imports one it must not (the layering of ARCHITECTURE.md, "Layers").

Reads every `import X` / `@testable import X` in Sources/<Target>/ and tools/<dir>/ (Swift
files), and every target's dependency list in Package.swift, and checks both against ALLOWED
below. Prints `file:line: <Target> imports X (allowed: …)` per break and exits 1; exit 0 when
clean. `--root DIR` checks another tree; `--self-test` builds a temporary tree with a bad
import and checks that it fails (and a good one that it passes).

    python3 tools/check-imports.py            # the repository
    python3 tools/check-imports.py --self-test
"""
import argparse
import os
import re
import sys
import tempfile

# The platform: allowed everywhere except where a target lists its own (TrellisCore stays pure).
SYSTEM = {"Foundation", "CoreFoundation", "FoundationEssentials", "FoundationXML", "Glibc", "Musl", "Darwin", "Dispatch"}

# Target (or tools/ directory) -> the modules it may import. Ours are listed by layer, lowest
# first: a module may import only modules below it. None = SYSTEM plus what is listed.
OURS = ["TrellisCore", "TrellisLedger", "TrellisPostgres", "TrellisGenerator", "TrellisProjections", "TrellisGraph", "TrellisSheets",
        "TrellisReports", "TrellisResearch", "TrellisRegisters", "TrellisCLI"]
ALLOWED = {
    # JSON, Domain, Rules, the canonical form: no storage, no I/O beyond the clock, no Foundation.
    # CCryptoBoringSSL: the BoringSSL inside swift-crypto, for the chain's SHA-256 (ChainSHA256.swift).
    "TrellisCore": {"Crypto", "CCryptoBoringSSL", "Glibc", "Musl", "Darwin"},
    "TrellisLedger": SYSTEM | {"TrellisCore", "GRDB", "GRDBSQLite", "Crypto", "CTrellisSQLite"},
    # The PostgreSQL store: the same append path as the SQLite one, over libpq.
    "TrellisPostgres": SYSTEM | {"TrellisCore", "TrellisLedger", "CLibPQ"},
    "TrellisGenerator": SYSTEM | {"TrellisCore"},
    "TrellisProjections": SYSTEM | {"TrellisCore", "TrellisLedger", "GRDB", "GRDBSQLite", "Crypto"},
    # Network analysis: nothing of ours.
    "TrellisGraph": SYSTEM,
    # Spreadsheets: knows nothing of ledgers; Core's calendar only; zlib for the workbooks' zip.
    "TrellisSheets": SYSTEM | {"TrellisCore", "ZIPFoundation", "CTrellisZlib"},
    "TrellisReports": SYSTEM | {"TrellisCore", "TrellisLedger", "TrellisProjections", "TrellisGraph", "TrellisSheets", "GRDB", "CLZ4"},
    "TrellisResearch": SYSTEM | {"TrellisCore", "TrellisLedger", "TrellisProjections", "GRDB", "GRDBSQLite", "Crypto", "CLZ4"},
    "TrellisRegisters": SYSTEM | {"TrellisCore", "TrellisLedger", "TrellisProjections", "TrellisReports", "TrellisSheets",
                                  "GRDB", "Crypto"},
    "TrellisCLI": SYSTEM | {"TrellisCore", "TrellisLedger", "TrellisPostgres", "TrellisGenerator", "TrellisProjections", "TrellisReports",
                            "TrellisResearch", "TrellisSheets", "TrellisRegisters", "ArgumentParser"},
    # tools/<dir>
    "bench": SYSTEM | {"TrellisCore", "TrellisLedger", "TrellisGenerator", "TrellisProjections", "TrellisReports",
                       "TrellisGraph", "TrellisResearch", "GRDB", "GRDBSQLite"},
    "pg-bench": SYSTEM | {"TrellisCore", "TrellisLedger", "TrellisGenerator", "TrellisPostgres", "CLibPQ"},
    "graph-check": SYSTEM | {"TrellisGraph"},
    "sheets-bench": SYSTEM | {"TrellisSheets"},
    # Compiled with TrellisGenerator's sources (tools/gen-check/main.swift says how).
    "gen-check": SYSTEM,
    # Compiled with TrellisCore's sources (tools/fuzz/run.sh).
    "fuzz": SYSTEM,
}
# C modules of the package: system libraries, not layers of ours.
C_MODULES = {"CLZ4", "CTrellisSQLite", "CLibPQ", "CTrellisZlib"}
# Package.swift target name -> the key above (executables named after their folder differ).
PACKAGE_TARGETS = {"trellis-bench": "bench", "trellis-pg-bench": "pg-bench", "graph-check": "graph-check", "sheets-bench": "sheets-bench"}
# Package products -> the module they provide.
PRODUCTS = {"GRDB": "GRDB", "GRDBSQLite": "GRDBSQLite", "Crypto": "Crypto", "ArgumentParser": "ArgumentParser",
            "ZIPFoundation": "ZIPFoundation"}

IMPORT = re.compile(r'^\s*(?:@testable\s+|@_exported\s+|@preconcurrency\s+)*import\s+(?:(?:struct|class|enum|protocol|func|var|let|typealias)\s+)?([A-Za-z_][A-Za-z0-9_]*)')


def source_imports(root):
    """(unit, file, line number, module) for every import under Sources/* and tools/*."""
    for base in ("Sources", "tools"):
        top = os.path.join(root, base)
        if not os.path.isdir(top):
            continue
        for unit in sorted(os.listdir(top)):
            folder = os.path.join(top, unit)
            if not os.path.isdir(folder):
                continue
            for dirpath, _, files in os.walk(folder):
                for name in sorted(files):
                    if not name.endswith(".swift"):
                        continue
                    path = os.path.join(dirpath, name)
                    with open(path, encoding="utf-8") as f:
                        in_string = in_comment = False  # a multi-line string literal or /* */ comment
                        for number, text in enumerate(f, 1):
                            m = None if in_string or in_comment else IMPORT.match(text)
                            if m:
                                yield unit, os.path.relpath(path, root), number, m.group(1)
                            if text.count('"""') % 2 == 1:
                                in_string = not in_string
                            if not in_string:
                                if "/*" in text and "*/" not in text.split("/*", 1)[1]:
                                    in_comment = True
                                elif in_comment and "*/" in text:
                                    in_comment = False


def package_dependencies(root):
    """(target, line number, module) for every dependency of every target in Package.swift."""
    path = os.path.join(root, "Package.swift")
    if not os.path.exists(path):
        return
    text = open(path, encoding="utf-8").read()
    for m in re.finditer(r'\.(?:target|executableTarget|testTarget)\(\s*name:\s*"([^"]+)"', text):
        target = m.group(1)
        # The dependency list is the first `dependencies: [ … ]` before the next target.
        rest = text[m.end():]
        end = re.search(r'\n\s*\.(?:target|executableTarget|testTarget|systemLibrary)\(', rest)
        body = rest[:end.start()] if end else rest
        deps = re.search(r'dependencies:\s*\[(.*?)\]\s*,', body, re.S)
        if not deps:
            continue
        start = m.end() + deps.start(1)
        for d in re.finditer(r'\.product\(\s*name:\s*"([^"]+)"[^)]*\)|"([^"]+)"', deps.group(1)):
            module = PRODUCTS.get(d.group(1), d.group(1)) if d.group(1) else d.group(2)
            yield target, text.count("\n", 0, start + d.start()) + 1, module


def check(root):
    problems = []
    for unit, path, number, module in source_imports(root):
        if unit in C_MODULES:
            continue
        allowed = ALLOWED.get(unit)
        if allowed is None:
            problems.append(f"{path}:{number}: {unit} is not in tools/check-imports.py's table: say which modules it may import")
            continue
        if module not in allowed:
            problems.append(f"{path}:{number}: {unit} imports {module} (allowed: {', '.join(sorted(allowed)) or 'nothing'})")
    for target, number, module in package_dependencies(root):
        if target.endswith("Tests"):
            continue  # tests may reach any layer they test
        unit = PACKAGE_TARGETS.get(target, target)
        allowed = ALLOWED.get(unit)
        if allowed is None or unit in C_MODULES:
            continue
        if module not in allowed:
            problems.append(f"Package.swift:{number}: target {target} depends on {module} (allowed: {', '.join(sorted(allowed)) or 'nothing'})")
    return problems


def self_test():
    def tree(files):
        d = tempfile.mkdtemp(prefix="check-imports-")
        for rel, text in files.items():
            p = os.path.join(d, rel)
            os.makedirs(os.path.dirname(p), exist_ok=True)
            open(p, "w").write(text)
        return d
    good = tree({"Sources/TrellisCore/A.swift": "import Crypto\n",
                 "Sources/TrellisGraph/G.swift": "import Foundation\n",
                 "Sources/TrellisLedger/L.swift": "import GRDB\n@testable import TrellisCore\n"})
    bad = tree({"Sources/TrellisCore/A.swift": "import Crypto\n// import GRDB in a comment is fine\nlet s = \"\"\"\nimport GRDB\n\"\"\"\n@testable import TrellisLedger\n",
                "Sources/TrellisGraph/G.swift": "import TrellisCore\n",
                "Sources/TrellisReports/R.swift": "import TrellisResearch\n",
                "Sources/TrellisCore/B.swift": "import GRDB\n",
                "Package.swift": '.target(\n    name: "TrellisLedger",\n    dependencies: [\n        "TrellisCore",\n        "CLZ4",\n    ],\n    swiftSettings: strict),\n'})
    assert check(good) == [], check(good)
    found = check(bad)
    expected = ["Sources/TrellisCore/A.swift:6: TrellisCore imports TrellisLedger",
                "Sources/TrellisCore/B.swift:1: TrellisCore imports GRDB",
                "Sources/TrellisGraph/G.swift:1: TrellisGraph imports TrellisCore",
                "Sources/TrellisReports/R.swift:1: TrellisReports imports TrellisResearch",
                "Package.swift:5: target TrellisLedger depends on CLZ4"]
    for e in expected:
        assert any(p.startswith(e) for p in found), f"not reported: {e}\n{found}"
    assert len(found) == len(expected), found
    print("check-imports self-test: ok (a bad tree fails with the 5 expected lines, a good one passes)")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--root", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
    parser.add_argument("--self-test", action="store_true")
    args = parser.parse_args()
    if args.self_test:
        self_test()
        return 0
    problems = check(os.path.abspath(args.root))
    for p in problems:
        print(p)
    if problems:
        print(f"{len(problems)} import(s) break the layering (ARCHITECTURE.md, \"Layers\")", file=sys.stderr)
        return 1
    print("imports: every module imports only the layers below it")
    return 0


if __name__ == "__main__":
    sys.exit(main())
