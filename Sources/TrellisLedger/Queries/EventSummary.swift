import TrellisCore

/// One line of plain English for an event, for tables and timelines.
public enum EventSummary {
    /// `names` resolves a person id to their name (or "(erased)").
    public static func line(type: String, data: JSONObject, names: (String) -> String? = { _ in nil }) -> String {
        func s(_ k: String) -> String { data.string(k) ?? "?" }
        func person() -> String {
            guard let p = data.string("person_id") else { return "" }
            return " (" + (names(p).map { "\($0), " } ?? "") + p + ")"
        }
        switch EventType(rawValue: type) {
        case .networkFormed: return "network \(s("network_id")) formed: \(s("name"))"
        case .organisationRegistered:
            return "\(s("org_id")) registered: \(s("name")) (\(s("kind"))\(data.int("schools").map { ", \($0) schools" } ?? ""))"
        case .organisationUpdated:
            var parts: [String] = []
            if let n = data.string("name") { parts.append("name \(n)") }
            if let n = data.int("schools") { parts.append("\(n) schools") }
            if let r = data.string("region") { parts.append("region \(r)") }
            return "\(s("org_id")) updated: " + parts.joined(separator: ", ")
        case .personRegistered:
            return "person \(names(s("person_id")) ?? s("person_id")) at \(s("org_id"))" + (data.string("role").map { ", \($0)" } ?? "")
        case .memberJoined: return "\(s("org_id")) joined \(s("network_id"))"
        case .memberLeft: return "\(s("org_id")) left \(s("network_id"))" + (data.string("reason").map { ": \($0)" } ?? "")
        case .meetingHeld: return "meeting \(s("meeting_id")) of \(s("network_id")): \(s("title"))"
        case .attendanceRecorded: return "\(s("org_id")) \(s("status")) at \(s("meeting_id"))" + person()
        case .documentShared: return "\(s("org_id")) shared \(s("document_id")) (\(s("kind"))): \(s("title"))"
        case .documentAdopted: return "\(s("org_id")) adopted \(s("document_id"))"
        case .reviewCommitted:
            return "review \(s("review_id")): \(data.strings("reviewer_org_ids").joined(separator: ", ")) to review \(s("reviewee_org_id")) by \(s("due_by"))"
        case .reviewCompleted:
            let outcomes = data["outcomes"]?.array?.compactMap { $0.object }.map { "\($0.string("area") ?? "?") \($0.string("judgement") ?? "?")" } ?? []
            return "review \(s("review_id")) completed: " + outcomes.joined(separator: ", ")
        case .reviewOutcomeShared: return "review \(s("review_id")) outcome shared with \(s("audience"))"
        case .reviewWithdrawn: return "review \(s("review_id")) withdrawn" + (data.string("reason").map { ": \($0)" } ?? "")
        case .eventRetracted: return "retracted \(s("event_id")): \(s("reason"))"
        case .personErased: return "person \(s("person_id")) erased"
        case nil: return type
        }
    }
}
