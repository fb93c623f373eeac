import TrellisCore

extension RegionGenerator {
    /// Deterministic word lists for synthetic (but plausible) English names.
    /// Every person name and e-mail address is synthetic; e-mail domains use the reserved
    /// `.example` top-level domain.
    enum Words {
        static let regions: [String] = [
            "North East", "Yorkshire and the Humber", "North West", "East Midlands",
            "West Midlands", "East of England", "London", "South East", "South West",
        ]

        /// (network name, region index)
        static let networks: [(String, Int)] = [
            ("North Pennines Trust Network", 0), ("Humber Estuary Trust Network", 1),
            ("Lancashire and Cumbria Trust Network", 2), ("Peak District Trust Network", 3),
            ("Black Country Trust Network", 4), ("East Anglia Trust Network", 5),
            ("North London Trust Network", 6), ("Solent Trust Network", 7),
            ("Wessex Trust Network", 8), ("Tees Valley Trust Collaborative", 0),
            ("West Yorkshire Trusts Forum", 1), ("Greater Manchester Trusts Alliance", 2),
            ("Lincolnshire Trusts Partnership", 3), ("Marches Trust Collaborative", 4),
            ("Thames Gateway Trusts Partnership", 5), ("South London Trusts Collaborative", 6),
            ("Kent and Medway Trusts Partnership", 7), ("Cornwall and Devon Trusts Alliance", 8),
            ("Tyne and Wear Trusts Partnership", 0), ("South Yorkshire Trust Network", 1),
        ]

        static let places: [[String]] = [
            ["Durham", "Wear Valley", "Tynedale", "Hexham", "Consett", "Teesdale", "Sunderland",
             "Gateshead", "Cheviot", "Derwentside", "Sedgefield", "Hartlepool", "Alnwick",
             "Morpeth", "Blyth", "Darlington", "Stockton", "Redcar", "Weardale", "Seaham"],
            ["Hull", "Beverley", "Goole", "Scunthorpe", "Grimsby", "Holderness", "Wolds",
             "Calder Valley", "Wakefield", "Pontefract", "Harrogate", "Ripon", "Selby",
             "Doncaster", "Barnsley", "Rotherham", "Airedale", "Wharfedale"],
            ["Lancaster", "Morecambe", "Kendal", "Carlisle", "Eden Valley", "Furness",
             "Ribble Valley", "Pendle", "Bolton", "Wigan", "Oldham", "Rochdale", "Stockport",
             "Tameside", "Fylde", "Wyre", "Bury", "Salford"],
            ["Matlock", "Buxton", "Chesterfield", "Bakewell", "Derwent", "Amber Valley",
             "Mansfield", "Newark", "Lincoln", "Boston", "Grantham", "Loughborough", "Melton",
             "Rutland", "Sherwood", "Trent Valley"],
            ["Dudley", "Walsall", "Sandwell", "Wolverhampton", "Shropshire Hills", "Ludlow",
             "Hereford", "Leominster", "Telford", "Kidderminster", "Malvern", "Redditch",
             "Nuneaton", "Stafford", "Cannock Chase", "Severn Valley"],
            ["Norwich", "Broadland", "Breckland", "Ipswich", "Waveney", "Fenland", "Ely",
             "King's Lynn", "Thetford", "Bury St Edmunds", "Colchester", "Chelmsford",
             "Basildon", "Thurrock", "Stour Valley", "Lowestoft"],
            ["Enfield", "Haringey", "Barnet", "Camden", "Islington", "Hackney", "Brent",
             "Harrow", "Croydon", "Lambeth", "Southwark", "Lewisham", "Greenwich", "Bromley",
             "Merton", "Wandsworth"],
            ["Southampton", "Portsmouth", "Fareham", "Gosport", "Isle of Wight", "New Forest",
             "Eastleigh", "Havant", "Medway", "Maidstone", "Thanet", "Ashford", "Dover",
             "Canterbury", "Swale", "Weald"],
            ["Salisbury", "Dorchester", "Weymouth", "Yeovil", "Taunton", "Exeter", "Plymouth",
             "Torbay", "Tamar Valley", "Truro", "Penwith", "Bodmin", "Barnstaple", "Dartmoor",
             "Mendip", "Blackmore Vale"],
        ]

        static let saints: [String] = [
            "Aidan", "Cuthbert", "Bede", "Hilda", "Oswald", "Wilfrid", "Chad", "Anne",
            "Joseph", "Mary", "Patrick", "Margaret", "Benedict", "Francis", "Augustine",
            "Teresa", "Edmund", "Columba",
        ]

        static let virtues: [String] = [
            "Aspire", "Bright Futures", "Horizons", "Evolve", "Pathways", "Inspire", "Endeavour",
            "Laurel", "Northern Lights", "Three Rivers", "Keystone", "Compass", "Lighthouse",
            "Oak", "Willow", "Beacon", "Summit", "Unity", "Cornerstone", "Kingfisher", "Heron",
        ]

        static let firstNames: [String] = [
            "Aisha", "Amelia", "Andrew", "Angela", "Ben", "Bethan", "Carl", "Caroline", "Chloë",
            "Siân", "Zoë", "Seán", "Niamh", "Aoife", "Rhys", "Gareth", "Priya", "Imran",
            "Mohammed", "Fatima", "Olu", "Chidi", "Wei", "Mei", "Tomasz", "Agnieszka", "David",
            "Sarah", "James", "Helen", "Mark", "Rachel", "Paul", "Claire", "Simon", "Emma",
            "Richard", "Joanne", "Stephen", "Nicola", "Martin", "Karen", "Graham", "Louise",
            "Neil", "Victoria", "Ian", "Jennifer", "Hannah", "Tom", "Kate", "Daniel", "Laura",
            "Matthew", "Sophie", "Jonathan", "Ruth", "Adebayo", "Kwame", "Harpreet", "Sunita",
            "Rajesh", "Yusuf", "Ayesha", "Eilidh", "Catrin", "Dafydd", "Renée", "José",
        ]

        static let surnames: [String] = [
            "Smith", "Jones", "Taylor", "Brown", "Williams", "Wilson", "Johnson", "Davies",
            "Robinson", "Wright", "Thompson", "Evans", "Walker", "White", "Roberts", "Green",
            "Hall", "Wood", "Jackson", "Clarke", "Patel", "Khan", "Shah", "Ahmed", "Hussain",
            "Begum", "Okafor", "Adeyemi", "Mensah", "Nowak", "Kowalski", "O'Brien", "O'Neill",
            "McDonald", "Murphy", "Kelly", "Armstrong", "Robson", "Charlton", "Milburn",
            "Dobson", "Forster", "Heron", "Hepburn", "Nicholson", "Scott", "Young", "Allen",
            "Lewis", "Harrison", "Chen", "Wong", "Ali", "Singh", "Kaur", "Gill", "Edwards",
            "Hughes", "Ward", "Turner", "Fernández", "Brontë-Hale",
        ]

        static let roles: [String] = [
            "CEO", "Chair of Trustees", "COO", "CFO", "Governance Professional", "Head of HR",
            "Director of School Improvement", "Headteacher", "School Business Manager",
            "Hub Lead", "Head of School Effectiveness", "Programme Lead", "Executive Headteacher",
        ]

        static let leaveReasons: [String] = [
            "Capacity: the board is prioritising internal improvement work this year",
            "Cost of membership",
            "No longer able to commit time to network meetings",
            "Change of CEO; membership to be reviewed by the new leadership",
            "Joined another regional network",
        ]

        static let withdrawReasons: [String] = [
            "Reviewee withdrew from the programme",
            "Change of CEO",
            "Ofsted inspection announced",
            "Reviewer capacity",
            "Trust merger",
            "Reviewee left the network",
        ]

        static let retractReasons: [String] = [
            "recorded against the wrong meeting",
            "duplicate entry",
            "recorded in error",
            "shared to the wrong network",
            "incorrect schools count",
            "joined the wrong network",
            "recorded in error: the trust remains a member",
        ]

        static let erasureReason = "Left the organisation; erasure requested under UK GDPR"

        static let halfTermNames: [String] = ["Autumn 1", "Autumn 2", "Spring 1", "Spring 2", "Summer 1", "Summer 2"]
        static let termNames: [String] = ["Autumn term", "Autumn term", "Spring term", "Spring term", "Summer term", "Summer term"]
        static let halfTermCodes: [String] = ["a1", "a2", "s1", "s2", "u1", "u2"]

        /// JSON string content (without the quotes) for `s`, escaped as the canonical form escapes it.
        static func escaped(_ s: String) -> [UInt8] {
            var r: [UInt8] = []
            r.reserveCapacity(s.utf8.count + 2)
            var s = s
            s.withUTF8 { CanonicalJSON.writeStringContent(utf8: $0, into: &r) }
            return r
        }

        static let genericWords: Set<String> = [
            "trust", "learning", "academy", "academies", "multi", "education", "schools", "school",
            "partnership", "council", "borough", "county", "teaching", "hub", "maths", "english",
            "research", "governance", "services", "leadership", "centre", "institute", "of", "and",
            "catholic", "church", "england", "diocesan", "primary", "high", "grammar", "community",
            "university", "scitt",
        ]

        /// A synthetic e-mail domain for an organisation name, under the reserved `.example` TLD:
        /// distinctive words in full, generic words as initials ("Wear Valley Learning Trust" →
        /// "wearvalley-lt.example").
        static func domain(_ name: String) -> String {
            var main = ""
            var initials = ""
            for word in name.split(separator: " ") {
                let s = slug(String(word))
                if s.isEmpty { continue }
                if genericWords.contains(s) { initials += s.prefix(1) } else { main += s }
            }
            if main.isEmpty { main = "trust" }
            return initials.isEmpty ? "\(main).example" : "\(main)-\(initials).example"
        }

        /// Lower-case ASCII letters and digits of `s`, accents folded, everything else dropped.
        static func slug(_ s: String, limit: Int = 40) -> String {
            var r = ""
            for u in s.unicodeScalars {
                if r.unicodeScalars.count >= limit { break }
                let v = u.value
                if (0x61...0x7A).contains(v) || (0x30...0x39).contains(v) {
                    r.unicodeScalars.append(u)
                } else if (0x41...0x5A).contains(v), let l = Unicode.Scalar(v + 32) {
                    r.unicodeScalars.append(l)
                } else {
                    switch u {
                    case "é", "è", "ë", "ê", "É": r += "e"
                    case "á", "à", "â", "ä": r += "a"
                    case "í", "ì", "î", "ï": r += "i"
                    case "ó", "ò", "ô", "ö": r += "o"
                    case "ú", "ù", "û", "ü": r += "u"
                    default: break
                    }
                }
            }
            return r
        }
    }
}
