/*
 * sigv4.c - AWS Signature Version 4 signer. See sigv4.h for the rules.
 *
 * Everything is produced as a stream of bytes into a `sink`, which feeds a hash or MAC and,
 * when the caller gave one, a buffer of known size. Sorting (query parameters, header names)
 * is done by repeated selection over the caller's data - O(n^2) comparisons for n items,
 * which is nothing for the handful of headers and parameters of a request - so no array of
 * items, no copy of a value and no size limit is needed.
 */
#include <string.h>
#include "sigv4.h"
#include "sha256.h"

#define ALGORITHM "AWS4-HMAC-SHA256"
#define TERMINATOR "aws4_request"

static const char hexdigits_lower[] = "0123456789abcdef";
static const char hexdigits_upper[] = "0123456789ABCDEF";

/* ---- output sink ---------------------------------------------------------------------- */

struct sink {
    struct sha256_ctx *hash;     /* or NULL */
    struct hmac_sha256_ctx *mac; /* or NULL */
    char *buf;                   /* or NULL */
    size_t size;
    size_t len;                  /* bytes produced so far (saturates at SIZE_MAX) */
    int overflow;                /* buf too small */
    unsigned fill;               /* bytes in stage[] */
    char stage[64];              /* batches the calls into the hash and the buffer */
};

static void sink_init(struct sink *s, char *buf, size_t size)
{
    memset(s, 0, sizeof *s);
    s->buf = buf;
    s->size = buf ? size : 0;
}

static void sink_flush(struct sink *s)
{
    size_t n = s->fill;
    if (n == 0)
        return;
    if (s->hash)
        sha256_update(s->hash, s->stage, n);
    if (s->mac)
        hmac_sha256_update(s->mac, s->stage, n);
    if (s->len > SIZE_MAX - n) {
        s->len = SIZE_MAX;
        s->overflow = 1;
    } else {
        /* Room for n bytes and the final NUL: len + n + 1 <= size. */
        if (s->buf && !s->overflow) {
            if (s->size > s->len && s->size - s->len > n)
                memcpy(s->buf + s->len, s->stage, n);
            else
                s->overflow = 1;
        }
        s->len += n;
    }
    s->fill = 0;
}

static void put(struct sink *s, char c)
{
    s->stage[s->fill++] = c;
    if (s->fill == sizeof s->stage)
        sink_flush(s);
}

static void puts_n(struct sink *s, const char *p, size_t n)
{
    while (n--)
        put(s, *p++);
}

static void puts_z(struct sink *s, const char *p)
{
    while (*p)
        put(s, *p++);
}

/* Ends the stream: NUL-terminates the buffer, or empties it when the text did not fit.
   Returns 0, or -1 when a buffer was given and was too small. */
static int sink_finish(struct sink *s)
{
    sink_flush(s);
    if (!s->buf)
        return 0;
    if (s->overflow || s->size == 0) {
        if (s->size > 0)
            s->buf[0] = '\0';
        return -1;
    }
    s->buf[s->len] = '\0';
    return 0;
}

static void put_hex(struct sink *s, const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        put(s, hexdigits_lower[p[i] >> 4]);
        put(s, hexdigits_lower[p[i] & 15]);
    }
}

static void hex_lower(char *dst, const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        dst[2 * i] = hexdigits_lower[p[i] >> 4];
        dst[2 * i + 1] = hexdigits_lower[p[i] & 15];
    }
    dst[2 * n] = '\0';
}

/* ---- character classes ---------------------------------------------------------------- */

static int is_unreserved(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
           c == '-' || c == '_' || c == '.' || c == '~';
}

static int hexval(unsigned char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

static int is_space(char c)
{
    return c == ' ' || c == '\t';
}

static unsigned char lower(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') ? (unsigned char)(c + ('a' - 'A')) : c;
}

/* An HTTP token character (RFC 9110 tchar). */
static int is_tchar(unsigned char c)
{
    if (c <= 0x20 || c >= 0x7F)
        return 0;
    return strchr("\"(),/:;<=>?@[\\]{}", c) == NULL;
}

/* ---- URI encoding --------------------------------------------------------------------- */

static void put_pct(struct sink *s, unsigned char c)
{
    put(s, '%');
    put(s, hexdigits_upper[c >> 4]);
    put(s, hexdigits_upper[c & 15]);
}

/* Every byte but the unreserved ones as %XX. */
static void put_encoded(struct sink *s, const char *p, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)p[i];
        if (is_unreserved(c))
            put(s, (char)c);
        else
            put_pct(s, c);
    }
}

/* Iterator over encode(decode(text)), for the query: yields the canonical bytes of a key or
   value one by one, so that two of them can be compared without being materialised. */
struct enc_iter {
    const char *p, *end;
    char pending[2];
    unsigned npending;
};

static void enc_start(struct enc_iter *it, const char *p, size_t n)
{
    it->p = p;
    it->end = p + n;
    it->npending = 0;
}

static int enc_next(struct enc_iter *it)
{
    if (it->npending > 0) {
        int c = (unsigned char)it->pending[2 - it->npending];
        it->npending--;
        return c;
    }
    if (it->p >= it->end)
        return -1;
    unsigned char c = (unsigned char)*it->p++;
    if (c == '%' && it->end - it->p >= 2) {
        int hi = hexval((unsigned char)it->p[0]), lo = hexval((unsigned char)it->p[1]);
        if (hi >= 0 && lo >= 0) {
            c = (unsigned char)(hi << 4 | lo);
            it->p += 2;
        }
    }
    if (is_unreserved(c))
        return c;
    it->pending[0] = hexdigits_upper[c >> 4];
    it->pending[1] = hexdigits_upper[c & 15];
    it->npending = 2;
    return '%';
}

static int enc_cmp(const char *a, size_t an, const char *b, size_t bn)
{
    struct enc_iter x, y;
    enc_start(&x, a, an);
    enc_start(&y, b, bn);
    for (;;) {
        int ca = enc_next(&x), cb = enc_next(&y);
        if (ca != cb)
            return ca < cb ? -1 : 1; /* -1 (end) sorts first */
        if (ca < 0)
            return 0;
    }
}

static void put_enc(struct sink *s, const char *p, size_t n)
{
    struct enc_iter it;
    enc_start(&it, p, n);
    for (int c; (c = enc_next(&it)) >= 0;)
        put(s, (char)c);
}

/* ---- canonical URI -------------------------------------------------------------------- */

static int is_dot(const char *p, size_t n)
{
    return n == 1 && p[0] == '.';
}

static int is_dotdot(const char *p, size_t n)
{
    return n == 2 && p[0] == '.' && p[1] == '.';
}

/* The segment after `pos` (skipping one '/'): sets *seg, *len; returns the position after
   it, or NULL at the end of the path. */
static const char *next_segment(const char *pos, const char **seg, size_t *len)
{
    if (*pos == '\0')
        return NULL;
    if (*pos == '/')
        pos++;
    const char *end = pos;
    while (*end && *end != '/')
        end++;
    *seg = pos;
    *len = (size_t)(end - pos);
    return end;
}

/* Whether the normal segment ending at `after` survives: no later ".." pops it. */
static int segment_survives(const char *after)
{
    unsigned long depth = 0;
    const char *seg;
    size_t len;
    while ((after = next_segment(after, &seg, &len)) != NULL) {
        if (len == 0 || is_dot(seg, len))
            continue;
        if (is_dotdot(seg, len)) {
            if (depth == 0)
                return 0;
            depth--;
        } else {
            depth++;
        }
    }
    return 1;
}

static void put_uri(struct sink *s, const char *path, unsigned flags)
{
    if (flags & SIGV4_S3_PATH) {
        for (const char *p = path; *p; p++) {
            unsigned char c = (unsigned char)*p;
            if (c == '%' && hexval((unsigned char)p[1]) >= 0 && hexval((unsigned char)p[2]) >= 0) {
                put(s, '%');
                put(s, hexdigits_upper[hexval((unsigned char)p[1])]);
                put(s, hexdigits_upper[hexval((unsigned char)p[2])]);
                p += 2;
            } else if (c == '/' || is_unreserved(c)) {
                put(s, (char)c);
            } else {
                put_pct(s, c);
            }
        }
        if (*path == '\0')
            put(s, '/');
        return;
    }

    /* Normalised: surviving segments, each encoded, with a trailing '/' when the path ended
       with "/", "/." or "/.." and something remains. */
    const char *pos = path, *seg;
    size_t len;
    int any = 0, trailing = 0;
    put(s, '/');
    while ((pos = next_segment(pos, &seg, &len)) != NULL) {
        if (len == 0 || is_dot(seg, len) || is_dotdot(seg, len)) {
            trailing = 1;
            continue;
        }
        trailing = 0;
        if (!segment_survives(pos))
            continue;
        if (any)
            put(s, '/');
        put_encoded(s, seg, len);
        any = 1;
    }
    if (any && trailing)
        put(s, '/');
}

/* ---- canonical query ------------------------------------------------------------------ */

struct param {
    const char *key, *value;
    size_t key_len, value_len;
};

/* The next non-empty parameter at or after *pos; 0 at the end. */
static int next_param(const char **pos, struct param *out)
{
    const char *p = *pos;
    for (;;) {
        if (p == NULL || *p == '\0')
            return 0;
        const char *end = p;
        while (*end && *end != '&')
            end++;
        const char *next = *end ? end + 1 : end;
        if (end > p) {
            const char *eq = p;
            while (eq < end && *eq != '=')
                eq++;
            out->key = p;
            out->key_len = (size_t)(eq - p);
            out->value = eq < end ? eq + 1 : end;
            out->value_len = (size_t)(end - out->value);
            *pos = next;
            return 1;
        }
        p = next;
    }
}

static int param_cmp(const struct param *a, const struct param *b)
{
    int c = enc_cmp(a->key, a->key_len, b->key, b->key_len);
    return c != 0 ? c : enc_cmp(a->value, a->value_len, b->value, b->value_len);
}

static void put_query(struct sink *s, const char *query)
{
    struct param prev = {0}, best, cur;
    int have_prev = 0, first = 1;
    for (;;) {
        int found = 0;
        unsigned long count = 0;
        const char *pos = query;
        while (next_param(&pos, &cur)) {
            if (have_prev && param_cmp(&cur, &prev) <= 0)
                continue;
            int c = found ? param_cmp(&cur, &best) : -1;
            if (c < 0) {
                best = cur;
                found = 1;
                count = 1;
            } else if (c == 0) {
                count++;
            }
        }
        if (!found)
            return;
        while (count--) {
            if (!first)
                put(s, '&');
            put_enc(s, best.key, best.key_len);
            put(s, '=');
            put_enc(s, best.value, best.value_len);
            first = 0;
        }
        prev = best;
        have_prev = 1;
    }
}

/* ---- canonical headers ---------------------------------------------------------------- */

/* The caller's headers followed by the ones the signer adds. */
struct header_list {
    const struct sigv4_header *h;
    size_t n;
    struct sigv4_header extra[2];
    size_t n_extra;
};

static size_t hl_count(const struct header_list *l)
{
    return l->n + l->n_extra;
}

static const struct sigv4_header *hl_get(const struct header_list *l, size_t i)
{
    return i < l->n ? &l->h[i] : &l->extra[i - l->n];
}

static int name_cmp(const char *a, const char *b)
{
    for (;; a++, b++) {
        unsigned char x = lower((unsigned char)*a), y = lower((unsigned char)*b);
        if (x != y)
            return x < y ? -1 : 1;
        if (x == 0)
            return 0;
    }
}

/* The value with leading/trailing blanks removed and inner runs folded to one space. */
static void put_value(struct sink *s, const char *v)
{
    int blank = 0, any = 0;
    for (; *v; v++) {
        if (is_space(*v)) {
            blank = 1;
            continue;
        }
        if (blank && any)
            put(s, ' ');
        put(s, *v);
        blank = 0;
        any = 1;
    }
}

/* Trimmed value equals `want` (which has no blanks at either end). */
static int value_equals(const char *v, const char *want)
{
    while (is_space(*v))
        v++;
    size_t n = strlen(v);
    while (n > 0 && is_space(v[n - 1]))
        n--;
    return n == strlen(want) && memcmp(v, want, n) == 0;
}

/* The distinct names in sorted order: the smallest name greater than `prev` (NULL = the
   smallest), or NULL when there is none. */
static const char *next_name(const struct header_list *l, const char *prev)
{
    const char *best = NULL;
    for (size_t i = 0; i < hl_count(l); i++) {
        const char *name = hl_get(l, i)->name;
        if (prev && name_cmp(name, prev) <= 0)
            continue;
        if (!best || name_cmp(name, best) < 0)
            best = name;
    }
    return best;
}

static void put_lower(struct sink *s, const char *p)
{
    for (; *p; p++)
        put(s, (char)lower((unsigned char)*p));
}

static void put_headers(struct sink *s, const struct header_list *l)
{
    for (const char *name = next_name(l, NULL); name; name = next_name(l, name)) {
        put_lower(s, name);
        put(s, ':');
        int first = 1;
        for (size_t i = 0; i < hl_count(l); i++) {
            const struct sigv4_header *h = hl_get(l, i);
            if (name_cmp(h->name, name) != 0)
                continue;
            if (!first)
                put(s, ',');
            put_value(s, h->value);
            first = 0;
        }
        put(s, '\n');
    }
}

static void put_signed_headers(struct sink *s, const struct header_list *l)
{
    int first = 1;
    for (const char *name = next_name(l, NULL); name; name = next_name(l, name)) {
        if (!first)
            put(s, ';');
        put_lower(s, name);
        first = 0;
    }
}

/* ---- validation ----------------------------------------------------------------------- */

static int nonempty(const char *s)
{
    return s != NULL && *s != '\0';
}

/* Non-empty, visible ASCII only, none of `forbidden`. */
static int is_word(const char *s, const char *forbidden)
{
    if (!nonempty(s))
        return 0;
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c <= 0x20 || c >= 0x7F || strchr(forbidden, c))
            return 0;
    }
    return 1;
}

static int valid_date(const char *d)
{
    if (d == NULL)
        return 0;
    for (unsigned i = 0; i < SIGV4_AMZ_DATE_LEN; i++) {
        char c = d[i];
        int ok = i == 8 ? c == 'T' : i == 15 ? c == 'Z' : (c >= '0' && c <= '9');
        if (!ok)
            return 0;
    }
    return d[SIGV4_AMZ_DATE_LEN] == '\0';
}

static int valid_header(const struct sigv4_header *h)
{
    if (!nonempty(h->name) || h->value == NULL)
        return 0;
    for (const char *p = h->name; *p; p++)
        if (!is_tchar((unsigned char)*p))
            return 0;
    for (const char *p = h->value; *p; p++) {
        unsigned char c = (unsigned char)*p;
        if ((c < 0x20 && c != '\t') || c == 0x7F)
            return 0;
    }
    return 1;
}

/* No control characters (the token becomes a header value). */
static int valid_token(const char *t)
{
    for (; *t; t++)
        if ((unsigned char)*t < 0x20 || (unsigned char)*t == 0x7F)
            return 0;
    return 1;
}

/* ---- signing -------------------------------------------------------------------------- */

static void hmac_str(const uint8_t key[32], const char *data, size_t len, uint8_t out[32])
{
    hmac_sha256(key, 32, data, len, out);
}

int sigv4_signing_key(const char *secret, const char *date, const char *region,
                      const char *service, uint8_t key[32])
{
    if (secret == NULL || date == NULL || strlen(date) < 8 || !nonempty(region) ||
        !nonempty(service))
        return SIGV4_ERR_ARG;

    /* kSecret = "AWS4" secret; longer than a block it is hashed first (RFC 2104). */
    uint8_t k[SHA256_BLOCK_SIZE];
    size_t slen = strlen(secret), klen;
    if (slen <= sizeof k - 4) {
        memcpy(k, "AWS4", 4);
        memcpy(k + 4, secret, slen);
        klen = 4 + slen;
    } else {
        struct sha256_ctx h;
        sha256_init(&h);
        sha256_update(&h, "AWS4", 4);
        sha256_update(&h, secret, slen);
        sha256_final(&h, k);
        klen = SHA256_DIGEST_SIZE;
    }
    hmac_sha256(k, klen, date, 8, key);                          /* kDate */
    hmac_str(key, region, strlen(region), key);                  /* kRegion */
    hmac_str(key, service, strlen(service), key);                /* kService */
    hmac_str(key, TERMINATOR, sizeof TERMINATOR - 1, key);       /* kSigning */
    sha256_wipe(k, sizeof k);
    return SIGV4_OK;
}

static void put_scope(struct sink *s, const struct sigv4_request *req)
{
    puts_n(s, req->amz_date, 8);
    put(s, '/');
    puts_z(s, req->region);
    put(s, '/');
    puts_z(s, req->service);
    put(s, '/');
    puts_z(s, TERMINATOR);
}

int sigv4_sign(const struct sigv4_request *req, const struct sigv4_credentials *cred,
               struct sigv4_result *out)
{
    if (req == NULL || cred == NULL || out == NULL)
        return SIGV4_ERR_ARG;
    out->signature[0] = '\0';
    out->canonical_request.len = out->string_to_sign.len = out->authorization.len = 0;

    /* ---- check everything first ---- */
    if (!is_word(req->method, "") || req->path == NULL || req->path[0] != '/' ||
        !valid_date(req->amz_date) || !is_word(req->region, "/") ||
        !is_word(req->service, "/") || !is_word(cred->access_key_id, "/,=") ||
        (cred->secret_access_key == NULL && cred->signing_key == NULL) ||
        (req->headers == NULL && req->header_count > 0) ||
        (req->payload == NULL && req->payload_len > 0 && req->payload_hash == NULL) ||
        (req->payload_hash != NULL && !is_word(req->payload_hash, "")))
        return SIGV4_ERR_ARG;
    const char *token = nonempty(cred->session_token) ? cred->session_token : NULL;
    if (token && !valid_token(token))
        return SIGV4_ERR_ARG;

    struct header_list hl;
    memset(&hl, 0, sizeof hl);
    hl.h = req->headers;
    hl.n = req->header_count;
    int have_host = 0, have_date = 0, have_token = 0;
    for (size_t i = 0; i < hl.n; i++) {
        const struct sigv4_header *h = &hl.h[i];
        if (!valid_header(h))
            return SIGV4_ERR_HEADER;
        if (name_cmp(h->name, "host") == 0) {
            have_host = 1;
        } else if (name_cmp(h->name, "x-amz-date") == 0) {
            if (!value_equals(h->value, req->amz_date))
                return SIGV4_ERR_CONFLICT;
            have_date = 1;
        } else if (name_cmp(h->name, "x-amz-security-token") == 0) {
            if (token && !value_equals(h->value, token))
                return SIGV4_ERR_CONFLICT;
            have_token = 1;
        }
    }
    if (!have_host)
        return SIGV4_ERR_NO_HOST;
    if (!have_date)
        hl.extra[hl.n_extra++] = (struct sigv4_header){"x-amz-date", req->amz_date};
    if (token && !have_token && !(req->flags & SIGV4_TOKEN_UNSIGNED))
        hl.extra[hl.n_extra++] = (struct sigv4_header){"x-amz-security-token", token};

    /* ---- canonical request, hashed as it is produced ---- */
    char hex[2 * SHA256_DIGEST_SIZE + 1];
    uint8_t digest[SHA256_DIGEST_SIZE];
    struct sha256_ctx hash;
    struct sink s;
    int too_small = 0;

    sink_init(&s, out->canonical_request.buf, out->canonical_request.size);
    sha256_init(&hash);
    s.hash = &hash;
    puts_z(&s, req->method);
    put(&s, '\n');
    put_uri(&s, req->path, req->flags);
    put(&s, '\n');
    put_query(&s, req->query);
    put(&s, '\n');
    put_headers(&s, &hl);
    put(&s, '\n');
    put_signed_headers(&s, &hl);
    put(&s, '\n');
    if (req->payload_hash) {
        puts_z(&s, req->payload_hash);
    } else {
        sha256(req->payload_len ? req->payload : "", req->payload_len, digest);
        put_hex(&s, digest, sizeof digest);
    }
    too_small |= sink_finish(&s);
    out->canonical_request.len = s.len;
    sha256_final(&hash, digest);
    hex_lower(hex, digest, sizeof digest);

    /* ---- string to sign, MACed with the signing key as it is produced ---- */
    uint8_t key[SHA256_DIGEST_SIZE];
    struct hmac_sha256_ctx mac;
    if (cred->signing_key)
        memcpy(key, cred->signing_key, sizeof key);
    else
        sigv4_signing_key(cred->secret_access_key, req->amz_date, req->region, req->service,
                          key);
    hmac_sha256_init(&mac, key, sizeof key);
    sha256_wipe(key, sizeof key);

    sink_init(&s, out->string_to_sign.buf, out->string_to_sign.size);
    s.mac = &mac;
    puts_z(&s, ALGORITHM "\n");
    puts_z(&s, req->amz_date);
    put(&s, '\n');
    put_scope(&s, req);
    put(&s, '\n');
    puts_z(&s, hex);
    too_small |= sink_finish(&s);
    out->string_to_sign.len = s.len;
    hmac_sha256_final(&mac, digest);
    hex_lower(out->signature, digest, sizeof digest);

    /* ---- Authorization value ---- */
    sink_init(&s, out->authorization.buf, out->authorization.size);
    puts_z(&s, ALGORITHM " Credential=");
    puts_z(&s, cred->access_key_id);
    put(&s, '/');
    put_scope(&s, req);
    puts_z(&s, ", SignedHeaders=");
    put_signed_headers(&s, &hl);
    puts_z(&s, ", Signature=");
    puts_z(&s, out->signature);
    too_small |= sink_finish(&s);
    out->authorization.len = s.len;

    return too_small ? SIGV4_ERR_BUFFER : SIGV4_OK;
}

size_t sigv4_canonical_uri(const char *path, unsigned flags, char *buf, size_t size)
{
    struct sink s;
    sink_init(&s, buf, size);
    put_uri(&s, path ? path : "", flags);
    sink_finish(&s);
    return s.len;
}

size_t sigv4_canonical_query(const char *query, char *buf, size_t size)
{
    struct sink s;
    sink_init(&s, buf, size);
    put_query(&s, query);
    sink_finish(&s);
    return s.len;
}

const char *sigv4_strerror(int err)
{
    switch (err) {
    case SIGV4_OK:
        return "ok";
    case SIGV4_ERR_ARG:
        return "missing or malformed argument";
    case SIGV4_ERR_HEADER:
        return "invalid header name or value";
    case SIGV4_ERR_NO_HOST:
        return "no host header";
    case SIGV4_ERR_CONFLICT:
        return "x-amz-date or x-amz-security-token header differs from the parameters";
    case SIGV4_ERR_BUFFER:
        return "output buffer too small";
    default:
        return "unknown error";
    }
}
