import TrellisCore
import Foundation
import Testing
import TrellisLedger

/// The append rules of DOMAIN.md, at library level: for every rule an accepted and a
/// rejected case, with the error's line and path; retraction semantics; log order within a
/// batch; idempotent re-sends.
@Suite struct RulesTests {
    // MARK: Helpers

    /// A line that is always valid against the fixture, put first so that the line under
    /// test is line 2 and the reported line number is really checked.
    static let filler = envelope("OrganisationUpdated", ["org_id": "oak", "region": "North East"])

    /// Appends `lines` and expects every one to be appended.
    @discardableResult
    func expectAccepted(_ ledger: Ledger, _ lines: [String], sourceLocation: SourceLocation = #_sourceLocation) throws -> AppendOutcome {
        let outcome = try ledger.appendLines(lines)
        #expect(outcome.appended == lines.count, "appended \(outcome.appended) of \(lines.count)", sourceLocation: sourceLocation)
        #expect(outcome.skipped == 0, sourceLocation: sourceLocation)
        return outcome
    }

    /// Appends the filler and then `line`, expects exactly one error, at line 2 with `path`
    /// (and `found` in its text), and that nothing was appended.
    func expectRejected(_ ledger: Ledger, _ line: String, path: String, mentioning found: String? = nil,
                        sourceLocation: SourceLocation = #_sourceLocation) throws {
        let before = try ledger.head()
        let e = rejection({ try ledger.appendLines([Self.filler, line]) }, sourceLocation: sourceLocation)
        guard let e else { return }
        #expect(e.errors.count == 1, "\(e.errors)", sourceLocation: sourceLocation)
        #expect(!e.truncated, sourceLocation: sourceLocation)
        let first = try #require(e.errors.first, sourceLocation: sourceLocation)
        #expect(first.line == 2, "\(first)", sourceLocation: sourceLocation)
        #expect(first.path == path, "\(first)", sourceLocation: sourceLocation)
        if let found {
            #expect(first.description.contains(found), "\(first)", sourceLocation: sourceLocation)
        }
        #expect(try ledger.head() == before, "a rejected batch must append nothing", sourceLocation: sourceLocation)
    }

    func withFixture(_ body: (Ledger) throws -> Void) throws {
        let dir = try ScratchDir("rules")
        defer { dir.remove() }
        let ledger = try fixtureLedger(in: dir)
        try body(ledger)
    }

    static func review(_ id: String, reviewers: [J] = ["ash"], reviewee: String = "oak", network: String = "npn") -> String {
        envelope("ReviewCommitted", id: "commit-" + id, at: "2025-10-01", [
            "review_id": .string(id), "network_id": .string(network), "reviewer_org_ids": .array(reviewers),
            "reviewee_org_id": .string(reviewee), "areas": ["governance", "finance"], "due_by": "2026-03-31",
        ])
    }

    static func completion(_ id: String, eventID: String? = nil) -> String {
        envelope("ReviewCompleted", id: eventID, at: "2026-01-20", [
            "review_id": .string(id), "outcomes": [["area": "governance", "judgement": "secure", "actions": 2]],
        ])
    }

    static func withdrawal(_ id: String) -> String {
        envelope("ReviewWithdrawn", at: "2026-01-10", ["review_id": .string(id), "reason": "capacity"])
    }

    static func retraction(_ target: String, id: String? = nil) -> String {
        envelope("EventRetracted", id: id, at: "2025-12-01", ["event_id": .string(target), "reason": "recorded in error"])
    }

    static func join(_ org: String, network: String = "npn", id: String? = nil) -> String {
        envelope("MemberJoined", id: id, at: "2025-11-01", ["network_id": .string(network), "org_id": .string(org)])
    }

    static func leave(_ org: String, network: String = "npn", id: String? = nil) -> String {
        envelope("MemberLeft", id: id, at: "2025-12-01", ["network_id": .string(network), "org_id": .string(org)])
    }

    static func attendance(meeting: String = "m1", org: String, person: String? = nil, id: String? = nil) -> String {
        var data: [(String, J)] = [("meeting_id", .string(meeting)), ("org_id", .string(org))]
        if let person { data.append(("person_id", .string(person))) }
        data.append(("status", "present"))
        return envelope("AttendanceRecorded", id: id, at: "2025-09-15", .object(data))
    }

    // MARK: NetworkFormed, OrganisationRegistered, OrganisationUpdated

    @Test func networkFormedNeedsAnUnusedNetworkId() throws {
        try withFixture { ledger in
            try expectAccepted(ledger, [envelope("NetworkFormed", ["network_id": "spn", "name": "South Pennines"])])
            try expectRejected(ledger, envelope("NetworkFormed", ["network_id": "npn", "name": "Again"]),
                               path: "NetworkFormed.network_id", mentioning: "\"npn\"")
        }
    }

    @Test func organisationRegisteredNeedsAnUnusedOrgId() throws {
        try withFixture { ledger in
            try expectAccepted(ledger, [envelope("OrganisationRegistered", ["org_id": "yew", "name": "Yew Trust", "kind": "mat"])])
            try expectRejected(ledger, envelope("OrganisationRegistered", ["org_id": "oak", "name": "Oak Again", "kind": "hub"]),
                               path: "OrganisationRegistered.org_id", mentioning: "\"oak\"")
        }
    }

    @Test func organisationUpdatedNeedsARegisteredOrganisation() throws {
        try withFixture { ledger in
            try expectAccepted(ledger, [envelope("OrganisationUpdated", ["org_id": "oak", "schools": 8])])
            try expectRejected(ledger, envelope("OrganisationUpdated", ["org_id": "yew", "schools": 2]),
                               path: "OrganisationUpdated.org_id", mentioning: "unknown")
        }
    }

    // MARK: PersonRegistered

    @Test func personRegisteredNeedsAnUnusedPersonId() throws {
        try withFixture { ledger in
            try expectAccepted(ledger, [envelope("PersonRegistered", ["person_id": "p-elm", "org_id": "elm", "name": "Elma Reed"])])
            try expectRejected(ledger, envelope("PersonRegistered", ["person_id": "p-oak", "org_id": "oak", "name": "Someone Else"]),
                               path: "PersonRegistered.person_id", mentioning: "\"p-oak\"")
        }
    }

    @Test func personRegisteredNeedsARegisteredOrganisation() throws {
        try withFixture { ledger in
            try expectRejected(ledger, envelope("PersonRegistered", ["person_id": "p-yew", "org_id": "yew", "name": "Yves"]),
                               path: "PersonRegistered.org_id", mentioning: "\"yew\"")
        }
    }

    // MARK: MemberJoined, MemberLeft

    @Test func memberJoinedNeedsARegisteredNetwork() throws {
        try withFixture { ledger in
            try expectAccepted(ledger, [Self.join("elm")])
            try expectRejected(ledger, Self.join("elm", network: "spn"), path: "MemberJoined.network_id", mentioning: "\"spn\"")
        }
    }

    @Test func memberJoinedNeedsARegisteredOrganisation() throws {
        try withFixture { ledger in
            try expectRejected(ledger, Self.join("yew"), path: "MemberJoined.org_id", mentioning: "\"yew\"")
        }
    }

    @Test func memberJoinedRefusesAnOrganisationThatIsAlreadyAMember() throws {
        try withFixture { ledger in
            try expectRejected(ledger, Self.join("oak"), path: "MemberJoined.org_id", mentioning: "already a member")
            // A member of one network may join another.
            try expectAccepted(ledger, [envelope("NetworkFormed", ["network_id": "spn", "name": "South"]), Self.join("oak", network: "spn")])
        }
    }

    @Test func memberLeftNeedsAnOrganisationThatIsAMember() throws {
        try withFixture { ledger in
            try expectRejected(ledger, Self.leave("elm"), path: "MemberLeft.org_id", mentioning: "not a member")
            try expectAccepted(ledger, [Self.leave("oak")])
            // Having left, it is no longer a member: leaving again is refused, joining again is fine.
            try expectRejected(ledger, Self.leave("oak"), path: "MemberLeft.org_id", mentioning: "not a member")
            try expectAccepted(ledger, [Self.join("oak")])
        }
    }

    @Test func memberLeftNeedsARegisteredNetworkAndOrganisation() throws {
        try withFixture { ledger in
            try expectRejected(ledger, Self.leave("oak", network: "spn"), path: "MemberLeft.network_id", mentioning: "\"spn\"")
            try expectRejected(ledger, Self.leave("yew"), path: "MemberLeft.org_id", mentioning: "\"yew\"")
        }
    }

    // MARK: MeetingHeld, AttendanceRecorded

    @Test func meetingHeldNeedsAnUnusedMeetingId() throws {
        try withFixture { ledger in
            try expectAccepted(ledger, [envelope("MeetingHeld", ["meeting_id": "m2", "network_id": "npn", "title": "Spring meeting"])])
            try expectRejected(ledger, envelope("MeetingHeld", ["meeting_id": "m1", "network_id": "npn", "title": "Again"]),
                               path: "MeetingHeld.meeting_id", mentioning: "\"m1\"")
        }
    }

    @Test func meetingHeldNeedsARegisteredNetwork() throws {
        try withFixture { ledger in
            try expectRejected(ledger, envelope("MeetingHeld", ["meeting_id": "m2", "network_id": "spn", "title": "Elsewhere"]),
                               path: "MeetingHeld.network_id", mentioning: "\"spn\"")
        }
    }

    @Test func attendanceRecordedNeedsARecordedMeeting() throws {
        try withFixture { ledger in
            try expectAccepted(ledger, [Self.attendance(org: "oak")])
            try expectRejected(ledger, Self.attendance(meeting: "m9", org: "oak"), path: "AttendanceRecorded.meeting_id", mentioning: "\"m9\"")
        }
    }

    @Test func attendanceRecordedNeedsARegisteredOrganisation() throws {
        try withFixture { ledger in
            // A non-member guest may attend: only registration is required.
            try expectAccepted(ledger, [Self.attendance(org: "elm")])
            try expectRejected(ledger, Self.attendance(org: "yew"), path: "AttendanceRecorded.org_id", mentioning: "\"yew\"")
        }
    }

    @Test func attendanceRecordedNeedsARegisteredPerson() throws {
        try withFixture { ledger in
            try expectAccepted(ledger, [Self.attendance(org: "oak", person: "p-oak")])
            try expectRejected(ledger, Self.attendance(org: "oak", person: "p-nobody"), path: "AttendanceRecorded.person_id", mentioning: "\"p-nobody\"")
        }
    }

    @Test func attendanceRecordedNeedsThePersonToBelongToTheOrganisation() throws {
        try withFixture { ledger in
            try expectAccepted(ledger, [Self.attendance(org: "ash", person: "p-ash")])
            try expectRejected(ledger, Self.attendance(org: "oak", person: "p-ash"), path: "AttendanceRecorded.person_id", mentioning: "ash")
        }
    }

    // MARK: DocumentShared, DocumentAdopted

    static func share(_ doc: String, org: String = "oak", network: String = "npn") -> String {
        envelope("DocumentShared", id: "share-" + doc + "-" + org + "-" + network, at: "2025-10-10", [
            "document_id": .string(doc), "org_id": .string(org), "network_id": .string(network),
            "title": "Scheme of delegation 2025", "kind": "scheme_of_delegation",
        ])
    }

    static func adopt(_ doc: String, org: String) -> String {
        envelope("DocumentAdopted", at: "2025-11-10", ["document_id": .string(doc), "org_id": .string(org)])
    }

    @Test func documentSharedNeedsAnUnusedDocumentId() throws {
        try withFixture { ledger in
            try expectAccepted(ledger, [Self.share("d1")])
            try expectRejected(ledger, Self.share("d1", org: "ash"), path: "DocumentShared.document_id", mentioning: "\"d1\"")
        }
    }

    @Test func documentSharedNeedsARegisteredOrganisationAndNetwork() throws {
        try withFixture { ledger in
            try expectRejected(ledger, Self.share("d1", org: "yew"), path: "DocumentShared.org_id", mentioning: "\"yew\"")
            try expectRejected(ledger, Self.share("d1", network: "spn"), path: "DocumentShared.network_id", mentioning: "\"spn\"")
        }
    }

    @Test func documentAdoptedNeedsASharedDocument() throws {
        try withFixture { ledger in
            try expectAccepted(ledger, [Self.share("d1")])
            try expectRejected(ledger, Self.adopt("d2", org: "ash"), path: "DocumentAdopted.document_id", mentioning: "\"d2\"")
        }
    }

    /// DOMAIN.md asks only that the document exists and that the adopter is not the sharer.
    @Test func documentAdoptedByAnOrganisationNotRegisteredIsAccepted() throws {
        try withFixture { ledger in
            try expectAccepted(ledger, [Self.share("d1"), Self.adopt("d1", org: "guest-trust")])
        }
    }

    @Test func documentAdoptedRefusesTheSharerAsAdopter() throws {
        try withFixture { ledger in
            try expectAccepted(ledger, [Self.share("d1"), Self.adopt("d1", org: "ash"), Self.adopt("d1", org: "elm")])
            try expectRejected(ledger, Self.adopt("d1", org: "oak"), path: "DocumentAdopted.org_id", mentioning: "sharer")
        }
    }

    // MARK: ReviewCommitted

    @Test func reviewCommittedNeedsAnUnusedReviewId() throws {
        try withFixture { ledger in
            try expectAccepted(ledger, [Self.review("r1")])
            try expectRejected(ledger, envelope("ReviewCommitted", [
                "review_id": "r1", "network_id": "npn", "reviewer_org_ids": ["elm"], "reviewee_org_id": "ash",
                "areas": ["growth"], "due_by": "2026-06-30",
            ]), path: "ReviewCommitted.review_id", mentioning: "\"r1\"")
        }
    }

    @Test func reviewCommittedNeedsARegisteredNetwork() throws {
        try withFixture { ledger in
            try expectRejected(ledger, Self.review("r1", network: "spn"), path: "ReviewCommitted.network_id", mentioning: "\"spn\"")
        }
    }

    @Test func reviewCommittedNeedsRegisteredReviewerAndRevieweeOrganisations() throws {
        try withFixture { ledger in
            try expectAccepted(ledger, [Self.review("r1", reviewers: ["ash", "elm"])])
            try expectRejected(ledger, Self.review("r2", reviewee: "yew"), path: "ReviewCommitted.reviewee_org_id", mentioning: "\"yew\"")
            try expectRejected(ledger, Self.review("r3", reviewers: ["ash", "yew"]), path: "ReviewCommitted.reviewer_org_ids[1]", mentioning: "\"yew\"")
        }
    }

    @Test func reviewCommittedRefusesTheRevieweeAmongTheReviewers() throws {
        try withFixture { ledger in
            try expectRejected(ledger, Self.review("r1", reviewers: ["ash", "oak"], reviewee: "oak"),
                               path: "ReviewCommitted.reviewer_org_ids[1]", mentioning: "reviewee")
        }
    }

    // MARK: ReviewCompleted, ReviewWithdrawn, ReviewOutcomeShared

    @Test func reviewCompletedNeedsACommittedReview() throws {
        try withFixture { ledger in
            try expectRejected(ledger, Self.completion("r1"), path: "ReviewCompleted.review_id", mentioning: "\"r1\"")
            try expectAccepted(ledger, [Self.review("r1"), Self.completion("r1")])
        }
    }

    @Test func reviewCompletedOnlyOnce() throws {
        try withFixture { ledger in
            try expectAccepted(ledger, [Self.review("r1"), Self.completion("r1")])
            try expectRejected(ledger, Self.completion("r1"), path: "ReviewCompleted.review_id", mentioning: "already completed")
        }
    }

    @Test func reviewCompletedIsRefusedAfterWithdrawal() throws {
        try withFixture { ledger in
            try expectAccepted(ledger, [Self.review("r1"), Self.withdrawal("r1")])
            try expectRejected(ledger, Self.completion("r1"), path: "ReviewCompleted.review_id", mentioning: "withdrawn")
        }
    }

    @Test func reviewWithdrawnNeedsACommittedReview() throws {
        try withFixture { ledger in
            try expectRejected(ledger, Self.withdrawal("r1"), path: "ReviewWithdrawn.review_id", mentioning: "\"r1\"")
            try expectAccepted(ledger, [Self.review("r1"), Self.withdrawal("r1")])
        }
    }

    @Test func reviewWithdrawnOnlyOnce() throws {
        try withFixture { ledger in
            try expectAccepted(ledger, [Self.review("r1"), Self.withdrawal("r1")])
            try expectRejected(ledger, Self.withdrawal("r1"), path: "ReviewWithdrawn.review_id", mentioning: "withdrawn")
        }
    }

    @Test func reviewWithdrawnIsRefusedAfterCompletion() throws {
        try withFixture { ledger in
            try expectAccepted(ledger, [Self.review("r1"), Self.completion("r1")])
            try expectRejected(ledger, Self.withdrawal("r1"), path: "ReviewWithdrawn.review_id", mentioning: "already completed")
        }
    }

    @Test func reviewOutcomeIsSharedOnlyAfterCompletion() throws {
        try withFixture { ledger in
            let shared = envelope("ReviewOutcomeShared", at: "2026-02-01", ["review_id": "r1", "audience": "network"])
            try expectAccepted(ledger, [Self.review("r1")])
            try expectRejected(ledger, shared, path: "ReviewOutcomeShared.review_id", mentioning: "not completed")
            try expectAccepted(ledger, [Self.completion("r1"), shared])
        }
    }

    @Test func reviewOutcomeSharingIsRefusedForAnUnknownOrWithdrawnReview() throws {
        try withFixture { ledger in
            try expectRejected(ledger, envelope("ReviewOutcomeShared", ["review_id": "r9", "audience": "public"]),
                               path: "ReviewOutcomeShared.review_id", mentioning: "\"r9\"")
            try expectAccepted(ledger, [Self.review("r1"), Self.withdrawal("r1")])
            try expectRejected(ledger, envelope("ReviewOutcomeShared", ["review_id": "r1", "audience": "public"]),
                               path: "ReviewOutcomeShared.review_id", mentioning: "withdrawn")
        }
    }

    // MARK: EventRetracted

    @Test func retractionNeedsATargetInTheLedger() throws {
        try withFixture { ledger in
            try expectRejected(ledger, Self.retraction("no-such-event"), path: "EventRetracted.event_id", mentioning: "\"no-such-event\"")
            try expectAccepted(ledger, [Self.retraction("f-m1")])
        }
    }

    @Test func retractionCannotTargetARetraction() throws {
        try withFixture { ledger in
            try expectAccepted(ledger, [Self.retraction("f-m1", id: "undo-m1")])
            try expectRejected(ledger, Self.retraction("undo-m1"), path: "EventRetracted.event_id", mentioning: "retraction")
        }
    }

    @Test func retractionCannotTargetAnAlreadyRetractedEvent() throws {
        try withFixture { ledger in
            try expectAccepted(ledger, [Self.retraction("f-m1")])
            try expectRejected(ledger, Self.retraction("f-m1"), path: "EventRetracted.event_id", mentioning: "already retracted")
        }
    }

    @Test func retractingTheSameEventTwiceInOneBatchFailsAtTheSecondLine() throws {
        try withFixture { ledger in
            let e = try #require(rejection { try ledger.appendLines([Self.retraction("f-m1"), Self.retraction("f-m1")]) })
            #expect(e.errors.count == 1)
            #expect(e.errors.first?.line == 2)
            #expect(e.errors.first?.path == "EventRetracted.event_id")
            #expect(try ledger.head().seq == Int64(Fixture.count))
        }
    }

    // MARK: PersonErased

    @Test func personErasedNeedsARegisteredPerson() throws {
        try withFixture { ledger in
            try expectRejected(ledger, envelope("PersonErased", ["person_id": "p-nobody"]), path: "PersonErased.person_id", mentioning: "\"p-nobody\"")
            try expectAccepted(ledger, [envelope("PersonErased", ["person_id": "p-oak", "reason": "request under UK GDPR art. 17"])])
        }
    }

    @Test func personErasedOnlyOnce() throws {
        try withFixture { ledger in
            try expectAccepted(ledger, [envelope("PersonErased", ["person_id": "p-ash"])])
            try expectRejected(ledger, envelope("PersonErased", ["person_id": "p-ash"]), path: "PersonErased.person_id", mentioning: "already erased")
        }
    }

    // MARK: Retraction semantics

    @Test func retractedMembershipLetsTheOrganisationJoinAgain() throws {
        try withFixture { ledger in
            try expectRejected(ledger, Self.join("oak"), path: "MemberJoined.org_id", mentioning: "already a member")
            try expectAccepted(ledger, [Self.retraction("f-join-oak")])
            // No longer a member: leaving is refused, joining is accepted.
            try expectRejected(ledger, Self.leave("oak"), path: "MemberLeft.org_id", mentioning: "not a member")
            try expectAccepted(ledger, [Self.join("oak", id: "rejoin-oak")])
            try expectRejected(ledger, Self.join("oak"), path: "MemberJoined.org_id", mentioning: "already a member")
        }
    }

    @Test func retractedLeaveMakesTheOrganisationAMemberAgain() throws {
        try withFixture { ledger in
            try expectAccepted(ledger, [Self.leave("oak", id: "oak-leaves")])
            try expectAccepted(ledger, [Self.retraction("oak-leaves")])
            try expectRejected(ledger, Self.join("oak"), path: "MemberJoined.org_id", mentioning: "already a member")
            try expectAccepted(ledger, [Self.leave("oak")])
        }
    }

    @Test func retractedNetworkIdStaysUsed() throws {
        try withFixture { ledger in
            try expectAccepted(ledger, [envelope("NetworkFormed", id: "form-spn", ["network_id": "spn", "name": "South"])])
            try expectAccepted(ledger, [Self.retraction("form-spn")])
            try expectRejected(ledger, envelope("NetworkFormed", ["network_id": "spn", "name": "South, again"]),
                               path: "NetworkFormed.network_id", mentioning: "retracted")
            // And the retracted network does not exist for the rules any more.
            try expectRejected(ledger, Self.join("elm", network: "spn"), path: "MemberJoined.network_id", mentioning: "retracted")
        }
    }

    @Test func retractedOrganisationCannotBeNamedAndItsIdStaysUsed() throws {
        try withFixture { ledger in
            try expectAccepted(ledger, [Self.retraction("f-elm")])
            try expectRejected(ledger, Self.join("elm"), path: "MemberJoined.org_id", mentioning: "retracted")
            try expectRejected(ledger, envelope("OrganisationRegistered", ["org_id": "elm", "name": "Elm School", "kind": "school"]),
                               path: "OrganisationRegistered.org_id", mentioning: "retracted")
        }
    }

    @Test func attendanceAtARetractedMeetingIsRefused() throws {
        try withFixture { ledger in
            try expectAccepted(ledger, [Self.retraction("f-m1")])
            try expectRejected(ledger, Self.attendance(org: "oak"), path: "AttendanceRecorded.meeting_id", mentioning: "retracted")
        }
    }

    @Test func retractedCompletionLetsTheReviewBeCompletedAgain() throws {
        try withFixture { ledger in
            try expectAccepted(ledger, [Self.review("r1"), Self.completion("r1", eventID: "complete-r1")])
            try expectRejected(ledger, Self.completion("r1"), path: "ReviewCompleted.review_id", mentioning: "already completed")
            try expectAccepted(ledger, [Self.retraction("complete-r1")])
            // Not completed any more: its outcome cannot be shared until it is completed again.
            try expectRejected(ledger, envelope("ReviewOutcomeShared", ["review_id": "r1", "audience": "network"]),
                               path: "ReviewOutcomeShared.review_id", mentioning: "not completed")
            try expectAccepted(ledger, [Self.completion("r1", eventID: "complete-r1-again")])
        }
    }

    @Test func retractedWithdrawalLetsTheReviewBeCompleted() throws {
        try withFixture { ledger in
            let withdraw = envelope("ReviewWithdrawn", id: "withdraw-r1", at: "2026-01-10", ["review_id": "r1"])
            try expectAccepted(ledger, [Self.review("r1"), withdraw])
            try expectAccepted(ledger, [Self.retraction("withdraw-r1"), Self.completion("r1")])
        }
    }

    @Test func retractedCommitmentMakesTheReviewUnknownButItsIdUsed() throws {
        try withFixture { ledger in
            try expectAccepted(ledger, [Self.review("r1")])
            try expectAccepted(ledger, [Self.retraction("commit-r1")])
            try expectRejected(ledger, Self.completion("r1"), path: "ReviewCompleted.review_id", mentioning: "retracted")
            try expectRejected(ledger, envelope("ReviewCommitted", [
                "review_id": "r1", "network_id": "npn", "reviewer_org_ids": ["elm"], "reviewee_org_id": "ash",
                "areas": ["growth"], "due_by": "2026-06-30",
            ]), path: "ReviewCommitted.review_id", mentioning: "retracted")
        }
    }

    // MARK: Log order within one batch

    @Test func joinThenLeaveInOneBatchIsAccepted() throws {
        try withFixture { ledger in
            try expectAccepted(ledger, [Self.join("elm"), Self.leave("elm")])
        }
    }

    @Test func leaveBeforeJoinInOneBatchFailsAtTheLeavesLine() throws {
        try withFixture { ledger in
            let before = try ledger.head()
            let e = try #require(rejection {
                try ledger.appendLines([Self.filler, Self.filler, Self.leave("elm"), Self.join("elm")])
            })
            #expect(e.errors.count == 1, "\(e.errors)")
            #expect(e.errors.first?.line == 3)
            #expect(e.errors.first?.path == "MemberLeft.org_id")
            #expect(try ledger.head() == before)
        }
    }

    @Test func rulesSeeEventsAppendedEarlierInTheSameBatch() throws {
        let dir = try ScratchDir("rules")
        defer { dir.remove() }
        let ledger = try Ledger.open(at: dir.ledgerPath, create: true)
        // The whole fixture, a retraction of one of its joins and a re-join, in one batch.
        let lines = Fixture.lines + [Self.retraction("f-join-ash"), Self.join("ash"), Self.attendance(org: "ash", person: "p-ash")]
        let outcome = try ledger.appendLines(lines)
        #expect(outcome.appended == lines.count)
        #expect(outcome.head.seq == Int64(lines.count))
    }

    @Test func everyRuleErrorOfABatchIsReportedWithItsLine() throws {
        try withFixture { ledger in
            let e = try #require(rejection {
                try ledger.appendLines([
                    Self.filler,
                    Self.join("oak"),                                   // 2: already a member
                    Self.filler,
                    Self.attendance(meeting: "m9", org: "yew"),         // 4: two errors
                    Self.adopt("d9", org: "ash"),                       // 5: unknown document
                ])
            })
            #expect(e.errors.map(\.line) == [2, 4, 4, 5])
            #expect(e.errors.map(\.path) == ["MemberJoined.org_id", "AttendanceRecorded.meeting_id", "AttendanceRecorded.org_id", "DocumentAdopted.document_id"])
        }
    }

    // MARK: Idempotent re-sends

    @Test func knownIdWithIdenticalContentIsSkipped() throws {
        try withFixture { ledger in
            let head = try ledger.head()
            let again = try ledger.appendLines(Fixture.lines)
            #expect(again.appended == 0)
            #expect(again.skipped == Fixture.count)
            #expect(again.head.seq == head.seq)
            #expect(again.head.hash == head.hash)
            #expect(try ledger.head() == head)

            // An event whose rules still pass (attendance) takes the other path to the same verdict.
            let att = Self.attendance(org: "oak", person: "p-oak", id: "att-oak-m1")
            try expectAccepted(ledger, [att])
            let twice = try ledger.appendLines([att, Self.attendance(org: "ash", id: "att-ash-m1")])
            #expect(twice.appended == 1)
            #expect(twice.skipped == 1)
        }
    }

    @Test func knownIdWithDifferentContentIsAnErrorNamingTheId() throws {
        try withFixture { ledger in
            let head = try ledger.head()
            // Rules would pass (elm is not a member); only the id is already taken.
            let e = try #require(rejection {
                try ledger.appendLines([Self.filler, Self.join("elm", id: "f-join-oak")])
            })
            #expect(e.errors.count == 1)
            #expect(e.errors.first?.line == 2)
            #expect(e.errors.first?.path == "MemberJoined.id")
            #expect(e.errors.first?.description.contains("\"f-join-oak\"") == true, "\(e.errors)")
            // Rules fail too (npn exists): still the id is what is named.
            let e2 = try #require(rejection {
                try ledger.appendLines([envelope("NetworkFormed", id: "f-npn", at: "2025-08-01", ["network_id": "npn", "name": "Renamed"])])
            })
            #expect(e2.errors.map(\.path) == ["NetworkFormed.id"])
            #expect(e2.errors.first?.description.contains("\"f-npn\"") == true)
            // Another type under a known id.
            let e3 = try #require(rejection { try ledger.appendLines([Self.attendance(org: "oak", id: "f-m1")]) })
            #expect(e3.errors.map(\.path) == ["AttendanceRecorded.id"])
            // Same data, different envelope: actor or occurred_at differ.
            let e4 = try #require(rejection {
                try ledger.appendLines([envelope("MeetingHeld", id: "f-m1", at: "2025-09-16T16:00:00Z",
                                                 ["meeting_id": "m1", "network_id": "npn", "title": "Autumn network meeting", "format": "in_person"])])
            })
            #expect(e4.errors.map(\.path) == ["MeetingHeld.id"])
            #expect(try ledger.head() == head)
        }
    }

    @Test func identicalEventTwiceInOneBatchIsAppendedOnceAndSkippedOnce() throws {
        try withFixture { ledger in
            let share = Self.share("d1")
            let outcome = try ledger.appendLines([share, share])
            #expect(outcome.appended == 1)
            #expect(outcome.skipped == 1)
        }
    }

    @Test func reSentPersonRegisteredWithIdenticalContentIsSkipped() throws {
        try withFixture { ledger in
            // Personal fields are stored sealed with a random nonce: only decrypt-and-compare can tell.
            let again = try ledger.appendLines([Fixture.lines[4], Fixture.lines[5]])
            #expect(again.appended == 0)
            #expect(again.skipped == 2)
            let renamed = envelope("PersonRegistered", id: "f-p-oak", at: "2025-08-03",
                                   ["person_id": "p-oak", "org_id": "oak", "role": "CEO", "name": "Olive Oaks", "email": "olive@oak.example"])
            let e = try #require(rejection { try ledger.appendLines([renamed]) })
            #expect(e.errors.map(\.path) == ["PersonRegistered.id"])
            #expect(e.errors.first?.line == 1)
        }
    }

    @Test func reSentJoinIsSkippedEvenAfterTheOrganisationLeft() throws {
        try withFixture { ledger in
            try expectAccepted(ledger, [Self.leave("oak")])
            let head = try ledger.head()
            // The rules would let oak join now; the known id with the same content is still a skip.
            let again = try ledger.appendLines(Fixture.lines)
            #expect(again.appended == 0)
            #expect(again.skipped == Fixture.count)
            #expect(try ledger.head() == head)
            try expectRejected(ledger, Self.leave("oak"), path: "MemberLeft.org_id", mentioning: "not a member")
        }
    }

    @Test func aBatchThatOnlySkipsReportsTheLedgerHeadUnchanged() throws {
        try withFixture { ledger in
            let head = try ledger.head()
            let again = try ledger.appendLines(Fixture.lines)
            // The outcome's head is the ledger's head: same seq, hash and recorded_at of the head event.
            #expect(again.head == head)
            #expect(again.head.recordedAt == head.recordedAt)
        }
    }

    @Test func eventsWithoutAnIdAreAppendedEachTimeUnderFreshIds() throws {
        try withFixture { ledger in
            let att = Self.attendance(org: "oak")
            try expectAccepted(ledger, [att, att])
            var ids: [String] = []
            try ledger.scan(from: Int64(Fixture.count) + 1) { ids.append($0.id); return true }
            #expect(ids.count == 2)
            #expect(Set(ids).count == 2)
            #expect(ids.allSatisfy { !$0.isEmpty && $0.count <= 128 })
        }
    }
}
