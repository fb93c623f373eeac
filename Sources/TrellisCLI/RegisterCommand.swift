import ArgumentParser

struct RegisterCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "register",
        abstract: "Attendance registers as spreadsheets: write a template, import a filled one.",
        subcommands: [RegisterTemplateCommand.self, RegisterImportCommand.self])
}
