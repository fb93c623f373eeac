/// Options for `RegionGenerator` (`trellis generate`).
///
/// Every combination of values is accepted; out-of-range values are clamped (see
/// `RegionGenerator.effectiveOptions`) so that no option can crash the generator.
public struct GeneratorOptions: Sendable, Equatable {
    /// Number of networks formed at the start (clamped to 0...999).
    public var networks: Int
    /// Number of organisations registered over the run (about 88 % at the start, the rest
    /// over the years). Clamped to 0...2_000_000 and so that `networks * orgs` ≤ 40 M.
    public var orgs: Int
    /// Number of academic years simulated (clamped to 0...100).
    public var years: Int
    /// Seed of the deterministic PRNG; same options ⇒ byte-identical output.
    public var seed: UInt64
    /// Stop after this many events (the output is then a prefix of the full run).
    public var maxEvents: Int?
    /// Calendar year in which the first academic year starts (1 September). Clamped to 1900...9000.
    public var startYear: Int

    public init(networks: Int = 3, orgs: Int = 60, years: Int = 3, seed: UInt64 = 1,
                maxEvents: Int? = nil, startYear: Int = 2022) {
        self.networks = networks
        self.orgs = orgs
        self.years = years
        self.seed = seed
        self.maxEvents = maxEvents
        self.startYear = startYear
    }
}
