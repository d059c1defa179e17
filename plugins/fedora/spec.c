/*
 * spec.c: the kernel spec read as data: its patches and the order %prep applies them in. Nothing
 * of the spec is evaluated: macros with literal bodies are expanded, anything else (%(...),
 * %{lua:...}, parametric macros) stays unknown and matches files as a pattern.
 */
#include <ctype.h>
#include <errno.h>
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fedora.h"

#define SPEC_LINE_MAX 8192
#define SPEC_PATCHES_MAX 4096
#define SPEC_MACROS_MAX 16384
#define EXPAND_DEPTH 16

void fedora_spec_free(struct fedora_spec *s)
{
	free(s->name);
	free(s->source0);
	for (size_t i = 0; i < s->n_patches; i++)
		free(s->patches[i].name);
	free(s->patches);
	for (size_t i = 0; i < s->n_apply; i++)
		free(s->apply[i].name);
	free(s->apply);
	for (size_t i = 0; i < s->n_macros; i++) {
		free(s->macros[i].name);
		free(s->macros[i].body);
	}
	free(s->macros);
	memset(s, 0, sizeof(*s));
}

bool fedora_plain_name(const char *name)
{
	size_t n = strlen(name);
	if (n == 0 || n >= 256 || name[0] == '-' || strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
		return false;
	for (const char *c = name; *c; c++)
		if (*c == '/' || !isgraph((unsigned char)*c))
			return false;
	return true;
}

size_t fedora_count_lines(const char *text, size_t len)
{
	size_t n = 0;
	for (size_t i = 0; i < len; i++)
		n += text[i] == '\n';
	return n;
}

/* The first word of P (up to blank or end) into a malloc'd string; NULL when none or ENOMEM. */
static char *word(const char *p, const char **end)
{
	while (*p == ' ' || *p == '\t')
		p++;
	size_t n = strcspn(p, " \t");
	if (end)
		*end = p + n;
	return n ? strndup(p, n) : NULL;
}

static int add_apply(struct fedora_spec *s, const char *name, bool optional, int strip, unsigned int line)
{
	if (s->n_apply >= SPEC_PATCHES_MAX)
		return -E2BIG;
	struct fedora_apply *v = realloc(s->apply, (s->n_apply + 1) * sizeof(*v));
	if (!v)
		return -ENOMEM;
	s->apply = v;
	char *copy = strdup(name);
	if (!copy)
		return -ENOMEM;
	v[s->n_apply++] = (struct fedora_apply){ copy, optional, strip, line };
	return 0;
}

static const struct fedora_patch *patch_by_num(const struct fedora_spec *s, unsigned int num)
{
	for (size_t i = 0; i < s->n_patches; i++)
		if (s->patches[i].num == num)
			return &s->patches[i];
	return NULL;
}

static int cmp_patch(const void *a, const void *b)
{
	const struct fedora_patch *x = a, *y = b;
	return x->num < y->num ? -1 : x->num > y->num;
}

/* %autopatch, %autosetup: every PatchN in number order (-pN applies to all). */
static int apply_all(struct fedora_spec *s, int strip, unsigned int line)
{
	struct fedora_patch *sorted = malloc((s->n_patches ? s->n_patches : 1) * sizeof(*sorted));
	if (!sorted)
		return -ENOMEM;
	memcpy(sorted, s->patches, s->n_patches * sizeof(*sorted));
	qsort(sorted, s->n_patches, sizeof(*sorted), cmp_patch);
	int r = 0;
	for (size_t i = 0; i < s->n_patches && r == 0; i++)
		r = add_apply(s, sorted[i].name, false, strip, line);
	free(sorted);
	return r;
}

/* -pN among the words of ARGS, else DEF; -2 for a -p that is no number. */
static int strip_of(const char *args, int def)
{
	for (const char *p = args; (p = strstr(p, "-p")) != NULL; p += 2) {
		if (p != args && p[-1] != ' ' && p[-1] != '\t')
			continue;
		const char *d = p[2] == ' ' ? p + 3 : p + 2;
		if (!isdigit((unsigned char)*d))
			return -2;
		return atoi(d) > 16 ? -2 : atoi(d);
	}
	return def;
}

static int set_macro(struct fedora_spec *s, const char *name, size_t nlen, const char *body)
{
	for (size_t i = 0; i < s->n_macros; i++)
		if (strlen(s->macros[i].name) == nlen && strncmp(s->macros[i].name, name, nlen) == 0) {
			char *b = body ? strdup(body) : NULL;
			if (body && !b)
				return -ENOMEM;
			free(s->macros[i].body);
			s->macros[i].body = b;
			return 0;
		}
	if (s->n_macros >= SPEC_MACROS_MAX)
		return -E2BIG;
	struct fedora_macro *v = realloc(s->macros, (s->n_macros + 1) * sizeof(*v));
	if (!v)
		return -ENOMEM;
	s->macros = v;
	char *n = strndup(name, nlen), *b = body ? strdup(body) : NULL;
	if (!n || (body && !b)) {
		free(n);
		free(b);
		return -ENOMEM;
	}
	v[s->n_macros++] = (struct fedora_macro){ n, b };
	return 0;
}

/* %define NAME BODY / %global NAME BODY: a body is data unless it runs something. */
static int parse_define(struct fedora_spec *s, const char *p)
{
	while (*p == ' ' || *p == '\t')
		p++;
	size_t n = 0;
	while (isalnum((unsigned char)p[n]) || p[n] == '_')
		n++;
	if (n == 0)
		return 0;
	const char *body = p + n;
	bool params = *body == '(';
	while (*body == ' ' || *body == '\t')
		body++;
	size_t blen = strlen(body);
	while (blen && (body[blen - 1] == ' ' || body[blen - 1] == '\t' || body[blen - 1] == '\r'))
		blen--;
	char *b = strndup(body, blen);
	if (!b)
		return -ENOMEM;
	bool code = params || strstr(b, "%(") || strstr(b, "%{lua") || strstr(b, "%[") || strstr(b, "%{expand") ||
		    (blen && b[blen - 1] == '\\');
	int r = set_macro(s, p, n, code ? NULL : b);
	free(b);
	return r;
}

/* "Patch12: name", "Patch: name" (0), "Source0: name", "Source: name", "Name: x" */
static bool tag(const char *line, const char *tagname, bool numbered, unsigned int *num, const char **value)
{
	size_t n = strlen(tagname);
	if (strncasecmp(line, tagname, n) != 0)
		return false;
	const char *p = line + n;
	*num = 0;
	if (numbered && isdigit((unsigned char)*p)) {
		unsigned long v = strtoul(p, (char **)&p, 10);
		if (v > 1000000)
			return false;
		*num = (unsigned int)v;
	}
	while (*p == ' ' || *p == '\t')
		p++;
	if (*p != ':')
		return false;
	p++;
	while (*p == ' ' || *p == '\t')
		p++;
	*value = p;
	return true;
}

static const char *const sections[] = { "%package",	 "%description", "%build", "%install", "%check",
					"%files",	 "%changelog",	 "%pre",   "%post",    "%preun",
					"%postun",	 "%pretrans",	 "%posttrans", "%trigger", "%verifyscript",
					"%generate_buildrequires", "%conf", "%clean" };

static bool section_start(const char *line, bool *prep)
{
	size_t n = strcspn(line, " \t");
	if (n == 5 && strncmp(line, "%prep", 5) == 0) {
		*prep = true;
		return true;
	}
	for (size_t i = 0; i < sizeof(sections) / sizeof(sections[0]); i++)
		if (strlen(sections[i]) == n && strncmp(line, sections[i], n) == 0) {
			*prep = false;
			return true;
		}
	/* %triggerin, %filetriggerun, ... */
	if (strncmp(line, "%trigger", 8) == 0 || strncmp(line, "%filetrigger", 12) == 0 ||
	    strncmp(line, "%transfiletrigger", 17) == 0) {
		*prep = false;
		return true;
	}
	return false;
}

/* One line of %prep. */
static int prep_line(struct fedora_spec *s, const char *p, unsigned int line, char *why, size_t whysize)
{
	const char *end;
	bool optional = strncmp(p, "ApplyOptionalPatch", 18) == 0 && (p[18] == ' ' || p[18] == '\t');
	if (optional || (strncmp(p, "ApplyPatch", 10) == 0 && (p[10] == ' ' || p[10] == '\t'))) {
		char *name = word(p + (optional ? 18 : 10), &end);
		if (!name) {
			snprintf(why, whysize, "line %u: %s names no patch", line, optional ? "ApplyOptionalPatch" : "ApplyPatch");
			return -EINVAL;
		}
		if (name[0] == '$' || (name[0] == '"' && name[1] == '$')) {
			/* a shell variable: the spec's own ApplyOptionalPatch() calling ApplyPatch "$patch"
			 * inside its definition, not a patch the spec applies */
			free(name);
			return 0;
		}
		/* Fedora's ApplyPatch runs git apply, which strips one component by default */
		int strip = strip_of(end, 1);
		int r = strip < -1 ? -EINVAL : add_apply(s, name, optional, strip, line);
		if (r == -EINVAL)
			snprintf(why, whysize, "line %u: a -p that is no small number", line);
		free(name);
		return r;
	}
	if (strncmp(p, "%autopatch", 10) == 0 || strncmp(p, "%autosetup", 10) == 0) {
		int strip = strip_of(p + 10, p[5] == 'p' ? -1 : 1);
		if (strip < -1) {
			snprintf(why, whysize, "line %u: a -p that is no small number", line);
			return -EINVAL;
		}
		return apply_all(s, strip, line);
	}
	if (strncmp(p, "%patch", 6) != 0)
		return 0;
	/* %patchN, %patch N, %patch -P N, %patch -PN */
	const char *q = p + 6;
	unsigned long num = 0;
	bool have = false;
	if (isdigit((unsigned char)*q)) {
		num = strtoul(q, (char **)&q, 10);
		have = true;
	} else if (*q && *q != ' ' && *q != '\t') {
		return 0; /* another macro (%patchversion...) */
	}
	int strip = strip_of(q, -1);
	/* the words: -P N, -PN, a bare N; -p N, -b SUFFIX, -z SUFFIX, -d DIR take a word of their own */
	for (const char *w = q; *w;) {
		while (*w == ' ' || *w == '\t')
			w++;
		size_t n = strcspn(w, " \t");
		const char *next = w + n + strspn(w + n, " \t");
		if (n == 2 && (strncmp(w, "-P", 2) == 0) && isdigit((unsigned char)*next)) {
			num = strtoul(next, NULL, 10);
			have = true;
			next += strcspn(next, " \t");
		} else if (n > 2 && strncmp(w, "-P", 2) == 0 && isdigit((unsigned char)w[2])) {
			num = strtoul(w + 2, NULL, 10);
			have = true;
		} else if (n == 2 && w[0] == '-' && strchr("pbzd", w[1])) {
			next += strcspn(next, " \t");
		} else if (n && isdigit((unsigned char)*w) && !have) {
			num = strtoul(w, NULL, 10);
			have = true;
		}
		w = next;
	}
	if (strip < -1) {
		snprintf(why, whysize, "line %u: a -p that is no small number", line);
		return -EINVAL;
	}
	const struct fedora_patch *pt = have ? patch_by_num(s, (unsigned int)num) : NULL;
	if (!pt) {
		if (have)
			snprintf(why, whysize, "line %u: %%patch %lu, but no Patch%lu: line comes before it", line, num, num);
		else
			snprintf(why, whysize, "line %u: %%patch without a number (rpm 4.18 refuses it too)", line);
		return -EINVAL;
	}
	return add_apply(s, pt->name, false, strip, line);
}

int fedora_spec_parse(const char *text, size_t len, struct fedora_spec *out, char *why, size_t whysize)
{
	memset(out, 0, sizeof(*out));
	if (memchr(text, '\0', len)) {
		snprintf(why, whysize, "the spec has a NUL byte: it is no text");
		return -EINVAL;
	}
	bool prep = false;
	unsigned int line = 0;
	int r = 0;
	char buf[SPEC_LINE_MAX];
	for (size_t off = 0; off < len && r == 0;) {
		const char *nl = memchr(text + off, '\n', len - off);
		size_t n = nl ? (size_t)(nl - (text + off)) : len - off;
		line++;
		if (n >= sizeof(buf)) {
			snprintf(why, whysize, "line %u is longer than %d bytes", line, SPEC_LINE_MAX);
			r = -EINVAL;
			break;
		}
		memcpy(buf, text + off, n);
		buf[n] = '\0';
		off += n + (nl ? 1 : 0);
		if (n && buf[n - 1] == '\r')
			buf[n - 1] = '\0';
		const char *p = buf;
		while (*p == ' ' || *p == '\t')
			p++;
		if (*p == '#' || !*p)
			continue;
		unsigned int num;
		const char *value;
		if (*p == '%' && section_start(p, &prep)) {
			out->has_prep |= prep;
			continue;
		}
		if (strncmp(p, "%define", 7) == 0 && (p[7] == ' ' || p[7] == '\t'))
			r = parse_define(out, p + 7);
		else if (strncmp(p, "%global", 7) == 0 && (p[7] == ' ' || p[7] == '\t'))
			r = parse_define(out, p + 7);
		else if (prep) {
			if (strncmp(p, "%if", 3) == 0)
				out->conditional = true;
			r = prep_line(out, p, line, why, whysize);
			if (r == -E2BIG)
				snprintf(why, whysize, "line %u: more than %d patches", line, SPEC_PATCHES_MAX);
		} else if (tag(p, "Patch", true, &num, &value)) {
			char *name = word(value, NULL);
			if (!name) {
				snprintf(why, whysize, "line %u: Patch%u: names no file", line, num);
				r = -EINVAL;
			} else if (patch_by_num(out, num)) {
				snprintf(why, whysize, "line %u: Patch%u: is given twice", line, num);
				free(name);
				r = -EINVAL;
			} else if (out->n_patches >= SPEC_PATCHES_MAX) {
				snprintf(why, whysize, "line %u: more than %d patches", line, SPEC_PATCHES_MAX);
				free(name);
				r = -EINVAL;
			} else {
				struct fedora_patch *v = realloc(out->patches, (out->n_patches + 1) * sizeof(*v));
				if (!v) {
					free(name);
					r = -ENOMEM;
				} else {
					out->patches = v;
					v[out->n_patches++] = (struct fedora_patch){ num, name };
				}
			}
		} else if (tag(p, "Source", true, &num, &value)) {
			if (num == 0 && !out->source0 && !(out->source0 = word(value, NULL)) && *value)
				r = -ENOMEM;
		} else if (tag(p, "Name", false, &num, &value)) {
			free(out->name);
			if (!(out->name = word(value, NULL)) && *value)
				r = -ENOMEM;
		}
	}
	if (r == 0 && !out->has_prep) {
		snprintf(why, whysize, "the spec has no %%prep section: is it a kernel package's spec?");
		r = -EINVAL;
	}
	if (r < 0)
		fedora_spec_free(out);
	return r;
}

static const char *macro_body(const struct fedora_spec *s, const char *name, size_t n, bool *known)
{
	*known = false;
	if (n == 4 && strncmp(name, "name", 4) == 0 && s->name) {
		*known = true;
		return s->name;
	}
	for (size_t i = s->n_macros; i-- > 0;)
		if (strlen(s->macros[i].name) == n && strncmp(s->macros[i].name, name, n) == 0) {
			*known = s->macros[i].body != NULL;
			return s->macros[i].body;
		}
	return NULL;
}

/* Expands IN into OUT at *O; returns 0, -ENOENT (something unknown: '*' written), -ENAMETOOLONG. */
static int expand(const struct fedora_spec *s, const char *in, char *out, size_t size, size_t *o, int depth)
{
	int r = 0;
#define PUT(ch)                          \
	do {                             \
		if (*o + 1 >= size)      \
			return -ENAMETOOLONG; \
		out[(*o)++] = (ch);      \
	} while (0)
	for (const char *p = in; *p;) {
		if (*p != '%') {
			PUT(*p++);
			continue;
		}
		if (p[1] == '%') {
			PUT('%');
			p += 2;
			continue;
		}
		const char *name;
		size_t n;
		bool cond = false, braces = p[1] == '{';
		if (braces) {
			const char *close = strchr(p + 2, '}');
			if (!close) {
				PUT('*');
				return -ENOENT;
			}
			name = p + 2;
			if (*name == '?') {
				cond = true;
				name++;
			}
			n = (size_t)(close - name);
			p = close + 1;
		} else {
			name = p + 1;
			n = 0;
			while (isalnum((unsigned char)name[n]) || name[n] == '_')
				n++;
			if (n == 0) {
				PUT(*p++);
				continue;
			}
			p = name + n;
		}
		bool known;
		const char *body = macro_body(s, name, n, &known);
		if (known && depth < EXPAND_DEPTH) {
			int e = expand(s, body, out, size, o, depth + 1);
			if (e == -ENAMETOOLONG)
				return e;
			if (e < 0)
				r = e;
		} else if (cond && !body && !known) {
			/* %{?x} of an undefined x is empty; of one that is not data it is unknown */
			bool defined = false;
			for (size_t i = 0; i < s->n_macros; i++)
				defined |= strlen(s->macros[i].name) == n && strncmp(s->macros[i].name, name, n) == 0;
			if (defined) {
				PUT('*');
				r = -ENOENT;
			}
		} else {
			PUT('*');
			r = -ENOENT;
		}
	}
#undef PUT
	return r;
}

int fedora_spec_expand(const struct fedora_spec *s, const char *in, char *out, size_t size)
{
	size_t o = 0;
	if (size == 0)
		return -ENAMETOOLONG;
	int r = expand(s, in, out, size, &o, 0);
	out[o < size ? o : size - 1] = '\0';
	return r;
}

int fedora_spec_resolve(const struct fedora_spec *s, const char *name, char *const *files, size_t n,
			const char **file, char *why, size_t whysize)
{
	char buf[512];
	*file = NULL;
	int r = fedora_spec_expand(s, name, buf, sizeof(buf));
	if (r == -ENAMETOOLONG) {
		snprintf(why, whysize, "%.200s expands to more than %zu characters", name, sizeof(buf));
		return -EINVAL;
	}
	if (r == 0 && !fedora_plain_name(buf)) {
		snprintf(why, whysize, "%.200s names \"%.200s\", which is no plain file name of the SRPM", name, buf);
		return -EINVAL;
	}
	if (strchr(buf, '/')) {
		snprintf(why, whysize, "%.200s has a '/': the SRPM's files have plain names", name);
		return -EINVAL;
	}
	size_t found = 0;
	for (size_t i = 0; i < n; i++) {
		bool match = r == 0 ? strcmp(files[i], buf) == 0 : fnmatch(buf, files[i], FNM_PERIOD) == 0;
		if (match) {
			if (found++ == 0)
				*file = files[i];
		}
	}
	if (found == 1)
		return 0;
	*file = NULL;
	if (found == 0) {
		snprintf(why, whysize, "%.200s (%s%.200s) is no file of the SRPM", name, r == 0 ? "" : "as a pattern: ", buf);
		return -ENOENT;
	}
	snprintf(why, whysize, "%.200s (as a pattern: %.200s) matches %zu files of the SRPM: the spec's macros "
			       "cannot be read as data here; use [plugin.fedora] prep = rpmbuild or rpmspec",
		 name, buf, found);
	return -EEXIST;
}
