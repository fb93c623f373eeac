#!/usr/bin/env bash
# A throw-away PostgreSQL cluster for the tests and benchmarks.
#
#   tools/pg/cluster.sh start   initdb into a new temporary folder, start the server on a free
#                               loopback port (127.0.0.1 only, scram-sha-256 password auth for the
#                               role `trellis_test`), print its URL (no password in it)
#   tools/pg/cluster.sh url     the URL of the running cluster
#   tools/pg/cluster.sh env     `export TRELLIS_TEST_PG_URL=… PGPASSWORD=…` lines for `eval`
#   tools/pg/cluster.sh stop    stop the server and remove the folder
#
# The cluster's folder and password are remembered in $TRELLIS_PG_STATE (default
# .build/pg-cluster.state next to this checkout), so that one checkout has one cluster.
# initdb refuses to run as root: as root the server runs as the `postgres` system user
# (created by Debian's postgresql package; `make deps` installs it).
set -euo pipefail

here="$(cd "$(dirname "$0")/../.." && pwd)"
state="${TRELLIS_PG_STATE:-$here/.build/pg-cluster.state}"
role=trellis_test

bindir() {
    if command -v pg_config >/dev/null 2>&1 && [ -x "$(pg_config --bindir)/initdb" ]; then pg_config --bindir; return; fi
    for d in /usr/lib/postgresql/*/bin; do [ -x "$d/initdb" ] && { echo "$d"; return; }; done
    command -v initdb >/dev/null 2>&1 && { dirname "$(command -v initdb)"; return; }
    echo "no PostgreSQL server found (run: make deps, or apt-get install postgresql)" >&2; exit 1
}

# Runs a server program as the cluster's owner.
as_owner() {
    if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

load() {
    [ -f "$state" ] || { echo "no cluster is running for this checkout ($state is missing): run $0 start" >&2; exit 1; }
    # shellcheck disable=SC1090
    . "$state"
}

url() { echo "postgresql://$role@127.0.0.1:$PORT/$role"; }

case "${1:-}" in
start)
    if [ -f "$state" ]; then
        . "$state"
        if as_owner "$BIN/pg_ctl" -D "$DIR/data" status >/dev/null 2>&1; then url; exit 0; fi
        rm -rf "$DIR"; rm -f "$state"
    fi
    BIN="$(bindir)"
    DIR="$(mktemp -d "${TMPDIR:-/tmp}/trellis-pg-XXXXXX")"
    PASSWORD="$(python3 -c 'import secrets; print(secrets.token_hex(16))')"
    PORT="$(free_port)"
    if [ "$(id -u)" = 0 ]; then
        getent passwd postgres >/dev/null || { echo "no postgres system user (apt-get install postgresql creates it)" >&2; exit 1; }
        chown postgres: "$DIR"
    fi
    chmod 700 "$DIR"
    printf '%s\n' "$PASSWORD" > "$DIR/pwfile"
    [ "$(id -u)" = 0 ] && chown postgres: "$DIR/pwfile"
    as_owner "$BIN/initdb" -D "$DIR/data" -U "$role" --pwfile="$DIR/pwfile" --auth-local=scram-sha-256 \
        --auth-host=scram-sha-256 -E UTF8 --locale=C.UTF-8 >"$DIR/initdb.log" 2>&1 \
        || { cat "$DIR/initdb.log" >&2; rm -rf "$DIR"; exit 1; }
    rm -f "$DIR/pwfile"
    mkdir -p "$(dirname "$state")"
    printf 'BIN=%q\nDIR=%q\nPORT=%q\nPASSWORD=%q\n' "$BIN" "$DIR" "$PORT" "$PASSWORD" > "$state"
    chmod 600 "$state"
    # Loopback only; the socket in the cluster's folder; fsync stays on (the tests kill writers
    # and restart the server: durability is part of what they check).
    if ! as_owner "$BIN/pg_ctl" -D "$DIR/data" -l "$DIR/server.log" -w -t 60 start \
        -o "-c listen_addresses=127.0.0.1 -p $PORT -c unix_socket_directories=$DIR -c max_connections=60" >/dev/null; then
        cat "$DIR/server.log" >&2; rm -rf "$DIR"; rm -f "$state"; exit 1
    fi
    PGPASSWORD="$PASSWORD" "$BIN/psql" -q -h 127.0.0.1 -p "$PORT" -U "$role" -d postgres -c "CREATE DATABASE $role" >/dev/null
    url
    ;;
url) load; url ;;
env) load; printf 'export TRELLIS_TEST_PG_URL=%q\nexport PGPASSWORD=%q\n' "$(url)" "$PASSWORD" ;;
restart) load; as_owner "$BIN/pg_ctl" -D "$DIR/data" -l "$DIR/server.log" -w -t 60 -m fast restart >/dev/null ;;
stop)
    [ -f "$state" ] || exit 0
    . "$state"
    as_owner "$BIN/pg_ctl" -D "$DIR/data" -w -t 60 -m fast stop >/dev/null 2>&1 || true
    rm -rf "$DIR"; rm -f "$state"
    ;;
*) echo "usage: $0 start|url|env|restart|stop" >&2; exit 64 ;;
esac
