#include "clibpq.h"
#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>

static struct {

    PGconn * (*PQconnectdb)(const char *conninfo);
    void (*PQfinish)(PGconn *conn);
    ConnStatusType (*PQstatus)(const PGconn *conn);
    char * (*PQerrorMessage)(const PGconn *conn);
    int (*PQbackendPID)(const PGconn *conn);
    PQnoticeProcessor (*PQsetNoticeProcessor)(PGconn *conn, PQnoticeProcessor proc, void *arg);
    PGresult * (*PQexec)(PGconn *conn, const char *query);
    PGresult * (*PQexecParams)(PGconn *conn, const char *command, int nParams, const Oid *paramTypes, const char *const *paramValues, const int *paramLengths, const int *paramFormats, int resultFormat);
    PGresult * (*PQgetResult)(PGconn *conn);
    int (*PQputCopyData)(PGconn *conn, const char *buffer, int nbytes);
    int (*PQputCopyEnd)(PGconn *conn, const char *errormsg);
    ExecStatusType (*PQresultStatus)(const PGresult *res);
    char * (*PQresultErrorMessage)(const PGresult *res);
    char * (*PQresultErrorField)(const PGresult *res, int fieldcode);
    int (*PQntuples)(const PGresult *res);
    char * (*PQgetvalue)(const PGresult *res, int tup_num, int field_num);
    int (*PQgetlength)(const PGresult *res, int tup_num, int field_num);
    int (*PQgetisnull)(const PGresult *res, int tup_num, int field_num);
    void (*PQclear)(PGresult *res);
} f;
static int loaded;
static char error[512];
static pthread_once_t once = PTHREAD_ONCE_INIT;

static void load(void) {
    void *lib = dlopen("libpq.so.5", RTLD_NOW | RTLD_LOCAL);
    if (!lib) {
        snprintf(error, sizeof error, "%s", dlerror());
        return;
    }
#define LOAD(name) if (!(*(void **)&f.name = dlsym(lib, #name))) { snprintf(error, sizeof error, "libpq.so.5 has no " #name); return; }

    LOAD(PQconnectdb)
    LOAD(PQfinish)
    LOAD(PQstatus)
    LOAD(PQerrorMessage)
    LOAD(PQbackendPID)
    LOAD(PQsetNoticeProcessor)
    LOAD(PQexec)
    LOAD(PQexecParams)
    LOAD(PQgetResult)
    LOAD(PQputCopyData)
    LOAD(PQputCopyEnd)
    LOAD(PQresultStatus)
    LOAD(PQresultErrorMessage)
    LOAD(PQresultErrorField)
    LOAD(PQntuples)
    LOAD(PQgetvalue)
    LOAD(PQgetlength)
    LOAD(PQgetisnull)
    LOAD(PQclear)
#undef LOAD
    loaded = 1;
}

int trellis_libpq_load(void) {
    pthread_once(&once, load);
    return loaded;
}

const char *trellis_libpq_error(void) { return error; }

// Every other function needs a connection or a result, which only exist once this has loaded.
PGconn * TPQconnectdb(const char *conninfo) { return trellis_libpq_load() ? f.PQconnectdb(conninfo) : 0; }
void TPQfinish(PGconn *conn) { f.PQfinish(conn); }
ConnStatusType TPQstatus(const PGconn *conn) { return f.PQstatus(conn); }
char * TPQerrorMessage(const PGconn *conn) { return f.PQerrorMessage(conn); }
int TPQbackendPID(const PGconn *conn) { return f.PQbackendPID(conn); }
PQnoticeProcessor TPQsetNoticeProcessor(PGconn *conn, PQnoticeProcessor proc, void *arg) { return f.PQsetNoticeProcessor(conn, proc, arg); }
PGresult * TPQexec(PGconn *conn, const char *query) { return f.PQexec(conn, query); }
PGresult * TPQexecParams(PGconn *conn, const char *command, int nParams, const Oid *paramTypes, const char *const *paramValues, const int *paramLengths, const int *paramFormats, int resultFormat) { return f.PQexecParams(conn, command, nParams, paramTypes, paramValues, paramLengths, paramFormats, resultFormat); }
PGresult * TPQgetResult(PGconn *conn) { return f.PQgetResult(conn); }
int TPQputCopyData(PGconn *conn, const char *buffer, int nbytes) { return f.PQputCopyData(conn, buffer, nbytes); }
int TPQputCopyEnd(PGconn *conn, const char *errormsg) { return f.PQputCopyEnd(conn, errormsg); }
ExecStatusType TPQresultStatus(const PGresult *res) { return f.PQresultStatus(res); }
char * TPQresultErrorMessage(const PGresult *res) { return f.PQresultErrorMessage(res); }
char * TPQresultErrorField(const PGresult *res, int fieldcode) { return f.PQresultErrorField(res, fieldcode); }
int TPQntuples(const PGresult *res) { return f.PQntuples(res); }
char * TPQgetvalue(const PGresult *res, int tup_num, int field_num) { return f.PQgetvalue(res, tup_num, field_num); }
int TPQgetlength(const PGresult *res, int tup_num, int field_num) { return f.PQgetlength(res, tup_num, field_num); }
int TPQgetisnull(const PGresult *res, int tup_num, int field_num) { return f.PQgetisnull(res, tup_num, field_num); }
void TPQclear(PGresult *res) { f.PQclear(res); }
