// libpq, loaded when a PostgreSQL ledger is first opened rather than by every process:
// linked normally it brings ~20 shared libraries (OpenSSL, GSSAPI, LDAP, …) into every
// `trellis` command, +7.6 ms of start-up for people whose ledger is a file.
// The declarations below are libpq's own (libpq-fe.h, PostgreSQL 15; the PostgreSQL
// Licence), for the functions Trellis uses; libpq's ABI (libpq.so.5) keeps them stable.
#ifndef TRELLIS_CLIBPQ_H
#define TRELLIS_CLIBPQ_H

typedef struct pg_conn PGconn;
typedef struct pg_result PGresult;
typedef unsigned int Oid;

typedef enum {
    CONNECTION_OK,
    CONNECTION_BAD
} ConnStatusType;

typedef enum {
    PGRES_EMPTY_QUERY = 0,
    PGRES_COMMAND_OK,
    PGRES_TUPLES_OK,
    PGRES_COPY_OUT,
    PGRES_COPY_IN,
    PGRES_BAD_RESPONSE,
    PGRES_NONFATAL_ERROR,
    PGRES_FATAL_ERROR,
    PGRES_COPY_BOTH,
    PGRES_SINGLE_TUPLE,
    PGRES_PIPELINE_SYNC,
    PGRES_PIPELINE_ABORTED
} ExecStatusType;

typedef void (*PQnoticeProcessor)(void *arg, const char *message);

/// Loads libpq.so.5 once (thread-safe); 1 when every function below is there, else 0 with
/// the loader's message in `trellis_libpq_error()`. `TPQconnectdb` calls it (and returns
/// NULL when it fails); every other function needs what a connection returned.
int trellis_libpq_load(void);
const char *trellis_libpq_error(void);

PGconn * TPQconnectdb(const char *conninfo);
void TPQfinish(PGconn *conn);
ConnStatusType TPQstatus(const PGconn *conn);
char * TPQerrorMessage(const PGconn *conn);
int TPQbackendPID(const PGconn *conn);
PQnoticeProcessor TPQsetNoticeProcessor(PGconn *conn, PQnoticeProcessor proc, void *arg);
PGresult * TPQexec(PGconn *conn, const char *query);
PGresult * TPQexecParams(PGconn *conn, const char *command, int nParams, const Oid *paramTypes, const char *const *paramValues, const int *paramLengths, const int *paramFormats, int resultFormat);
PGresult * TPQgetResult(PGconn *conn);
int TPQputCopyData(PGconn *conn, const char *buffer, int nbytes);
int TPQputCopyEnd(PGconn *conn, const char *errormsg);
ExecStatusType TPQresultStatus(const PGresult *res);
char * TPQresultErrorMessage(const PGresult *res);
char * TPQresultErrorField(const PGresult *res, int fieldcode);
int TPQntuples(const PGresult *res);
char * TPQgetvalue(const PGresult *res, int tup_num, int field_num);
int TPQgetlength(const PGresult *res, int tup_num, int field_num);
int TPQgetisnull(const PGresult *res, int tup_num, int field_num);
void TPQclear(PGresult *res);

#endif
