/*
 * sigv4_selftest.c - see sigv4_selftest.h.
 */
#include <string.h>
#include "sha256.h"
#include "sigv4.h"
#include "sigv4_selftest.h"

struct st {
    sigv4_selftest_report_t report;
    void *ctx;
    unsigned failures;
};

static void check(struct st *t, int ok, const char *what, const char *got)
{
    if (!ok)
        t->failures++;
    t->report(t->ctx, ok, what, ok ? NULL : got);
}

static void to_hex(char *out, const uint8_t *p, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = hex[p[i] >> 4];
        out[2 * i + 1] = hex[p[i] & 15];
    }
    out[2 * n] = '\0';
}

/* Compares the first n bytes of a digest with the hex text `want`. */
static void check_digest(struct st *t, const char *what, const uint8_t *d, size_t n,
                         const char *want)
{
    char hex[2 * SHA256_DIGEST_SIZE + 1];
    to_hex(hex, d, n);
    check(t, strcmp(hex, want) == 0, what, hex);
}

static void sha_kat(struct st *t, const char *what, const char *msg, const char *want)
{
    uint8_t d[SHA256_DIGEST_SIZE];
    sha256(msg, strlen(msg), d);
    check_digest(t, what, d, sizeof d, want);
}

static void test_sha256(struct st *t, int slow)
{
    sha_kat(t, "SHA-256 \"\"", "",
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    sha_kat(t, "SHA-256 \"abc\" (FIPS 180-2 B.1)", "abc",
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    static const char m448[] = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
    sha_kat(t, "SHA-256 448-bit message (FIPS 180-2 B.2)", m448,
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
    sha_kat(t, "SHA-256 896-bit message",
            "abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopq"
            "klmnopqrlmnopqrsmnopqrstnopqrstu",
            "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1");

    /* The same message fed in pieces of every size 1..64 gives the same digest. */
    int same = 1;
    for (size_t step = 1; step <= 64 && same; step++) {
        struct sha256_ctx c;
        uint8_t d[SHA256_DIGEST_SIZE], ref[SHA256_DIGEST_SIZE];
        sha256(m448, sizeof m448 - 1, ref);
        sha256_init(&c);
        for (size_t i = 0; i < sizeof m448 - 1; i += step)
            sha256_update(&c, m448 + i, (sizeof m448 - 1 - i) < step ? sizeof m448 - 1 - i : step);
        sha256_final(&c, d);
        same = memcmp(d, ref, sizeof d) == 0;
    }
    check(t, same, "SHA-256 of a message fed in pieces of 1..64 bytes", NULL);

    if (slow) {
        struct sha256_ctx c;
        uint8_t block[1000], d[SHA256_DIGEST_SIZE];
        memset(block, 'a', sizeof block);
        sha256_init(&c);
        for (unsigned i = 0; i < 1000; i++)
            sha256_update(&c, block, sizeof block);
        sha256_final(&c, d);
        check_digest(t, "SHA-256 of one million 'a' (FIPS 180-2 B.3)", d, sizeof d,
                     "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
    }
}

static void hmac_kat(struct st *t, const char *what, const void *key, size_t klen,
                     const void *msg, size_t mlen, size_t outlen, const char *want)
{
    uint8_t d[SHA256_DIGEST_SIZE];
    hmac_sha256(key, klen, msg, mlen, d);
    check_digest(t, what, d, outlen, want);
}

static void test_hmac(struct st *t)
{
    uint8_t key[131], data[50];

    memset(key, 0x0b, 20);
    hmac_kat(t, "HMAC-SHA256 RFC 4231 case 1", key, 20, "Hi There", 8, 32,
             "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7");
    hmac_kat(t, "HMAC-SHA256 RFC 4231 case 2", "Jefe", 4, "what do ya want for nothing?", 28, 32,
             "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
    memset(key, 0xaa, 20);
    memset(data, 0xdd, 50);
    hmac_kat(t, "HMAC-SHA256 RFC 4231 case 3", key, 20, data, 50, 32,
             "773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe");
    for (unsigned i = 0; i < 25; i++)
        key[i] = (uint8_t)(i + 1);
    memset(data, 0xcd, 50);
    hmac_kat(t, "HMAC-SHA256 RFC 4231 case 4", key, 25, data, 50, 32,
             "82558a389a443c0ea4cc819899f2083a85f0faa3e578f8077a2e3ff46729665b");
    memset(key, 0x0c, 20);
    hmac_kat(t, "HMAC-SHA256 RFC 4231 case 5 (128 bits)", key, 20, "Test With Truncation", 20,
             16, "a3b6167473100ee06e0c796c2955552b");
    memset(key, 0xaa, 131);
    static const char m6[] = "Test Using Larger Than Block-Size Key - Hash Key First";
    hmac_kat(t, "HMAC-SHA256 RFC 4231 case 6", key, 131, m6, sizeof m6 - 1, 32,
             "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54");
    static const char m7[] = "This is a test using a larger than block-size key and a larger than "
                             "block-size data. The key needs to be hashed before being used by "
                             "the HMAC algorithm.";
    hmac_kat(t, "HMAC-SHA256 RFC 4231 case 7", key, 131, m7, sizeof m7 - 1, 32,
             "9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2");

    struct hmac_sha256_ctx c;
    uint8_t d[SHA256_DIGEST_SIZE];
    hmac_sha256_init(&c, key, 131);
    for (size_t i = 0; i < sizeof m7 - 1; i += 7)
        hmac_sha256_update(&c, m7 + i, sizeof m7 - 1 - i < 7 ? sizeof m7 - 1 - i : 7);
    hmac_sha256_final(&c, d);
    check_digest(t, "HMAC-SHA256 case 7 fed in 7-byte pieces", d, 32,
                 "9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2");
}

/* ---- signer --------------------------------------------------------------------------- */

static const char suite_secret[] = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
static const char suite_date[] = "20150830T123600Z";
static const char suite_token[] =
    "6e86291e8372ff2a2260956d9b8aae1d763fbf315fa00fa31553b73ebf194267";
static const char sig_vanilla[] =
    "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31";

static void test_signing_key(struct st *t)
{
    uint8_t k[32];
    int r = sigv4_signing_key(suite_secret, "20120215", "us-east-1", "iam", k);
    check_digest(t, "signing key of the AWS documentation (20120215/us-east-1/iam)", k, 32,
                 r == SIGV4_OK ? "f4780e2d9f65fa895f9c67b32ce1baf0b0d8a43505a000a1a9e090d414db404d"
                               : "(error)");
    sha256_wipe(k, sizeof k);
}

/* "<prefix><text>", cut to fit `size`. */
static const char *label(char *buf, size_t size, const char *prefix, const char *text)
{
    size_t n = 0;
    for (const char *s = prefix; *s && n + 1 < size; s++)
        buf[n++] = *s;
    for (const char *s = text; *s && n + 1 < size; s++)
        buf[n++] = *s;
    buf[n] = '\0';
    return buf;
}

static void check_uri(struct st *t, const char *path, unsigned flags, const char *want)
{
    char buf[64], what[80];
    size_t n = sigv4_canonical_uri(path, flags, buf, sizeof buf);
    check(t, n == strlen(want) && strcmp(buf, want) == 0,
          label(what, sizeof what, flags & SIGV4_S3_PATH ? "S3 URI " : "URI ", path), buf);
}

static void check_query(struct st *t, const char *query, const char *want)
{
    char buf[96], what[80];
    size_t n = sigv4_canonical_query(query, buf, sizeof buf);
    check(t, n == strlen(want) && strcmp(buf, want) == 0, label(what, sizeof what, "query ", query),
          buf);
}

static void test_canonical(struct st *t)
{
    check_uri(t, "/", 0, "/");
    check_uri(t, "", 0, "/");
    check_uri(t, "/example/..", 0, "/");                 /* get-relative */
    check_uri(t, "/example1/example2/../..", 0, "/");    /* get-relative-relative */
    check_uri(t, "//", 0, "/");                          /* get-slash */
    check_uri(t, "/./", 0, "/");                         /* get-slash-dot-slash */
    check_uri(t, "/./example", 0, "/example");           /* get-slash-pointless-dot */
    check_uri(t, "//example//", 0, "/example/");         /* get-slashes */
    check_uri(t, "/example space/", 0, "/example%20space/"); /* get-space */
    check_uri(t, "/\xe1\x88\xb4", 0, "/%E1%88%B4");      /* get-utf8 */
    check_uri(t, "/-._~0-9A-Za-z", 0, "/-._~0-9A-Za-z"); /* get-unreserved */
    check_uri(t, "/a/b/../c/./d", 0, "/a/c/d");
    check_uri(t, "/a/b/..", 0, "/a/");
    check_uri(t, "/a/b/.", 0, "/a/b/");
    check_uri(t, "/../../a", 0, "/a");
    check_uri(t, "/a/.../b", 0, "/a/.../b");
    check_uri(t, "/a%20b", 0, "/a%2520b");               /* encoded twice */
    check_uri(t, "/$!'()*+,;=:@", 0, "/%24%21%27%28%29%2A%2B%2C%3B%3D%3A%40");
    check_uri(t, "//example//", SIGV4_S3_PATH, "//example//");
    check_uri(t, "/a%20b/c d", SIGV4_S3_PATH, "/a%20b/c%20d"); /* encoded once */
    check_uri(t, "/a%2fb/./x/../%", SIGV4_S3_PATH, "/a%2Fb/./x/../%25");
    check_uri(t, "/test$file.text", SIGV4_S3_PATH, "/test%24file.text");

    check_query(t, "", "");
    check_query(t, "Param2=value2&Param1=value1", "Param1=value1&Param2=value2");
    check_query(t, "Param1=value2&Param1=Value1", "Param1=Value1&Param1=value2");
    check_query(t, "Param1=value1", "Param1=value1");
    check_query(t, "Param1", "Param1=");
    check_query(t, "b=2&&a=1&", "a=1&b=2");
    check_query(t, "a=x y&a=x%20y", "a=x%20y&a=x%20y");
    check_query(t, "a-b=2&a=1", "a=1&a-b=2");
    check_query(t, "-._~0-9A-Za-z=-._~0-9A-Za-z", "-._~0-9A-Za-z=-._~0-9A-Za-z");
    check_query(t, "\xe1\x88\xb4=bar", "%E1%88%B4=bar");
    check_query(t, "Param-3=Value3&Param=Value2&%E1%88%B4=Value1",
                "%E1%88%B4=Value1&Param=Value2&Param-3=Value3");
    check_query(t, "a+b=c%2f&k=%zz%4", "a%2Bb=c%2F&k=%25zz%254");
    check_query(t, "x=a=b", "x=a%3Db");
}

/* A request of the test suite's shape with `n` headers. */
static struct sigv4_request suite_request(const struct sigv4_header *h, size_t n)
{
    struct sigv4_request r;
    memset(&r, 0, sizeof r);
    r.method = "GET";
    r.path = "/";
    r.headers = h;
    r.header_count = n;
    r.amz_date = suite_date;
    r.region = "us-east-1";
    r.service = "service";
    return r;
}

static const struct sigv4_credentials suite_cred = {"AKIDEXAMPLE", suite_secret, NULL, NULL};

static void check_sig(struct st *t, const char *what, const struct sigv4_request *r,
                      const struct sigv4_credentials *c, const char *want)
{
    struct sigv4_result out;
    memset(&out, 0, sizeof out);
    int e = sigv4_sign(r, c, &out);
    check(t, e == SIGV4_OK && strcmp(out.signature, want) == 0, what,
          e == SIGV4_OK ? out.signature : sigv4_strerror(e));
}

static void check_err(struct st *t, const char *what, const struct sigv4_request *r,
                      const struct sigv4_credentials *c, int want)
{
    struct sigv4_result out;
    memset(&out, 0, sizeof out);
    int e = sigv4_sign(r, c, &out);
    check(t, e == want, what, sigv4_strerror(e));
}

static void test_sign(struct st *t)
{
    struct sigv4_header h[6] = {
        {"Host", "example.amazonaws.com"},
        {"X-Amz-Date", suite_date},
    };
    struct sigv4_request r = suite_request(h, 2);
    check_sig(t, "get-vanilla through the API", &r, &suite_cred, sig_vanilla);

    /* x-amz-date added by the signer; header order does not matter. */
    r = suite_request(h, 1);
    check_sig(t, "x-amz-date added from amz_date", &r, &suite_cred, sig_vanilla);
    struct sigv4_header rev[2] = {h[1], h[0]};
    r = suite_request(rev, 2);
    check_sig(t, "headers in another order", &r, &suite_cred, sig_vanilla);

    /* A cached signing key instead of the secret. */
    uint8_t k[32];
    sigv4_signing_key(suite_secret, suite_date, "us-east-1", "service", k);
    struct sigv4_credentials cached = {"AKIDEXAMPLE", NULL, NULL, k};
    r = suite_request(h, 2);
    check_sig(t, "cached signing key", &r, &cached, sig_vanilla);
    sha256_wipe(k, sizeof k);

    struct sigv4_credentials tok = {"AKIDEXAMPLE", suite_secret, suite_token, NULL};
    r = suite_request(h, 2);
    check_sig(t, "session token signed (get-vanilla-with-session-token)", &r, &tok,
              "07ec1639c89043aa0e3e2de82b96708f198cceab042d4a97044c66dd9f74e7f8");
    r.flags = SIGV4_TOKEN_UNSIGNED;
    check_sig(t, "session token not signed with SIGV4_TOKEN_UNSIGNED", &r, &tok, sig_vanilla);

    r = suite_request(h, 2);
    r.path = "/example space/";
    check_sig(t, "get-space", &r, &suite_cred,
              "652487583200325589f1fba4c7e578f72c47cb61beeca81406b39ddec1366741");
    r.path = "//example//";
    r.flags = SIGV4_S3_PATH;
    check_sig(t, "get-slashes unnormalised (SIGV4_S3_PATH)", &r, &suite_cred,
              "87cca117541a147f6df867677d98a7d80dff226d2bfca9e4ffa899665623c7e5");
    r = suite_request(h, 2);
    r.query = "Param-3=Value3&Param=Value2&%E1%88%B4=Value1";
    check_sig(t, "get-vanilla-query-order-encoded", &r, &suite_cred,
              "371d3713e185cc334048618a97f809c9ffe339c62934c032af5a0e595648fcac");

    /* A secret longer than a hash block minus "AWS4" (hashed first, RFC 2104). */
    char long_secret[101];
    memset(long_secret, 'x', 100);
    long_secret[100] = '\0';
    struct sigv4_credentials lc = {"AKIDEXAMPLE", long_secret, NULL, NULL};
    r = suite_request(h, 2);
    check_sig(t, "100-byte secret", &r, &lc,
              "aaa7d088e639cdeaa015dba5b95d1168e9d7080af6b668549d17288e786ef55a");

    /* Duplicates, folding, dot segments, query, payload, other region and service. */
    struct sigv4_header mix[5] = {
        {"Host", "example.amazonaws.com"}, {"My-Header1", "  value2  "},
        {"X-Amz-Date", suite_date},        {"my-header1", "a \t  b"},
        {"Content-Type", "text/plain"},
    };
    static const char mix_creq[] =
        "GET\n/a/c/d\na=1&a=x%20y&b=2\ncontent-type:text/plain\nhost:example.amazonaws.com\n"
        "my-header1:value2,a b\nx-amz-date:20150830T123600Z\n\n"
        "content-type;host;my-header1;x-amz-date\n"
        "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824";
    r = suite_request(mix, 5);
    r.path = "/a/b/../c/./d";
    r.query = "b=2&a=x y&a=1";
    r.payload = "hello";
    r.payload_len = 5;
    r.region = "eu-west-1";
    r.service = "dynamodb";
    char creq[320];
    struct sigv4_result out;
    memset(&out, 0, sizeof out);
    out.canonical_request.buf = creq;
    out.canonical_request.size = sizeof creq;
    int e = sigv4_sign(&r, &suite_cred, &out);
    check(t, e == SIGV4_OK && strcmp(creq, mix_creq) == 0,
          "duplicate headers combined in order, values folded, path normalised", creq);
    check(t, strcmp(out.signature,
                    "21e448d52cd70adae82d27a6c70f91685fd05309ceebf8f860cc6aa1f7e213a4") == 0,
          "signature of that request (eu-west-1, dynamodb)", out.signature);

    /* The AWS S3 documentation examples (GET object with a range, PUT, two listings). */
    static const char s3_secret[] = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
    static const char empty_hash[] =
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
    struct sigv4_credentials s3c = {"AKIAIOSFODNN7EXAMPLE", s3_secret, NULL, NULL};
    struct sigv4_header s3h[4] = {
        {"Host", "examplebucket.s3.amazonaws.com"},
        {"Range", "bytes=0-9"},
        {"x-amz-content-sha256", empty_hash},
    };
    struct sigv4_request s3 = suite_request(s3h, 3);
    s3.path = "/test.txt";
    s3.amz_date = "20130524T000000Z";
    s3.service = "s3";
    s3.flags = SIGV4_S3_PATH;
    s3.payload_hash = empty_hash;
    check_sig(t, "S3 documentation: GET object with a range", &s3, &s3c,
              "f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41");
    static const char put_hash[] =
        "44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072";
    s3h[1] = (struct sigv4_header){"Date", "Fri, 24 May 2013 00:00:00 GMT"};
    s3h[2] = (struct sigv4_header){"x-amz-storage-class", "REDUCED_REDUNDANCY"};
    s3h[3] = (struct sigv4_header){"x-amz-content-sha256", put_hash};
    s3.header_count = 4;
    s3.method = "PUT";
    s3.path = "/test$file.text";
    s3.payload_hash = put_hash;
    check_sig(t, "S3 documentation: PUT object", &s3, &s3c,
              "98ad721746da40c64f1a55b78f14c238d841ea1380cd77a1b5971af0ece108bd");
    s3h[1] = (struct sigv4_header){"x-amz-content-sha256", empty_hash};
    s3.header_count = 2;
    s3.method = "GET";
    s3.path = "/";
    s3.query = "lifecycle";
    s3.payload_hash = empty_hash;
    check_sig(t, "S3 documentation: GET bucket lifecycle", &s3, &s3c,
              "fea454ca298b7da1c68078a5d1bdbfbbe0d65c699e0f91ac7a200a0136783543");
    s3.query = "max-keys=2&prefix=J";
    check_sig(t, "S3 documentation: GET bucket listing", &s3, &s3c,
              "34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7");
}

static void test_buffers(struct st *t)
{
    struct sigv4_header h[2] = {{"Host", "example.amazonaws.com"}, {"X-Amz-Date", suite_date}};
    struct sigv4_request r = suite_request(h, 2);
    struct sigv4_result out;

    /* Sizes first: no buffers. */
    memset(&out, 0, sizeof out);
    int e = sigv4_sign(&r, &suite_cred, &out);
    check(t, e == SIGV4_OK && out.canonical_request.len == 143 && out.string_to_sign.len == 138 &&
                 out.authorization.len == 186 && strcmp(out.signature, sig_vanilla) == 0,
          "lengths without buffers (143, 138, 186)", sigv4_strerror(e));

    /* Exactly len + 1 bytes: fits. */
    char a[144], b[139], c[187];
    out.canonical_request = (struct sigv4_text){a, sizeof a, 0};
    out.string_to_sign = (struct sigv4_text){b, sizeof b, 0};
    out.authorization = (struct sigv4_text){c, sizeof c, 0};
    e = sigv4_sign(&r, &suite_cred, &out);
    check(t, e == SIGV4_OK && strlen(a) == 143 && strlen(b) == 138 && strlen(c) == 186 &&
                 strcmp(c + 186 - 64, sig_vanilla) == 0,
          "buffers of exactly len + 1 bytes", sigv4_strerror(e));

    /* One byte short: SIGV4_ERR_BUFFER, the buffer emptied, the rest intact, the guard byte
       after the short buffer untouched. */
    a[143] = 'G';
    out.canonical_request = (struct sigv4_text){a, 143, 0};
    e = sigv4_sign(&r, &suite_cred, &out);
    check(t, e == SIGV4_ERR_BUFFER && a[0] == '\0' && a[143] == 'G' &&
                 out.canonical_request.len == 143 && strlen(c) == 186 &&
                 strcmp(out.signature, sig_vanilla) == 0,
          "a buffer one byte short: SIGV4_ERR_BUFFER, len still 143", sigv4_strerror(e));
    out.canonical_request = (struct sigv4_text){a, 0, 0};
    out.authorization = (struct sigv4_text){c, 1, 0};
    e = sigv4_sign(&r, &suite_cred, &out);
    check(t, e == SIGV4_ERR_BUFFER && c[0] == '\0' && a[0] == '\0',
          "buffers of 0 and 1 bytes", sigv4_strerror(e));
}

static void test_errors(struct st *t)
{
    struct sigv4_header h[3] = {{"Host", "example.amazonaws.com"}, {"X-Amz-Date", suite_date}};
    struct sigv4_request r = suite_request(h, 2);
    struct sigv4_credentials c = suite_cred;

    r.amz_date = "20150830T1236Z";
    check_err(t, "malformed amz_date", &r, &c, SIGV4_ERR_ARG);
    r = suite_request(h, 2);
    r.path = "relative";
    check_err(t, "path without a leading '/'", &r, &c, SIGV4_ERR_ARG);
    r = suite_request(h, 2);
    r.region = "";
    check_err(t, "empty region", &r, &c, SIGV4_ERR_ARG);
    r = suite_request(h, 2);
    r.method = NULL;
    check_err(t, "no method", &r, &c, SIGV4_ERR_ARG);
    r = suite_request(h, 2);
    c.access_key_id = "AKID/EXAMPLE";
    check_err(t, "'/' in the access key id", &r, &c, SIGV4_ERR_ARG);
    c = suite_cred;
    c.secret_access_key = NULL;
    check_err(t, "no secret", &r, &c, SIGV4_ERR_ARG);
    c = suite_cred;
    r.payload_len = 3;
    check_err(t, "payload_len without payload", &r, &c, SIGV4_ERR_ARG);

    r = suite_request(h, 1);
    h[0].name = "Bad Name";
    check_err(t, "space in a header name", &r, &c, SIGV4_ERR_HEADER);
    h[0] = (struct sigv4_header){"Host", "example.amazonaws.com\r\nX-Injected: 1"};
    check_err(t, "CR LF in a header value", &r, &c, SIGV4_ERR_HEADER);
    h[0] = (struct sigv4_header){"Hostname", "example.amazonaws.com"};
    check_err(t, "no host header", &r, &c, SIGV4_ERR_NO_HOST);
    h[0] = (struct sigv4_header){"Host", "example.amazonaws.com"};
    h[1] = (struct sigv4_header){"x-amz-date", "20150830T123601Z"};
    r = suite_request(h, 2);
    check_err(t, "x-amz-date header differing from amz_date", &r, &c, SIGV4_ERR_CONFLICT);
    h[1] = (struct sigv4_header){"X-Amz-Security-Token", "other"};
    c.session_token = suite_token;
    check_err(t, "x-amz-security-token header differing from the token", &r, &c,
              SIGV4_ERR_CONFLICT);
    h[1] = (struct sigv4_header){"X-Amz-Security-Token", suite_token};
    check_sig(t, "x-amz-security-token header equal to the token", &r, &c,
              "07ec1639c89043aa0e3e2de82b96708f198cceab042d4a97044c66dd9f74e7f8");
    check(t, sigv4_sign(NULL, &c, NULL) == SIGV4_ERR_ARG, "NULL arguments", NULL);
}

unsigned sigv4_selftest(sigv4_selftest_report_t report, void *ctx, int slow)
{
    struct st t = {report, ctx, 0};
    test_sha256(&t, slow);
    test_hmac(&t);
    test_signing_key(&t);
    test_canonical(&t);
    test_sign(&t);
    test_buffers(&t);
    test_errors(&t);
    return t.failures;
}
