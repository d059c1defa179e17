/* compress.c: module files compressed and read back like the kernel's own, with zlib, liblzma, libzstd. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <lzma.h>
#include <string.h>
#include <sys/stat.h>
#include <zlib.h>
#include <zstd.h>

#include "kernel/kernel.h"

enum kforge_compression kf_compression_of_path(const char *path)
{
	if (kf_str_endswith(path, ".gz"))
		return KFORGE_COMPRESS_GZIP;
	if (kf_str_endswith(path, ".xz"))
		return KFORGE_COMPRESS_XZ;
	if (kf_str_endswith(path, ".zst"))
		return KFORGE_COMPRESS_ZSTD;
	return KFORGE_COMPRESS_NONE;
}

static int write_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;
	while (len > 0) {
		ssize_t w = write(fd, p, len);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		p += w;
		len -= (size_t)w;
	}
	return 0;
}

/* gzip (what kbuild's `gzip -n -f` writes and the kernel's gunzip reads), best compression */
static int gzip_buffer(const char *in, size_t len, char **out, size_t *outlen)
{
	z_stream s = { 0 };
	if (deflateInit2(&s, Z_BEST_COMPRESSION, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
		return -ENOMEM;
	size_t cap = deflateBound(&s, len) + 64;
	char *buf = malloc(cap);
	if (!buf) {
		deflateEnd(&s);
		return -ENOMEM;
	}
	s.next_in = (Bytef *)in;
	s.avail_in = (uInt)len;
	s.next_out = (Bytef *)buf;
	s.avail_out = (uInt)cap;
	int z = deflate(&s, Z_FINISH);
	*outlen = s.total_out;
	deflateEnd(&s);
	if (z != Z_STREAM_END) {
		free(buf);
		return -EIO;
	}
	*out = buf;
	return 0;
}

/* xz with CRC32 checks and a 1 MiB dictionary: what kbuild writes (`xz --check=crc32
 * --lzma2=dict=1MiB`) and the kernel's xz decompressor accepts (it knows no CRC64/SHA-256) */
static int xz_buffer(const char *in, size_t len, char **out, size_t *outlen)
{
	lzma_options_lzma opt;
	if (lzma_lzma_preset(&opt, 6))
		return -EINVAL;
	opt.dict_size = 1U << 20;
	lzma_filter filters[] = { { .id = LZMA_FILTER_LZMA2, .options = &opt }, { .id = LZMA_VLI_UNKNOWN } };
	size_t cap = lzma_stream_buffer_bound(len);
	char *buf = malloc(cap);
	if (!buf)
		return -ENOMEM;
	size_t pos = 0;
	lzma_ret r = lzma_stream_buffer_encode(filters, LZMA_CHECK_CRC32, NULL, (const uint8_t *)in, len,
					       (uint8_t *)buf, &pos, cap);
	if (r != LZMA_OK) {
		free(buf);
		return -EIO;
	}
	*out = buf;
	*outlen = pos;
	return 0;
}

static int zstd_buffer(const char *in, size_t len, char **out, size_t *outlen)
{
	size_t cap = ZSTD_compressBound(len);
	char *buf = malloc(cap);
	if (!buf)
		return -ENOMEM;
	/* the frame records the content size; the window stays as small as the module */
	size_t n = ZSTD_compress(buf, cap, in, len, 19);
	if (ZSTD_isError(n)) {
		free(buf);
		return -EIO;
	}
	*out = buf;
	*outlen = n;
	return 0;
}

int kf_compress_file(enum kforge_compression c, const char *in_path, int out_fd)
{
	_cleanup_free_ char *in = NULL;
	size_t len = 0;
	int r = kf_read_file_max(in_path, KF_MODULE_MAX, &in, &len);
	if (r < 0)
		return r;
	if (c == KFORGE_COMPRESS_NONE)
		return write_all(out_fd, in, len);
	_cleanup_free_ char *out = NULL;
	size_t outlen = 0;
	r = c == KFORGE_COMPRESS_GZIP ? gzip_buffer(in, len, &out, &outlen)
	    : c == KFORGE_COMPRESS_XZ ? xz_buffer(in, len, &out, &outlen)
				      : zstd_buffer(in, len, &out, &outlen);
	return r < 0 ? r : write_all(out_fd, out, outlen);
}

/* --- reading back: the gate and status read compressed modules */

/*
 * What a module decompresses to is capped like a module file: a few bytes of a damaged or
 * hostile .ko.xz must not fill the disk.
 */
static int write_capped(int fd, const void *buf, size_t len, size_t *total)
{
	if (len > KF_MODULE_MAX - *total)
		return -EFBIG;
	*total += len;
	return write_all(fd, buf, len);
}

static int gunzip_fd(const char *in, size_t len, int out_fd)
{
	z_stream s = { 0 };
	if (inflateInit2(&s, 15 + 32) != Z_OK)
		return -ENOMEM;
	unsigned char buf[65536];
	s.next_in = (Bytef *)in;
	s.avail_in = (uInt)len;
	int z, r = 0;
	size_t total = 0;
	do {
		s.next_out = buf;
		s.avail_out = sizeof(buf);
		z = inflate(&s, Z_NO_FLUSH);
		if (z != Z_OK && z != Z_STREAM_END) {
			r = -EBADMSG;
			break;
		}
		r = write_capped(out_fd, buf, sizeof(buf) - s.avail_out, &total);
	} while (r == 0 && z != Z_STREAM_END);
	inflateEnd(&s);
	return r;
}

static int unxz_fd(const char *in, size_t len, int out_fd)
{
	lzma_stream s = LZMA_STREAM_INIT;
	if (lzma_stream_decoder(&s, UINT64_MAX, LZMA_CONCATENATED) != LZMA_OK)
		return -ENOMEM;
	uint8_t buf[65536];
	s.next_in = (const uint8_t *)in;
	s.avail_in = len;
	lzma_ret z;
	int r = 0;
	size_t total = 0;
	do {
		s.next_out = buf;
		s.avail_out = sizeof(buf);
		z = lzma_code(&s, LZMA_FINISH);
		if (z != LZMA_OK && z != LZMA_STREAM_END) {
			r = -EBADMSG;
			break;
		}
		r = write_capped(out_fd, buf, sizeof(buf) - s.avail_out, &total);
	} while (r == 0 && z != LZMA_STREAM_END);
	lzma_end(&s);
	return r;
}

static int unzstd_fd(const char *in, size_t len, int out_fd)
{
	ZSTD_DCtx *d = ZSTD_createDCtx();
	if (!d)
		return -ENOMEM;
	char buf[65536];
	ZSTD_inBuffer ib = { in, len, 0 };
	int r = 0;
	size_t total = 0;
	size_t z = 1;
	while (r == 0 && z != 0) {
		ZSTD_outBuffer ob = { buf, sizeof(buf), 0 };
		z = ZSTD_decompressStream(d, &ob, &ib);
		if (ZSTD_isError(z) || (z != 0 && ib.pos == ib.size && ob.pos == 0)) {
			r = -EBADMSG;
			break;
		}
		r = write_capped(out_fd, buf, ob.pos, &total);
	}
	ZSTD_freeDCtx(d);
	return r;
}

int kf_decompress_file(const char *in_path, int out_fd)
{
	_cleanup_free_ char *in = NULL;
	size_t len = 0;
	int r = kf_read_file_max(in_path, KF_MODULE_MAX, &in, &len);
	if (r < 0)
		return r;
	switch (kf_compression_of_path(in_path)) {
	case KFORGE_COMPRESS_GZIP:
		return gunzip_fd(in, len, out_fd);
	case KFORGE_COMPRESS_XZ:
		return unxz_fd(in, len, out_fd);
	case KFORGE_COMPRESS_ZSTD:
		return unzstd_fd(in, len, out_fd);
	default:
		return write_all(out_fd, in, len);
	}
}

char *kf_module_plain_copy(const char *path, char **tmpdir)
{
	*tmpdir = NULL;
	if (kf_compression_of_path(path) == KFORGE_COMPRESS_NONE) {
		/* libkmod opens it with a plain open(): a FIFO would block it (a missing one it reports) */
		struct stat st;
		if (stat(path, &st) == 0 && !S_ISREG(st.st_mode)) {
			errno = EINVAL;
			return NULL;
		}
		return strdup(path);
	}
	char tmpl[] = "/tmp/kforge-module-XXXXXX";
	if (!mkdtemp(tmpl))
		return NULL;
	/* keep the module's own name: libkmod names a module after its file */
	const char *leaf = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
	_cleanup_free_ char *name = strdup(leaf);
	if (!name) {
		rmdir(tmpl);
		return NULL;
	}
	char *ko = strstr(name, ".ko");
	if (ko)
		*ko = '\0';
	char *out = kf_strdup_printf("%s/%s.ko", tmpl, name);
	int fd = out ? open(out, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600) : -1;
	int r = fd >= 0 ? kf_decompress_file(path, fd) : -errno;
	if (fd >= 0)
		close(fd);
	if (r < 0) {
		if (out)
			unlink(out);
		rmdir(tmpl);
		free(out);
		errno = -r;
		return NULL;
	}
	*tmpdir = strdup(tmpl);
	return out;
}

void kf_module_plain_release(char *path, char *tmpdir)
{
	if (tmpdir) {
		unlink(path);
		rmdir(tmpdir);
	}
	free(path);
	free(tmpdir);
}
