import TrellisCore

/// The filters of `trellis log` and the organisation timeline of `trellis audit`.
public struct LogFilter: Sendable {
    public var types: Set<String> = []
    public var org: String?
    public var network: String?
    /// Occurred on or after this day (days since epoch).
    public var fromDay: Int?
    /// Occurred before this day.
    public var toDay: Int?
    public var sinceSeq: Int64 = 0
    public var limit: Int?
    public init() {}
}

/// An event with what the reader needs beside it.
public struct LogEntry: Sendable {
    public var event: RecordedEvent
    public var data: JSONObject
    /// The seq of the retraction that cancels it, if any.
    public var retractedBy: Int64?
    public var day: Int { Timestamp.parseOccurredAt(event.occurredAt)?.day ?? 0 }
}

extension Ledger {
    /// Events matching `filter`, in seq order. An event names an organisation when one of its
    /// org fields holds it; it belongs to a network when it names the network, or is about a
    /// meeting, document or review of that network.
    public func log(_ filter: LogFilter) throws -> [LogEntry] {
        var out: [LogEntry] = []
        try log(filter) { out.append($0) }
        return out
    }

    /// The same events as ``log(_:)``, handed to `body` one at a time as they are read:
    /// memory stays flat whatever the size of the log.
    public func log(_ filter: LogFilter, _ body: (LogEntry) throws -> Void) throws {
        let retracted = try retractions()
        var count = 0
        var networkSubjects = Set<String>()   // "meeting:ID", "document:ID", "review:ID" of the filtered network
        let types = filter.types.map(ByteText.init)
        let orgNeedle = filter.org.map(ByteText.quoted)
        // The query leaves out what cannot match: other types, and data without the
        // organisation's id (either test lets a row through; both are made again below).
        let narrowing = filter.org.map { StoredRowFilter(mentioning: [$0]) } ?? StoredRowFilter(types: Array(filter.types))
        try scanStored(from: filter.sinceSeq + 1, through: .max, matching: narrowing) { stored in
            if let limit = filter.limit, count >= limit { return false }
            // Tests on the row's bytes first: the type, and the organisation's id in quotes,
            // before any string is built or any data parsed (a scan for one organisation of a
            // 1 M-event log built a million rows' strings: 3.4 s).
            if !types.isEmpty && !types.contains(where: { stored.isType($0) }) { return true }
            if let orgNeedle, !stored.dataMentions(orgNeedle) { return true }
            let e = stored.recorded
            if filter.org != nil || filter.network != nil || filter.fromDay != nil || filter.toDay != nil {
                guard let data = (try? JSONParser.parse(e.data))?.object else { return true }
                if let org = filter.org, !Ledger.names(data, org: org) { return true }
                if let network = filter.network {
                    let subject = Ledger.subject(type: e.type, data: data)
                    if data.string("network_id") == network {
                        if let subject { networkSubjects.insert(subject) }
                    } else if !(subject.map(networkSubjects.contains) ?? false) {
                        return true
                    }
                }
                if filter.fromDay != nil || filter.toDay != nil {
                    let day = Timestamp.parseOccurredAt(e.occurredAt)?.day ?? 0
                    if let f = filter.fromDay, day < f { return true }
                    if let t = filter.toDay, day >= t { return true }
                }
                count += 1
                try body(LogEntry(event: e, data: data, retractedBy: retracted[e.seq]))
            } else {
                let data = (try? JSONParser.parse(e.data))?.object ?? JSONObject()
                count += 1
                try body(LogEntry(event: e, data: data, retractedBy: retracted[e.seq]))
            }
            return true
        }
    }

    /// "meeting:ID" for events about a meeting, and likewise for documents and reviews.
    static func subject(type: String, data: JSONObject) -> String? {
        if let m = data.string("meeting_id") { return "meeting:" + m }
        if let d = data.string("document_id") { return "document:" + d }
        if let r = data.string("review_id") { return "review:" + r }
        return nil
    }

    static func names(_ data: JSONObject, org: String) -> Bool {
        data.string("org_id") == org || data.string("convenor_org_id") == org || data.string("reviewee_org_id") == org
            || data.strings("reviewer_org_ids").contains(org)
    }

    /// The organisation's engagement timeline: every event that names it, and those about its
    /// reviews and its shared documents, and the retractions of any of them; in `occurred_at`
    /// order (then seq).
    public func audit(org: String, fromDay: Int? = nil, toDay: Int? = nil) throws -> [LogEntry] {
        let retracted = try retractions()
        var subjects = Set<String>()
        var listedIDs = Set<String>()
        var out: [LogEntry] = []
        // Only rows that can be included are parsed: those that mention the organisation, the
        // follow-ups of a document or review it shared or committed to, and retractions.
        let followUpTypes = [EventType.documentShared, .documentAdopted, .reviewCommitted, .reviewCompleted,
                             .reviewWithdrawn, .reviewOutcomeShared].map(\.rawValue)
        let followUps = followUpTypes.map(ByteText.init)
        let retraction = ByteText(EventType.eventRetracted.rawValue)
        let orgNeedle = ByteText.quoted(org)
        let narrowing = StoredRowFilter(types: [EventType.eventRetracted.rawValue] + followUpTypes, mentioning: [org])
        try scanStored(from: 1, through: .max, matching: narrowing) { stored in
            guard stored.dataMentions(orgNeedle) || stored.isType(retraction)
                    || (!subjects.isEmpty && followUps.contains(where: { stored.isType($0) })) else { return true }
            let e = stored.recorded
            guard let data = (try? JSONParser.parse(e.data))?.object else { return true }
            var include = false
            if Ledger.names(data, org: org) {
                include = true
                if e.type == EventType.reviewCommitted.rawValue || e.type == EventType.documentShared.rawValue,
                   let subject = Ledger.subject(type: e.type, data: data) {
                    subjects.insert(subject)
                }
            } else if let subject = Ledger.subject(type: e.type, data: data), subjects.contains(subject),
                      e.type != EventType.attendanceRecorded.rawValue {
                include = true
            } else if e.type == EventType.eventRetracted.rawValue, let target = data.string("event_id"), listedIDs.contains(target) {
                include = true
            }
            if include {
                listedIDs.insert(e.id)
                out.append(LogEntry(event: e, data: data, retractedBy: retracted[e.seq]))
            }
            return true
        }
        let filtered = out.filter { entry in
            let d = entry.day
            if let f = fromDay, d < f { return false }
            if let t = toDay, d >= t { return false }
            return true
        }
        let keyed = filtered.map { (Timestamp.micros($0.event.occurredAt) ?? 0, $0) }
        return keyed.sorted { ($0.0, $0.1.event.seq) < ($1.0, $1.1.event.seq) }.map(\.1)
    }
}
