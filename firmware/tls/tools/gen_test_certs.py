#!/usr/bin/env python3
"""Writes firmware/tests/tls_test_certs.h: the certificates, keys and known answers of the TLS
firmware tests (tests/tls_selftest.c, tests/tls_handshake.c).

    python3 firmware/tls/tools/gen_test_certs.py [--ca-dir /etc/ssl/certs] > firmware/tests/tls_test_certs.h

Everything is deterministic, so re-running gives the same header byte for byte:
  * EC keys are derived from fixed scalars (SHA-256 of a label), ECDSA signatures are RFC 6979;
  * RSA-2048 keys come from a seeded Miller-Rabin prime search (PKCS#1 v1.5 signatures are
    deterministic anyway);
  * validity 2024-01-01 .. 2049-12-31 (UTCTime), fixed serial numbers.

Test PKIs (test keys only):
  * ECDSA P-256: "ft900-sim Test CA (ECDSA P-256)" -> server leaf "ft900.test" (SAN ft900.test,
    *.devices.ft900.test; EKU serverAuth), and -> client "ft900-device-0001" (EKU clientAuth,
    the device certificate of mutual TLS, as AWS IoT uses).
  * RSA-2048, shaped like an AWS IoT chain: root "ft900-sim Test Root CA (RSA-2048)" ->
    intermediate "ft900-sim Test RSA 2048 M01" -> leaf "ft900.test" with the SAN list and the
    SCT extension of a public server certificate (~1.9 KiB). The test server sends leaf +
    intermediate + Amazon Root CA 1 + Starfield Services Root G2 + Amazon Root CA 3 (the real
    public certificates, standing for the cross-signed roots AWS appends): ~5.1 KiB, a
    Certificate message at least as big as AWS IoT's.
Also embedded: Amazon Root CA 1 (RSA-2048) and 3 (ECDSA P-256) PEM, the CAs of an AWS IoT
device, from the host's CA store; known answers computed here with hashlib / cryptography.

Storage: every blob is declared through TLS_TEST_DATA(name) / TLS_TEST_TEXT(name), which a test
may define before including the header (e.g. to put the data in program memory); the default is
static const in RAM.

Needs the `cryptography` package (>= 44 for deterministic ECDSA).
"""
import argparse
import datetime
import hashlib
import random
import sys
import warnings

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID, ObjectIdentifier

# Starfield Services Root G2 has serial number 0, which cryptography warns about.
warnings.filterwarnings("ignore", message="Parsed a serial number")

NOT_BEFORE = datetime.datetime(2024, 1, 1, tzinfo=datetime.timezone.utc)
NOT_AFTER = datetime.datetime(2049, 12, 31, 23, 59, 59, tzinfo=datetime.timezone.utc)
HOST = "ft900.test"
DER = serialization.Encoding.DER


def ec_key(label):
    d = int.from_bytes(hashlib.sha256(label.encode()).digest(), "big")
    return ec.derive_private_key(d % (2**256 - 2**224), ec.SECP256R1())


def is_probable_prime(n, rng):
    for p in (2, 3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37):
        if n % p == 0:
            return n == p
    d, s = n - 1, 0
    while d % 2 == 0:
        d //= 2
        s += 1
    for _ in range(40):
        x = pow(rng.randrange(2, n - 2), d, n)
        if x in (1, n - 1):
            continue
        for _ in range(s - 1):
            x = pow(x, 2, n)
            if x == n - 1:
                break
        else:
            return False
    return True


def rsa_key(label, bits=2048):
    rng = random.Random(label)
    e = 65537

    def prime():
        while True:
            c = rng.getrandbits(bits // 2) | (3 << (bits // 2 - 2)) | 1
            if (c - 1) % e != 0 and is_probable_prime(c, rng):
                return c

    p, q = prime(), prime()
    if p < q:
        p, q = q, p
    d = pow(e, -1, (p - 1) * (q - 1))
    pub = rsa.RSAPublicNumbers(e, p * q)
    return rsa.RSAPrivateNumbers(p, q, d, d % (p - 1), d % (q - 1), pow(q, -1, p), pub).private_key()


def name(cn, org="ft900-sim"):
    return x509.Name([
        x509.NameAttribute(NameOID.COUNTRY_NAME, "XX"),
        x509.NameAttribute(NameOID.ORGANIZATION_NAME, org),
        x509.NameAttribute(NameOID.COMMON_NAME, cn),
    ])


def cert(subject, key, issuer, issuer_key, serial, ca=False, eku=None, sans=None, sct=0,
         pathlen=0):
    b = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(key.public_key())
        .serial_number(serial)
        .not_valid_before(NOT_BEFORE)
        .not_valid_after(NOT_AFTER)
        .add_extension(x509.BasicConstraints(ca=ca, path_length=pathlen if ca else None),
                       critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), False)
    )
    if ca:
        b = b.add_extension(
            x509.KeyUsage(False, False, False, False, False, True, True, False, False), critical=True
        )
    else:
        b = b.add_extension(
            x509.KeyUsage(True, False, isinstance(key, rsa.RSAPrivateKey), False, False, False,
                          False, False, False),
            critical=True,
        )
    if issuer_key is not key:
        b = b.add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer_key.public_key()), False
        )
    if eku:
        b = b.add_extension(x509.ExtendedKeyUsage(eku), False)
    if sans:
        b = b.add_extension(x509.SubjectAlternativeName([x509.DNSName(n) for n in sans]), False)
    if sct:
        # Stand-in for the SignedCertificateTimestampList of a public certificate (an opaque
        # OCTET STRING to a verifier that does not know it: mbedTLS skips it, non-critical).
        blob = hashlib.shake_256(b"sct").digest(sct)
        b = b.add_extension(
            x509.UnrecognizedExtension(ObjectIdentifier("1.3.6.1.4.1.11129.2.4.2"),
                                       bytes([0x04, 0x82, sct >> 8, sct & 0xFF]) + blob),
            False,
        )
    if isinstance(issuer_key, ec.EllipticCurvePrivateKey):
        return b.sign(issuer_key, hashes.SHA256(), ecdsa_deterministic=True)
    return b.sign(issuer_key, hashes.SHA256())


def key_der(key):
    return key.private_bytes(DER, serialization.PrivateFormat.TraditionalOpenSSL,
                             serialization.NoEncryption())


def c_bytes(ident, data, out):
    out.append(f"/* {len(data)} bytes */")
    out.append(f"TLS_TEST_DATA({ident}) = {{")
    for i in range(0, len(data), 16):
        out.append("    " + ", ".join(f"0x{b:02x}" for b in data[i : i + 16]) + ",")
    out.append("};")
    out.append(f"#define {ident}_len {len(data)}u")
    out.append("")


def c_string(ident, text, out):
    out.append(f"/* {len(text)} characters + NUL */")
    out.append(f"TLS_TEST_TEXT({ident}) =")
    lines = text.strip().split("\n")
    for i, line in enumerate(lines):
        end = ";" if i == len(lines) - 1 else ""
        out.append(f'    "{line}\\n"{end}')
    out.append(f"#define {ident}_len {len(text.strip()) + 2}u /* with the NUL */")
    out.append("")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--ca-dir", default="/etc/ssl/certs")
    args = ap.parse_args()

    def store(n):
        pem = open(f"{args.ca_dir}/{n}.pem").read()
        return pem, x509.load_pem_x509_certificate(pem.encode())

    amazon1_pem, amazon1 = store("Amazon_Root_CA_1")
    amazon3_pem, amazon3 = store("Amazon_Root_CA_3")
    _, starfield = store("Starfield_Services_Root_Certificate_Authority_-_G2")

    server_eku = [ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH]

    # ECDSA P-256 PKI.
    ec_ca_key, ec_leaf_key, dev_key = (ec_key("ft900-sim ECDSA test CA"),
                                       ec_key("ft900-sim ECDSA leaf"),
                                       ec_key("ft900-sim device 0001"))
    ec_ca_name = name("ft900-sim Test CA (ECDSA P-256)")
    ec_ca = cert(ec_ca_name, ec_ca_key, ec_ca_name, ec_ca_key, 0x1001, ca=True)
    ec_leaf = cert(name(HOST), ec_leaf_key, ec_ca_name, ec_ca_key, 0x2002,
                   eku=[ExtendedKeyUsageOID.SERVER_AUTH], sans=[HOST, "*.devices." + HOST])
    device = cert(name("ft900-device-0001"), dev_key, ec_ca_name, ec_ca_key, 0x3003,
                  eku=[ExtendedKeyUsageOID.CLIENT_AUTH])

    # RSA-2048 PKI shaped like AWS's.
    root_key, int_key, leaf_key = (rsa_key("ft900-sim RSA root"), rsa_key("ft900-sim RSA M01"),
                                   rsa_key("ft900-sim RSA leaf"))
    root_name = name("ft900-sim Test Root CA (RSA-2048)")
    int_name = name("ft900-sim Test RSA 2048 M01")
    root = cert(root_name, root_key, root_name, root_key, 0x4004, ca=True, pathlen=None)
    inter = cert(int_name, int_key, root_name, root_key, 0x5005, ca=True)
    sans = [HOST, "*." + HOST, "*.devices." + HOST, "*.iot.eu-west-1." + HOST,
            "*.iot.us-east-1." + HOST, "*.jobs.iot.us-east-1." + HOST,
            "*.credentials.iot.us-east-1." + HOST, "data.iot.us-east-1." + HOST,
            "*.ats.iot.us-east-1." + HOST, "*.data-ats.iot.us-east-1." + HOST]
    rsa_leaf = cert(name("*.iot.us-east-1." + HOST), leaf_key, int_name, int_key, 0x6006,
                    eku=server_eku, sans=sans, sct=700)
    chain = [rsa_leaf.public_bytes(DER), inter.public_bytes(DER), amazon1.public_bytes(DER),
             starfield.public_bytes(DER), amazon3.public_bytes(DER)]

    out = [
        "/*",
        " * tls_test_certs.h - test certificates, keys and known answers of the TLS firmware tests.",
        " * GENERATED by firmware/tls/tools/gen_test_certs.py (deterministic): do not edit.",
        " * Test keys only: never trust them. See the generator for what each PKI is.",
        " */",
        "#ifndef TLS_TEST_CERTS_H",
        "#define TLS_TEST_CERTS_H",
        "",
        "#ifndef TLS_TEST_DATA",
        "#define TLS_TEST_DATA(name) static const unsigned char name[]",
        "#endif",
        "#ifndef TLS_TEST_TEXT",
        "#define TLS_TEST_TEXT(name) static const char name[]",
        "#endif",
        "",
        f'#define TLS_TEST_HOST "{HOST}"',
        f"#define TLS_TEST_NOT_BEFORE {int(NOT_BEFORE.timestamp())}u /* 2024-01-01T00:00:00Z */",
        f"#define TLS_TEST_NOT_AFTER {int(NOT_AFTER.timestamp())}u /* 2049-12-31T23:59:59Z */",
        "",
        "/* ---- ECDSA P-256: CA, server leaf, device (client) certificate ---- */",
    ]
    c_bytes("tls_test_ec_ca_der", ec_ca.public_bytes(DER), out)
    c_string("tls_test_ec_ca_pem", ec_ca.public_bytes(serialization.Encoding.PEM).decode(), out)
    c_bytes("tls_test_ec_leaf_der", ec_leaf.public_bytes(DER), out)
    c_bytes("tls_test_ec_leaf_key_der", key_der(ec_leaf_key), out)
    c_bytes("tls_test_device_der", device.public_bytes(DER), out)
    c_bytes("tls_test_device_key_der", key_der(dev_key), out)

    out.append("/* ---- RSA-2048, AWS-shaped: root, and the server's chain (leaf, M01, Amazon Root")
    out.append("   CA 1, Starfield Services Root G2, Amazon Root CA 3: stand-ins sized like the")
    out.append(f"   cross-signed roots AWS appends; {sum(map(len, chain))} bytes of DER) ---- */")
    c_string("tls_test_rsa_root_pem", root.public_bytes(serialization.Encoding.PEM).decode(), out)
    for ident, der in zip(("leaf", "m01", "amazon1", "starfield", "amazon3"), chain):
        c_bytes(f"tls_test_rsa_chain_{ident}_der", der, out)
    c_bytes("tls_test_rsa_leaf_key_der", key_der(leaf_key), out)

    out.append("/* ---- Amazon Root CA 1 (RSA-2048) and 3 (ECDSA P-256): public, from the CA store ---- */")
    c_string("tls_test_amazon_root_ca1_pem", amazon1_pem, out)
    c_string("tls_test_amazon_root_ca3_pem", amazon3_pem, out)

    # Known answers: SHA-256 of bytes 0..255 repeated to 1 KiB; AES-128-GCM of the same 1 KiB.
    msg = bytes(i & 0xFF for i in range(1024))
    ct = AESGCM(bytes(range(16))).encrypt(bytes(range(0xA0, 0xAC)), msg, bytes(range(0x30, 0x3D)))
    out.append("/* ---- known answers over msg[i] = i & 0xFF, i < 1024 ---- */")
    c_bytes("tls_test_sha256_1k", hashlib.sha256(msg).digest(), out)
    out.append("/* AES-128-GCM: key 00..0f, IV a0..ab (12 bytes), AAD 30..3c (13 bytes, a TLS")
    out.append("   record header's length) */")
    c_bytes("tls_test_gcm_1k_tag", ct[-16:], out)
    c_bytes("tls_test_gcm_1k_ct_head", ct[:16], out)
    out.append("#endif /* TLS_TEST_CERTS_H */")
    sys.stdout.write("\n".join(out) + "\n")


if __name__ == "__main__":
    main()
