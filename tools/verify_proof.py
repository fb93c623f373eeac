#!/usr/bin/env python3
"""Check Trellis Merkle proofs without Trellis (Python 3 standard library only).

The tree is RFC 9162 (Certificate Transparency v2) section 2.1 over the events' chain
hashes in seq order: leaf = SHA-256(0x00 || event hash), node = SHA-256(0x01 || left || right),
leaf_index = seq - 1. See ARCHITECTURE.md, "Merkle proofs".

    verify_proof.py check PROOF.json [--root HEX]   exit 0 "ok: ...", 1 "invalid: ..."
    verify_proof.py root [--size N] < EXPORT.ndjson  print the root of an export's events

`root` reads NDJSON on standard input: `lz4 -dc ARCHIVE | verify_proof.py root`, or
`trellis log --format ndjson | verify_proof.py root`. A manifest line (an object with
"trellis_archive") is skipped; event lines must come in seq order from 1.
"""
import hashlib
import json
import sys


def sha256(b):
    return hashlib.sha256(b).digest()


def node(left, right):
    return sha256(b"\x01" + left + right)


def root_from_inclusion(index, size, leaf, path):
    """RFC 9162 2.1.3.2; None when the path does not fit the tree."""
    if not 0 <= index < size:
        return None
    fn, sn, r = index, size - 1, leaf
    for p in path:
        if sn == 0:
            return None
        if fn & 1 or fn == sn:
            r = node(p, r)
            if not fn & 1:
                while True:
                    fn >>= 1
                    sn >>= 1
                    if fn & 1 or fn == 0:
                        break
        else:
            r = node(r, p)
        fn >>= 1
        sn >>= 1
    return r if sn == 0 else None


def consistent(first, second, first_hash, second_hash, path):
    """RFC 9162 2.1.4.2 (a tree is also consistent with itself, with an empty path)."""
    if first == second:
        return not path and first_hash == second_hash
    if not 0 < first < second or not path:
        return False
    if first & (first - 1) == 0:
        path = [first_hash] + path
    fn, sn = first - 1, second - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr = node(c, fr)
            sr = node(c, sr)
            if not fn & 1:
                while True:
                    fn >>= 1
                    sn >>= 1
                    if fn & 1 or fn == 0:
                        break
        else:
            sr = node(sr, c)
        fn >>= 1
        sn >>= 1
    return sn == 0 and fr == first_hash and sr == second_hash


def check(doc, expected_root=None):
    """None when the proof holds, else why not."""
    h = bytes.fromhex
    kind = doc.get("proof")
    if kind == "inclusion":
        event_hash = h(doc["event_hash"])
        leaf = sha256(b"\x00" + event_hash)
        if "leaf_hash" in doc and h(doc["leaf_hash"]) != leaf:
            return "leaf_hash is not SHA-256(0x00 || event_hash)"
        root = root_from_inclusion(doc["leaf_index"], doc["tree_size"], leaf, [h(p) for p in doc["audit_path"]])
        if root is None:
            return "the audit path does not fit leaf %d of a tree of %d" % (doc["leaf_index"], doc["tree_size"])
        if root != h(doc["root"]):
            return "the audit path leads to %s, not to the stated root" % root.hex()
        claimed = h(doc["root"])
    elif kind == "consistency":
        if not consistent(doc["old_size"], doc["new_size"], h(doc["old_root"]), h(doc["new_root"]), [h(p) for p in doc["path"]]):
            return "the path does not prove that the tree of %d extends the tree of %d" % (doc["new_size"], doc["old_size"])
        claimed = h(doc["new_root"])
    elif kind == "root":
        claimed = h(doc["root"])
    else:
        return "unknown proof kind %r" % kind
    if expected_root is not None and claimed != expected_root:
        return "the proof's root %s is not the expected %s" % (claimed.hex(), expected_root.hex())
    return None


def root_of_export(lines, size=None):
    """The root over the events of an NDJSON export (stack of perfect subtrees)."""
    stack = []  # (hash, leaves)
    n = 0
    for raw in lines:
        raw = raw.strip()
        if not raw:
            continue
        obj = json.loads(raw)
        if "trellis_archive" in obj:
            continue
        if size is not None and n == size:
            break
        n += 1
        if obj.get("seq") != n:
            raise SystemExit("line with seq %r where seq %d was expected" % (obj.get("seq"), n))
        h, width = sha256(b"\x00" + bytes.fromhex(obj["hash"])), 1
        while stack and stack[-1][1] == width:
            h, width = node(stack.pop()[0], h), width * 2
        stack.append((h, width))
    if size is not None and n < size:
        raise SystemExit("the export holds %d events, fewer than --size %d" % (n, size))
    if not stack:
        return sha256(b""), 0
    r = stack[-1][0]
    for h, _ in reversed(stack[:-1]):
        r = node(h, r)
    return r, n


def main(argv):
    if len(argv) >= 2 and argv[0] == "check":
        expected = None
        if "--root" in argv:
            expected = bytes.fromhex(argv[argv.index("--root") + 1])
        with open(argv[1]) as f:
            doc = json.load(f)
        why = check(doc, expected)
        if why:
            print("invalid: " + why)
            return 1
        print("ok: %s proof holds" % doc["proof"])
        return 0
    if argv and argv[0] == "root":
        size = int(argv[argv.index("--size") + 1]) if "--size" in argv else None
        root, n = root_of_export(sys.stdin, size)
        print(json.dumps({"proof": "root", "tree_size": n, "root": root.hex()}))
        return 0
    print(__doc__, file=sys.stderr)
    return 64


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
