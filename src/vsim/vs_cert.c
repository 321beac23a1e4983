/*
 * vs_cert.c - liqmon-venue --gen-cert DIR: a self-signed certificate for
 * wss on loopback (CN=localhost, subjectAltName DNS:localhost,
 * IP:127.0.0.1, 10 years, RSA 2048, SHA-256), written as
 * DIR/localhost.crt and DIR/localhost.key (mode 0600), with OpenSSL 3.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "vsim.h"

static int add_ext(X509 *x, int nid, const char *value)
{
    X509V3_CTX ctx;
    X509V3_set_ctx_nodb(&ctx);
    X509V3_set_ctx(&ctx, x, x, NULL, NULL, 0);
    X509_EXTENSION *ext = X509V3_EXT_conf_nid(NULL, &ctx, nid, value);
    if (!ext)
        return -1;
    int ok = X509_add_ext(x, ext, -1);
    X509_EXTENSION_free(ext);
    return ok ? 0 : -1;
}

int vs_gen_cert(const char *dir)
{
    char crt[4096], key[4096];
    EVP_PKEY *pk = NULL;
    X509 *x = NULL;
    FILE *f = NULL;
    int fd = -1, rc = -1;
    unsigned char serial[8];

    if (mkdir(dir, 0755) && errno != EEXIST) {
        fprintf(stderr, "liqmon-venue: %s: %s\n", dir, strerror(errno));
        return -1;
    }
    snprintf(crt, sizeof(crt), "%s/localhost.crt", dir);
    snprintf(key, sizeof(key), "%s/localhost.key", dir);

    pk = EVP_RSA_gen(2048);
    x = X509_new();
    if (!pk || !x || RAND_bytes(serial, sizeof(serial)) != 1)
        goto fail;
    serial[0] &= 0x7f;
    {
        ASN1_INTEGER *sn = X509_get_serialNumber(x);
        BIGNUM *bn = BN_bin2bn(serial, sizeof(serial), NULL);
        if (!bn || !BN_to_ASN1_INTEGER(bn, sn)) {
            BN_free(bn);
            goto fail;
        }
        BN_free(bn);
    }
    if (!X509_set_version(x, 2) ||
        !X509_gmtime_adj(X509_getm_notBefore(x), -3600) ||
        !X509_gmtime_adj(X509_getm_notAfter(x), 3650L * 86400) ||
        !X509_set_pubkey(x, pk))
        goto fail;
    X509_NAME *name = X509_get_subject_name(x);
    if (!X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                                    (const unsigned char *)"localhost", -1, -1,
                                    0) ||
        !X509_set_issuer_name(x, name))
        goto fail;
    if (add_ext(x, NID_basic_constraints, "critical,CA:TRUE") ||
        add_ext(x, NID_key_usage,
                "critical,digitalSignature,keyEncipherment,keyCertSign") ||
        add_ext(x, NID_ext_key_usage, "serverAuth") ||
        add_ext(x, NID_subject_key_identifier, "hash") ||
        add_ext(x, NID_subject_alt_name, "DNS:localhost,IP:127.0.0.1"))
        goto fail;
    if (!X509_sign(x, pk, EVP_sha256()))
        goto fail;

    fd = open(key, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (fd < 0 || !(f = fdopen(fd, "w"))) {
        fprintf(stderr, "liqmon-venue: %s: %s\n", key, strerror(errno));
        goto fail_quiet;
    }
    fd = -1;
    if (!PEM_write_PrivateKey(f, pk, NULL, NULL, 0, NULL, NULL) || fclose(f)) {
        f = NULL;
        goto fail;
    }
    f = fopen(crt, "w");
    if (!f) {
        fprintf(stderr, "liqmon-venue: %s: %s\n", crt, strerror(errno));
        goto fail_quiet;
    }
    if (!PEM_write_X509(f, x) || fclose(f)) {
        f = NULL;
        goto fail;
    }
    f = NULL;
    printf("%s\n%s\n", crt, key);
    rc = 0;
    goto out;
fail:
    fprintf(stderr, "liqmon-venue: --gen-cert: OpenSSL error: %s\n",
            ERR_error_string(ERR_get_error(), NULL));
fail_quiet:
out:
    if (f)
        fclose(f);
    if (fd >= 0)
        close(fd);
    X509_free(x);
    EVP_PKEY_free(pk);
    return rc;
}
