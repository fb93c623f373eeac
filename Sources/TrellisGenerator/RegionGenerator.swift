/// `trellis generate`: a realistic, deterministic synthetic region of school-trust networks,
/// streamed as NDJSON envelopes in log (append) order.
///
/// Guarantees
/// - Every event passes the append rules of DOMAIN.md when appended in the emitted order
///   (checked by `tools/gen-check/check_rules.py`).
/// - Same options ⇒ byte-identical output (own xoshiro256** PRNG, no hashing-order or clock
///   dependence). The output with `maxEvents = N` is exactly the first N lines of the
///   unlimited output, so importing a prefix and then the whole file is idempotent.
/// - Memory is bounded by the entities (organisations, people, networks, pending actions),
///   not by the number of events.
///
/// Envelope: `{"id":"g<seed>-<counter, 9+ digits>","type":…,"occurred_at":…,"actor":…,"data":{…}}`,
/// keys in that order, no whitespace, no `v`, UTF-8 (non-ASCII characters such as "–" or "ë"
/// are written raw; `"` and `\` are escaped). `occurred_at` is a date (`YYYY-MM-DD`) for
/// registry-like events (NetworkFormed, OrganisationRegistered/Updated, PersonRegistered,
/// MemberJoined/Left) and `YYYY-MM-DDTHH:MM:SSZ` for everything else.
///
/// The simulated world
/// - Networks (`n01`…) formed on 1 September of `startYear`, each with a region, a convenor
///   (hub, local authority or largest trust) and up to two partner organisations
///   (`partners` holds org ids). Organisations (`org0001`…): MATs (mostly < 5 schools, a few
///   10–40), SATs, hubs, local authorities, providers; ~88 % registered at the start, the rest
///   over the years. 1–4 people per organisation (`p00001`…), with staff turnover
///   (replacement PersonRegistered; some leavers later PersonErased, never referenced after).
/// - Memberships: most organisations join their home network, ~13 % a second one; members
///   leave (MemberLeft with reason), rejoin later, SATs merge into MATs (leave + the MAT's
///   schools count rises).
/// - Per network and academic year, 30 meetings (`n01-2022-a1-net`…): the half-termly network
///   meeting (early Oct, late Nov, Jan, Mar, May, early Jul) and role forums (governance
///   professionals, finance and operations, school improvement half-termly; chairs and HR
///   termly). Registers per member org (status by a drifting per-trust propensity; ~9 % of
///   trusts drift into isolation), either per invited person or per organisation; guests now
///   and then; some registers typed up 1–6 weeks late (occurred_at = the meeting's time);
///   ~2 % of records corrected later by a second AttendanceRecorded for the same
///   (meeting, org, person).
/// - Document shares (`doc00001`…) and adoptions by other members; peer-review triads
///   committed each autumn (`rev00001`…, 2 reviewers, due 3–6 months later), mostly completed,
///   some withdrawn, some left overdue; about half of the outcomes shared.
/// - Retractions (EventRetracted), each of a live, non-retraction event, usually followed by
///   the corrected event: attendance recorded against the wrong meeting, duplicate
///   MeetingHeld (`…-b`, never referenced), adoption recorded in error, document shared to the
///   wrong network (re-shared under a new id), wrong schools count, join recorded against the
///   wrong network (re-joined to the right one, back-dated), MemberLeft recorded in error
///   (the organisation is a member again).
public struct RegionGenerator: Sendable {
    public let options: GeneratorOptions

    public init(_ options: GeneratorOptions = GeneratorOptions()) {
        self.options = options
    }

    /// The options actually used after clamping out-of-range values.
    public var effectiveOptions: GeneratorOptions {
        var o = options
        o.networks = min(max(o.networks, 0), 999)
        o.years = min(max(o.years, 0), 100)
        o.startYear = min(max(o.startYear, 1900), 9000)
        var maxOrgs = 2_000_000
        if o.networks > 0 { maxOrgs = min(maxOrgs, 40_000_000 / o.networks) }
        o.orgs = min(max(o.orgs, 0), maxOrgs)
        if let m = o.maxEvents { o.maxEvents = max(m, 0) }
        return o
    }

    /// Calls `emit` once per event, in log order, with the event's JSON line
    /// (UTF-8, without the trailing newline). The array is only valid during the call
    /// (it is reused); copy it if you keep it.
    public func run(_ emit: ([UInt8]) throws -> Void) rethrows {
        let opts = effectiveOptions
        let limit = opts.maxEvents ?? Int.max
        if limit <= 0 { return }
        var engine = Engine(opts)
        var line: [UInt8] = []
        line.reserveCapacity(1024)
        var emitted = 0
        while engine.step() {
            var start = 0
            for end in engine.lineEnds {
                line.removeAll(keepingCapacity: true)
                line.append(contentsOf: engine.out[start..<end])
                try emit(line)
                emitted += 1
                if emitted >= limit { return }
                start = end + 1
            }
            engine.clearOutput()
        }
    }

    /// Fastest path for writing a file or stdout: calls `emit` with chunks of whole
    /// NDJSON lines, each line terminated by "\n" (chunks are about `chunkBytes` long;
    /// the buffer is only valid during the call).
    public func runChunks(chunkBytes: Int = 1 << 20, _ emit: (UnsafeRawBufferPointer) throws -> Void) rethrows {
        let opts = effectiveOptions
        var remaining = opts.maxEvents ?? Int.max
        if remaining <= 0 { return }
        let threshold = max(chunkBytes, 1)
        var engine = Engine(opts)
        while engine.step() {
            if engine.lineEnds.count >= remaining {
                let cut = engine.lineEnds[remaining - 1] + 1
                try engine.out.withUnsafeBytes { buf in
                    try emit(UnsafeRawBufferPointer(rebasing: buf[0..<cut]))
                }
                return
            }
            if engine.out.count >= threshold {
                remaining -= engine.lineEnds.count
                try engine.out.withUnsafeBytes { buf in try emit(buf) }
                engine.clearOutput()
            }
        }
        if !engine.out.isEmpty {
            try engine.out.withUnsafeBytes { buf in try emit(buf) }
        }
    }

    /// Convenience for tests and small regions: every event line as a `String`.
    public func lines() -> [String] {
        var result: [String] = []
        run { result.append(String(decoding: $0, as: UTF8.self)) }
        return result
    }
}
