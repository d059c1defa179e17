/* url.c: [sources] rewrite: URL prefix pairs, the longest FROM wins, as git's url.<TO>.insteadOf = FROM. */
#include "config.h"

#include <errno.h>
#include <string.h>
#include <strings.h>

#include "source/source.h"

void kf_rewrites_free(struct kf_rewrites *rw)
{
	for (size_t i = 0; i < rw->n; i++) {
		free(rw->v[i].from);
		free(rw->v[i].to);
	}
	free(rw->v);
	rw->v = NULL;
	rw->n = 0;
}

static const char *const blanks = " \t\r\n";

int kf_rewrites_parse(const char *text, struct kf_rewrites *rw)
{
	if (!text)
		return 0;
	size_t words = 0;
	for (const char *p = text + strspn(text, blanks); *p; p += strspn(p, blanks)) {
		words++;
		p += strcspn(p, blanks);
	}
	if (words % 2)
		return -EINVAL;
	struct kf_rewrite *v = realloc(rw->v, (rw->n + words / 2 + 1) * sizeof(*v));
	if (!v)
		return -ENOMEM;
	rw->v = v;
	size_t n = rw->n;
	const char *p = text + strspn(text, blanks);
	while (*p) {
		size_t lf = strcspn(p, blanks);
		const char *q = p + lf;
		q += strspn(q, blanks);
		size_t lt = strcspn(q, blanks);
		char *from = strndup(p, lf), *to = strndup(q, lt);
		if (!from || !to) {
			free(from);
			free(to);
			while (n > rw->n) {
				n--;
				free(v[n].from);
				free(v[n].to);
			}
			return -ENOMEM;
		}
		v[n++] = (struct kf_rewrite){ .from = from, .to = to };
		p = q + lt;
		p += strspn(p, blanks);
	}
	rw->n = n;
	return 0;
}

int kf_rewrites_load(const struct kforge_ctx *ctx, struct kf_rewrites *rw)
{
	/* the command line's pairs come first in the value (kforge's main puts them there) */
	return kf_rewrites_parse(kforge_config_get(ctx, "sources.rewrite"), rw);
}

char *kf_url_rewrite(const struct kf_rewrites *rw, const char *url, const struct kf_rewrite **used)
{
	const struct kf_rewrite *best = NULL;
	size_t best_len = 0;
	for (size_t i = 0; rw && i < rw->n; i++) {
		size_t l = strlen(rw->v[i].from);
		/* strictly longer: of two equal FROMs the first (the command line's) wins */
		if (l > best_len && strncmp(url, rw->v[i].from, l) == 0) {
			best = &rw->v[i];
			best_len = l;
		}
	}
	if (used)
		*used = best;
	if (!best)
		return strdup(url);
	return kf_strdup_printf("%s%s", best->to, url + best_len);
}

const char *kf_url_scheme(const char *url)
{
	static const char *const schemes[] = { "http", "https", "file" };
	const char *colon = url ? strstr(url, "://") : NULL;
	if (!colon)
		return NULL;
	size_t n = (size_t)(colon - url);
	for (size_t i = 0; i < ARRAY_SIZE(schemes); i++)
		if (strlen(schemes[i]) == n && strncasecmp(url, schemes[i], n) == 0)
			return schemes[i];
	return NULL;
}
