/*
 * sigv4.h - AWS Signature Version 4 (AWS4-HMAC-SHA256) request signer.
 *
 * Generic: any method, path, query, headers, payload, region and service. No allocation and
 * no internal fixed-size buffers for request data: the canonical request and the string to
 * sign are streamed into SHA-256 / HMAC as they are produced, and copied to caller buffers
 * only when the caller passes them, with explicit sizes. Compiles for the host and the FT32.
 *
 * Rules applied (AWS General Reference, "Create a canonical request"):
 *
 *  - Canonical URI. `path` is the path as it is sent in the request line (without the
 *    query). By default (every service but S3): the path is normalised as RFC 3986 5.2.4
 *    says - "." segments removed, a ".." segment removes the segment before it (never past
 *    the root) - and empty segments are dropped ("//" collapses to "/"); the result keeps a
 *    trailing "/" when the path ended with "/", "/." or "/..", and is "/" when nothing
 *    remains. Each remaining segment is then URI-encoded byte by byte: A-Z a-z 0-9 - _ . ~
 *    are kept, every other byte (including '%') becomes %XX with upper-case hex. A path
 *    that is already percent-encoded on the wire is therefore encoded a second time, which
 *    is what AWS requires of every service except S3 ("/a%20b" -> "/a%2520b"). DynamoDB's
 *    path is "/", on which the two conventions agree.
 *    With SIGV4_S3_PATH: no normalisation, and encoding happens once: a valid "%XX" in
 *    the path is kept (its hex upper-cased), '/' and unreserved bytes are kept, anything
 *    else is encoded.
 *  - Canonical query. `query` is the raw query string without '?'. It is split on '&'
 *    (empty parameters are dropped), each parameter on its first '=' (no '=' means an
 *    empty value). Key and value are percent-decoded ("%XX" with two hex digits; anything
 *    else, including '+', is taken literally) and URI-encoded as above (so "a b", "a%20b"
 *    give "a%20b"; '+' gives "%2B": send spaces as %20). Parameters are sorted by encoded
 *    key, then encoded value (byte order), and joined as key=value with '&'.
 *  - Canonical headers. Names are lower-cased; values have leading and trailing spaces
 *    and tabs removed and every inner run of spaces/tabs replaced by one space (also inside
 *    quotes). Headers with the same name (in any case) are combined into one line, their
 *    values joined with ',' in the order given. Lines are sorted by name.
 *    The signer adds "x-amz-date: <amz_date>" unless the caller's headers have one (it
 *    must then equal amz_date), and, when the credentials carry a session token,
 *    "x-amz-security-token: <token>" unless the caller has it (it must then equal the
 *    token) or SIGV4_TOKEN_UNSIGNED is set (services that want the token added after
 *    signing). A "host" header is required. Every header passed is signed.
 *  - Signed headers: the sorted lower-case names joined with ';'.
 *  - Payload hash: `payload_hash` when given (e.g. "UNSIGNED-PAYLOAD" or a precomputed
 *    hex SHA-256), else the lower-case hex SHA-256 of payload[0..payload_len).
 *  - String to sign: "AWS4-HMAC-SHA256\n" amz_date "\n" scope "\n" hex(SHA256(canonical
 *    request)), scope = YYYYMMDD "/" region "/" service "/aws4_request".
 *  - Signing key: kDate = HMAC("AWS4" secret, YYYYMMDD), kRegion = HMAC(kDate, region),
 *    kService = HMAC(kRegion, service), kSigning = HMAC(kService, "aws4_request");
 *    signature = hex(HMAC(kSigning, string to sign)).
 *  - Authorization value: "AWS4-HMAC-SHA256 Credential=" access_key_id "/" scope
 *    ", SignedHeaders=" signed headers ", Signature=" signature.
 *
 * Nothing here prints anything; the secret and the derived keys are wiped from the stack
 * before returning.
 */
#ifndef AWS_SIGV4_H
#define AWS_SIGV4_H

#include <stddef.h>
#include <stdint.h>

/* Return values. */
#define SIGV4_OK            0
#define SIGV4_ERR_ARG      (-1) /* a required field is missing or malformed */
#define SIGV4_ERR_HEADER   (-2) /* a header name is not an HTTP token, or a value has a
                                   control character (CR, LF, NUL, ...) */
#define SIGV4_ERR_NO_HOST  (-3) /* no "host" header */
#define SIGV4_ERR_CONFLICT (-4) /* an x-amz-date / x-amz-security-token header differs from
                                   amz_date / the session token */
#define SIGV4_ERR_BUFFER   (-5) /* an output buffer is too small: the lengths are set */

/* request.flags */
#define SIGV4_S3_PATH        0x1u /* S3 rules for the path: no normalisation, encode once */
#define SIGV4_TOKEN_UNSIGNED 0x2u /* do not sign the session token */

#define SIGV4_AMZ_DATE_LEN  16u /* "YYYYMMDDTHHMMSSZ" */
#define SIGV4_SIGNATURE_LEN 64u /* hex characters */

struct sigv4_header {
    const char *name;  /* NUL-terminated, any case */
    const char *value; /* NUL-terminated, may be empty */
};

struct sigv4_credentials {
    const char *access_key_id;     /* e.g. "AKIDEXAMPLE" */
    const char *secret_access_key; /* never printed, never copied out */
    const char *session_token;     /* NULL or "" if none */
    /* Optional: kSigning of the request's day, region and service from sigv4_signing_key(),
       to skip its derivation (four HMACs, about half the work of a signature) when many
       requests are signed on one day. NULL: derived from secret_access_key. */
    const uint8_t *signing_key;
};

struct sigv4_request {
    const char *method;                 /* "GET", "POST", ... */
    const char *path;                   /* "/", "/a/b": starts with '/', no query */
    const char *query;                  /* raw query without '?', or NULL / "" */
    const struct sigv4_header *headers; /* header_count entries */
    size_t header_count;
    const void *payload;                /* hashed when payload_hash is NULL */
    size_t payload_len;
    const char *payload_hash;           /* NULL, or the value to sign as the payload hash */
    const char *amz_date;               /* "YYYYMMDDTHHMMSSZ" (UTC) */
    const char *region;                 /* "us-east-1" */
    const char *service;                /* "dynamodb", "s3", "iotdevicegateway", ... */
    unsigned flags;                     /* SIGV4_S3_PATH | SIGV4_TOKEN_UNSIGNED */
};

/* An optional output: the caller sets `buf` and `size` (bytes, NUL included) or leaves
   buf NULL; sigv4_sign() always sets `len` to the length of the full text (NUL excluded),
   so that `len + 1` is the size needed. A buffer too small receives "" (if size > 0). */
struct sigv4_text {
    char *buf;
    size_t size;
    size_t len;
};

struct sigv4_result {
    struct sigv4_text canonical_request;
    struct sigv4_text string_to_sign;
    struct sigv4_text authorization; /* the value of the Authorization header */
    char signature[SIGV4_SIGNATURE_LEN + 1];
};

/*
 * Signs `req` with `cred`. Returns SIGV4_OK, or SIGV4_ERR_BUFFER when a buffer given in
 * `out` is too small (the signature and every `len` are still set: retry with buffers of
 * len + 1 bytes), or another SIGV4_ERR_* (then nothing in `out` is meaningful). To learn
 * the sizes first, call it with every buf NULL.
 */
int sigv4_sign(const struct sigv4_request *req, const struct sigv4_credentials *cred,
               struct sigv4_result *out);

/* The signing key kSigning for a day ("YYYYMMDD", or a full amz date: its first 8
   characters are used), region and service. The caller wipes it after use. */
int sigv4_signing_key(const char *secret_access_key, const char *date, const char *region,
                      const char *service, uint8_t key[32]);

/* The canonical URI / canonical query alone, as sigv4_sign() builds them; return the full
   length (NUL excluded); `buf` (may be NULL) receives the text when it fits in `size`. */
size_t sigv4_canonical_uri(const char *path, unsigned flags, char *buf, size_t size);
size_t sigv4_canonical_query(const char *query, char *buf, size_t size);

/* A short English description of a SIGV4_* return value. */
const char *sigv4_strerror(int err);

#endif /* AWS_SIGV4_H */
