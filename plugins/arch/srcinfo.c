/* srcinfo.c: a packaging repository's .SRCINFO read as data: versions, sources and their sums, keys. */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "arch.h"

void arch_source_free(struct arch_source *s)
{
	if (!s)
		return;
	free(s->name);
	free(s->url);
	free(s->ref);
	free(s->sha256);
	free(s->b2);
	memset(s, 0, sizeof(*s));
}

void arch_srcinfo_free(struct arch_srcinfo *si)
{
	if (!si)
		return;
	free(si->pkgbase);
	free(si->pkgver);
	free(si->pkgrel);
	free(si->epoch);
	for (size_t i = 0; i < si->n_sources; i++)
		arch_source_free(&si->sources[i]);
	free(si->sources);
	for (size_t i = 0; i < si->n_keys; i++)
		free(si->keys[i]);
	free(si->keys);
	memset(si, 0, sizeof(*si));
}

/* A file name makepkg would put in $srcdir: no '/', not "." or "..", printable. */
static bool file_name_valid(const char *s)
{
	if (!s[0] || strcmp(s, ".") == 0 || strcmp(s, "..") == 0 || strlen(s) > 255)
		return false;
	for (const char *p = s; *p; p++)
		if (*p == '/' || iscntrl((unsigned char)*p))
			return false;
	return true;
}

/* makepkg's get_filename: the last path component, without fragment, query (VCS) or .git */
static char *default_name(const char *url, bool vcs)
{
	size_t n = strcspn(url, vcs ? "#?" : "#");
	while (n > 0 && url[n - 1] == '/')
		n--;
	const char *start = url;
	for (size_t i = 0; i < n; i++)
		if (url[i] == '/')
			start = url + i + 1;
	size_t len = (size_t)(url + n - start);
	if (vcs && len > 4 && memcmp(start + len - 4, ".git", 4) == 0)
		len -= 4;
	return strndup(start, len);
}

int arch_source_parse(const char *entry, struct arch_source *out, char *why, size_t whysize)
{
	memset(out, 0, sizeof(*out));
	const char *sep = strstr(entry, "::");
	const char *loc = sep ? sep + 2 : entry;
	if (!entry[0] || !loc[0]) {
		snprintf(why, whysize, "an empty source");
		return -EINVAL;
	}
	const char *scheme_end = strstr(loc, "://");
	if (strncmp(loc, "git+", 4) == 0 && scheme_end) {
		out->kind = ARCH_SOURCE_GIT;
		const char *url = loc + 4;
		const char *hash = strchr(url, '#');
		size_t ulen = hash ? (size_t)(hash - url) : strlen(url);
		/* ?signed asks makepkg to check the commit's signature: kforge checks the tag's commit id
		 * against the packaging repository's own pinning only (said in the plan) */
		const char *q = memchr(url, '?', ulen);
		if (q && (size_t)(url + ulen - q) == 7 && memcmp(q, "?signed", 7) == 0)
			ulen = (size_t)(q - url);
		out->url = strndup(url, ulen);
		if (hash) {
			const char *frag = hash + 1;
			if ((strncmp(frag, "tag=", 4) != 0 && strncmp(frag, "commit=", 7) != 0 &&
			     strncmp(frag, "branch=", 7) != 0) ||
			    !strchr(frag, '=')[1]) {
				snprintf(why, whysize, "\"%s\": a git source's fragment is #tag=, #commit= or #branch=", entry);
				arch_source_free(out);
				return -EINVAL;
			}
			out->ref = strdup(frag);
		}
		out->name = sep ? strndup(entry, (size_t)(sep - entry)) : default_name(out->url, true);
	} else if (scheme_end) {
		size_t slen = (size_t)(scheme_end - loc);
		if (!((slen == 4 && strncmp(loc, "http", 4) == 0) || (slen == 5 && strncmp(loc, "https", 5) == 0) ||
		      (slen == 4 && strncmp(loc, "file", 4) == 0))) {
			snprintf(why, whysize, "\"%s\": kforge fetches http, https, file and git+ sources, not %.*s",
				 entry, (int)slen, loc);
			return -EINVAL;
		}
		out->kind = ARCH_SOURCE_URL;
		out->url = strndup(loc, strcspn(loc, "#"));
		out->name = sep ? strndup(entry, (size_t)(sep - entry)) : default_name(loc, false);
	} else {
		out->kind = ARCH_SOURCE_LOCAL;
		out->name = strdup(loc);
	}
	if (!out->name || (out->kind != ARCH_SOURCE_LOCAL && !out->url)) {
		arch_source_free(out);
		return -ENOMEM;
	}
	if (!file_name_valid(out->name)) {
		snprintf(why, whysize, "\"%s\": \"%s\" is no file name (no '/', not . or ..)", entry, out->name);
		arch_source_free(out);
		return -EINVAL;
	}
	return 0;
}

/* one array of .SRCINFO values, with the line of its first entry */
struct list {
	char **v;
	size_t n;
	unsigned int line;
};

static void list_free(struct list *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->v[i]);
	free(l->v);
	memset(l, 0, sizeof(*l));
}

static int list_push(struct list *l, const char *s, size_t n, unsigned int line)
{
	char **v = realloc(l->v, (l->n + 1) * sizeof(*v));
	if (!v)
		return -ENOMEM;
	l->v = v;
	if (!(v[l->n] = strndup(s, n)))
		return -ENOMEM;
	if (l->n++ == 0)
		l->line = line;
	return 0;
}

enum { L_SOURCE, L_SOURCE_ARCH, L_SHA, L_SHA_ARCH, L_B2, L_B2_ARCH, L_KEYS, L_COUNT };

/* A sum as the array has it: SKIP, or HEXLEN hex digits (kept in lower case). */
static int check_sum(const char *v, size_t hexlen, char **out, bool *skip)
{
	if (strcmp(v, "SKIP") == 0) {
		*skip = true;
		return 0;
	}
	if (strlen(v) != hexlen)
		return -EINVAL;
	for (const char *p = v; *p; p++)
		if (!isxdigit((unsigned char)*p))
			return -EINVAL;
	if (!(*out = strdup(v)))
		return -ENOMEM;
	for (char *p = *out; *p; p++)
		*p = (char)tolower((unsigned char)*p);
	return 0;
}

/* Pairs one sums array with its sources (makepkg: by index, each array with its own sources). */
static int pair_sums(struct arch_source *src, size_t n_src, const struct list *sums, const char *key, size_t hexlen,
		     bool b2, char *why, size_t whysize)
{
	if (sums->n == 0)
		return 0;
	if (sums->n != n_src) {
		snprintf(why, whysize, "line %u: %zu %s for %zu source%s: every source needs one (SKIP for none)",
			 sums->line, sums->n, key, n_src, n_src == 1 ? "" : "s");
		return -EINVAL;
	}
	for (size_t i = 0; i < n_src; i++) {
		int r = check_sum(sums->v[i], hexlen, b2 ? &src[i].b2 : &src[i].sha256, &src[i].skip);
		if (r == -EINVAL)
			snprintf(why, whysize, "%s entry %zu (from line %u) is neither SKIP nor %zu hex digits: \"%.80s\"",
				 key, i + 1, sums->line, hexlen, sums->v[i]);
		if (r < 0)
			return r;
	}
	return 0;
}

static int set_scalar(char **dst, const char *key, const char *v, size_t n, unsigned int line, char *why,
		      size_t whysize)
{
	if (*dst) {
		snprintf(why, whysize, "line %u: %s a second time", line, key);
		return -EINVAL;
	}
	return (*dst = strndup(v, n)) ? 0 : -ENOMEM;
}

int arch_srcinfo_parse(const char *text, size_t len, const char *carch, struct arch_srcinfo *out, char *why,
		       size_t whysize)
{
	memset(out, 0, sizeof(*out));
	struct list l[L_COUNT] = { { 0 } };
	int r = 0;
	if (memchr(text, '\0', len)) {
		snprintf(why, whysize, "it holds a NUL byte: a .SRCINFO is text");
		return -EINVAL;
	}
	char akey[3][64];
	snprintf(akey[0], sizeof(akey[0]), "source_%s", carch);
	snprintf(akey[1], sizeof(akey[1]), "sha256sums_%s", carch);
	snprintf(akey[2], sizeof(akey[2]), "b2sums_%s", carch);
	bool in_package = false;
	unsigned int lineno = 0, base_end = 0;
	for (const char *p = text; r == 0 && p < text + len;) {
		const char *nl = memchr(p, '\n', (size_t)(text + len - p));
		size_t n = nl ? (size_t)(nl - p) : (size_t)(text + len - p);
		const char *line = p;
		p = nl ? nl + 1 : text + len;
		lineno++;
		if (n > ARCH_LINE_MAX) {
			snprintf(why, whysize, "line %u is longer than %d characters", lineno, ARCH_LINE_MAX);
			r = -EINVAL;
			break;
		}
		while (n > 0 && (*line == ' ' || *line == '\t'))
			line++, n--;
		while (n > 0 && (line[n - 1] == ' ' || line[n - 1] == '\t' || line[n - 1] == '\r'))
			n--;
		if (n == 0 || line[0] == '#')
			continue;
		const char *eq = NULL;
		for (size_t i = 0; i + 3 <= n && !eq; i++)
			if (memcmp(line + i, " = ", 3) == 0)
				eq = line + i;
		if (!eq) {
			snprintf(why, whysize, "line %u: expected \"key = value\", got \"%.*s\"", lineno,
				 (int)(n > 80 ? 80 : n), line);
			r = -EINVAL;
			break;
		}
		size_t klen = (size_t)(eq - line);
		const char *v = eq + 3;
		size_t vlen = n - klen - 3;
		char key[64];
		if (klen >= sizeof(key)) {
			snprintf(why, whysize, "line %u: a key of %zu characters", lineno, klen);
			r = -EINVAL;
			break;
		}
		memcpy(key, line, klen);
		key[klen] = '\0';
		if (!out->pkgbase) {
			if (strcmp(key, "pkgbase") != 0 || vlen == 0) {
				snprintf(why, whysize, "line %u: a .SRCINFO starts with \"pkgbase = NAME\", not \"%s\"",
					 lineno, key);
				r = -EINVAL;
				break;
			}
			r = set_scalar(&out->pkgbase, key, v, vlen, lineno, why, whysize);
			continue;
		}
		if (strcmp(key, "pkgname") == 0) {
			/* the packages' sections: sources and versions belong to pkgbase's */
			if (!in_package)
				base_end = lineno;
			in_package = true;
			continue;
		}
		if (in_package)
			continue;
		if (strcmp(key, "pkgbase") == 0)
			r = set_scalar(&out->pkgbase, key, v, vlen, lineno, why, whysize);
		else if (strcmp(key, "pkgver") == 0)
			r = set_scalar(&out->pkgver, key, v, vlen, lineno, why, whysize);
		else if (strcmp(key, "pkgrel") == 0)
			r = set_scalar(&out->pkgrel, key, v, vlen, lineno, why, whysize);
		else if (strcmp(key, "epoch") == 0)
			r = set_scalar(&out->epoch, key, v, vlen, lineno, why, whysize);
		else if (strcmp(key, "source") == 0)
			r = list_push(&l[L_SOURCE], v, vlen, lineno);
		else if (strcmp(key, akey[0]) == 0)
			r = list_push(&l[L_SOURCE_ARCH], v, vlen, lineno);
		else if (strcmp(key, "sha256sums") == 0)
			r = list_push(&l[L_SHA], v, vlen, lineno);
		else if (strcmp(key, akey[1]) == 0)
			r = list_push(&l[L_SHA_ARCH], v, vlen, lineno);
		else if (strcmp(key, "b2sums") == 0)
			r = list_push(&l[L_B2], v, vlen, lineno);
		else if (strcmp(key, akey[2]) == 0)
			r = list_push(&l[L_B2_ARCH], v, vlen, lineno);
		else if (strcmp(key, "validpgpkeys") == 0) {
			/* makepkg wants full fingerprints: 40 hex digits (v4 keys) or 64 (v5) */
			size_t hex = 0;
			while (hex < vlen && isxdigit((unsigned char)v[hex]))
				hex++;
			if (hex != vlen || (vlen != 40 && vlen != 64)) {
				snprintf(why, whysize, "line %u: validpgpkeys wants a full fingerprint (40 hex digits), not "
						       "\"%.*s\"",
					 lineno, (int)(vlen > 80 ? 80 : vlen), v);
				r = -EINVAL;
			} else {
				r = list_push(&l[L_KEYS], v, vlen, lineno);
			}
		}
		/* every other key (pkgdesc, depends, arch, ...) says nothing about the sources */
	}
	if (r == 0 && !out->pkgbase) {
		snprintf(why, whysize, "no \"pkgbase = NAME\" line: is this a .SRCINFO?");
		r = -EINVAL;
	}
	if (r == 0 && (!out->pkgver || !out->pkgrel)) {
		snprintf(why, whysize, "no %s line in the pkgbase section (lines 1 to %u)", !out->pkgver ? "pkgver" : "pkgrel",
			 base_end ? base_end - 1 : lineno);
		r = -EINVAL;
	}
	if (r == 0 && out->epoch && (!out->epoch[0] || strspn(out->epoch, "0123456789") != strlen(out->epoch))) {
		snprintf(why, whysize, "epoch \"%s\" is no number", out->epoch);
		r = -EINVAL;
	}
	size_t n_generic = l[L_SOURCE].n, n_arch = l[L_SOURCE_ARCH].n;
	if (r == 0 && n_generic + n_arch > 0) {
		out->sources = calloc(n_generic + n_arch, sizeof(*out->sources));
		if (!out->sources)
			r = -ENOMEM;
	}
	for (size_t i = 0; r == 0 && i < n_generic + n_arch; i++) {
		const struct list *src = i < n_generic ? &l[L_SOURCE] : &l[L_SOURCE_ARCH];
		const char *entry = src->v[i < n_generic ? i : i - n_generic];
		char reason[384];
		r = arch_source_parse(entry, &out->sources[i], reason, sizeof(reason));
		if (r == -EINVAL)
			snprintf(why, whysize, "%s entry %zu (from line %u): %s", i < n_generic ? "source" : akey[0],
				 (i < n_generic ? i : i - n_generic) + 1, src->line, reason);
		if (r == 0) {
			out->sources[i].line = src->line;
			out->n_sources++;
		}
	}
	if (r == 0)
		r = pair_sums(out->sources, n_generic, &l[L_SHA], "sha256sums", 64, false, why, whysize);
	if (r == 0)
		r = pair_sums(out->sources + n_generic, n_arch, &l[L_SHA_ARCH], akey[1], 64, false, why, whysize);
	if (r == 0)
		r = pair_sums(out->sources, n_generic, &l[L_B2], "b2sums", 128, true, why, whysize);
	if (r == 0)
		r = pair_sums(out->sources + n_generic, n_arch, &l[L_B2_ARCH], akey[2], 128, true, why, whysize);
	/* two files of one name would overwrite each other in makepkg's $srcdir too */
	for (size_t i = 0; r == 0 && i < out->n_sources; i++)
		for (size_t j = 0; j < i; j++)
			if (strcmp(out->sources[i].name, out->sources[j].name) == 0) {
				snprintf(why, whysize, "two sources are named %s", out->sources[i].name);
				r = -EINVAL;
				break;
			}
	if (r == 0) {
		out->keys = l[L_KEYS].v;
		out->n_keys = l[L_KEYS].n;
		l[L_KEYS].v = NULL;
		l[L_KEYS].n = 0;
	}
	for (int i = 0; i < L_COUNT; i++)
		list_free(&l[i]);
	if (r < 0) {
		if (r == -ENOMEM)
			snprintf(why, whysize, "out of memory");
		arch_srcinfo_free(out);
	}
	return r;
}

const char *arch_source_checksum(const struct arch_source *s, char *buf, size_t size)
{
	if (s->b2)
		snprintf(buf, size, "b2:%s", s->b2);
	else if (s->sha256)
		snprintf(buf, size, "sha256:%s", s->sha256);
	else
		return NULL;
	return buf;
}

static bool ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);
	return n > m && strcmp(s + n - m, suffix) == 0;
}

bool arch_is_signature(const char *name)
{
	return ends_with(name, ".sig") || ends_with(name, ".sign") || ends_with(name, ".asc");
}

const char *arch_compression_suffix(const char *name)
{
	static const char *const sfx[] = { ".zst", ".xz", ".gz" };
	for (size_t i = 0; i < sizeof(sfx) / sizeof(sfx[0]); i++)
		if (ends_with(name, sfx[i]))
			return sfx[i];
	return NULL;
}

int arch_signature_target(const struct arch_srcinfo *si, size_t sig, size_t *target, bool *decompress)
{
	const char *name = si->sources[sig].name;
	size_t n = strlen(name) - (ends_with(name, ".sign") ? 5 : 4);
	/* the signed file itself, else a compressed one holding it (makepkg decompresses to check) */
	static const char *const sfx[] = { "", ".xz", ".gz", ".zst" };
	for (size_t k = 0; k < sizeof(sfx) / sizeof(sfx[0]); k++)
		for (size_t i = 0; i < si->n_sources; i++) {
			const char *o = si->sources[i].name;
			if (i == sig || strncmp(o, name, n) != 0 || strcmp(o + n, sfx[k]) != 0)
				continue;
			*target = i;
			*decompress = k > 0;
			return 0;
		}
	return -ENOENT;
}

bool arch_is_patch(const char *name, char *plain, size_t size)
{
	const char *sfx = arch_compression_suffix(name);
	size_t n = strlen(name) - (sfx ? strlen(sfx) : 0);
	snprintf(plain, size, "%.*s", (int)n, name);
	/* Arch's prepare(): src="${src%.zst}"; [[ $src = *.patch ]] */
	if ((!sfx || strcmp(sfx, ".zst") == 0) && ends_with(plain, ".patch"))
		return true;
	/* kernel.org's incremental patch (Manjaro applies ../patch-${pkgver} first of all) */
	return strncmp(plain, "patch-", 6) == 0 && isdigit((unsigned char)plain[6]) &&
	       strspn(plain + 6, "0123456789.") == strlen(plain + 6);
}

bool arch_is_tarball(const char *name)
{
	return ends_with(name, ".tar") || ends_with(name, ".tar.xz") || ends_with(name, ".tar.gz") ||
	       ends_with(name, ".tar.zst") || ends_with(name, ".tar.bz2");
}

ssize_t arch_srcinfo_kernel(const struct arch_srcinfo *si)
{
	for (size_t i = 0; i < si->n_sources; i++)
		if (si->sources[i].kind == ARCH_SOURCE_GIT)
			return (ssize_t)i;
	for (size_t i = 0; i < si->n_sources; i++)
		if (arch_is_tarball(si->sources[i].name))
			return (ssize_t)i;
	return -1;
}

ssize_t arch_srcinfo_config(const struct arch_srcinfo *si, const char *carch)
{
	char want[64];
	snprintf(want, sizeof(want), "config.%s", carch);
	for (int pass = 0; pass < 2; pass++)
		for (size_t i = 0; i < si->n_sources; i++)
			if (strcmp(si->sources[i].name, pass == 0 ? want : "config") == 0)
				return (ssize_t)i;
	return -1;
}
