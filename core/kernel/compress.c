/* compress.c: module files compressed and read back like the kernel's own, with zlib, liblzma, libzstd. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <lzma.h>
#include <stdint.h>
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
		return kf_write_all(out_fd, in, len);
	_cleanup_free_ char *out = NULL;
	size_t outlen = 0;
	r = c == KFORGE_COMPRESS_GZIP ? gzip_buffer(in, len, &out, &outlen)
	    : c == KFORGE_COMPRESS_XZ ? xz_buffer(in, len, &out, &outlen)
				      : zstd_buffer(in, len, &out, &outlen);
	return r < 0 ? r : kf_write_all(out_fd, out, outlen);
}

/* --- reading back: the gate and status read compressed modules; sources decompress patches */

enum kforge_compression kf_compression_of_magic(const void *buf, size_t len)
{
	const unsigned char *b = buf;
	if (len >= 4 && b[0] == 0x28 && b[1] == 0xb5 && b[2] == 0x2f && b[3] == 0xfd)
		return KFORGE_COMPRESS_ZSTD;
	if (len >= 6 && memcmp(b, "\xfd" "7zXZ\0", 6) == 0)
		return KFORGE_COMPRESS_XZ;
	if (len >= 2 && b[0] == 0x1f && b[1] == 0x8b)
		return KFORGE_COMPRESS_GZIP;
	return KFORGE_COMPRESS_NONE;
}

/*
 * What a file decompresses to is capped (MAX): a few bytes of a damaged or hostile .ko.xz
 * must not fill the disk.
 */
static int write_capped(int fd, const void *buf, size_t len, uint64_t *total, uint64_t max)
{
	if (len > max - *total)
		return -EFBIG;
	*total += len;
	return kf_write_all(fd, buf, len);
}

/* Reads what is there, up to LEN: 0 at the end, or a negative errno. */
static ssize_t read_some(int fd, void *buf, size_t len)
{
	for (;;) {
		ssize_t n = read(fd, buf, len);
		if (n < 0 && errno == EINTR)
			continue;
		return n < 0 ? -errno : n;
	}
}

#define CHUNK 65536

static int copy_fd(int in_fd, int out_fd, uint64_t max)
{
	char buf[CHUNK];
	uint64_t total = 0;
	for (;;) {
		ssize_t n = read_some(in_fd, buf, sizeof(buf));
		if (n <= 0)
			return (int)n;
		int r = write_capped(out_fd, buf, (size_t)n, &total, max);
		if (r < 0)
			return r;
	}
}

/* gzip, members one after the other as gzip itself reads them; anything else after the last is ignored */
static int gunzip_fd(int in_fd, int out_fd, uint64_t max)
{
	z_stream s = { 0 };
	if (inflateInit2(&s, 15 + 32) != Z_OK)
		return -ENOMEM;
	unsigned char in[CHUNK], out[CHUNK];
	uint64_t total = 0;
	bool eof = false;
	int r = 0;
	for (;;) {
		if (s.avail_in == 0 && !eof) {
			ssize_t n = read_some(in_fd, in, sizeof(in));
			if (n < 0) {
				r = (int)n;
				break;
			}
			eof = n == 0;
			s.next_in = in;
			s.avail_in = (uInt)n;
		}
		if (s.avail_in == 0 && eof) {
			r = -EBADMSG; /* truncated (or empty) */
			break;
		}
		s.next_out = out;
		s.avail_out = sizeof(out);
		int z = inflate(&s, Z_NO_FLUSH);
		if (z != Z_OK && z != Z_STREAM_END && z != Z_BUF_ERROR) {
			r = -EBADMSG;
			break;
		}
		r = write_capped(out_fd, out, sizeof(out) - s.avail_out, &total, max);
		if (r < 0)
			break;
		if (z != Z_STREAM_END)
			continue;
		/* a member ended: another follows when the next bytes say so */
		if (s.avail_in < 2 && !eof) {
			memmove(in, s.next_in, s.avail_in);
			ssize_t n = read_some(in_fd, in + s.avail_in, sizeof(in) - s.avail_in);
			if (n < 0) {
				r = (int)n;
				break;
			}
			eof = n == 0;
			s.next_in = in;
			s.avail_in += (uInt)n;
		}
		if (s.avail_in < 2 || s.next_in[0] != 0x1f || s.next_in[1] != 0x8b)
			break;
		inflateReset(&s);
	}
	inflateEnd(&s);
	return r;
}

static int unxz_fd(int in_fd, int out_fd, uint64_t max)
{
	lzma_stream s = LZMA_STREAM_INIT;
	if (lzma_stream_decoder(&s, UINT64_MAX, LZMA_CONCATENATED) != LZMA_OK)
		return -ENOMEM;
	uint8_t in[CHUNK], out[CHUNK];
	uint64_t total = 0;
	lzma_action action = LZMA_RUN;
	int r = 0;
	for (;;) {
		if (s.avail_in == 0 && action == LZMA_RUN) {
			ssize_t n = read_some(in_fd, in, sizeof(in));
			if (n < 0) {
				r = (int)n;
				break;
			}
			if (n == 0)
				action = LZMA_FINISH;
			s.next_in = in;
			s.avail_in = (size_t)n;
		}
		s.next_out = out;
		s.avail_out = sizeof(out);
		lzma_ret z = lzma_code(&s, action);
		if (z != LZMA_OK && z != LZMA_STREAM_END) {
			r = -EBADMSG;
			break;
		}
		r = write_capped(out_fd, out, sizeof(out) - s.avail_out, &total, max);
		if (r < 0 || z == LZMA_STREAM_END)
			break;
	}
	lzma_end(&s);
	return r;
}

static int unzstd_fd(int in_fd, int out_fd, uint64_t max)
{
	ZSTD_DCtx *d = ZSTD_createDCtx();
	if (!d)
		return -ENOMEM;
	char in[CHUNK], out[CHUNK];
	ZSTD_inBuffer ib = { in, 0, 0 };
	uint64_t total = 0;
	size_t z = 1; /* 0 once a frame is complete */
	bool flushing = false;
	int r = 0;
	for (;;) {
		if (ib.pos == ib.size && !flushing) {
			ssize_t n = read_some(in_fd, in, sizeof(in));
			if (n < 0) {
				r = (int)n;
				break;
			}
			if (n == 0) {
				r = z == 0 ? 0 : -EBADMSG; /* truncated mid-frame, or empty */
				break;
			}
			ib.size = (size_t)n;
			ib.pos = 0;
		}
		ZSTD_outBuffer ob = { out, sizeof(out), 0 };
		z = ZSTD_decompressStream(d, &ob, &ib);
		if (ZSTD_isError(z)) {
			r = -EBADMSG;
			break;
		}
		r = write_capped(out_fd, out, ob.pos, &total, max);
		if (r < 0)
			break;
		/* a full output buffer may leave more to flush without more input */
		flushing = ob.pos == ob.size;
	}
	ZSTD_freeDCtx(d);
	return r;
}

int kf_decompress_fd(enum kforge_compression c, int in_fd, int out_fd, uint64_t max)
{
	switch (c) {
	case KFORGE_COMPRESS_GZIP:
		return gunzip_fd(in_fd, out_fd, max);
	case KFORGE_COMPRESS_XZ:
		return unxz_fd(in_fd, out_fd, max);
	case KFORGE_COMPRESS_ZSTD:
		return unzstd_fd(in_fd, out_fd, max);
	default:
		return copy_fd(in_fd, out_fd, max);
	}
}

int kf_decompress_file(const char *in_path, int out_fd)
{
	_cleanup_close_ int in = kf_open_regular(in_path, NULL);
	if (in < 0)
		return in;
	return kf_decompress_fd(kf_compression_of_path(in_path), in, out_fd, KF_MODULE_MAX);
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
