extension RegionGenerator {
    /// Proleptic Gregorian calendar arithmetic on days since 1970-01-01 (Hinnant's algorithms).
    enum Cal {
        static func daysFromCivil(_ year: Int, _ month: Int, _ day: Int) -> Int {
            let y = month <= 2 ? year - 1 : year
            let era = (y >= 0 ? y : y - 399) / 400
            let yoe = y - era * 400
            let mp = (month + 9) % 12
            let doy = (153 * mp + 2) / 5 + day - 1
            let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
            return era * 146_097 + doe - 719_468
        }

        static func civilFromDays(_ days: Int) -> (year: Int, month: Int, day: Int) {
            let z = days + 719_468
            let era = (z >= 0 ? z : z - 146_096) / 146_097
            let doe = z - era * 146_097
            let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365
            let y = yoe + era * 400
            let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
            let mp = (5 * doy + 2) / 153
            let d = doy - (153 * mp + 2) / 5 + 1
            let m = mp < 10 ? mp + 3 : mp - 9
            return (m <= 2 ? y + 1 : y, m, d)
        }

        /// 0 = Sunday … 6 = Saturday.
        static func weekday(_ days: Int) -> Int {
            let w = (days + 4) % 7
            return w < 0 ? w + 7 : w
        }
    }
}
