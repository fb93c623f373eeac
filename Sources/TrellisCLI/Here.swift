#if canImport(Glibc)
import Glibc
#endif

/// Command lines to suggest to the user that work from where they are.
enum Here {
    /// This executable, as the shortest working way to type it: `trellis` when that is what
    /// `$PATH` finds, else the path it was started by, else its path relative to the
    /// working directory when shorter, else absolute.
    static func executable() -> String {
        var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
        let n = readlink("/proc/self/exe", &buffer, buffer.count - 1)
        guard n > 0 else { return CommandLine.arguments.first ?? "trellis" }
        let exe = String(decoding: buffer[0..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self)
        if let path = getenv("PATH").flatMap({ String(validatingCString: $0) }) {
            for dir in path.split(separator: ":") where !dir.isEmpty {
                if resolved(String(dir) + "/trellis") == exe { return "trellis" }
            }
        }
        // As the user typed it (`.build/debug/trellis`, through its symlink), when that is this file.
        if let typed = CommandLine.arguments.first, typed.contains("/"), resolved(typed) == exe { return typed }
        return relative(exe)
    }

    /// The renderer script next to the executable's checkout, if there is one.
    static func renderer() -> String? {
        var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
        let n = readlink("/proc/self/exe", &buffer, buffer.count - 1)
        guard n > 0 else { return nil }
        var parts = String(decoding: buffer[0..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self).split(separator: "/", omittingEmptySubsequences: false)
        // <checkout>/.build/<config>/trellis, or <checkout>/.build/<triple>/<config>/trellis
        while let last = parts.popLast(), last != ".build" { if parts.isEmpty { return nil } }
        let script = parts.joined(separator: "/") + "/tools/render-report.sh"
        return access(script, X_OK) == 0 ? relative(script) : nil
    }

    /// `path` relative to the working directory when that is shorter.
    static func relative(_ path: String) -> String {
        guard let cwdPointer = getcwd(nil, 0) else { return path }
        let cwd = String(cString: cwdPointer)
        free(cwdPointer)
        let a = path.split(separator: "/"), b = cwd.split(separator: "/")
        var common = 0
        while common < a.count, common < b.count, a[common] == b[common] { common += 1 }
        let up = Array(repeating: "..", count: b.count - common)
        var rel = (up + a[common...].map(String.init)).joined(separator: "/")
        if up.isEmpty { rel = "./" + rel }
        return rel.count < path.count ? rel : path
    }

    private static func resolved(_ path: String) -> String? {
        guard let p = realpath(path, nil) else { return nil }
        defer { free(p) }
        return String(cString: p)
    }
}
