/*
 * oid_pm.c - the OID look-ups mbedTLS needs in this firmware, with their tables in program
 * memory. It replaces mbedTLS's library/oid.c (tls/module.mk does not compile that one).
 *
 * Why: oid.c keeps every table it knows (X.520 attributes, extended key usages, policies,
 * PKCS#5/#12, ...) with a name and a description string per entry, for printing certificates.
 * On the FT900 .rodata is RAM, and its one string section cannot be split by --gc-sections:
 * 2,621 bytes of RAM for five look-ups. The firmware (client, test server, self tests) links
 * exactly these, checked by the link itself (an undefined mbedtls_oid_* symbol fails it):
 *
 *   mbedtls_oid_get_x509_ext_type  certificate extensions (x509_crt.c)
 *   mbedtls_oid_get_sig_alg        certificate signature algorithms (x509.c)
 *   mbedtls_oid_get_pk_alg         public key algorithms (pkparse.c)
 *   mbedtls_oid_get_ec_grp         named curves (pkparse.c)
 *   mbedtls_oid_get_oid_by_md      the DigestInfo OID of PKCS#1 v1.5 (rsa.c)
 *
 * The entries are those oid.c has under this configuration (mbedtls_config.h: SHA-256/224
 * only, RSA and ECDSA, P-256), so the answers are the same; tests/tls_selftest.c checks each
 * table, and every handshake uses them. The OIDs come from mbedTLS's public oid.h.
 */
#include <stdint.h>

#include "mbedtls/oid.h"

/* Longest OID below: 9 bytes (PKCS#1 and Netscape OIDs). */
#define OID_MAX 9

/* One entry: the DER contents of the OID, and up to two values (enum constants, or extension
   flags up to 1 << 16). */
struct oid_entry {
    unsigned char len;
    char oid[OID_MAX];
    int32_t a, b;
};

#define ENTRY(o, va, vb) {MBEDTLS_OID_SIZE(o), o, (int32_t)(va), (int32_t)(vb)}

/* Fails to compile when an OID does not fit: */
_Static_assert(MBEDTLS_OID_SIZE(MBEDTLS_OID_NS_CERT_TYPE) <= OID_MAX, "OID_MAX");
_Static_assert(MBEDTLS_OID_SIZE(MBEDTLS_OID_PKCS1_SHA256) <= OID_MAX, "OID_MAX");
_Static_assert(MBEDTLS_OID_SIZE(MBEDTLS_OID_RSASSA_PSS) <= OID_MAX, "OID_MAX");

#define PM_TABLE(name) \
    static const __flash__ struct oid_entry name[] __attribute__((section("._pm." #name)))

PM_TABLE(x509_ext_table) = {
    ENTRY(MBEDTLS_OID_BASIC_CONSTRAINTS, MBEDTLS_OID_X509_EXT_BASIC_CONSTRAINTS, 0),
    ENTRY(MBEDTLS_OID_KEY_USAGE, MBEDTLS_OID_X509_EXT_KEY_USAGE, 0),
    ENTRY(MBEDTLS_OID_EXTENDED_KEY_USAGE, MBEDTLS_OID_X509_EXT_EXTENDED_KEY_USAGE, 0),
    ENTRY(MBEDTLS_OID_SUBJECT_ALT_NAME, MBEDTLS_OID_X509_EXT_SUBJECT_ALT_NAME, 0),
    ENTRY(MBEDTLS_OID_NS_CERT_TYPE, MBEDTLS_OID_X509_EXT_NS_CERT_TYPE, 0),
    ENTRY(MBEDTLS_OID_CERTIFICATE_POLICIES, MBEDTLS_OID_X509_EXT_CERTIFICATE_POLICIES, 0),
};

PM_TABLE(sig_alg_table) = {
    ENTRY(MBEDTLS_OID_PKCS1_SHA224, MBEDTLS_MD_SHA224, MBEDTLS_PK_RSA),
    ENTRY(MBEDTLS_OID_PKCS1_SHA256, MBEDTLS_MD_SHA256, MBEDTLS_PK_RSA),
    ENTRY(MBEDTLS_OID_ECDSA_SHA224, MBEDTLS_MD_SHA224, MBEDTLS_PK_ECDSA),
    ENTRY(MBEDTLS_OID_ECDSA_SHA256, MBEDTLS_MD_SHA256, MBEDTLS_PK_ECDSA),
    /* Known, so that x509.c reports PSS as such (unsupported here) rather than unknown. */
    ENTRY(MBEDTLS_OID_RSASSA_PSS, MBEDTLS_MD_NONE, MBEDTLS_PK_RSASSA_PSS),
};

PM_TABLE(pk_alg_table) = {
    ENTRY(MBEDTLS_OID_PKCS1_RSA, MBEDTLS_PK_RSA, 0),
    ENTRY(MBEDTLS_OID_EC_ALG_UNRESTRICTED, MBEDTLS_PK_ECKEY, 0),
    ENTRY(MBEDTLS_OID_EC_ALG_ECDH, MBEDTLS_PK_ECKEY_DH, 0),
};

PM_TABLE(ec_grp_table) = {
    ENTRY(MBEDTLS_OID_EC_GRP_SECP256R1, MBEDTLS_ECP_DP_SECP256R1, 0),
};

/* In RAM: mbedtls_oid_get_oid_by_md() hands out a pointer, which C reads from RAM. */
static const char oid_sha224[] = MBEDTLS_OID_DIGEST_ALG_SHA224;
static const char oid_sha256[] = MBEDTLS_OID_DIGEST_ALG_SHA256;

#define COUNT(t) (sizeof(t) / sizeof((t)[0]))

/* The entry of `table` whose OID is `oid`, or NULL. */
static const __flash__ struct oid_entry *find(const __flash__ struct oid_entry *table, size_t n,
                                              const mbedtls_asn1_buf *oid)
{
    if (oid == NULL || oid->p == NULL)
        return NULL;
    for (size_t i = 0; i < n; i++) {
        const __flash__ struct oid_entry *e = &table[i];
        if (e->len != oid->len)
            continue;
        size_t k = 0;
        while (k < e->len && (unsigned char)e->oid[k] == oid->p[k])
            k++;
        if (k == e->len)
            return e;
    }
    return NULL;
}

int mbedtls_oid_get_x509_ext_type(const mbedtls_asn1_buf *oid, int *ext_type)
{
    const __flash__ struct oid_entry *e = find(x509_ext_table, COUNT(x509_ext_table), oid);
    if (e == NULL)
        return MBEDTLS_ERR_OID_NOT_FOUND;
    *ext_type = e->a;
    return 0;
}

int mbedtls_oid_get_sig_alg(const mbedtls_asn1_buf *oid, mbedtls_md_type_t *md_alg,
                            mbedtls_pk_type_t *pk_alg)
{
    const __flash__ struct oid_entry *e = find(sig_alg_table, COUNT(sig_alg_table), oid);
    if (e == NULL)
        return MBEDTLS_ERR_OID_NOT_FOUND;
    *md_alg = (mbedtls_md_type_t)e->a;
    *pk_alg = (mbedtls_pk_type_t)e->b;
    return 0;
}

int mbedtls_oid_get_pk_alg(const mbedtls_asn1_buf *oid, mbedtls_pk_type_t *pk_alg)
{
    const __flash__ struct oid_entry *e = find(pk_alg_table, COUNT(pk_alg_table), oid);
    if (e == NULL)
        return MBEDTLS_ERR_OID_NOT_FOUND;
    *pk_alg = (mbedtls_pk_type_t)e->a;
    return 0;
}

int mbedtls_oid_get_ec_grp(const mbedtls_asn1_buf *oid, mbedtls_ecp_group_id *grp_id)
{
    const __flash__ struct oid_entry *e = find(ec_grp_table, COUNT(ec_grp_table), oid);
    if (e == NULL)
        return MBEDTLS_ERR_OID_NOT_FOUND;
    *grp_id = (mbedtls_ecp_group_id)e->a;
    return 0;
}

int mbedtls_oid_get_oid_by_md(mbedtls_md_type_t md_alg, const char **oid, size_t *olen)
{
    switch (md_alg) {
    case MBEDTLS_MD_SHA224:
        *oid = oid_sha224;
        *olen = MBEDTLS_OID_SIZE(MBEDTLS_OID_DIGEST_ALG_SHA224);
        return 0;
    case MBEDTLS_MD_SHA256:
        *oid = oid_sha256;
        *olen = MBEDTLS_OID_SIZE(MBEDTLS_OID_DIGEST_ALG_SHA256);
        return 0;
    default:
        return MBEDTLS_ERR_OID_NOT_FOUND;
    }
}
