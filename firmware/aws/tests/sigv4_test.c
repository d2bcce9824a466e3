/*
 * sigv4_test - host test of the AWS SigV4 signer (firmware/aws), the same sources the
 * firmware links.
 *
 *   sigv4_test [-v] DIR...
 *
 * 1. Runs the known-answer self-tests (sigv4_selftest.c: SHA-256, HMAC-SHA256, signing key,
 *    canonical URI/query, headers, buffers, errors) and prints
 *    "self-tests: N passed, N failed" (-v: every check).
 * 2. Walks each DIR for cases in the layout of the AWS SigV4 test suite: a directory NAME holding
 *    NAME.req is a case (sub-directories are searched, e.g. normalize-path/get-slash/); the
 *    request is signed with the suite's parameters (AKIDEXAMPLE, 20150830T123600Z,
 *    us-east-1, service "service") and NAME.creq, NAME.sts and NAME.authz must match exactly.
 *    A session token, which the .req files do not carry, is taken from the
 *    x-amz-security-token line of NAME.creq (the convention of botocore's harness) unless the
 *    .req has that header itself. Prints "PASS NAME" or "FAIL NAME: ..." with the first
 *    differing line, then "N passed, N failed".
 *
 * Exit status: the number of failed cases and self-tests (at most 100); 101 if no DIR holds a
 * case; 102 for a usage or I/O error.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "sigv4.h"
#include "sigv4_req.h"
#include "sigv4_selftest.h"

#define SUITE_ACCESS_KEY "AKIDEXAMPLE"
#define SUITE_SECRET     "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
#define SUITE_DATE       "20150830T123600Z"
#define SUITE_REGION     "us-east-1"
#define SUITE_SERVICE    "service"
#define MAX_HEADERS      64
#define MAX_DEPTH        6

static int verbose;
static unsigned passed, failed;

/* ---- files ---------------------------------------------------------------------------- */

/* The whole file, NUL-terminated (one spare byte for the request parser); NULL if absent. */
static char *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    size_t cap = 4096, n = 0;
    char *buf = malloc(cap);
    while (buf) {
        n += fread(buf + n, 1, cap - n - 1, f);
        if (ferror(f) || feof(f))
            break;
        if (n + 1 == cap) {
            char *bigger = realloc(buf, cap * 2);
            if (!bigger) {
                free(buf);
                buf = NULL;
                break;
            }
            buf = bigger;
            cap *= 2;
        }
    }
    int err = buf == NULL || ferror(f);
    fclose(f);
    if (err) {
        free(buf);
        return NULL;
    }
    buf[n] = '\0';
    *len = n;
    return buf;
}

/* dir + "/" + a + b, allocated. */
static char *path_join(const char *dir, const char *a, const char *b)
{
    size_t n = strlen(dir) + 1 + strlen(a) + strlen(b) + 1;
    char *p = malloc(n);
    if (p)
        snprintf(p, n, "%s/%s%s", dir, a, b);
    return p;
}

static int is_dir(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

static int is_file(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

/* ---- reporting ------------------------------------------------------------------------ */

/* Prints where `got` first differs from `want` (line, column and both lines). */
static void diff_hint(const char *what, const char *want, size_t want_len, const char *got,
                      size_t got_len)
{
    size_t i = 0, line = 1, col = 1, want_start = 0, got_start = 0;
    while (i < want_len && i < got_len && want[i] == got[i]) {
        if (want[i] == '\n') {
            line++;
            col = 1;
            want_start = got_start = i + 1;
        } else {
            col++;
        }
        i++;
    }
    size_t we = want_start, ge = got_start;
    while (we < want_len && want[we] != '\n')
        we++;
    while (ge < got_len && got[ge] != '\n')
        ge++;
    printf("    %s differs at line %zu, column %zu (%zu bytes expected, %zu produced)\n", what,
           line, col, want_len, got_len);
    printf("      expected: \"%.*s\"%s\n", (int)(we - want_start), want + want_start,
           i >= want_len ? " (end)" : "");
    printf("      produced: \"%.*s\"%s\n", (int)(ge - got_start), got + got_start,
           i >= got_len ? " (end)" : "");
}

static void selftest_report(void *ctx, int ok, const char *what, const char *got)
{
    unsigned *counts = ctx;
    counts[ok ? 0 : 1]++;
    if (!ok)
        printf("FAIL self-test: %s%s%s%s\n", what, got ? " (produced \"" : "", got ? got : "",
               got ? "\")" : "");
    else if (verbose)
        printf("ok   self-test: %s\n", what);
}

/* ---- one case ------------------------------------------------------------------------- */

/* The value of the "x-amz-security-token:" line of a canonical request, allocated. */
static char *token_from_creq(const char *creq)
{
    static const char key[] = "x-amz-security-token:";
    for (const char *line = creq; line && *line;) {
        const char *nl = strchr(line, '\n');
        size_t n = nl ? (size_t)(nl - line) : strlen(line);
        if (n > sizeof key - 1 && memcmp(line, key, sizeof key - 1) == 0) {
            char *tok = malloc(n - (sizeof key - 1) + 1);
            if (tok) {
                memcpy(tok, line + sizeof key - 1, n - (sizeof key - 1));
                tok[n - (sizeof key - 1)] = '\0';
            }
            return tok;
        }
        line = nl ? nl + 1 : NULL;
    }
    return NULL;
}

static int compare(const char *name, const char *what, const char *want, size_t want_len,
                   const char *got, size_t got_len, int *first)
{
    if (want_len == got_len && memcmp(want, got, want_len) == 0)
        return 1;
    if (*first)
        printf("FAIL %s\n", name);
    *first = 0;
    diff_hint(what, want, want_len, got, got_len);
    return 0;
}

static void run_case(const char *dir, const char *name)
{
    char *paths[4] = {
        path_join(dir, name, ".req"), path_join(dir, name, ".creq"),
        path_join(dir, name, ".sts"), path_join(dir, name, ".authz"),
    };
    char *files[4] = {NULL, NULL, NULL, NULL};
    size_t lens[4] = {0, 0, 0, 0};
    char *token = NULL;
    struct sigv4_result out;
    memset(&out, 0, sizeof out);
    int ok = 1, first = 1;

    for (int i = 0; i < 4; i++) {
        if (paths[i])
            files[i] = read_file(paths[i], &lens[i]);
        if (!files[i]) {
            printf("FAIL %s: cannot read %s\n", name, paths[i] ? paths[i] : "(out of memory)");
            ok = 0;
            goto done;
        }
    }

    struct sigv4_header headers[MAX_HEADERS];
    struct sigv4_req req;
    int e = sigv4_req_parse(files[0], lens[0], headers, MAX_HEADERS, &req);
    if (e != SIGV4_REQ_OK) {
        printf("FAIL %s: %s.req is not a request (%s)\n", name, name,
               e == SIGV4_REQ_TOO_MANY ? "too many headers" : "malformed");
        ok = 0;
        goto done;
    }
    if (!sigv4_req_header(&req, "x-amz-security-token"))
        token = token_from_creq(files[1]);

    struct sigv4_request r = {
        .method = req.method,
        .path = req.path,
        .query = req.query,
        .headers = req.headers,
        .header_count = req.header_count,
        .payload = req.body,
        .payload_len = req.body_len,
        .amz_date = SUITE_DATE,
        .region = SUITE_REGION,
        .service = SUITE_SERVICE,
    };
    struct sigv4_credentials cred = {SUITE_ACCESS_KEY, SUITE_SECRET, token, NULL};

    /* The sizes first, then buffers of exactly that size. */
    e = sigv4_sign(&r, &cred, &out);
    if (e == SIGV4_OK) {
        struct sigv4_text *t[3] = {&out.canonical_request, &out.string_to_sign,
                                   &out.authorization};
        for (int i = 0; i < 3; i++) {
            t[i]->size = t[i]->len + 1;
            t[i]->buf = malloc(t[i]->size);
            if (!t[i]->buf)
                e = SIGV4_ERR_BUFFER;
        }
        if (e == SIGV4_OK)
            e = sigv4_sign(&r, &cred, &out);
    }
    if (e != SIGV4_OK) {
        printf("FAIL %s: sigv4_sign: %s\n", name, sigv4_strerror(e));
        ok = 0;
        goto done;
    }
    ok &= compare(name, "canonical request (.creq)", files[1], lens[1],
                  out.canonical_request.buf, out.canonical_request.len, &first);
    ok &= compare(name, "string to sign (.sts)", files[2], lens[2], out.string_to_sign.buf,
                  out.string_to_sign.len, &first);
    ok &= compare(name, "authorization (.authz)", files[3], lens[3], out.authorization.buf,
                  out.authorization.len, &first);

done:
    if (ok)
        printf("PASS %s\n", name);
    if (ok)
        passed++;
    else
        failed++;
    free(out.canonical_request.buf);
    free(out.string_to_sign.buf);
    free(out.authorization.buf);
    free(token);
    for (int i = 0; i < 4; i++) {
        free(files[i]);
        free(paths[i]);
    }
}

/* ---- walking -------------------------------------------------------------------------- */

static int by_name(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* `dir` is a case when it holds BASENAME.req; otherwise its sub-directories are searched in
   name order. Returns -1 if `dir` cannot be read. */
static int walk(const char *dir, int depth)
{
    const char *slash = strrchr(dir, '/');
    const char *base = slash ? slash + 1 : dir;
    char *req = path_join(dir, base, ".req");
    int is_case = req && *base && is_file(req);
    free(req);
    if (is_case && depth > 0) {
        run_case(dir, base);
        return 0;
    }
    if (depth >= MAX_DEPTH)
        return 0;

    DIR *d = opendir(dir);
    if (!d)
        return -1;
    char **names = NULL;
    size_t n = 0, cap = 0;
    int err = 0;
    for (struct dirent *ent; (ent = readdir(d)) != NULL;) {
        if (ent->d_name[0] == '.')
            continue;
        if (n == cap) {
            size_t ncap = cap ? cap * 2 : 16;
            char **bigger = realloc(names, ncap * sizeof *names);
            if (!bigger) {
                err = -1;
                break;
            }
            names = bigger;
            cap = ncap;
        }
        names[n] = strdup(ent->d_name);
        if (!names[n]) {
            err = -1;
            break;
        }
        n++;
    }
    closedir(d);
    if (n > 0)
        qsort(names, n, sizeof *names, by_name);
    for (size_t i = 0; i < n; i++) {
        char *sub = path_join(dir, names[i], "");
        if (sub && is_dir(sub))
            walk(sub, depth + 1);
        free(sub);
        free(names[i]);
    }
    free(names);
    return err;
}

/* Runs every case under `dir`; returns 0, or 102 when `dir` cannot be read. */
static int run_dir(const char *dir)
{
    /* Strip trailing slashes so that basenames work. */
    char *root = strdup(dir);
    if (!root)
        return 102;
    for (size_t n = strlen(root); n > 1 && root[n - 1] == '/'; n--)
        root[n - 1] = '\0';
    int ret = 0;
    if (!is_dir(root) || walk(root, 0) != 0) {
        fprintf(stderr, "sigv4_test: cannot read the directory %s: %s\n", root,
                strerror(errno ? errno : ENOENT));
        ret = 102;
    }
    free(root);
    return ret;
}

int main(int argc, char **argv)
{
    int dirs = 0;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "-v") == 0)
            verbose = 1;
        else
            dirs++;
    }
    if (dirs == 0) {
        fprintf(stderr, "usage: sigv4_test [-v] DIR...   (DIR: AWS SigV4 test-suite cases)\n");
        return 102;
    }

    unsigned counts[2] = {0, 0};
    sigv4_selftest(selftest_report, counts, 1);
    printf("self-tests: %u passed, %u failed\n", counts[0], counts[1]);

    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "-v") != 0 && run_dir(argv[i]) != 0)
            return 102;
    }
    printf("%u passed, %u failed\n", passed, failed);
    if (passed + failed == 0) {
        fprintf(stderr, "sigv4_test: no test case (NAME/NAME.req) in the directories given\n");
        return 101;
    }
    unsigned total = failed + counts[1];
    return total > 100 ? 100 : (int)total;
}
