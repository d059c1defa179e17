/* digest.c: sha256 and BLAKE2b-512 of files with libcrypto's EVP, and the "sha256:HEX"/"b2:HEX" specs recipes carry. */
#include "config.h"

#include <errno.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include <openssl/evp.h>

#include "source/source.h"

static const struct {
	const char *name;
	size_t hex_len;
} algos[] = {
	[KF_DIGEST_SHA256] = { "sha256", 64 },
	[KF_DIGEST_B2] = { "b2", 128 },
};

const char *kf_digest_name(enum kf_digest algo)
{
	return algo <= KF_DIGEST_B2 ? algos[algo].name : "?";
}

size_t kf_digest_hex_len(enum kf_digest algo)
{
	return algo <= KF_DIGEST_B2 ? algos[algo].hex_len : 0;
}

static const EVP_MD *evp_of(enum kf_digest algo)
{
	return algo == KF_DIGEST_B2 ? EVP_blake2b512() : EVP_sha256();
}

int kf_checksum_parse(const char *spec, struct kf_checksum *out)
{
	const char *colon = spec ? strchr(spec, ':') : NULL;
	if (!colon)
		return -EINVAL;
	size_t n = (size_t)(colon - spec);
	for (size_t a = 0; a < ARRAY_SIZE(algos); a++) {
		if (strlen(algos[a].name) != n || strncasecmp(spec, algos[a].name, n) != 0)
			continue;
		const char *hex = colon + 1;
		if (strlen(hex) != algos[a].hex_len || strspn(hex, "0123456789abcdefABCDEF") != algos[a].hex_len)
			return -EINVAL;
		out->algo = (enum kf_digest)a;
		for (size_t i = 0; i <= algos[a].hex_len; i++)
			out->hex[i] = (char)(hex[i] >= 'A' && hex[i] <= 'F' ? hex[i] - 'A' + 'a' : hex[i]);
		return 0;
	}
	return -EINVAL;
}

static void to_hex(const unsigned char *md, unsigned int len, char hex[KF_DIGEST_HEX_MAX])
{
	static const char digits[] = "0123456789abcdef";
	for (unsigned int i = 0; i < len && 2 * i + 2 < KF_DIGEST_HEX_MAX; i++) {
		hex[2 * i] = digits[md[i] >> 4];
		hex[2 * i + 1] = digits[md[i] & 15];
	}
	hex[2 * len < KF_DIGEST_HEX_MAX ? 2 * len : KF_DIGEST_HEX_MAX - 1] = '\0';
}

int kf_digest_data(const void *data, size_t len, enum kf_digest algo, char hex[KF_DIGEST_HEX_MAX])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	if (!EVP_Digest(data, len, md, &mdlen, evp_of(algo), NULL))
		return -EIO;
	to_hex(md, mdlen, hex);
	return 0;
}

int kf_digest_file(const char *path, enum kf_digest algo, char hex[KF_DIGEST_HEX_MAX])
{
	_cleanup_close_ int fd = kf_open_regular(path, NULL);
	if (fd < 0)
		return fd;
	const size_t bufsize = 1 << 16;
	_cleanup_free_ unsigned char *buf = malloc(bufsize);
	EVP_MD_CTX *mdctx = buf ? EVP_MD_CTX_new() : NULL;
	if (!mdctx)
		return -ENOMEM;
	int r = EVP_DigestInit_ex(mdctx, evp_of(algo), NULL) ? 0 : -EIO;
	while (r == 0) {
		ssize_t n = read(fd, buf, bufsize);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			r = -errno;
		else if (n == 0)
			break;
		else if (!EVP_DigestUpdate(mdctx, buf, (size_t)n))
			r = -EIO;
	}
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	if (r == 0 && !EVP_DigestFinal_ex(mdctx, md, &mdlen))
		r = -EIO;
	EVP_MD_CTX_free(mdctx);
	if (r == 0)
		to_hex(md, mdlen, hex);
	return r;
}

int kf_checksum_verify(const char *path, const struct kf_checksum *sum, char actual[KF_DIGEST_HEX_MAX])
{
	char hex[KF_DIGEST_HEX_MAX];
	int r = kf_digest_file(path, sum->algo, hex);
	if (r < 0)
		return r;
	if (actual)
		memcpy(actual, hex, sizeof(hex));
	return strcmp(hex, sum->hex) == 0 ? 1 : 0;
}
