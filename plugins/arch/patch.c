/* patch.c: a unified diff (a git format-patch series, or diff -u) cut down to the files of one folder. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "arch.h"

struct buf {
	char *s;
	size_t len, cap;
};

static int buf_add(struct buf *b, const char *s, size_t n)
{
	if (b->len + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap * 2 : 4096;
		while (cap < b->len + n + 1)
			cap *= 2;
		char *p = realloc(b->s, cap);
		if (!p)
			return -ENOMEM;
		b->s = p;
		b->cap = cap;
	}
	memcpy(b->s + b->len, s, n);
	b->len += n;
	b->s[b->len] = '\0';
	return 0;
}

static bool starts(const char *line, size_t n, const char *prefix)
{
	size_t k = strlen(prefix);
	return n >= k && memcmp(line, prefix, k) == 0;
}

/* Is PATH (N bytes; with STRIP leading components dropped, as patch -p1) under SUBDIR? */
static bool under(const char *path, size_t n, int strip, const char *subdir)
{
	/* a path ends at a tab (diff -u's timestamp); git quotes odd names, which never match */
	const char *tab = memchr(path, '\t', n);
	if (tab)
		n = (size_t)(tab - path);
	if (n == 9 && memcmp(path, "/dev/null", 9) == 0)
		return false;
	for (int i = 0; i < strip; i++) {
		const char *slash = memchr(path, '/', n);
		if (!slash)
			return false;
		n -= (size_t)(slash + 1 - path);
		path = slash + 1;
	}
	size_t k = strlen(subdir);
	return n > k && memcmp(path, subdir, k) == 0 && path[k] == '/';
}

/* "@@ -A[,B] +C[,D] @@": the old and new line counts (B and D, 1 when left out). */
static bool hunk_counts(const char *line, size_t n, unsigned long *old, unsigned long *new)
{
	if (!starts(line, n, "@@ -"))
		return false;
	char tmp[128];
	snprintf(tmp, sizeof(tmp), "%.*s", (int)(n < 127 ? n : 127), line);
	unsigned long a, b = 1, c, d = 1;
	char *p = tmp + 4, *end;
	a = strtoul(p, &end, 10);
	if (end == p)
		return false;
	if (*end == ',')
		b = strtoul(end + 1, &end, 10);
	if (strncmp(end, " +", 2) != 0)
		return false;
	p = end + 2;
	c = strtoul(p, &end, 10);
	if (end == p)
		return false;
	if (*end == ',')
		d = strtoul(end + 1, &end, 10);
	(void)a;
	(void)c;
	*old = b;
	*new = d;
	return strncmp(end, " @@", 3) == 0;
}

int arch_patch_filter(const char *patch, size_t len, const char *subdir, char **out, size_t *outlen)
{
	struct buf res = { 0 }, sec = { 0 };
	bool in_section = false, keep = false, had_hunk = false;
	unsigned long old_left = 0, new_left = 0;
	int r = buf_add(&res, "", 0);
	for (const char *p = patch; r == 0 && p < patch + len;) {
		const char *nl = memchr(p, '\n', (size_t)(patch + len - p));
		size_t n = nl ? (size_t)(nl - p) : (size_t)(patch + len - p);
		size_t full = nl ? n + 1 : n;
		const char *line = p;
		p += full;
		if (old_left || new_left) {
			/* inside a hunk: its lines, counted by the header */
			if (line[0] == '\\') {
			} else if (n == 0 || line[0] == ' ') {
				old_left -= old_left > 0;
				new_left -= new_left > 0;
			} else if (line[0] == '-') {
				old_left -= old_left > 0;
			} else if (line[0] == '+') {
				new_left -= new_left > 0;
			} else {
				/* a hunk cut short: patch itself will say; end the section here */
				old_left = new_left = 0;
				goto header;
			}
			r = buf_add(&sec, line, full);
			continue;
		}
	header:
		if (starts(line, n, "diff --git ")) {
			if (in_section && keep)
				r = buf_add(&res, sec.s, sec.len);
			sec.len = 0;
			in_section = true;
			had_hunk = false;
			/* "diff --git a/X b/X": decided here for diffs without ---/+++ (modes, renames) */
			const char *b = NULL;
			for (const char *q = line + 11; q + 3 <= line + n && !b; q++)
				if (memcmp(q, " b/", 3) == 0)
					b = q + 1;
			keep = under(line + 11, b ? (size_t)(b - 1 - (line + 11)) : n - 11, 1, subdir) ||
			       (b && under(b, (size_t)(line + n - b), 1, subdir));
		} else if (starts(line, n, "--- ") && p < patch + len && starts(p, (size_t)(patch + len - p), "+++ ")) {
			const char *nl2 = memchr(p, '\n', (size_t)(patch + len - p));
			size_t n2 = nl2 ? (size_t)(nl2 - p) : (size_t)(patch + len - p);
			bool mine = under(line + 4, n - 4, 1, subdir) || under(p + 4, n2 - 4, 1, subdir);
			if (!in_section || had_hunk) {
				/* a plain diff -u (no git header): each file's section starts here */
				if (in_section && keep)
					r = buf_add(&res, sec.s, sec.len);
				sec.len = 0;
				in_section = true;
				had_hunk = false;
			}
			keep = mine;
		} else if (in_section && (starts(line, n, "rename from ") || starts(line, n, "rename to ") ||
					  starts(line, n, "copy from ") || starts(line, n, "copy to "))) {
			const char *path = (const char *)memchr(line, ' ', n) + 1;
			path = (const char *)memchr(path, ' ', (size_t)(line + n - path)) + 1;
			keep = keep || under(path, (size_t)(line + n - path), 0, subdir);
		} else if (in_section && hunk_counts(line, n, &old_left, &new_left)) {
			had_hunk = true;
		} else if (in_section && !starts(line, n, "index ") && !starts(line, n, "+++ ") &&
			   !starts(line, n, "old mode ") && !starts(line, n, "new mode ") &&
			   !starts(line, n, "new file mode ") && !starts(line, n, "deleted file mode ") &&
			   !starts(line, n, "similarity index ") && !starts(line, n, "dissimilarity index ") &&
			   !starts(line, n, "Binary files ") && !starts(line, n, "GIT binary patch")) {
			/* anything else ends the file's section: a commit message, "-- " and git's version */
			if (keep)
				r = buf_add(&res, sec.s, sec.len);
			sec.len = 0;
			in_section = keep = false;
			continue;
		}
		if (r == 0 && in_section)
			r = buf_add(&sec, line, full);
	}
	if (r == 0 && in_section && keep)
		r = buf_add(&res, sec.s, sec.len);
	free(sec.s);
	if (r < 0) {
		free(res.s);
		return r;
	}
	*out = res.s;
	*outlen = res.len;
	return 0;
}
