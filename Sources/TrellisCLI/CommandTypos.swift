import ArgumentParser
import TrellisReports

/// A mistyped subcommand, caught before argument parsing: `trellis report participaton
/// --db x` would otherwise be reported as "Unknown option '--db'" (the parser reads the typo
/// as an argument of `report`, which has no `--db`).
enum CommandTypos {
    /// The message for the first word of `arguments` that should name a subcommand and
    /// names none; nil when every such word is a subcommand.
    static func check(_ arguments: [String], root: ParsableCommand.Type = Trellis.self) -> String? {
        var command: ParsableCommand.Type = root
        var path: [String] = []
        for word in arguments {
            if word.hasPrefix("-") || word == "help" { return nil }
            let configuration = command.configuration
            if configuration.subcommands.isEmpty { return nil }
            var names: [String] = []
            var next: ParsableCommand.Type?
            for sub in configuration.subcommands {
                let name = sub._commandName
                names.append(name)
                if name == word || sub.configuration.aliases.contains(word) { next = sub }
            }
            if let next {
                command = next
                path.append(word)
                continue
            }
            if configuration.defaultSubcommand != nil { return nil }
            return message(word: word, path: path, names: names)
        }
        return nil
    }

    /// "unknown report 'participaton'; did you mean 'participation'? (see …)".
    static func message(word: String, path: [String], names: [String]) -> String {
        let what: String
        if path.last == "report" { what = "report" } else if path.isEmpty { what = "command" } else { what = "'" + path.joined(separator: " ") + "' command" }
        let typed = word.lowercased()
        var best: String?
        var bestDistance = Int.max
        for name in names {
            let d = OrganisationMatcher.editDistance(name, typed)
            let close = d <= max(2, name.count / 3) || (typed.count >= 3 && name.hasPrefix(typed))
            if close && d < bestDistance {
                best = name
                bestDistance = d
            }
        }
        var text = "unknown \(what) '\(word)'"
        if let best {
            text += "; did you mean '\(best)'?"
        } else {
            text += "; one of " + names.joined(separator: ", ")
        }
        return text + " (see trellis " + (path + ["--help"]).joined(separator: " ") + ")"
    }
}
