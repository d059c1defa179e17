/* util.c: the arch plugin's small readers: one-line files, modules.dep, /proc/config.gz, gpgv's status. */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "arch.h"

int arch_read_line(const char *path, char *buf, size_t size)
{
	int fd = path ? open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK) : -1;
	if (fd < 0)
		return -ENOENT;
	struct stat st;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return -EINVAL;
	}
	ssize_t n = read(fd, buf, size - 1);
	close(fd);
	if (n <= 0)
		return -EINVAL;
	buf[n] = '\0';
	size_t len = strcspn(buf, "\n");
	if (len == (size_t)n && (size_t)n == size - 1)
		return -EINVAL; /* no end in sight: longer than the buffer */
	buf[len] = '\0';
	return buf[0] ? 0 : -EINVAL;
}

int arch_gunzip(const char *src, const char *dst)
{
	gzFile in = gzopen(src, "rb");
	if (!in)
		return errno ? -errno : -ENOMEM;
	size_t tlen = strlen(dst) + 16;
	_arch_cleanup_free_ char *tmp = malloc(tlen);
	if (!tmp) {
		gzclose(in);
		return -ENOMEM;
	}
	snprintf(tmp, tlen, "%s.tmp%ld", dst, (long)getpid());
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0644);
	if (fd < 0) {
		int e = -errno;
		gzclose(in);
		return e;
	}
	char buf[65536];
	int n, r = 0;
	size_t total = 0;
	while ((n = gzread(in, buf, sizeof(buf))) > 0) {
		total += (size_t)n;
		if (total > (64UL << 20)) {
			r = -EFBIG; /* a kernel config is a few hundred KiB */
			break;
		}
		if (write(fd, buf, (size_t)n) != n) {
			r = errno ? -errno : -EIO;
			break;
		}
	}
	if (n < 0 && r == 0)
		r = -EBADMSG;
	/* gzclose says Z_BUF_ERROR when the stream ended in its middle: a cut file */
	if (gzclose(in) != Z_OK && r == 0)
		r = -EBADMSG;
	if (close(fd) < 0 && r == 0)
		r = -errno;
	if (r == 0 && rename(tmp, dst) < 0)
		r = -errno;
	if (r < 0)
		unlink(tmp);
	return r;
}

static bool is_key(const char *fpr, size_t n, char *const *keys, size_t n_keys)
{
	for (size_t i = 0; i < n_keys; i++)
		if (strlen(keys[i]) == n && strncasecmp(keys[i], fpr, n) == 0)
			return true;
	return false;
}

int arch_gpgv_check(const char *status, char *const *keys, size_t n_keys, char *why, size_t whysize)
{
	bool good = false, valid = false;
	char signer[80] = "";
	for (const char *p = status; p && *p;) {
		const char *nl = strchr(p, '\n');
		size_t n = nl ? (size_t)(nl - p) : strlen(p);
		const char *next = nl ? nl + 1 : NULL;
		if (n < 9 || strncmp(p, "[GNUPG:] ", 9) != 0) {
			p = next;
			continue;
		}
		const char *w = p + 9;
		size_t wn = n - 9;
		if (strncmp(w, "BADSIG ", 7) == 0 || strncmp(w, "ERRSIG ", 7) == 0 || strncmp(w, "REVKEYSIG ", 10) == 0) {
			snprintf(why, whysize, "gpgv says %.*s", (int)(wn > 120 ? 120 : wn), w);
			return -EBADMSG;
		}
		if (strncmp(w, "GOODSIG ", 8) == 0)
			good = true;
		if (strncmp(w, "VALIDSIG ", 9) == 0) {
			/* VALIDSIG <fpr> <date> <ts> <expire> <ver> <reserved> <algo> <hash> <class> [<primary fpr>] */
			const char *f = w + 9, *end = p + n;
			const char *fields[10];
			size_t lens[10], k = 0;
			while (f < end && k < 10) {
				size_t l = strcspn(f, " \n");
				if ((size_t)(end - f) < l)
					l = (size_t)(end - f);
				fields[k] = f;
				lens[k++] = l;
				f += l;
				while (f < end && *f == ' ')
					f++;
			}
			if (k >= 1 && (is_key(fields[0], lens[0], keys, n_keys) ||
				       (k == 10 && is_key(fields[9], lens[9], keys, n_keys))))
				valid = true;
			else if (k >= 1)
				snprintf(signer, sizeof(signer), "%.*s", (int)(lens[k == 10 ? 9 : 0] > 70 ? 70 : lens[k == 10 ? 9 : 0]),
					 fields[k == 10 ? 9 : 0]);
		}
		p = next;
	}
	if (good && valid)
		return 0;
	if (good && signer[0])
		snprintf(why, whysize, "the signature is good but made by %s, which validpgpkeys does not list", signer);
	else
		snprintf(why, whysize, "gpgv reported no good signature");
	return -EBADMSG;
}
