/* srpm.c: a source package's files (spec, patches, tarball) read with libarchive: rpm's lead and header, a cpio payload. */
#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fedora.h"

#define SRPM_FILES_MAX 8192
#define SRPM_BYTES_MAX (64ULL << 30)

void fedora_names_free(char **names, size_t n)
{
	for (size_t i = 0; names && i < n; i++)
		free(names[i]);
	free(names);
}

/* Writes the entry's data into DIR/NAME (a new file); -EIO with WHY when the payload is damaged. */
static int write_entry(struct archive *a, int dirfd, const char *name, unsigned long long *total, const char *path,
		       char *why, size_t whysize)
{
	int fd = openat(dirfd, name, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0644);
	if (fd < 0) {
		int e = errno;
		snprintf(why, whysize, "cannot write %s out of %s: %s%s", name, path, strerror(e),
			 e == EEXIST ? " (the SRPM has it twice)" : "");
		return e == EEXIST ? -EINVAL : -e;
	}
	const void *buf;
	size_t size;
	la_int64_t offset;
	int r = 0;
	for (;;) {
		int ar = archive_read_data_block(a, &buf, &size, &offset);
		if (ar == ARCHIVE_EOF)
			break;
		if (ar != ARCHIVE_OK) {
			snprintf(why, whysize, "%s is damaged (its payload, at %s: %s): fetch it again or check where it "
					       "came from",
				 path, name, archive_error_string(a) ? archive_error_string(a) : "unreadable");
			r = -EBADMSG;
			break;
		}
		*total += size;
		if (*total > SRPM_BYTES_MAX) {
			snprintf(why, whysize, "%s unpacks to more than 64 GiB: refused", path);
			r = -EFBIG;
			break;
		}
		/* the payload's files are not sparse: blocks come in order */
		for (size_t off = 0; off < size;) {
			ssize_t n = pwrite(fd, (const char *)buf + off, size - off, offset + (off_t)off);
			if (n < 0) {
				if (errno == EINTR)
					continue;
				r = -errno;
				snprintf(why, whysize, "cannot write %s out of %s: %s", name, path, strerror(errno));
				break;
			}
			off += (size_t)n;
		}
		if (r < 0)
			break;
	}
	if (close(fd) < 0 && r == 0) {
		r = -errno;
		snprintf(why, whysize, "cannot write %s out of %s: %s", name, path, strerror(errno));
	}
	if (r < 0)
		unlinkat(dirfd, name, 0);
	return r;
}

static void add_filters(struct archive *a)
{
	/* an rpm is a filter (lead, signature and header skipped) over a compressed cpio */
	archive_read_support_filter_rpm(a);
	archive_read_support_filter_gzip(a);
	archive_read_support_filter_xz(a);
	archive_read_support_filter_zstd(a);
	archive_read_support_filter_bzip2(a);
	archive_read_support_filter_lzma(a);
}

/*
 * The whole payload decompressed once: the cpio reader stops at its trailer, before the
 * compressor's own check (gzip's CRC32, xz's and zstd's checksums) at the end of the stream.
 */
static int verify_payload(const char *path, char *why, size_t whysize)
{
	struct archive *a = archive_read_new();
	if (!a)
		return -ENOMEM;
	add_filters(a);
	archive_read_support_format_raw(a);
	struct archive_entry *e;
	int r = 0;
	if (archive_read_open_filename(a, path, 1 << 16) != ARCHIVE_OK || archive_read_next_header(a, &e) != ARCHIVE_OK)
		r = -EBADMSG;
	char buf[1 << 16];
	for (la_ssize_t n = 1; r == 0 && n > 0;) {
		n = archive_read_data(a, buf, sizeof(buf));
		if (n < 0)
			r = -EBADMSG;
	}
	if (r < 0)
		snprintf(why, whysize, "%s is damaged (its payload does not decompress: %s): fetch it again or check where "
				       "it came from",
			 path, archive_error_string(a) ? archive_error_string(a) : "unreadable");
	archive_read_free(a);
	return r;
}

int fedora_srpm_extract(const char *path, const char *dir, char ***names, size_t *n, char *why, size_t whysize)
{
	*names = NULL;
	*n = 0;
	struct archive *a = archive_read_new();
	if (!a)
		return -ENOMEM;
	add_filters(a);
	archive_read_support_format_cpio(a);
	int dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dirfd < 0) {
		int e = errno;
		archive_read_free(a);
		snprintf(why, whysize, "cannot open %s: %s", dir, strerror(e));
		return -e;
	}
	int r = 0;
	if (archive_read_open_filename(a, path, 1 << 16) != ARCHIVE_OK) {
		snprintf(why, whysize, "%s is no source package kforge can read (%s): is it an .src.rpm?", path,
			 archive_error_string(a) ? archive_error_string(a) : "unknown format");
		r = -EBADMSG;
	}
	bool rpm = false;
	unsigned long long total = 0;
	struct archive_entry *e;
	while (r == 0) {
		int ar = archive_read_next_header(a, &e);
		if (ar == ARCHIVE_EOF)
			break;
		/* which filters libarchive found: only an rpm's payload is an SRPM's */
		for (int i = 0; i < archive_filter_count(a); i++)
			rpm |= archive_filter_code(a, i) == ARCHIVE_FILTER_RPM;
		if (!rpm) {
			snprintf(why, whysize, "%s is no rpm (libarchive reads it as %s): is it an .src.rpm?", path,
				 archive_format_name(a) ? archive_format_name(a) : "something else");
			r = -EBADMSG;
			break;
		}
		if (ar != ARCHIVE_OK && ar != ARCHIVE_WARN) {
			snprintf(why, whysize, "%s is damaged (%s): fetch it again or check where it came from", path,
				 archive_error_string(a) ? archive_error_string(a) : "unreadable");
			r = -EBADMSG;
			break;
		}
		const char *name = archive_entry_pathname(e);
		if (name && strncmp(name, "./", 2) == 0)
			name += 2;
		if (!name || !fedora_plain_name(name) || archive_entry_filetype(e) != AE_IFREG) {
			snprintf(why, whysize, "%s holds \"%.200s\", which is no plain file (a source package's files are "
					       "regular files with plain names): refused",
				 path, name ? name : "(no name)");
			r = -EINVAL;
			break;
		}
		if (*n >= SRPM_FILES_MAX) {
			snprintf(why, whysize, "%s holds more than %d files: refused", path, SRPM_FILES_MAX);
			r = -EFBIG;
			break;
		}
		char **v = realloc(*names, (*n + 1) * sizeof(*v));
		if (!v) {
			r = -ENOMEM;
			break;
		}
		*names = v;
		if (!(v[*n] = strdup(name))) {
			r = -ENOMEM;
			break;
		}
		(*n)++;
		r = write_entry(a, dirfd, name, &total, path, why, whysize);
	}
	if (r == 0 && (!rpm || *n == 0)) {
		snprintf(why, whysize, "%s holds no files: is it an .src.rpm?", path);
		r = -EBADMSG;
	}
	if (r == 0)
		r = verify_payload(path, why, whysize);
	archive_read_free(a);
	close(dirfd);
	if (r < 0) {
		fedora_names_free(*names, *n);
		*names = NULL;
		*n = 0;
	}
	return r;
}
