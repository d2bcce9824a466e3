/*
 * dynamodb.c - PutItem / BatchWriteItem client. See dynamodb.h.
 */
#include <string.h>

#include "dynamodb.h"
#include "http.h"
#include "sha256.h"
#include "sigv4.h"

/* ---- time formats --------------------------------------------------------------------------- */

/* Civil date of days since 1970-01-01 (Howard Hinnant's algorithm). */
static void civil(uint32_t days, int *y, unsigned *m, unsigned *d)
{
    int32_t z = (int32_t)days + 719468;
    int32_t era = z / 146097;
    uint32_t doe = (uint32_t)(z - era * 146097);
    uint32_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int32_t yy = (int32_t)yoe + era * 400;
    uint32_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    uint32_t mp = (5 * doy + 2) / 153;
    *d = doy - (153 * mp + 2) / 5 + 1;
    *m = mp < 10 ? mp + 3 : mp - 9;
    *y = (int)(yy + (*m <= 2));
}

static char *dec(char *p, unsigned v, int width)
{
    for (int i = width - 1; i >= 0; i--) {
        p[i] = (char)('0' + v % 10u);
        v /= 10u;
    }
    return p + width;
}

static void fmt_time(uint32_t t, char *out, int iso)
{
    int y;
    unsigned m, d, s = t % 86400u;
    civil(t / 86400u, &y, &m, &d);
    char *p = dec(out, (unsigned)y, 4);
    if (iso)
        *p++ = '-';
    p = dec(p, m, 2);
    if (iso)
        *p++ = '-';
    p = dec(p, d, 2);
    *p++ = 'T';
    p = dec(p, s / 3600u, 2);
    if (iso)
        *p++ = ':';
    p = dec(p, s / 60u % 60u, 2);
    if (iso)
        *p++ = ':';
    p = dec(p, s % 60u, 2);
    *p++ = 'Z';
    *p = '\0';
}

void ddb_amz_date(uint32_t t, char out[17])
{
    fmt_time(t, out, 0);
}

void ddb_iso8601(uint32_t t, char out[21])
{
    fmt_time(t, out, 1);
}

/* ---- JSON writer ------------------------------------------------------------------------------ */

static void emit_s(http_emit_t emit, void *ctx, const char *s)
{
    emit(ctx, s, strlen(s));
}

void ddb_json_string(const char *s, http_emit_t emit, void *ctx)
{
    static const char hex[] = "0123456789abcdef";
    emit(ctx, "\"", 1);
    const char *run = s;
    for (; *s; s++) {
        unsigned char ch = (unsigned char)*s;
        const char *esc = NULL;
        char u[7];
        switch (ch) {
        case '"': esc = "\\\""; break;
        case '\\': esc = "\\\\"; break;
        case '\n': esc = "\\n"; break;
        case '\r': esc = "\\r"; break;
        case '\t': esc = "\\t"; break;
        case '\b': esc = "\\b"; break;
        case '\f': esc = "\\f"; break;
        default:
            if (ch < 0x20) {
                memcpy(u, "\\u00", 4);
                u[4] = hex[ch >> 4];
                u[5] = hex[ch & 15u];
                u[6] = '\0';
                esc = u;
            }
        }
        if (esc != NULL) {
            if (s > run)
                emit(ctx, run, (size_t)(s - run));
            emit_s(emit, ctx, esc);
            run = s + 1;
        }
    }
    if (s > run)
        emit(ctx, run, (size_t)(s - run));
    emit(ctx, "\"", 1);
}

/* "21.37", "-3.05", "0.00" from hundredths. */
static void centi(int64_t v, char out[16])
{
    char *p = out;
    if (v < 0) {
        *p++ = '-';
        v = -v;
    }
    uint64_t u = (uint64_t)v;
    char tmp[12];
    int n = 0;
    uint64_t whole = u / 100u;
    do {
        tmp[n++] = (char)('0' + whole % 10u);
        whole /= 10u;
    } while (whole != 0 && n < 11);
    while (n > 0)
        *p++ = tmp[--n];
    *p++ = '.';
    *p++ = (char)('0' + u / 10u % 10u);
    *p++ = (char)('0' + u % 10u);
    *p = '\0';
}

static void attr(http_emit_t emit, void *ctx, const char *name, const char *type,
                 const char *value, int first)
{
    if (!first)
        emit(ctx, ",", 1);
    ddb_json_string(name, emit, ctx);
    emit_s(emit, ctx, ":{\"");
    emit_s(emit, ctx, type);
    emit_s(emit, ctx, "\":");
    ddb_json_string(value, emit, ctx);
    emit(ctx, "}", 1);
}

static void item(const struct ddb_config *cfg, const struct ddb_reading *r, http_emit_t emit,
                 void *ctx)
{
    char num[16], ts[21];
    emit(ctx, "{", 1);
    attr(emit, ctx, cfg->partition_key, "S", cfg->device_id, 1);
    char *p = num + sizeof num - 1;
    *p = '\0';
    uint32_t v = r->seq;
    do {
        *--p = (char)('0' + v % 10u);
        v /= 10u;
    } while (v != 0);
    attr(emit, ctx, cfg->sort_key, "N", p, 0);
    centi(r->temp_centi, num);
    attr(emit, ctx, "temperature", "N", num, 0);
    centi(r->humidity_centi, num);
    attr(emit, ctx, "humidity", "N", num, 0);
    ddb_iso8601(r->unix_time, ts);
    attr(emit, ctx, "timestamp", "S", ts, 0);
    emit(ctx, "}", 1);
}

struct counting {
    http_emit_t emit;
    void *ctx;
    long len;
};

static void count_emit(void *p, const char *data, size_t n)
{
    struct counting *c = p;
    c->len += (long)n;
    if (c->emit != NULL)
        c->emit(c->ctx, data, n);
}

long ddb_write_body(const struct ddb_config *cfg, const struct ddb_reading *r, size_t n,
                    const uint8_t *mask, int batch, http_emit_t emit, void *ctx)
{
    if (cfg == NULL || r == NULL || n == 0)
        return -1;
    struct counting cn = {emit, ctx, 0};
    if (!batch) {
        emit_s(count_emit, &cn, "{\"TableName\":");
        ddb_json_string(cfg->table, count_emit, &cn);
        emit_s(count_emit, &cn, ",\"Item\":");
        item(cfg, &r[0], count_emit, &cn);
        emit_s(count_emit, &cn, "}");
        return cn.len;
    }
    emit_s(count_emit, &cn, "{\"RequestItems\":{");
    ddb_json_string(cfg->table, count_emit, &cn);
    emit_s(count_emit, &cn, ":[");
    int first = 1;
    for (size_t i = 0; i < n; i++) {
        if (mask != NULL && !mask[i])
            continue;
        emit_s(count_emit, &cn, first ? "{\"PutRequest\":{\"Item\":" : ",{\"PutRequest\":{\"Item\":");
        item(cfg, &r[i], count_emit, &cn);
        emit_s(count_emit, &cn, "}}");
        first = 0;
    }
    emit_s(count_emit, &cn, "]}}");
    return cn.len;
}

struct bufsink {
    char *buf;
    size_t size;
    size_t len;
};

static void buf_emit(void *p, const char *data, size_t n)
{
    struct bufsink *b = p;
    if (b->len < b->size) {
        size_t room = b->size - b->len;
        memcpy(b->buf + b->len, data, n < room ? n : room);
    }
    b->len += n;
}

long ddb_format_body(const struct ddb_config *cfg, const struct ddb_reading *r, size_t n,
                     const uint8_t *mask, int batch, char *buf, size_t size)
{
    struct bufsink b = {buf, size, 0};
    long len = ddb_write_body(cfg, r, n, mask, batch, buf_emit, &b);
    if (len >= 0 && buf != NULL && (size_t)len < size)
        buf[len] = '\0';
    return len;
}

/* ---- JSON reader (just enough for error bodies and UnprocessedItems) ------------------------ */

struct span {
    const char *p;
    const char *end;
};

static const char *ws(const char *p, const char *end)
{
    while (p < end && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r'))
        p++;
    return p;
}

/* The end of the string starting at p ('"'), or NULL. */
static const char *skip_string(const char *p, const char *end)
{
    for (p++; p < end; p++) {
        if (*p == '\\') {
            p++;
            continue;
        }
        if (*p == '"')
            return p + 1;
    }
    return NULL;
}

/* The end of the value starting at p, or NULL (nesting bounded: no recursion). */
static const char *skip_value(const char *p, const char *end)
{
    p = ws(p, end);
    if (p >= end)
        return NULL;
    if (*p == '"')
        return skip_string(p, end);
    if (*p == '{' || *p == '[') {
        unsigned depth = 0;
        while (p < end) {
            if (*p == '"') {
                p = skip_string(p, end);
                if (p == NULL)
                    return NULL;
                continue;
            }
            if (*p == '{' || *p == '[')
                depth++;
            else if (*p == '}' || *p == ']') {
                if (--depth == 0)
                    return p + 1;
            }
            p++;
        }
        return NULL;
    }
    const char *s = p;
    while (p < end && *p != ',' && *p != '}' && *p != ']' && *p != ' ' && *p != '\n' &&
           *p != '\r' && *p != '\t')
        p++;
    return p > s ? p : NULL;
}

/* The value of member `key` of the object `obj` (keys compared raw: ours have no escapes). */
static int obj_find(struct span obj, const char *key, struct span *val)
{
    const char *p = ws(obj.p, obj.end);
    if (p >= obj.end || *p != '{')
        return -1;
    p = ws(p + 1, obj.end);
    if (p < obj.end && *p == '}')
        return -1;
    size_t klen = strlen(key);
    while (p < obj.end) {
        if (*p != '"')
            return -1;
        const char *k = p + 1;
        const char *ke = skip_string(p, obj.end);
        if (ke == NULL)
            return -1;
        p = ws(ke, obj.end);
        if (p >= obj.end || *p != ':')
            return -1;
        const char *v = ws(p + 1, obj.end);
        const char *ve = skip_value(v, obj.end);
        if (ve == NULL)
            return -1;
        if ((size_t)(ke - 1 - k) == klen && memcmp(k, key, klen) == 0) {
            val->p = v;
            val->end = ve;
            return 0;
        }
        p = ws(ve, obj.end);
        if (p < obj.end && *p == ',')
            p = ws(p + 1, obj.end);
        else
            return -1;
    }
    return -1;
}

/* Decodes a JSON string value into out (NUL-terminated, truncated to size); escapes of
   characters beyond ASCII become '?'. */
static int string_value(struct span v, char *out, size_t size)
{
    if (size == 0 || v.end - v.p < 2 || *v.p != '"' || v.end[-1] != '"')
        return -1;
    size_t n = 0;
    for (const char *p = v.p + 1; p < v.end - 1; p++) {
        char ch = *p;
        if (ch == '\\' && p + 1 < v.end - 1) {
            p++;
            switch (*p) {
            case 'n': ch = '\n'; break;
            case 't': ch = '\t'; break;
            case 'r': ch = '\r'; break;
            case 'b': ch = '\b'; break;
            case 'f': ch = '\f'; break;
            case 'u': {
                unsigned cp = 0, i;
                for (i = 0; i < 4 && p + 1 < v.end - 1; i++) {
                    char h = *++p;
                    cp = cp * 16u + (unsigned)(h >= '0' && h <= '9' ? h - '0'
                                               : h >= 'a' && h <= 'f' ? h - 'a' + 10
                                               : h >= 'A' && h <= 'F' ? h - 'A' + 10 : 0);
                }
                ch = cp >= 0x20 && cp < 0x7F ? (char)cp : '?';
                break;
            }
            default: ch = *p; /* \" \\ \/ */
            }
        }
        if (n + 1 < size)
            out[n++] = ch;
    }
    out[n] = '\0';
    return 0;
}

int ddb_parse_error(const char *body, size_t len, char *type, size_t type_size, char *message,
                    size_t message_size)
{
    if (type_size)
        type[0] = '\0';
    if (message_size)
        message[0] = '\0';
    struct span obj = {body, body + len}, v;
    const char *p = ws(body, body + len);
    if (p >= obj.end || *p != '{')
        return -1;
    if (obj_find(obj, "__type", &v) == 0 && type_size > 0) {
        char full[128];
        if (string_value(v, full, sizeof full) == 0) {
            const char *hash = strrchr(full, '#');
            const char *t = hash != NULL ? hash + 1 : full;
            size_t n = strlen(t);
            if (n >= type_size)
                n = type_size - 1;
            memcpy(type, t, n);
            type[n] = '\0';
        }
    }
    if ((obj_find(obj, "message", &v) == 0 || obj_find(obj, "Message", &v) == 0) &&
        message_size > 0)
        (void)string_value(v, message, message_size);
    return 0;
}

int ddb_parse_unprocessed(const struct ddb_config *cfg, const char *body, size_t len,
                          const struct ddb_reading *r, size_t n, uint8_t *unprocessed)
{
    struct span obj = {body, body + len}, un;
    if (obj_find(obj, "UnprocessedItems", &un) != 0) {
        /* Absent altogether: only a valid object counts as "nothing unprocessed". */
        const char *p = ws(body, body + len);
        if (p >= obj.end || *p != '{' || skip_value(p, obj.end) == NULL)
            return -1;
        for (size_t i = 0; i < n; i++)
            unprocessed[i] = 0;
        return 0;
    }
    uint8_t listed[DDB_BATCH_MAX];
    if (n > DDB_BATCH_MAX)
        return -1;
    memset(listed, 0, sizeof listed);
    int count = 0;
    const char *p = ws(un.p, un.end);
    if (p >= un.end || *p != '{')
        return -1;
    struct span table;
    if (obj_find(un, cfg->table, &table) == 0) {
        p = ws(table.p, table.end);
        if (p >= table.end || *p != '[')
            return -1;
        p = ws(p + 1, table.end);
        while (p < table.end && *p != ']') {
            const char *e = skip_value(p, table.end);
            if (e == NULL)
                return -1;
            struct span el = {p, e}, put, it, key, nv;
            char digits[12];
            if (obj_find(el, "PutRequest", &put) != 0 || obj_find(put, "Item", &it) != 0 ||
                obj_find(it, cfg->sort_key, &key) != 0 || obj_find(key, "N", &nv) != 0 ||
                string_value(nv, digits, sizeof digits) != 0)
                return -1;
            uint32_t seq = 0;
            size_t dl = strlen(digits);
            if (dl == 0 || dl > 10)
                return -1;
            for (size_t i = 0; i < dl; i++) {
                if (digits[i] < '0' || digits[i] > '9')
                    return -1;
                seq = seq * 10u + (uint32_t)(digits[i] - '0');
            }
            for (size_t i = 0; i < n; i++) {
                if (r[i].seq == seq && !listed[i]) {
                    listed[i] = 1;
                    count++;
                    break;
                }
            }
            p = ws(e, table.end);
            if (p < table.end && *p == ',')
                p = ws(p + 1, table.end);
        }
    }
    for (size_t i = 0; i < n; i++)
        unprocessed[i] = listed[i];
    return count;
}

/* ---- streaming scan of UnprocessedItems ---------------------------------------------------- */

int ddb_scan_init(struct ddb_scan *s, const char *sort_key, const struct ddb_reading *r,
                  size_t n)
{
    memset(s, 0, sizeof *s);
    s->r = r;
    s->n = n;
    size_t kl = strlen(sort_key);
    static const char tail[] = "\":{\"N\":\"";
    if (n > DDB_BATCH_MAX || 1 + kl + sizeof tail - 1 >= sizeof s->key) {
        s->bad = 1;
        return -1;
    }
    s->key[0] = '"';
    memcpy(s->key + 1, sort_key, kl);
    memcpy(s->key + 1 + kl, tail, sizeof tail - 1);
    s->key_len = (uint8_t)(1 + kl + sizeof tail - 1);
    return 0;
}

/* One KMP step: the progress after character ch, for a pattern without a precomputed table
   (patterns are short: the fallback recomputes the longest border on a mismatch). */
static uint8_t kmp_step(const char *pat, uint8_t len, uint8_t pos, char ch)
{
    for (;;) {
        if (pos < len && pat[pos] == ch)
            return (uint8_t)(pos + 1);
        if (pos == 0)
            return 0;
        /* Longest proper border of pat[0..pos): the next candidate position. */
        uint8_t b = (uint8_t)(pos - 1);
        while (b > 0 && memcmp(pat, pat + pos - b, b) != 0)
            b--;
        pos = b;
    }
}

void ddb_scan_feed(void *p, const char *data, size_t len)
{
    static const char put[] = "\"PutRequest\"";
    struct ddb_scan *s = p;
    for (size_t i = 0; i < len && !s->bad; i++) {
        char ch = data[i];
        if (s->digits > 0) {
            if (ch >= '0' && ch <= '9' && s->digits <= 10) {
                s->value = s->value * 10u + (uint32_t)(ch - '0');
                s->digits++;
                continue;
            }
            if (ch != '"' || s->digits == 1) {
                s->bad = 1;
                break;
            }
            size_t k = 0;
            while (k < s->n && (s->r[k].seq != s->value || (s->listed & (1u << k))))
                k++;
            if (k == s->n) {
                s->bad = 1; /* not one of ours, or listed twice */
                break;
            }
            s->listed |= 1u << k;
            s->matched++;
            s->digits = 0;
            s->value = 0;
        }
        s->put_pos = kmp_step(put, (uint8_t)(sizeof put - 1), s->put_pos, ch);
        if (s->put_pos == sizeof put - 1) {
            s->puts++;
            s->put_pos = 0;
        }
        s->key_pos = kmp_step(s->key, s->key_len, s->key_pos, ch);
        if (s->key_pos == s->key_len) {
            s->key_pos = 0;
            s->digits = 1;
            s->value = 0;
        }
    }
}

int ddb_scan_result(const struct ddb_scan *s, uint8_t *unprocessed)
{
    if (s->bad || s->digits > 0 || s->puts != s->matched)
        return -1;
    for (size_t i = 0; i < s->n; i++)
        unprocessed[i] = (s->listed >> i) & 1u;
    return s->matched;
}

/* ---- policy ------------------------------------------------------------------------------------ */

/* Constant tables live in program memory on the FT900: its .rodata is copied into the 64 KiB
   of RAM, where every byte is counted (firmware/README.md). */
#ifdef __FT32__
#define DDB_PM __flash__
#define DDB_PM_SECTION(name) __attribute__((section("._pm." name)))
#else
#define DDB_PM
#define DDB_PM_SECTION(name)
#endif
#define DDB_TYPE_NAME_MAX 40u

static int pm_streq(const DDB_PM char *pm, const char *s)
{
    size_t i = 0;
    for (; pm[i] != '\0'; i++)
        if (s[i] != pm[i])
            return 0;
    return s[i] == '\0';
}

static int type_in(const DDB_PM char (*list)[DDB_TYPE_NAME_MAX], size_t n, const char *type)
{
    for (size_t i = 0; type != NULL && i < n; i++)
        if (pm_streq(list[i], type))
            return 1;
    return 0;
}

static const DDB_PM char retryable_types[][DDB_TYPE_NAME_MAX] DDB_PM_SECTION("retryable") = {
    "ThrottlingException", "ProvisionedThroughputExceededException",
    "RequestLimitExceeded", "InternalServerError", "ServiceUnavailable",
};

/* What AWS answers when it refuses the credentials themselves: DynamoDB's (the JSON protocol's
   `com.amazon.coral.service#...`) and the same errors as the query protocol spells them (STS,
   proxies). Retrying with the same key cannot help; a rotated key or a fixed policy can. */
static const DDB_PM char credentials_types[][DDB_TYPE_NAME_MAX] DDB_PM_SECTION("credentials") = {
    "UnrecognizedClientException",         /* unknown access key id, or a foreign token */
    "InvalidSignatureException",           /* wrong secret key (skew is told apart below) */
    "MissingAuthenticationTokenException", /* no Authorization */
    "IncompleteSignatureException",        /* a malformed Authorization */
    "AccessDeniedException",               /* the key's policy denies the action */
    "ExpiredTokenException",               /* the session token of temporary credentials */
    "InvalidClientTokenId",
    "SignatureDoesNotMatch",
};

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

int ddb_is_credentials_error(const char *type)
{
    return type_in(credentials_types, COUNT(credentials_types), type);
}

/* InvalidSignatureException because of the clock, not the key (the endpoint's wording). */
static int is_skew_message(const char *message)
{
    return message != NULL && (strstr(message, "Signature expired") != NULL ||
                               strstr(message, "Signature not yet current") != NULL);
}

int ddb_classify(int status, const char *type, const char *message)
{
    if (status >= 200 && status < 300)
        return DDB_CLASS_OK;
    if (type_in(retryable_types, COUNT(retryable_types), type))
        return DDB_CLASS_RETRY;
    if (status >= 500 || status == 429)
        return DDB_CLASS_RETRY;
    if (type != NULL && strcmp(type, "InvalidSignatureException") == 0 && is_skew_message(message))
        return DDB_CLASS_SKEW;
    if (ddb_is_credentials_error(type))
        return DDB_CLASS_CREDENTIALS;
    return DDB_CLASS_FATAL;
}

static uint32_t xorshift(uint32_t *s)
{
    uint32_t x = *s;
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    *s = x;
    return x;
}

uint32_t ddb_backoff_ms(uint32_t *rng, unsigned attempt)
{
    uint32_t ceiling = DDB_BACKOFF_BASE_MS;
    for (unsigned i = 1; i < attempt && ceiling < DDB_BACKOFF_CAP_MS; i++)
        ceiling *= 2u;
    if (ceiling > DDB_BACKOFF_CAP_MS)
        ceiling = DDB_BACKOFF_CAP_MS;
    return xorshift(rng) % ceiling;
}

/* ---- the client -------------------------------------------------------------------------------- */

void ddb_init(struct ddb_client *c, const struct ddb_config *cfg, const struct ddb_io *io,
              uint32_t seed)
{
    memset(c, 0, sizeof *c);
    c->cfg = cfg;
    c->io = io;
    c->rng = seed != 0 ? seed : 0x9E3779B9u;
}

void ddb_wipe(struct ddb_client *c)
{
    sha256_wipe(c->signing_key, sizeof c->signing_key);
    c->key_date[0] = '\0';
}

static void sha_emit(void *p, const char *data, size_t n)
{
    sha256_update(p, data, n);
}

/* Streams bytes to the connection in pieces of sizeof buf. */
struct sender {
    const struct ddb_io *io;
    int err;
    size_t fill;
    char buf[256];
};

static void send_emit(void *p, const char *data, size_t n)
{
    struct sender *s = p;
    while (n > 0 && s->err == 0) {
        size_t take = sizeof s->buf - s->fill;
        if (take > n)
            take = n;
        memcpy(s->buf + s->fill, data, take);
        s->fill += take;
        data += take;
        n -= take;
        if (s->fill == sizeof s->buf) {
            s->err = s->io->send(s->io->ctx, s->buf, s->fill) < 0 ? -1 : 0;
            s->fill = 0;
        }
    }
}

static int send_flush(struct sender *s)
{
    if (s->err == 0 && s->fill > 0)
        s->err = s->io->send(s->io->ctx, s->buf, s->fill) < 0 ? -1 : 0;
    s->fill = 0;
    return s->err;
}

/* Attempt errors (io_error). */
#define ATT_CONNECT   (-1)
#define ATT_SEND      (-2)
#define ATT_RECV      (-3)
#define ATT_PROTOCOL  (-4)
#define ATT_CONFIG    (-5)
#define ATT_UNTRUSTED (-6)

static const char hexd[] = "0123456789abcdef";

/* Opens the connection when needed. Apart from attempt(): the TLS handshake, the deepest stack
   of the firmware, must not run under attempt()'s buffers. */
static int ensure_open(struct ddb_client *c)
{
    const struct ddb_io *io = c->io;
    if (io->is_open(io->ctx))
        return 0;
    c->connects++;
    int r = io->connect(io->ctx);
    if (r == DDB_CONNECT_UNTRUSTED)
        return ATT_UNTRUSTED;
    return r < 0 ? ATT_CONNECT : 0;
}

/* One request and its response (in c->resp) on an open connection; 0 or ATT_*. */
__attribute__((noinline)) static int attempt(struct ddb_client *c, const char *op, const struct ddb_reading *r, size_t n,
                   const uint8_t *mask, int batch)
{
    const struct ddb_config *cfg = c->cfg;
    const struct ddb_io *io = c->io;

    /* Time and the day's signing key. */
    char amz_date[17];
    ddb_amz_date((uint32_t)((int64_t)io->now_unix(io->ctx) + c->clock_offset), amz_date);
    if (c->key_date[0] == '\0' || memcmp(c->key_date, amz_date, 8) != 0) {
        if (sigv4_signing_key(cfg->secret_access_key, amz_date, cfg->region, "dynamodb",
                              c->signing_key) != SIGV4_OK)
            return ATT_CONFIG;
        memcpy(c->key_date, amz_date, 8);
        c->key_date[8] = '\0';
    }

    /* Body: hash and length, without a buffer. */
    struct sha256_ctx h;
    sha256_init(&h);
    long body_len = ddb_write_body(cfg, r, n, mask, batch, sha_emit, &h);
    if (body_len < 0)
        return ATT_CONFIG;
    uint8_t digest[32];
    sha256_final(&h, digest);
    char payload_hash[65];
    for (unsigned i = 0; i < 32; i++) {
        payload_hash[2 * i] = hexd[digest[i] >> 4];
        payload_hash[2 * i + 1] = hexd[digest[i] & 15u];
    }
    payload_hash[64] = '\0';

    char target[40];
    size_t tl = strlen("DynamoDB_20120810.");
    memcpy(target, "DynamoDB_20120810.", tl);
    size_t ol = strlen(op);
    if (tl + ol >= sizeof target)
        return ATT_CONFIG;
    memcpy(target + tl, op, ol + 1);

    const int token = cfg->session_token != NULL && cfg->session_token[0] != '\0';
    struct sigv4_header sh[5] = {
        {"Host", cfg->host},
        {"X-Amz-Date", amz_date},
        {"X-Amz-Target", target},
        {"Content-Type", "application/x-amz-json-1.0"},
        {"X-Amz-Security-Token", token ? cfg->session_token : ""},
    };
    struct sigv4_request sr = {
        .method = "POST", .path = "/", .query = NULL, .headers = sh,
        .header_count = token ? 5u : 4u, .payload = NULL, .payload_len = 0,
        .payload_hash = payload_hash, .amz_date = amz_date, .region = cfg->region,
        .service = "dynamodb", .flags = 0,
    };
    struct sigv4_credentials cred = {cfg->access_key_id, cfg->secret_access_key,
                                     token ? cfg->session_token : NULL, c->signing_key};
    char authz[320];
    struct sigv4_result out;
    memset(&out, 0, sizeof out);
    out.authorization.buf = authz;
    out.authorization.size = sizeof authz;
    if (sigv4_sign(&sr, &cred, &out) != SIGV4_OK)
        return ATT_CONFIG;

    /* Head and body, streamed. */
    struct http_header hh[5] = {
        {"X-Amz-Date", amz_date},
        {"X-Amz-Target", target},
        {"Content-Type", "application/x-amz-json-1.0"},
        {"Authorization", authz},
        {"X-Amz-Security-Token", token ? cfg->session_token : ""},
    };
    struct http_request hr = {"POST", "/", cfg->host, hh, token ? 5u : 4u, (size_t)body_len};
    struct sender s;
    s.io = io;
    s.err = 0;
    s.fill = 0;
    if (http_emit_head(&hr, send_emit, &s) < 0)
        return ATT_CONFIG;
    long sent = ddb_write_body(cfg, r, n, mask, batch, send_emit, &s);
    if (send_flush(&s) != 0 || sent != body_len) {
        io->close(io->ctx);
        return ATT_SEND;
    }
    c->requests++;

    /* Response. */
    http_response_init(&c->resp, c->body, sizeof c->body);
    if (batch) {
        /* For a body longer than the buffer: UnprocessedItems found as it streams past. */
        (void)ddb_scan_init(&c->scan, cfg->sort_key, r, n);
        c->resp.on_body = ddb_scan_feed;
        c->resp.on_body_ctx = &c->scan;
    }
    char rx[256];
    for (;;) {
        int got = io->recv(io->ctx, rx, sizeof rx);
        int pr;
        size_t used = 0;
        if (got < 0) {
            io->close(io->ctx);
            return ATT_RECV;
        }
        if (got == 0) {
            pr = http_response_eof(&c->resp);
            io->close(io->ctx);
            return pr == HTTP_DONE ? 0 : ATT_RECV;
        }
        pr = http_response_feed(&c->resp, rx, (size_t)got, &used);
        if (pr < 0) {
            io->close(io->ctx);
            return ATT_PROTOCOL;
        }
        if (pr == HTTP_DONE) {
            /* Bytes after the response (we never pipeline): the stream is out of step. */
            if (used != (size_t)got || !c->resp.keep_alive)
                io->close(io->ctx);
            return 0;
        }
    }
}

static void copy_str(char *dst, size_t size, const char *src)
{
    size_t n = strlen(src);
    if (n >= size)
        n = size - 1;
    memcpy(dst, src, n);
    dst[n] = '\0';
}

/* The attempt loop shared by PutItem (batch 0, n 1) and BatchWriteItem. */
static int run(struct ddb_client *c, int batch, const struct ddb_reading *r, size_t n,
               uint8_t *acked, struct ddb_result *res)
{
    const struct ddb_io *io = c->io;
    const char *op = batch ? "BatchWriteItem" : "PutItem";
    uint8_t pending[DDB_BATCH_MAX];
    memset(res, 0, sizeof *res);
    for (size_t i = 0; i < n; i++) {
        pending[i] = 1;
        if (acked != NULL)
            acked[i] = 0;
    }
    uint32_t t0 = io->millis(io->ctx);
    unsigned failures = 0;
    int skew_done = 0;
    for (;;) {
        res->attempts++;
        int e = ensure_open(c);
        if (e == 0)
            e = attempt(c, op, r, n, batch ? pending : NULL, batch);
        res->latency_ms = io->millis(io->ctx) - t0;
        struct ddb_attempt_info info;
        memset(&info, 0, sizeof info);
        info.operation = op;
        info.attempt = res->attempts;
        info.io_error = e;
        res->type[0] = res->message[0] = '\0';
        int cls;
        if (e == ATT_CONFIG) {
            copy_str(res->type, sizeof res->type, "ClientConfiguration");
            copy_str(res->message, sizeof res->message, "request could not be signed");
            cls = DDB_CLASS_FATAL;
        } else if (e == ATT_CONNECT || e == ATT_UNTRUSTED) {
            /* Nothing was sent. Not retried here: the caller's schedule paces new connections
               (each handshake costs the device about 1.5 s of CPU). */
            res->status = 0;
            copy_str(res->type, sizeof res->type,
                     e == ATT_CONNECT ? "ConnectionError" : "UntrustedServer");
            info.status = 0;
            info.cls = DDB_CLASS_FATAL;
            info.type = res->type;
            info.message = res->message;
            if (io->on_attempt != NULL)
                io->on_attempt(io->ctx, &info);
            return e == ATT_CONNECT ? DDB_ERR_CONNECT : DDB_ERR_UNTRUSTED;
        } else if (e < 0) {
            res->status = 0;
            copy_str(res->type, sizeof res->type,
                     e == ATT_CONNECT ? "ConnectionError" : e == ATT_SEND ? "SendError"
                     : e == ATT_RECV ? "ReceiveError" : "MalformedResponse");
            cls = DDB_CLASS_RETRY;
        } else {
            const struct http_response *hr = &c->resp;
            res->status = hr->status;
            copy_str(res->request_id, sizeof res->request_id, hr->request_id);
            if (hr->status < 200 || hr->status >= 300)
                (void)ddb_parse_error(hr->body, hr->body_len, res->type, sizeof res->type,
                                      res->message, sizeof res->message);
            cls = ddb_classify(hr->status, res->type, res->message);
            uint32_t server;
            int has_date = http_parse_date(hr->date, &server) == 0;
            if (has_date)
                c->server_date = server;
            int64_t ours = (int64_t)io->now_unix(io->ctx) + c->clock_offset;
            if ((cls == DDB_CLASS_FATAL || cls == DDB_CLASS_CREDENTIALS) && hr->status >= 400 &&
                hr->status < 500 && has_date &&
                ((int64_t)server - ours > DDB_SKEW_LIMIT_S ||
                 ours - (int64_t)server > DDB_SKEW_LIMIT_S))
                cls = DDB_CLASS_SKEW;
            if (cls == DDB_CLASS_SKEW) {
                if (!has_date || skew_done) {
                    cls = DDB_CLASS_FATAL;
                } else {
                    c->clock_offset = (int32_t)((int64_t)server - (int64_t)io->now_unix(io->ctx));
                    c->skew_corrections++;
                    skew_done = 1;
                }
            }
            if (cls == DDB_CLASS_OK && hr->has_crc32 && hr->crc32_header != hr->body_crc32) {
                copy_str(res->type, sizeof res->type, "CRC32Mismatch");
                cls = DDB_CLASS_RETRY;
            }
            if (cls == DDB_CLASS_OK && batch) {
                uint8_t listed[DDB_BATCH_MAX];
                int un = hr->body_truncated
                             ? ddb_scan_result(&c->scan, listed)
                             : ddb_parse_unprocessed(c->cfg, hr->body, hr->body_len, r, n, listed);
                if (un < 0)
                    memcpy(listed, pending, n); /* unreadable: all of them again (idempotent) */
                for (size_t i = 0; i < n; i++) {
                    if (pending[i] && !listed[i]) {
                        pending[i] = 0;
                        res->acked++;
                        if (acked != NULL)
                            acked[i] = 1;
                    }
                }
                int left = 0;
                for (size_t i = 0; i < n; i++)
                    left += pending[i];
                if (left > 0) {
                    copy_str(res->type, sizeof res->type, "UnprocessedItems");
                    cls = DDB_CLASS_RETRY;
                }
            } else if (cls == DDB_CLASS_OK) {
                res->acked = 1;
                if (acked != NULL)
                    acked[0] = 1;
            }
        }
        info.status = res->status;
        info.cls = cls;
        info.type = res->type;
        info.message = res->message;
        if (cls == DDB_CLASS_OK)
            return DDB_OK;
        if (cls == DDB_CLASS_SKEW) {
            info.clock_offset = c->clock_offset;
            if (io->on_attempt != NULL)
                io->on_attempt(io->ctx, &info);
            if (res->attempts >= DDB_MAX_ATTEMPTS)
                return DDB_ERR_RETRIES;
            continue; /* at once, with the corrected clock */
        }
        if (cls == DDB_CLASS_FATAL || cls == DDB_CLASS_CREDENTIALS) {
            if (io->on_attempt != NULL)
                io->on_attempt(io->ctx, &info);
            if (e == ATT_CONFIG)
                return DDB_ERR_ARG;
            return cls == DDB_CLASS_CREDENTIALS ? DDB_ERR_CREDENTIALS : DDB_ERR_REJECTED;
        }
        failures++;
        if (res->attempts >= DDB_MAX_ATTEMPTS) {
            if (io->on_attempt != NULL)
                io->on_attempt(io->ctx, &info);
            return DDB_ERR_RETRIES;
        }
        info.backoff_ms = ddb_backoff_ms(&c->rng, failures);
        info.retrying = 1;
        if (io->on_attempt != NULL)
            io->on_attempt(io->ctx, &info);
        c->retries++;
        io->sleep_ms(io->ctx, info.backoff_ms);
    }
}

static int config_ok(const struct ddb_config *cfg)
{
    return cfg != NULL && cfg->host && cfg->region && cfg->table && cfg->partition_key &&
           cfg->sort_key && cfg->device_id && cfg->access_key_id && cfg->secret_access_key;
}

int ddb_put(struct ddb_client *c, const struct ddb_reading *r, struct ddb_result *res)
{
    if (c == NULL || r == NULL || res == NULL || !config_ok(c->cfg) || c->io == NULL)
        return DDB_ERR_ARG;
    return run(c, 0, r, 1, NULL, res);
}

int ddb_batch(struct ddb_client *c, const struct ddb_reading *r, size_t n, uint8_t *acked,
              struct ddb_result *res)
{
    if (c == NULL || r == NULL || res == NULL || n == 0 || n > DDB_BATCH_MAX ||
        !config_ok(c->cfg) || c->io == NULL)
        return DDB_ERR_ARG;
    return run(c, 1, r, n, acked, res);
}
